#include "cpu_pprof.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow_array.h"
#include "proc_target.h"

enum { MAX_LOCATIONS = 256, MAX_VDSO = 1 << 16 };

struct code_mapping {
    uint64_t start, end, offset;
    char *path;        /* as /proc/PID/maps names it */
    uint64_t id;       /* the profile's mapping; 0 until a frame is in it */
    uint64_t to_vaddr; /* runtime address - this: the file's link-time address */
    bool symbols_read, has_symbols;
    struct native_symbols symbols;
};

struct cpu_process {
    int pid;
    bool bias_known;
    struct stack_symbols go; /* the pclntab at this process's load bias */
    uint64_t exe_mapping;
    struct code_mapping *maps;
    size_t nmaps, maps_cap;
};

bool cpu_pprof_init(struct cpu_pprof *c, const struct elf_image *exe, const struct pclntab *pcln, int minor,
                    int hz) {
    memset(c, 0, sizeof(*c));
    static const char *const TYPES[][2] = {{"samples", "count"}, {"cpu", "nanoseconds"}};
    c->exe = exe;
    c->pcln = pcln;
    c->minor = minor;
    c->period_ns = 1000000000LL / hz;
    return profile_builder_init(&c->p, 2, TYPES, "cpu", "nanoseconds", c->period_ns) && !c->p.oom;
}

/* The process's entry, added (bias unknown) the first time; NULL when out of memory. */
static struct cpu_process *process(struct cpu_pprof *c, int pid) {
    for (size_t i = 0; i < c->nprocs; i++)
        if (c->procs[i].pid == pid)
            return &c->procs[i];
    struct cpu_process *procs = grow_array(c->procs, &c->procs_cap, c->nprocs, sizeof(*procs), 4);
    if (!procs)
        return NULL;
    c->procs = procs;
    struct cpu_process *p = &c->procs[c->nprocs++];
    memset(p, 0, sizeof(*p));
    p->pid = pid;
    /* Until learnt: a binary that is not PIE is where it was linked. */
    p->bias_known = !elf_image_is_pie(c->exe);
    stack_symbols_init(&p->go, c->pcln, 0, c->minor);
    return p;
}

static bool known_mapping(const struct cpu_process *p, const struct maps_entry *e) {
    for (size_t i = 0; i < p->nmaps; i++)
        if (p->maps[i].start == e->start && p->maps[i].end == e->end && strcmp(p->maps[i].path, e->path) == 0)
            return true;
    return false;
}

