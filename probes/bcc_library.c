#include "bcc_library.h"

#include <dlfcn.h>
#include <link.h>
#include <string.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <bcc/bcc_common.h>
#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>

#include "library_loader.h"

/* The two halves of libbcc: libbcc_bpf.so.0 creates maps, loads programs, attaches probes and reads buffers
 * (small: libelf and libbpf); libbcc.so.0 adds the compiler (LLVM and clang). The tracing process loads only
 * the first; the compiler child (bpf_compiler.c) loads the second. */
static void *runtime_library, *compiler_library;

/* Every libbcc_bpf function gmon calls: (return type, name, parameters, arguments). */
#define BCC_RUNTIME_FUNCTIONS(X, V)                                                                          \
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
    X(int, bpf_lookup_batch,                                                                                 \
      (int fd, __u32 *in_batch, __u32 *out_batch, void *keys, void *values, __u32 *count),                   \
      (fd, in_batch, out_batch, keys, values, count))                                                        \
    X(int, bpf_delete_batch, (int fd, void *keys, __u32 *count), (fd, keys, count))                          \
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

/* Every libbcc compiler function the compiler child calls. */
#define BCC_COMPILER_FUNCTIONS(X, V)                                                                         \
    X(void *, bpf_module_create_c_from_string,                                                               \
      (const char *text, unsigned flags, const char *cflags[], int ncflags, bool allow_rlimit,               \
       const char *dev_name),                                                                                \
      (text, flags, cflags, ncflags, allow_rlimit, dev_name))                                                \
    X(unsigned, bpf_module_kern_version, (void *program), (program))                                         \
    X(char *, bpf_module_license, (void *program), (program))                                                \
    X(size_t, bpf_num_functions, (void *program), (program))                                                 \
    X(const char *, bpf_function_name, (void *program, size_t id), (program, id))                            \
    X(void *, bpf_function_start_id, (void *program, size_t id), (program, id))                              \
    X(size_t, bpf_function_size_id, (void *program, size_t id), (program, id))                               \
    X(size_t, bpf_num_tables, (void *program), (program))                                                    \
    X(const char *, bpf_table_name, (void *program, size_t id), (program, id))                               \
    X(int, bpf_table_fd_id, (void *program, size_t id), (program, id))                                       \
    X(int, bpf_table_type_id, (void *program, size_t id), (program, id))                                     \
    X(size_t, bpf_table_key_size_id, (void *program, size_t id), (program, id))                              \
    X(size_t, bpf_table_leaf_size_id, (void *program, size_t id), (program, id))                             \
    X(size_t, bpf_table_max_entries_id, (void *program, size_t id), (program, id))                           \
    X(int, bpf_table_flags_id, (void *program, size_t id), (program, id))

#define BCC_FUNCTIONS(X, V) BCC_RUNTIME_FUNCTIONS(X, V) BCC_COMPILER_FUNCTIONS(X, V)

/* One pointer per function, all filled by bcc_library_load before any tracing starts (and before the metrics
 * thread exists), so that no thread ever writes one while another reads it. */
#define POINTER(ret, name, params, args) static ret(*real_##name) params;
#define POINTER_VOID(name, params, args) static void(*real_##name) params;
BCC_FUNCTIONS(POINTER, POINTER_VOID)

#define SLOT(ret, name, params, args) {#name, (void **)&real_##name},
#define SLOT_VOID(name, params, args) {#name, (void **)&real_##name},
static const struct library_function RUNTIME_SLOTS[] = {BCC_RUNTIME_FUNCTIONS(SLOT, SLOT_VOID)};
static const struct library_function COMPILER_SLOTS[] = {BCC_COMPILER_FUNCTIONS(SLOT, SLOT_VOID)};

static int load_library(const char *soname, const struct library_function *slots, size_t nslots,
                        void **handle, struct gmon_error *err) {
    if (!*handle)
        *handle = library_load(soname, slots, nslots,
                               "which live tracing needs (Debian: apt-get install libbpfcc)", err);
    return *handle ? 0 : -1;
}

int bcc_library_load(struct gmon_error *err) {
    return load_library("libbcc_bpf.so.0", RUNTIME_SLOTS, sizeof(RUNTIME_SLOTS) / sizeof(RUNTIME_SLOTS[0]),
                        &runtime_library, err);
}

int bcc_compiler_load(struct gmon_error *err) {
    return load_library("libbcc.so.0", COMPILER_SLOTS, sizeof(COMPILER_SLOTS) / sizeof(COMPILER_SLOTS[0]),
                        &compiler_library, err);
}

bool bcc_library_loaded(void) {
    return runtime_library != NULL;
}

int bcc_library_directory(char *out, size_t size) {
    struct link_map *map = NULL;
    if (!runtime_library || dlinfo(runtime_library, RTLD_DI_LINKMAP, &map) != 0 || !map || !map->l_name)
        return -1;
    const char *slash = strrchr(map->l_name, '/');
    if (!slash || (size_t)(slash - map->l_name) >= size)
        return -1;
    snprintf(out, size, "%.*s", (int)(slash - map->l_name), map->l_name);
    return 0;
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
