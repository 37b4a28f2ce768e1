#include "bpf_compiler.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bcc_library.h"
#include "bpf_object.h"
#include "fd_io.h"

#include <bcc/bcc_common.h>

extern char **environ;

/* Bounds on what crosses the pipes: gmon's sources are tens of KB, its objects a few hundred KB. */
enum { MAX_SOURCE = 4 << 20, MAX_OBJECT = 64 << 20 };

enum { STATUS_OBJECT = 0, STATUS_ERROR = 1 };

/* ---- The child ---- */

/* The index among libbcc's tables of the map the child's fd refers to, or -1. */
struct map_list {
    void *module;
    size_t ntables;
};

static int32_t table_index_of_fd(void *ctx, int32_t fd) {
    const struct map_list *l = ctx;
    for (size_t t = 0; t < l->ntables; t++)
        if (bpf_table_fd_id(l->module, t) == fd)
            return (int32_t)t;
    return -1;
}

static int collect_maps(void *module, struct bpf_object *o, struct gmon_error *err) {
    size_t n = bpf_num_tables(module);
    if (n > BPF_OBJECT_MAX_MAPS)
        return gmon_fail(err, "the BPF program declares %zu maps; gmon supports %d", n, BPF_OBJECT_MAX_MAPS);
    o->maps = calloc(n ? n : 1, sizeof(*o->maps));
    if (!o->maps)
        return gmon_fail(err, "out of memory");
    o->nmaps = (uint32_t)n;
    for (size_t t = 0; t < n; t++) {
        struct bpf_object_map *m = &o->maps[t];
        snprintf(m->name, sizeof(m->name), "%s", bpf_table_name(module, t));
        m->type = (uint32_t)bpf_table_type_id(module, t);
        m->key_size = (uint32_t)bpf_table_key_size_id(module, t);
        m->value_size = (uint32_t)bpf_table_leaf_size_id(module, t);
        m->max_entries = (uint32_t)bpf_table_max_entries_id(module, t);
        m->flags = (uint32_t)bpf_table_flags_id(module, t);
    }
    return 0;
}

/* Copies function id's instructions, each map reference turned from the child's fd into the map's index. */
static int collect_function(void *module, size_t id, struct bpf_object *o, struct bpf_object_function *f,
                            struct gmon_error *err) {
    snprintf(f->name, sizeof(f->name), "%s", bpf_function_name(module, id));
    size_t bytes = bpf_function_size_id(module, id);
    const void *start = bpf_function_start_id(module, id);
    if (!start || bytes == 0 || bytes % sizeof(struct bpf_object_insn) != 0 ||
        bytes / sizeof(struct bpf_object_insn) > BPF_OBJECT_MAX_INSNS)
        return gmon_fail(err, "libbcc gave BPF function %s with %zu bytes of code", f->name, bytes);
    f->ninsns = (uint32_t)(bytes / sizeof(struct bpf_object_insn));
    f->insns = malloc(bytes);
    if (!f->insns)
        return gmon_fail(err, "out of memory");
    memcpy(f->insns, start, bytes);
    struct map_list maps = {module, o->nmaps};
    int32_t unknown;
    if (!bpf_object_rewrite_map_refs(f->insns, f->ninsns, table_index_of_fd, &maps, &unknown))
        return gmon_fail(err, "BPF function %s refers to a map libbcc does not list (fd %d)", f->name,
                         unknown);
    return bpf_object_check_function(o, f, err);
}

static int collect_object(void *module, struct bpf_object *o, struct gmon_error *err) {
    snprintf(o->license, sizeof(o->license), "%s", bpf_module_license(module));
    o->kern_version = bpf_module_kern_version(module);
    if (collect_maps(module, o, err) != 0)
        return -1;
    size_t n = bpf_num_functions(module);
    if (n == 0 || n > BPF_OBJECT_MAX_FUNCTIONS)
        return gmon_fail(err, "the BPF program has %zu functions; gmon supports 1 to %d", n,
                         BPF_OBJECT_MAX_FUNCTIONS);
    o->functions = calloc(n, sizeof(*o->functions));
    if (!o->functions)
        return gmon_fail(err, "out of memory");
    o->nfunctions = (uint32_t)n;
    for (size_t id = 0; id < n; id++)
        if (collect_function(module, id, o, &o->functions[id], err) != 0)
            return -1;
    return 0;
}

static int compile_source(const char *source, int ndefines, char **defines, uint8_t **out, size_t *size,
                          struct gmon_error *err) {
    if (bcc_compiler_load(err) != 0)
        return -1;
    /* libbcc prints compiler diagnostics on stderr itself. */
    void *module = bpf_module_create_c_from_string(source, 0, (const char **)defines, ndefines, true, NULL);
    if (!module)
        return gmon_fail(err, "libbcc could not compile the BPF program (compiler messages above)");
    struct bpf_object o = {0};
    int rc = collect_object(module, &o, err);
    if (rc == 0 && bpf_object_serialize(&o, out, size) != 0)
        rc = gmon_fail(err, "out of memory");
    bpf_object_free(&o);
    return rc; /* the module is not destroyed: the child ends right after, with _exit */
}