static void read_maps(struct cpu_process *p) {
    char path[64], line[8192];
    snprintf(path, sizeof(path), "/proc/%d/maps", p->pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    struct maps_entry e;
    while (fgets(line, sizeof(line), f)) {
        if (!proc_maps_parse_line(line, &e) || e.perms[2] != 'x' || !e.path[0] || known_mapping(p, &e))
            continue;
        struct code_mapping *maps = grow_array(p->maps, &p->maps_cap, p->nmaps, sizeof(*maps), 16);
        char *copy = strdup(e.path);
        if (!maps || !copy) {
            free(copy);
            break;
        }
        p->maps = maps;
        p->maps[p->nmaps++] =
            (struct code_mapping){.start = e.start, .end = e.end, .offset = e.offset, .path = copy};
    }
    fclose(f);
}

/* The mapping's symbols: its file through the process's root (its mount namespace, a container's), or for the
 * vDSO the image the kernel mapped, read from the process. */
static void load_symbols(const struct cpu_process *p, struct code_mapping *m) {
    m->symbols_read = true;
    uint64_t vaddr = 0;
    if (strcmp(m->path, "[vdso]") == 0) {
        size_t size = m->end - m->start;
        void *image = size <= MAX_VDSO ? malloc(size) : NULL;
        if (image && proc_read(p->pid, m->start, image, size))
            m->has_symbols = native_symbols_from_image(&m->symbols, image, size, 0, &vaddr);
        free(image);
    } else if (m->path[0] == '/') {
        char path[4200];
        snprintf(path, sizeof(path), "/proc/%d/root%s", p->pid, m->path);
        m->has_symbols = native_symbols_from_elf(&m->symbols, path, m->offset, &vaddr);
    }
    m->to_vaddr = m->start - vaddr;
}

void cpu_pprof_learn_process(struct cpu_pprof *c, int pid) {
    struct cpu_process *p = process(c, pid);
    if (!p)
        return;
    struct proc_target t;
    struct gmon_error err;
    uint64_t bias;
    if (proc_target_open(pid, &t, &err) == 0 && proc_load_bias(&t, c->exe, &bias, &err) == 0) {
        if (!p->bias_known || p->go.load_bias != bias) {
            stack_symbols_free(&p->go);
            stack_symbols_init(&p->go, c->pcln, bias, c->minor);
        }
        p->bias_known = true;
    }
    if (!p->exe_mapping)
        p->exe_mapping = profile_process_mapping(&c->p, pid);
    read_maps(p);
    /* Their symbols now, while the files (through /proc/PID/root) and the vDSO can be read. */
    for (size_t i = 0; i < p->nmaps; i++)
        if (!p->maps[i].symbols_read)
            load_symbols(p, &p->maps[i]);
}

static struct code_mapping *mapping_of(struct cpu_process *p, uint64_t pc) {
    for (size_t i = 0; i < p->nmaps; i++)
        if (pc >= p->maps[i].start && pc < p->maps[i].end)
            return &p->maps[i];
    return NULL;
}

/* A frame outside Go code: its function from the symbols of the file mapped there, else "FILE+0xOFFSET". */
static uint64_t native_location(struct cpu_pprof *c, struct cpu_process *p, uint64_t pc, bool exact) {
    c->native_frames++;
    struct code_mapping *m = mapping_of(p, pc);
    const char *name = NULL;
    char fallback[600];
    if (m) {
        if (!m->symbols_read)
            load_symbols(p, m);
        if (m->has_symbols)
            name = native_symbols_find(&m->symbols, pc - m->to_vaddr - (exact ? 0 : 1));
        if (!m->id)
            m->id = profile_add_mapping(&c->p, m->start, m->end, m->offset, m->path, NULL);
    }
    if (!name) {
        c->unnamed_frames++;
        const char *base = m ? strrchr(m->path, '/') : NULL;
        if (m)
            snprintf(fallback, sizeof(fallback), "%s+%#" PRIx64, base ? base + 1 : m->path,
                     pc - m->start + m->offset);
        else
            snprintf(fallback, sizeof(fallback), "%#" PRIx64, pc);
        name = fallback;
    }
    struct profile_line line = {name, "", 0, 0};
    return profile_location(&c->p, m ? m->id : 0, pc, &line, 1);
}

bool cpu_pprof_read_kernel_symbols(struct cpu_pprof *c) {
    if (c->kernel_read)
        return c->kernel.n > 0;
    c->kernel_read = true;
    native_symbols_from_kallsyms(&c->kernel);
    c->kernel_mapping =
        profile_add_mapping(&c->p, 0xffff800000000000ull, UINT64_MAX, 0, "[kernel.kallsyms]", NULL);
    return c->kernel.n > 0;
}

static uint64_t kernel_location(struct cpu_pprof *c, uint64_t pc, bool exact) {
    cpu_pprof_read_kernel_symbols(c);
    const char *name = native_symbols_find(&c->kernel, exact ? pc : pc - 1);
    char fallback[32];
    if (!name) {
        c->unnamed_kernel_frames++;
        snprintf(fallback, sizeof(fallback), "[kernel] %#" PRIx64, pc);
        name = fallback;
    }
    struct profile_line line = {name, "", 0, 0};
    return profile_location(&c->p, c->kernel_mapping, pc, &line, 1);
}

static bool is_go_pc(const struct cpu_process *p, uint64_t return_pc) {
    struct go_func fn;
    return p->bias_known && pclntab_func_at(p->go.pcln, return_pc - 1 - p->go.load_bias, &fn);
}

/* How many of the first n return addresses to keep. A Go stack ends at its outermost Go frame
 * (runtime.goexit, runtime.mstart: what the walk reads beyond is not a frame); frames of C code above the Go
 * ones are kept while they are in code the process mapped (C code keeps no frame pointers, and its walk reads
 * on into data), and only those when a goroutine stack follows (the goroutine's frames come from that stack).
 */
static size_t kept_frames(struct cpu_pprof *c, struct cpu_process *p, const uint64_t *pcs, size_t n,
                          bool before_goroutine) {
    bool seen_go = false;
    for (size_t i = 0; i < n; i++) {
        if (is_go_pc(p, pcs[i])) {
            if (before_goroutine)
                return i;
            seen_go = true;
            continue;
        }
        if (seen_go)
            return i;
        if (!p->nmaps || !mapping_of(p, pcs[i])) {
            /* A frame that is not code: the chain broke in C code above it; as the leaf, a PC gmon cannot
             * place (a process exec'ing shows its old program's), counted as runtime._ExternalCode. */
            c->cut_stacks += i > 0 && !before_goroutine;
            return i;
        }
    }
    return n;
}

/* The mapping Go frames of process p are in: its executable's, from /proc/PID/maps; for a process gone before
 * gmon read them (a short one under --path), the binary's code segment where the binary says it is loaded
 * (a binary that is not PIE is loaded there). */
static uint64_t go_mapping(struct cpu_pprof *c, struct cpu_process *p, uint64_t pc) {
    if (p->exe_mapping || !p->bias_known)
        return p->exe_mapping;
    const struct elf_segment *seg = elf_image_segment_of(c->exe, pc - 1 - p->go.load_bias);
    if (seg)
        p->exe_mapping =
            profile_add_mapping(&c->p, seg->vaddr + p->go.load_bias,
                                seg->vaddr + seg->memsz + p->go.load_bias, seg->offset, c->exe->path, NULL);
    return p->exe_mapping;
}

/* The locations of return addresses pcs[0..n): runs of Go return addresses as Go turns them into locations,
 * the frames between them (C code) one location each. exact: pcs[0] - 1 is the interrupted instruction. */
static size_t locations_of(struct cpu_pprof *c, struct cpu_process *p, const uint64_t *pcs, size_t n,
                           bool exact, uint64_t *locs, size_t max) {
    size_t nlocs = 0;
    for (size_t i = 0; i < n && nlocs < max;) {
        size_t run = 0;
        while (i + run < n && is_go_pc(p, pcs[i + run]))
            run++;
        if (run) {
            nlocs += stack_locations(&c->p, go_mapping(c, p, pcs[i]), &p->go, pcs + i, run, locs + nlocs,
                                     max - nlocs);
            i += run;
            continue;
        }
        bool leaf = i == 0 && exact;
        uint64_t id = native_location(c, p, leaf ? pcs[0] - 1 : pcs[i], leaf);
        if (id)
            locs[nlocs++] = id;
        i++;
    }
    return nlocs;
}

/* The user stack's locations, then the goroutine's when the user stack was C code on the system stack. */
static size_t user_locations(struct cpu_pprof *c, struct cpu_process *p, const struct cpu_stack_sample *s,
                             uint64_t *locs, size_t max) {
    uint64_t pcs[MAX_LOCATIONS];
    size_t n = s->nuser < MAX_LOCATIONS ? s->nuser : MAX_LOCATIONS;
    memcpy(pcs, s->user, n * sizeof(pcs[0]));
    if (n && s->user_leaf_exact)
        pcs[0]++; /* as Go records the interrupted PC: one past it, so that every entry is a return address */
    if (!p->bias_known)
        c->frames_without_bias += n + s->ngoroutine;
    n = kept_frames(c, p, pcs, n, s->ngoroutine > 0);
    size_t nlocs = locations_of(c, p, pcs, n, s->user_leaf_exact, locs, max);
    /* Every frame kept is C code (kept_frames stops at the first Go one when a goroutine stack follows). */
    size_t ngo = s->ngoroutine < MAX_LOCATIONS ? s->ngoroutine : MAX_LOCATIONS;
    size_t first = 0;
    while (first < ngo && !is_go_pc(p, s->goroutine[first])) /* not a return address (sched.sp's word) */
        first++;
    memcpy(pcs, s->goroutine + first, (ngo - first) * sizeof(pcs[0]));
    return nlocs + locations_of(c, p, pcs, ngo - first, false, locs + nlocs, max - nlocs);
}

bool cpu_pprof_add(struct cpu_pprof *c, const struct cpu_stack_sample *s) {
    struct cpu_process *p = process(c, s->pid);
    if (!p)
        return false;
    uint64_t locs[MAX_LOCATIONS];
    size_t nlocs = 0;
    for (size_t i = 0; i < s->nkernel && nlocs < MAX_LOCATIONS; i++) {
        uint64_t id = kernel_location(c, s->kernel[i], i == 0);
        if (id)
            locs[nlocs++] = id;
    }
    nlocs += user_locations(c, p, s, locs + nlocs, MAX_LOCATIONS - nlocs);
    if (nlocs == 0) { /* nothing gmon can name, as Go's own profile counts a sample it cannot trace */
        struct profile_line line = {"runtime._ExternalCode", "", 0, 0};
        uint64_t id = profile_location(&c->p, 0, 0, &line, 1);
        if (id)
            locs[nlocs++] = id;
    }
    int64_t values[2] = {s->count, s->count * c->period_ns};
    return profile_add_sample(&c->p, locs, nlocs, values, s->labels, s->nlabels);
}

void cpu_pprof_set_window(struct cpu_pprof *c, int64_t start_ns, int64_t duration_ns) {
    c->p.start_ns = start_ns;
    c->p.duration_ns = duration_ns;
}

void cpu_pprof_free(struct cpu_pprof *c) {
    for (size_t k = 0; k < c->nprocs; k++) {
        struct cpu_process *p = &c->procs[k];
        for (size_t i = 0; i < p->nmaps; i++) {
            free(p->maps[i].path);
            native_symbols_free(&p->maps[i].symbols);
        }
        free(p->maps);
        stack_symbols_free(&p->go);
    }
    free(c->procs);
    native_symbols_free(&c->kernel);
    profile_builder_free(&c->p);
    memset(c, 0, sizeof(*c));
}
