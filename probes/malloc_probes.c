#include "malloc_probes.h"

#include <stdlib.h>
#include <string.h>

#include <bcc/libbpf.h>

extern const char malloc_bpf_source[]; /* malloc_event.h + malloc.bpf.c, embedded by the build */

enum { MAX_SITES = 16384, MAX_STACKS = 16384 };

static const char MALLOCGC[] = "runtime.mallocgc";

static bool is_allocator(const char *name) {
    size_t n = strlen(MALLOCGC), len = strlen(name);
    if (strncmp(name, MALLOCGC, n) != 0 || len == n)
        return false;
    return !(len > 8 && strcmp(name + len - 8, "SlowPath") == 0);
}

static int add_function(struct malloc_functions *out, const struct go_binary *b, const char *name,
                        struct gmon_error *err) {
    if (out->n == MALLOC_MAX_FUNCTIONS)
        return gmon_fail(err, "more than %d allocator functions in this binary", MALLOC_MAX_FUNCTIONS);
    char *copy = strdup(name);
    if (!copy)
        return gmon_fail(err, "out of memory");
    out->names[out->n] = copy;
    probe_site_plan(b, copy, &out->sites[out->n]);
    if (!out->sites[out->n].found) {
        int rc = gmon_fail(err, "cannot place a probe on %s: %s", name, out->sites[out->n].problem);
        out->n++;
        return rc;
    }
    out->n++;
    return 0;
}

int malloc_functions_find(const struct go_binary *b, struct malloc_functions *out, struct gmon_error *err) {
    memset(out, 0, sizeof(*out));
    struct go_func fn;
    for (uint64_t i = 0; pclntab_func(&b->pcln, i, &fn); i++) {
        if (!is_allocator(fn.name) || go_binary_is_abi_wrapper(b, &fn))
            continue;
        if (add_function(out, b, fn.name, err) != 0)
            return -1;
    }
    if (out->n == 0 && add_function(out, b, MALLOCGC, err) != 0)
        return -1;
    return 0;
}

int malloc_sampling_point_find(const struct go_binary *b, struct malloc_functions *out,
                               struct gmon_error *err) {
    memset(out, 0, sizeof(*out));
    return add_function(out, b, "runtime.profilealloc", err);
}

void malloc_functions_free(struct malloc_functions *f) {
    for (size_t i = 0; i < f->n; i++)
        free(f->names[i]);
    memset(f, 0, sizeof(*f));
}

static void build_defines(struct bpf_defines *d, const struct malloc_probe_options *o) {
    memset(d, 0, sizeof(*d));
    bpf_define(d, "G_M", o->layout->g.m);
    bpf_define(d, "M_CURG", o->layout->m.curg);
    bpf_define(d, "TARGET_TGID", o->pid > 0 ? o->pid : 0);
    bpf_define(d, "SAMPLE", o->sample);
    bpf_define(d, "BY_SITE", o->by_site);
    bpf_define(d, "SIZE_IN_CX", o->sampling_point);
    bpf_define(d, "MAX_SITES", MAX_SITES);
    bpf_define(d, "MAX_STACKS", MAX_STACKS);
    bpf_define(d, "USE_RINGBUF", 0); /* no events: everything is aggregated in maps */
    bpf_define(d, "RINGBUF_PAGES", 1);
}

/* The class of each (size + 7) / 8, as Go's size_to_class8 does it, for the target's class table. */
static int fill_class_index(struct malloc_probes *mp, const struct go_size_classes *classes,
                            struct gmon_error *err) {
    int fd = bpf_program_map_fd(&mp->prog, "class_of_size8");
    if (fd < 0)
        return gmon_fail(err, "the compiled allocation program lacks its class map");
    for (uint32_t index = 0; index < MALLOC_CLASS_INDEXES; index++) {
        int cls = go_size_class_of(classes, (uint64_t)index * 8);
        uint8_t value = (uint8_t)(cls < MALLOC_CLASSES ? cls : 0);
        if (bpf_update_elem(fd, &index, &value, BPF_ANY) != 0)
            return gmon_fail(err, "cannot fill the size class map");
    }
    return 0;
}

static int attach_all(struct malloc_probes *mp, const struct malloc_probe_options *o,
                      const struct malloc_functions *fns, struct gmon_error *err) {
    int fd = bpf_program_load(&mp->prog, "on_malloc", err);
    if (fd < 0)
        return -1;
    for (size_t i = 0; i < fns->n; i++) {
        /* Without --by site the program reads only the size argument (RAX, or RCX): the probe goes on the
         * cheapest instruction that runs once per call before any argument register changes (often a NOP or
         * the first jump, which the kernel does not single-step: x86_calls.h). A stack walk needs the stack
         * pointer of the body's first instruction. */
        const struct probe_site *s = &fns->sites[i];
        uint64_t at = o->by_site ? s->body_offset : s->args_offset;
        if (bpf_program_attach_uprobe(&mp->prog, fd, o->attach_path, at, o->pid, err) != 0)
            return -1;
    }
    return 0;
}

