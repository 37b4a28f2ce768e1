#include "bcc_library.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bcc/bcc_common.h>
#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>

static void *library;

/* Every libbcc function gmon calls: (return type, name, parameters, arguments). */
#define BCC_FUNCTIONS(X, V)                                                                                  \
    X(void *, bpf_module_create_c_from_string,                                                               \
      (const char *text, unsigned flags, const char *cflags[], int ncflags, bool allow_rlimit,               \
       const char *dev_name),                                                                                \
      (text, flags, cflags, ncflags, allow_rlimit, dev_name))                                                \
    V(bpf_module_destroy, (void *program), (program))                                                        \
    X(unsigned, bpf_module_kern_version, (void *program), (program))                                         \
    X(char *, bpf_module_license, (void *program), (program))                                                \
    X(void *, bpf_function_start, (void *program, const char *name), (program, name))                        \
    X(size_t, bpf_function_size, (void *program, const char *name), (program, name))                         \
    X(int, bpf_table_fd, (void *program, const char *table_name), (program, table_name))                     \
    X(int, bcc_prog_load,                                                                                    \
      (enum bpf_prog_type prog_type, const char *name, const struct bpf_insn *insns, int prog_len,           \
       const char *license, unsigned kern_version, int log_level, char *log_buf, unsigned log_buf_size),     \
      (prog_type, name, insns, prog_len, license, kern_version, log_level, log_buf, log_buf_size))           \
    X(int, bcc_create_map,                                                                                   \
      (enum bpf_map_type map_type, const char *name, int key_size, int value_size, int max_entries,          \
       int map_flags),                                                                                       \
      (map_type, name, key_size, value_size, max_entries, map_flags))                                        \
    X(int, bpf_attach_uprobe,                                                                                \
      (int progfd, enum bpf_probe_attach_type attach_type, const char *ev_name, const char *binary_path,     \
       uint64_t offset, pid_t pid, uint32_t ref_ctr_offset),                                                 \
      (progfd, attach_type, ev_name, binary_path, offset, pid, ref_ctr_offset))                              \
    X(int, bpf_detach_uprobe, (const char *ev_name), (ev_name))                                              \
    X(int, bpf_close_perf_event_fd, (int fd), (fd))                                                          \
    X(int, bpf_lookup_elem, (int fd, void *key, void *value), (fd, key, value))                              \
    X(int, bpf_update_elem, (int fd, void *key, void *value, unsigned long long flags),                      \
      (fd, key, value, flags))                                                                               \
    X(int, bpf_delete_elem, (int fd, void *key), (fd, key))                                                  \
    X(int, bpf_get_next_key, (int fd, void *key, void *next_key), (fd, key, next_key))                       \
    X(void *, bpf_new_ringbuf, (int map_fd, ring_buffer_sample_fn sample_cb, void *ctx),                     \
      (map_fd, sample_cb, ctx))                                                                              \
    X(int, bpf_poll_ringbuf, (struct ring_buffer * rb, int timeout_ms), (rb, timeout_ms))                    \
    X(int, bpf_consume_ringbuf, (struct ring_buffer * rb), (rb))                                             \
    V(bpf_free_ringbuf, (struct ring_buffer * rb), (rb))                                                     \
    X(void *, bpf_open_perf_buffer,                                                                          \
      (perf_reader_raw_cb raw_cb, perf_reader_lost_cb lost_cb, void *cb_cookie, int pid, int cpu,            \
       int page_cnt),                                                                                        \
      (raw_cb, lost_cb, cb_cookie, pid, cpu, page_cnt))                                                      \
    X(int, perf_reader_poll, (int num_readers, struct perf_reader **readers, int timeout),                   \
      (num_readers, readers, timeout))                                                                       \
    X(int, perf_reader_consume, (int num_readers, struct perf_reader **readers), (num_readers, readers))     \
    X(int, perf_reader_fd, (struct perf_reader * reader), (reader))                                          \
    V(perf_reader_free, (void *ptr), (ptr))

/* One pointer per function, all filled by bcc_library_load before any tracing starts (and before the metrics
 * thread exists), so that no thread ever writes one while another reads it. */
#define POINTER(ret, name, params, args) static ret(*real_##name) params;
#define POINTER_VOID(name, params, args) static void(*real_##name) params;
BCC_FUNCTIONS(POINTER, POINTER_VOID)

/* POSIX lets a dlsym result be stored into a function pointer through a void * view of it. */
#define SLOT(ret, name, params, args) {#name, (void **)&real_##name},
#define SLOT_VOID(name, params, args) {#name, (void **)&real_##name},
static const struct {
    const char *name;
    void **pointer;
} SLOTS[] = {BCC_FUNCTIONS(SLOT, SLOT_VOID)};

int bcc_library_load(struct gmon_error *err) {
    if (library)
        return 0;
    void *lib = dlopen("libbcc.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        return gmon_fail(
            err, "cannot load libbcc, which live tracing needs (Debian: apt-get install libbpfcc): %s",
            dlerror());
    for (size_t i = 0; i < sizeof(SLOTS) / sizeof(SLOTS[0]); i++) {
        if (!(*SLOTS[i].pointer = dlsym(lib, SLOTS[i].name))) {
            gmon_fail(err, "this libbcc has no %s, which gmon calls: %s", SLOTS[i].name, dlerror());
            dlclose(lib);
            return -1;
        }
    }
    library = lib;
    return 0;
}

bool bcc_library_loaded(void) {
    return library != NULL;
}

/* A libbcc call before bcc_library_load: a bug in gmon, not something to carry on from. */
static void not_loaded(const char *name) {
    fprintf(stderr, "gmon: internal error: %s called before libbcc was loaded\n", name);
    _exit(1);
}

/* ret name(params) { return libbcc's name(args); } */
#define FORWARD(ret, name, params, args)                                                                     \
    ret name params {                                                                                        \
        if (!real_##name)                                                                                    \
            not_loaded(#name);                                                                               \
        return real_##name args;                                                                             \
    }
#define FORWARD_VOID(name, params, args)                                                                     \
    void name params {                                                                                       \
        if (!real_##name)                                                                                    \
            not_loaded(#name);                                                                               \
        real_##name args;                                                                                    \
    }
BCC_FUNCTIONS(FORWARD, FORWARD_VOID)