/* libbcc looks one kernel symbol up on every compilation (BFrontendAction::DoMiscWorkAround: does
 * bpf_probe_read_kernel exist?) by loading the whole of /proc/kallsyms into a table, and freeing it: a third
 * of the compilation's time (1.2 s -> 0.8 s from start to probes attached). gmon's programs read user memory
 * only, with gmon_read_user (probe_common.bpf.h), which does not depend on the answer, so the child hides the
 * file behind an empty one in a mount namespace of its own (which nothing else sees and which ends with it).
 * Without the privilege to, it compiles as it is. */
static void hide_kernel_symbols(void) {
    if (unshare(CLONE_NEWNS) != 0)
        return;
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0) /* no mount event reaches the host */
        mount("/dev/null", "/proc/kallsyms", NULL, MS_BIND, NULL);
}

int bpf_compiler_main(int argc, char *argv[]) {
    hide_kernel_symbols();
    struct gmon_error err = {0};
    uint8_t *source = NULL, *object = NULL;
    size_t source_size = 0, object_size = 0;
    int rc;
    if (fd_read_all(STDIN_FILENO, MAX_SOURCE, &source, &source_size) != 0)
        rc = gmon_fail(&err, "the compiler child could not read the source on its standard input");
    else
        rc = compile_source((const char *)source, argc - 1, argv + 1, &object, &object_size, &err);
    uint8_t status = rc == 0 ? STATUS_OBJECT : STATUS_ERROR;
    bool written = fd_write_all(STDOUT_FILENO, &status, 1) == 0 &&
                   (rc == 0 ? fd_write_all(STDOUT_FILENO, object, object_size)
                            : fd_write_all(STDOUT_FILENO, err.msg, strlen(err.msg))) == 0;
    free(source);
    free(object);
    /* _exit: no destructors of libbcc's or LLVM's static objects; the kernel reclaims the memory at once. */
    _exit(written && rc == 0 ? 0 : 1);
}

/* ---- The parent ---- */

static int spawn_child(const char *const *defines, size_t n, int *to_child, int *from_child, pid_t *pid,
                       struct gmon_error *err) {
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len <= 0)
        return gmon_fail(err, "cannot find gmon's own executable for the BPF compiler: %s", strerror(errno));
    exe[len] = '\0';
    const char **argv = calloc(n + 3, sizeof(*argv));
    int in[2] = {-1, -1}, out[2] = {-1, -1};
    if (!argv || pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) {
        free(argv);
        close(in[0]), close(in[1]);
        return gmon_fail(err, "cannot start the BPF compiler: %s", strerror(errno));
    }
    argv[0] = exe;
    argv[1] = BPF_COMPILER_COMMAND;
    memcpy(argv + 2, defines, n * sizeof(*argv));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    int rc = posix_spawn(pid, exe, &actions, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&actions);
    free(argv);
    close(in[0]);
    close(out[1]);
    if (rc != 0) {
        close(in[1]);
        close(out[0]);
        return gmon_fail(err, "cannot start the BPF compiler (%s): %s", exe, strerror(rc));
    }
    *to_child = in[1];
    *from_child = out[0];
    return 0;
}

static int wait_child(pid_t pid) {
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

static int child_result(int status, uint8_t *reply, size_t size, uint8_t **out, size_t *out_size,
                        struct gmon_error *err) {
    if (size > 1 && reply[0] == STATUS_ERROR) {
        gmon_fail(err, "%.*s", (int)(size - 1 > 1000 ? 1000 : size - 1), (const char *)reply + 1);
        free(reply);
        return -1;
    }
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || size < 1 ||
        reply[0] != STATUS_OBJECT) {
        free(reply);
        if (WIFSIGNALED(status))
            return gmon_fail(err, "the BPF compiler (libbcc, in a child process) was killed by signal %d",
                             WTERMSIG(status));
        return gmon_fail(err, "the BPF compiler (libbcc, in a child process) failed (exit status %d)",
                         WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    memmove(reply, reply + 1, size - 1);
    *out = reply;
    *out_size = size - 1;
    return 0;
}

int bpf_compile_in_child(const char *source, const char *const *defines, size_t n, uint8_t **out,
                         size_t *size, struct gmon_error *err) {
    int to_child, from_child;
    pid_t pid;
    if (spawn_child(defines, n, &to_child, &from_child, &pid, err) != 0)
        return -1;
    /* A child that died early closes its end: EPIPE, not a SIGPIPE that would end gmon. */
    void (*previous)(int) = signal(SIGPIPE, SIG_IGN);
    int sent = fd_write_all(to_child, source, strlen(source));
    signal(SIGPIPE, previous);
    close(to_child);
    uint8_t *reply = NULL;
    size_t reply_size = 0;
    int got = fd_read_all(from_child, MAX_OBJECT, &reply, &reply_size);
    close(from_child);
    int status = wait_child(pid);
    if (got != 0) {
        return gmon_fail(err, "cannot read the BPF compiler's output (more than %d MB, or a read error)",
                         MAX_OBJECT >> 20);
    }
    if (sent != 0 && reply_size == 0) {
        free(reply);
        return gmon_fail(err,
                         "the BPF compiler (libbcc, in a child process) ended before reading the source");
    }
    return child_result(status, reply, reply_size, out, size, err);
}