int malloc_probes_open(struct malloc_probes *mp, const struct malloc_probe_options *o,
                       const struct malloc_functions *fns, struct gmon_error *err) {
    memset(mp, 0, sizeof(*mp));
    mp->ncpus = bpf_possible_cpus();
    struct bpf_defines defines;
    build_defines(&defines, o);
    if (bpf_program_compile(&mp->prog, malloc_bpf_source, &defines, err) != 0)
        return -1;
    mp->classes_fd = bpf_program_map_fd(&mp->prog, "class_stats");
    mp->counters_fd = bpf_program_map_fd(&mp->prog, "counters");
    mp->sites_fd = o->by_site ? bpf_program_map_fd(&mp->prog, "sites") : -1;
    mp->stacks_fd = o->by_site ? bpf_program_map_fd(&mp->prog, "stacks") : -1;
    mp->ip_fd = o->by_site ? bpf_program_map_fd(&mp->prog, "probe_ip") : -1;
    mp->functions = fns;
    if (mp->classes_fd < 0 || mp->counters_fd < 0 ||
        (o->by_site && (mp->sites_fd < 0 || mp->stacks_fd < 0))) {
        malloc_probes_close(mp);
        return gmon_fail(err, "the compiled allocation program lacks one of its maps");
    }
    /* The class map is filled before any probe can read it. */
    if (fill_class_index(mp, o->classes, err) != 0 || attach_all(mp, o, fns, err) != 0 ||
        bpf_program_start_tracing(&mp->prog, err) != 0) {
        malloc_probes_close(mp);
        return -1;
    }
    return 0;
}

void malloc_probes_classes(struct malloc_probes *mp, struct malloc_class_stat out[MALLOC_CLASSES]) {
    memset(out, 0, sizeof(struct malloc_class_stat) * MALLOC_CLASSES);
    struct malloc_class_stat *percpu = calloc((size_t)mp->ncpus, sizeof(*percpu));
    if (!percpu)
        return;
    for (uint32_t cls = 0; cls < MALLOC_CLASSES; cls++) {
        if (bpf_lookup_elem(mp->classes_fd, &cls, percpu) != 0)
            continue;
        for (int c = 0; c < mp->ncpus; c++) {
            out[cls].count += percpu[c].count;
            out[cls].bytes += percpu[c].bytes;
        }
    }
    free(percpu);
}

void malloc_probes_for_each_site(struct malloc_probes *mp, malloc_site_fn fn, void *ctx) {
    struct malloc_site_key key, next;
    struct malloc_class_stat stat;
    void *prev = NULL;
    while (mp->sites_fd >= 0 && bpf_get_next_key(mp->sites_fd, prev, &next) == 0) {
        key = next;
        prev = &key;
        if (bpf_lookup_elem(mp->sites_fd, &key, &stat) == 0)
            fn(ctx, &key, &stat);
    }
}

int malloc_probes_stack(struct malloc_probes *mp, uint64_t stack, uint64_t *pcs, int max) {
    struct malloc_stack found;
    if (mp->stacks_fd < 0 || bpf_lookup_elem(mp->stacks_fd, &stack, &found) != 0)
        return 0;
    int n = 0;
    while (n < max && (uint64_t)n < found.depth && n < MALLOC_STACK_DEPTH) {
        pcs[n] = found.pcs[n];
        n++;
    }
    return n;
}

bool malloc_probes_load_bias(struct malloc_probes *mp, uint32_t tgid, uint64_t *bias) {
    uint64_t ip;
    if (mp->ip_fd < 0 || bpf_lookup_elem(mp->ip_fd, &tgid, &ip) != 0)
        return false;
    /* ip is one of the probed addresses (or the byte after its breakpoint) moved by a page-aligned bias. */
    for (size_t i = 0; i < mp->functions->n; i++) {
        const struct probe_site *s = &mp->functions->sites[i];
        uint64_t linked = s->entry + (s->body_offset - s->entry_offset);
        for (uint64_t skew = 0; skew <= 1; skew++) {
            uint64_t d = ip - skew - linked;
            if ((d & 0xfff) == 0) {
                *bias = d;
                return true;
            }
        }
    }
    return false;
}

void malloc_probes_counters(struct malloc_probes *mp, uint64_t out[MALLOC_COUNTERS]) {
    bpf_sum_percpu_counters(mp->counters_fd, mp->ncpus, out, MALLOC_COUNTERS);
}

void malloc_probes_detach(struct malloc_probes *mp) {
    bpf_program_detach(&mp->prog);
}

void malloc_probes_close(struct malloc_probes *mp) {
    bpf_program_close(&mp->prog);
}
