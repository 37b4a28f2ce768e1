#include "bpf_program.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bcc_library.h"
#include "bpf_cache.h"
#include "bpf_compiler.h"
#include "grow_array.h"
#include "perf_events.h"

#include <bcc/libbpf.h>

enum { CAP_SYS_ADMIN_BIT = 21, CAP_PERFMON_BIT = 38, CAP_BPF_BIT = 39 };

static bool path_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static uint64_t effective_capabilities(void) {
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return 0;
    char line[256];
    unsigned long long caps = 0;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "CapEff: %llx", &caps) == 1)
            break;
    fclose(f);
    return caps;
}

static int check_privileges(struct gmon_error *err) {
    uint64_t caps = effective_capabilities();
    bool admin = caps & (1ULL << CAP_SYS_ADMIN_BIT);
    bool bpf = (caps & (1ULL << CAP_BPF_BIT)) && (caps & (1ULL << CAP_PERFMON_BIT));
    if (admin || bpf)
        return 0;
    return gmon_fail(err, "live tracing needs root (or CAP_BPF and CAP_PERFMON): run gmon with sudo");
}

static int check_kernel_headers(struct gmon_error *err) {
    struct utsname u;
    if (uname(&u) != 0)
        return gmon_fail(err, "uname: %s", strerror(errno));
    char build[512];
    snprintf(build, sizeof(build), "/lib/modules/%s/build/include", u.release);
    if (path_exists(build) || path_exists("/sys/kernel/kheaders.tar.xz"))
        return 0;
    return gmon_fail(
        err,
        "BCC needs kernel headers and /lib/modules/%s/build has none: on Debian run './gmon.sh deps' "
        "(installs linux-headers-amd64 and links it there) or install the headers of this kernel",
        u.release);
}

/* libbcc attaches through the perf uprobe PMU and falls back to tracefs' uprobe_events. Many minimal hosts
 * and containers do not mount tracefs; mount it when we can, and fail only when neither way exists. */
static int check_uprobe_support(struct gmon_error *err) {
    if (path_exists("/sys/kernel/tracing/uprobe_events") ||
        path_exists("/sys/kernel/debug/tracing/uprobe_events"))
        return 0;
    if (path_exists("/sys/kernel/tracing"))
        mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL);
    if (path_exists("/sys/kernel/tracing/uprobe_events") ||
        path_exists("/sys/bus/event_source/devices/uprobe/type"))
        return 0;
    return gmon_fail(err,
                     "this kernel offers no uprobes (neither the perf uprobe PMU nor tracefs uprobe_events): "
                     "gmon needs a kernel built with CONFIG_UPROBE_EVENTS");
}

int bpf_preflight(struct gmon_error *err) {
    if (check_privileges(err) != 0 || check_kernel_headers(err) != 0 || check_uprobe_support(err) != 0 ||
        bcc_library_load(err) != 0)
        return -1;
    return 0;
}

void bpf_define(struct bpf_defines *d, const char *name, long long value) {
    if (d->n == BPF_MAX_DEFINES)
        return;
    snprintf(d->text[d->n], sizeof(d->text[d->n]), "-D%s=%lld", name, value);
    d->argv[d->n] = d->text[d->n];
    d->n++;
}

int bpf_possible_cpus(void) {
    FILE *f = fopen("/sys/devices/system/cpu/possible", "r");
    int first = 0, last = 0;
    if (f) {
        if (fscanf(f, "%d-%d", &first, &last) < 2)
            last = first;
        fclose(f);
    }
    return last + 1;
}

int bpf_program_attach_rets(struct bpf_program *p, int prog_fd, const char *binary,
                            const struct probe_site *site, int pid, struct gmon_error *err) {
    if (site->nrets == 0 || site->nrets > PROBE_MAX_RETS)
        return gmon_fail(err,
                         "%s has %zu RET instructions; gmon reads results at each RET and supports 1 to %d",
                         site->function, site->nrets, PROBE_MAX_RETS);
    for (size_t i = 0; i < site->nrets; i++)
        if (bpf_program_attach_uprobe(p, prog_fd, binary, site->ret_offsets[i], pid, err) != 0)
            return -1;
    return 0;
}

