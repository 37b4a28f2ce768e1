#include "bcc_library.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bcc/bcc_common.h>
#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>

static void *library;

int bcc_library_load(struct gmon_error *err) {
    if (library)
        return 0;
    library = dlopen("libbcc.so.0", RTLD_NOW | RTLD_LOCAL);
    if (!library)
        return gmon_fail(
            err, "cannot load libbcc, which live tracing needs (Debian: apt-get install libbpfcc): %s",
            dlerror());
    return 0;
}

bool bcc_library_loaded(void) {
    return library != NULL;
}

/* The address of one of libbcc's functions. Every forwarder runs after bcc_library_load succeeded (the
 * tracing commands load it before anything else), so a failure here means a libbcc without a function its
 * headers declare: nothing can go on. */
static void *function(const char *name) {
    struct gmon_error err;
    void *f = bcc_library_load(&err) == 0 ? dlsym(library, name) : NULL;
    if (!f) {
        fprintf(stderr, "gmon: libbcc has no %s: %s\n", name, library ? dlerror() : err.msg);
        _exit(1);
    }
    return f;
}

/* ret name(params) { return libbcc's name(args); }, the function looked up on its first call. POSIX lets a
 * dlsym result be stored into a function pointer through a void * view of it. */
#define FORWARD(ret, name, params, args)                                                                     \
    ret name params {                                                                                        \
        static ret(*real) params;                                                                            \
        if (!real)                                                                                           \
            *(void **)&real = function(#name);                                                               \
        return real args;                                                                                    \
    }
#define FORWARD_VOID(name, params, args)                                                                     \
    void name params {                                                                                       \
        static void(*real) params;                                                                           \
        if (!real)                                                                                           \
            *(void **)&real = function(#name);                                                               \
        real args;                                                                                           \
    }

/* clang-format off: one forwarder per line */
FORWARD(void *, bpf_module_create_c_from_string,
        (const char *text, unsigned flags, const char *cflags[], int ncflags, bool allow_rlimit,
         const char *dev_name),
        (text, flags, cflags, ncflags, allow_rlimit, dev_name))
FORWARD_VOID(bpf_module_destroy, (void *program), (program))
FORWARD(unsigned, bpf_module_kern_version, (void *program), (program))
FORWARD(char *, bpf_module_license, (void *program), (program))
FORWARD(void *, bpf_function_start, (void *program, const char *name), (program, name))
FORWARD(size_t, bpf_function_size, (void *program, const char *name), (program, name))
FORWARD(int, bpf_table_fd, (void *program, const char *table_name), (program, table_name))
FORWARD(int, bcc_prog_load,
        (enum bpf_prog_type prog_type, const char *name, const struct bpf_insn *insns, int prog_len,
         const char *license, unsigned kern_version, int log_level, char *log_buf, unsigned log_buf_size),
        (prog_type, name, insns, prog_len, license, kern_version, log_level, log_buf, log_buf_size))
FORWARD(int, bcc_create_map,
        (enum bpf_map_type map_type, const char *name, int key_size, int value_size, int max_entries,
         int map_flags),
        (map_type, name, key_size, value_size, max_entries, map_flags))
FORWARD(int, bpf_attach_uprobe,
        (int progfd, enum bpf_probe_attach_type attach_type, const char *ev_name, const char *binary_path,
         uint64_t offset, pid_t pid, uint32_t ref_ctr_offset),
        (progfd, attach_type, ev_name, binary_path, offset, pid, ref_ctr_offset))
FORWARD(int, bpf_detach_uprobe, (const char *ev_name), (ev_name))
FORWARD(int, bpf_close_perf_event_fd, (int fd), (fd))
FORWARD(int, bpf_lookup_elem, (int fd, void *key, void *value), (fd, key, value))
FORWARD(int, bpf_update_elem, (int fd, void *key, void *value, unsigned long long flags),
        (fd, key, value, flags))
FORWARD(int, bpf_delete_elem, (int fd, void *key), (fd, key))
FORWARD(int, bpf_get_next_key, (int fd, void *key, void *next_key), (fd, key, next_key))
FORWARD(void *, bpf_new_ringbuf, (int map_fd, ring_buffer_sample_fn sample_cb, void *ctx),
        (map_fd, sample_cb, ctx))
FORWARD(int, bpf_poll_ringbuf, (struct ring_buffer * rb, int timeout_ms), (rb, timeout_ms))
FORWARD_VOID(bpf_free_ringbuf, (struct ring_buffer * rb), (rb))
FORWARD(void *, bpf_open_perf_buffer,
        (perf_reader_raw_cb raw_cb, perf_reader_lost_cb lost_cb, void *cb_cookie, int pid, int cpu,
         int page_cnt),
        (raw_cb, lost_cb, cb_cookie, pid, cpu, page_cnt))
FORWARD(int, perf_reader_poll, (int num_readers, struct perf_reader **readers, int timeout),
        (num_readers, readers, timeout))
FORWARD(int, perf_reader_fd, (struct perf_reader * reader), (reader))
FORWARD_VOID(perf_reader_free, (void *ptr), (ptr))
/* clang-format on */