void bpf_sum_percpu_counters(int map_fd, int ncpus, uint64_t *out, int n) {
    uint64_t *per_cpu = calloc((size_t)ncpus, sizeof(uint64_t));
    for (int k = 0; k < n; k++) {
        out[k] = 0;
        int key = k;
        if (per_cpu && bpf_lookup_elem(map_fd, &key, per_cpu) == 0)
            for (int c = 0; c < ncpus; c++)
                out[k] += per_cpu[c];
    }
    free(per_cpu);
}

void *bpf_map_values(int fd, size_t bytes, size_t *mapped_bytes) {
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    *mapped_bytes = (bytes + page - 1) / page * page;
    void *p = mmap(NULL, *mapped_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    return p == MAP_FAILED ? NULL : p;
}

/* Everything the compiled program depends on, which the cache compares byte for byte: the kernel (its headers
 * are compiled in, its release decides helpers and map types), libbcc (the file, by size and time), gmon's
 * object format, the -D flags and the source. */
static char *cache_key(const char *source, const char *const *argv, size_t argc, size_t *size) {
    struct utsname u;
    char dir[4096], libbcc[4200];
    struct stat st = {0};
    if (uname(&u) != 0 || bcc_library_directory(dir, sizeof(dir)) != 0)
        return NULL;
    snprintf(libbcc, sizeof(libbcc), "%s/libbcc.so.0", dir);
    if (stat(libbcc, &st) != 0)
        return NULL;
    char *key = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&key, &n);
    if (!f)
        return NULL;
    fprintf(f,
            "gmon BPF program (object format 1)\nkernel: %s %s\nlibbcc: %s %lld bytes, ino %llu, mtime "
            "%lld.%09ld\n",
            u.release, u.version, libbcc, (long long)st.st_size, (unsigned long long)st.st_ino,
            (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    for (size_t i = 0; i < argc; i++)
        fprintf(f, "flag: %s\n", argv[i]);
    fprintf(f, "source:\n%s", source);
    if (fclose(f) != 0) {
        free(key);
        return NULL;
    }
    *size = n;
    return key;
}

/* How this process's programs were obtained: written by the command's thread while it starts tracing, before
 * the metrics thread exists. */
static struct {
    unsigned from_cache, compiled;
    char cache_note[600]; /* why the cache could not give or keep a program */
} stats;

const char *bpf_compile_summary(char *buf, size_t size) {
    const char *what = stats.compiled == 0 ? "from the cache"
                       : stats.from_cache  ? "partly from the cache"
                                           : "compiled";
    snprintf(buf, size, "BPF program%s %s%s%s", stats.compiled + stats.from_cache > 1 ? "s" : "", what,
             stats.compiled && !stats.cache_note[0] ? " and cached"
             : stats.cache_note[0]                  ? "; not cached: "
                                                    : "",
             stats.compiled ? stats.cache_note : "");
    return buf;
}

/* The serialized object: from the cache, or from the compiler child (then stored). */
static int object_bytes(const char *source, const char *const *argv, size_t argc, uint8_t **bytes,
                        size_t *size, struct gmon_error *err) {
    size_t key_size = 0;
    char *key = cache_key(source, argv, argc, &key_size);
    struct bpf_cache cache = {.dir_fd = -1};
    if (!key)
        snprintf(stats.cache_note, sizeof(stats.cache_note), "the kernel or libbcc could not be identified");
    else if (!bpf_cache_open(&cache, true))
        snprintf(stats.cache_note, sizeof(stats.cache_note), "%s", cache.why_off);
    else if (bpf_cache_get(&cache, key, key_size, bytes, size)) {
        stats.from_cache++;
        bpf_cache_close(&cache);
        free(key);
        return 0;
    }
    int rc = bpf_compile_in_child(source, argv, argc, bytes, size, err);
    if (rc == 0)
        stats.compiled++;
    if (rc == 0 && cache.dir_fd >= 0 && !bpf_cache_put(&cache, key, key_size, *bytes, *size))
        snprintf(stats.cache_note, sizeof(stats.cache_note), "could not write to %s", cache.path);
    bpf_cache_close(&cache);
    free(key);
    return rc;
}

static int create_maps(struct bpf_program *p, struct gmon_error *err) {
    p->map_fds = malloc((p->object.nmaps ? p->object.nmaps : 1) * sizeof(*p->map_fds));
    if (!p->map_fds)
        return gmon_fail(err, "out of memory");
    for (uint32_t i = 0; i < p->object.nmaps; i++)
        p->map_fds[i] = -1;
    for (uint32_t i = 0; i < p->object.nmaps; i++) {
        const struct bpf_object_map *m = &p->object.maps[i];
        p->map_fds[i] = bcc_create_map((enum bpf_map_type)m->type, m->name, (int)m->key_size,
                                       (int)m->value_size, (int)m->max_entries, (int)m->flags);
        if (p->map_fds[i] < 0)
            return gmon_fail(err, "the kernel refused to create BPF map %s (type %u, %u entries): %s",
                             m->name, m->type, m->max_entries, strerror(errno));
    }
    return 0;
}

int bpf_program_compile(struct bpf_program *p, const char *source, const struct bpf_defines *defines,
                        struct gmon_error *err) {
    memset(p, 0, sizeof(*p));
    if (defines->n == BPF_MAX_DEFINES)
        return gmon_fail(err, "internal error: more than %d -D flags for the BPF program",
                         BPF_MAX_DEFINES - 1);
    /* GMON_BPF_PROGRAM tells the shared event headers they are compiled into a BPF program, not the host. */
    const char *argv[BPF_MAX_DEFINES + 1];
    memcpy(argv, defines->argv, defines->n * sizeof(argv[0]));
    argv[defines->n] = "-DGMON_BPF_PROGRAM=1";
    uint8_t *bytes = NULL;
    size_t size = 0;
    if (object_bytes(source, argv, defines->n + 1, &bytes, &size, err) != 0)
        return -1;
    int rc = bpf_object_parse(&p->object, bytes, size, err);
    free(bytes);
    if (rc != 0)
        return -1;
    return create_maps(p, err);
}

static int32_t fd_of_index(void *ctx, int32_t index) {
    const struct bpf_program *p = ctx;
    return p->map_fds[index];
}

int bpf_program_load(struct bpf_program *p, const char *name, struct gmon_error *err) {
    return bpf_program_load_as(p, name, BPF_PROG_TYPE_KPROBE, err);
}

int bpf_program_load_as(struct bpf_program *p, const char *name, enum bpf_prog_type type,
                        struct gmon_error *err) {
    if (p->nprogs == sizeof(p->prog_fds) / sizeof(p->prog_fds[0]))
        return gmon_fail(err, "too many BPF programs");
    const struct bpf_object_function *f = bpf_object_function(&p->object, name);
    if (!f)
        return gmon_fail(err, "the BPF source has no function %s", name);
    struct bpf_object_insn *insns = malloc((size_t)f->ninsns * sizeof(*insns));
    if (!insns)
        return gmon_fail(err, "out of memory");
    memcpy(insns, f->insns, (size_t)f->ninsns * sizeof(*insns));
    /* The object has each map's index where the kernel wants this process's fd (indices checked at parse,
     * every map created: none is refused). */
    int32_t refused;
    bpf_object_rewrite_map_refs(insns, f->ninsns, fd_of_index, p, &refused);
    char log[4096] = "";
    int fd = bcc_prog_load(type, name, (const struct bpf_insn *)insns, (int)(f->ninsns * sizeof(*insns)),
                           p->object.license, p->object.kern_version, 0, log, sizeof(log));
    int saved = errno;
    free(insns);
    if (fd < 0) {
        if (saved == EPERM)
            return gmon_fail(err, "the kernel refused to load BPF program %s (EPERM): run gmon as root",
                             name);
        return gmon_fail(err, "the kernel refused to load BPF program %s: %s%s%.300s", name, strerror(saved),
                         log[0] ? "; verifier: " : "", log);
    }
    p->prog_fds[p->nprogs] = fd;
    p->prog_names[p->nprogs++] = name;
    return fd;
}

static int remember_probe(struct bpf_program *p, int perf_fd, const char *event_name) {
    struct attached_probe *probes = grow_array(p->probes, &p->cap, p->nprobes, sizeof(*probes), 16);
    if (!probes)
        return -1;
    p->probes = probes;
    struct attached_probe *a = &p->probes[p->nprobes++];
    a->perf_fd = perf_fd;
    snprintf(a->event_name, sizeof(a->event_name), "%s", event_name);
    return 0;
}

int bpf_program_attach_uprobe(struct bpf_program *p, int prog_fd, const char *binary, uint64_t offset,
                              int pid, struct gmon_error *err) {
    char event_name[64];
    snprintf(event_name, sizeof(event_name), "gmon_%d_%zu", (int)getpid(), p->nprobes);
    int fd = bpf_attach_uprobe(prog_fd, BPF_PROBE_ENTRY, event_name, binary, offset, pid, 0);
    if (fd < 0)
        return gmon_fail(err, "cannot attach a uprobe to %s at file offset %#llx: %s", binary,
                         (unsigned long long)offset, strerror(errno));
    if (remember_probe(p, fd, event_name) != 0) {
        bpf_close_perf_event_fd(fd);
        bpf_detach_uprobe(event_name);
        return gmon_fail(err, "out of memory");
    }
    return 0;
}

int bpf_program_attach_sampler(struct bpf_program *p, int prog_fd, int cpu, int hz, struct gmon_error *err) {
    int fd = perf_event_open_sampler(cpu, hz, prog_fd, err);
    if (fd < 0)
        return -1;
    if (remember_probe(p, fd, "") != 0) { /* no event name: nothing to remove from tracefs */
        bpf_close_perf_event_fd(fd);
        return gmon_fail(err, "out of memory");
    }
    return 0;
}

int bpf_program_map_fd(struct bpf_program *p, const char *name) {
    int i = p->map_fds ? bpf_object_map_index(&p->object, name) : -1;
    return i >= 0 ? p->map_fds[i] : -1;
}

/* A program that a thread entered before tracing was turned off runs to its end (a few microseconds): the
 * maps are final once those have returned. */
enum { SETTLE_US = 20000 };

static int set_tracing(struct bpf_program *p, uint32_t on) {
    int fd = bpf_program_map_fd(p, "gmon_tracing");
    uint32_t zero = 0;
    return fd >= 0 && bpf_update_elem(fd, &zero, &on, BPF_ANY) == 0 ? 0 : -1;
}

int bpf_program_start_tracing(struct bpf_program *p, struct gmon_error *err) {
    if (set_tracing(p, 1) != 0)
        return gmon_fail(err, "cannot turn the probes on (its gmon_tracing map): %s", strerror(errno));
    return 0;
}

void bpf_program_detach(struct bpf_program *p) {
    if (p->nprobes > 0 && set_tracing(p, 0) == 0)
        usleep(SETTLE_US);
    for (size_t i = 0; i < p->nprobes; i++) {
        bpf_close_perf_event_fd(p->probes[i].perf_fd);
        if (p->probes[i].event_name[0])
            bpf_detach_uprobe(p->probes[i].event_name);
    }
    free(p->probes);
    p->probes = NULL;
    p->nprobes = p->cap = 0;
}

void bpf_program_close(struct bpf_program *p) {
    bpf_program_detach(p);
    for (size_t i = 0; i < p->nprogs; i++)
        close(p->prog_fds[i]);
    if (p->map_fds)
        for (uint32_t i = 0; i < p->object.nmaps; i++)
            if (p->map_fds[i] >= 0)
                close(p->map_fds[i]);
    free(p->map_fds);
    bpf_object_free(&p->object);
    memset(p, 0, sizeof(*p));
}
