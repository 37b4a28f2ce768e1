#include "target.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json_writer.h"
#include "log_writer.h"

static int check_same_file(const char *path, const struct proc_target *p, struct gmon_error *err) {
    struct stat a, b;
    if (stat(path, &a) != 0 || stat(p->open_path, &b) != 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        return gmon_fail(err, "process %d runs %s, not %s", p->pid, p->exe, path);
    return 0;
}

static int open_process(struct target *t, struct gmon_error *err) {
    if (proc_target_open(t->pid, &t->proc, err) != 0)
        return -1;
    if (t->path && check_same_file(t->path, &t->proc, err) != 0)
        return -1;
    /* /proc/PID/exe opens the very file the process runs, even from another mount namespace or once deleted.
     */
    if (go_binary_open(&t->bin, t->proc.open_path, err) != 0)
        return gmon_fail_context(err, "%s (PID %d)", t->proc.exe, t->pid);
    if (proc_load_bias(&t->proc, &t->bin.elf, &t->load_bias, err) != 0) {
        go_binary_close(&t->bin);
        return gmon_fail_context(err, "PID %d", t->pid);
    }
    return 0;
}

static bool identity_of(const char *path, struct file_identity *id) {
    struct stat st;
    if (stat(path, &st) != 0)
        return false;
    *id = (struct file_identity){st.st_dev, st.st_ino};
    return true;
}

/* 1: pid runs the binary, 0: another file, -1: cannot be told (no such process, a kernel thread, no access).
 */
static int runs_binary(const struct target *t, int pid) {
    char exe[64];
    snprintf(exe, sizeof(exe), "/proc/%d/exe", pid);
    struct file_identity now;
    if (!t->binary_known || !identity_of(exe, &now))
        return -1;
    return now.dev == t->binary.dev && now.ino == t->binary.ino;
}

bool target_runs_its_binary(const struct target *t, int pid) {
    return runs_binary(t, pid) != 0;
}

bool target_process_runs_binary(const struct target *t, int pid) {
    return runs_binary(t, pid) == 1;
}

void target_for_each_process(const struct target *t, void (*on_process)(void *ctx, int pid), void *ctx) {
    DIR *proc = opendir("/proc");
    struct dirent *e;
    while (proc && (e = readdir(proc))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || pid > INT32_MAX || !target_process_runs_binary(t, (int)pid))
            continue;
        on_process(ctx, (int)pid);
    }
    if (proc)
        closedir(proc);
}

int target_open(struct target *t, const char *path, int pid, const char *go_version, struct gmon_error *err) {
    memset(t, 0, sizeof(*t));
    t->path = path;
    t->pid = pid;
    if (!path && pid <= 0)
        return gmon_fail(err, "no target: give --path BIN or --pid PID");
    if (pid > 0) {
        if (open_process(t, err) != 0)
            return -1;
    } else if (go_binary_open(&t->bin, path, err) != 0) {
        return gmon_fail_context(err, "%s", path);
    }
    t->binary_known = identity_of(pid > 0 ? t->proc.open_path : path, &t->binary);
    if (go_version && strcmp(go_version, "auto") != 0 &&
        go_binary_set_version(&t->bin, go_version, err) != 0) {
        go_binary_close(&t->bin);
        return gmon_fail_context(err, "%s", path ? path : t->proc.exe);
    }
    return 0;
}

void target_close(struct target *t) {
    go_binary_close(&t->bin);
}

const char *target_process_text(const struct target *t, char *buf, size_t size) {
    if (!t->pid)
        snprintf(buf, size, "%s", "");
    else if (t->proc.container_id[0])
        snprintf(buf, size, "PID %d (PID %d in container %.12s)", t->pid, t->proc.nspid,
                 t->proc.container_id);
    else if (t->proc.nspid != t->pid)
        snprintf(buf, size, "PID %d (PID %d in its PID namespace)", t->pid, t->proc.nspid);
    else
        snprintf(buf, size, "PID %d", t->pid);
    return buf;
}

void target_log_process(struct log_writer *w, const struct target *t) {
    if (!t->pid)
        return;
    log_int(w, "pid", t->pid);
    if (t->proc.nspid != t->pid)
        log_int(w, "nspid", t->proc.nspid);
    if (t->proc.container_id[0])
        log_str(w, "container_id", t->proc.container_id);
}

static void json_int_or_null(struct json_writer *w, const char *key, bool present, int64_t value) {
    json_key(w, key);
    if (present)
        json_int(w, value);
    else
        json_null(w);
}

void target_json_process(struct json_writer *w, const struct target *t) {
    json_int_or_null(w, "pid", t->pid != 0, t->pid);
    json_int_or_null(w, "nspid", t->pid != 0, t->proc.nspid);
    json_key(w, "container_id");
    if (t->proc.container_id[0])
        json_string(w, t->proc.container_id);
    else
        json_null(w);
}

int target_open_symbols(const struct target *t, const char *bin, struct go_binary *out,
                        struct gmon_error *err) {
    static const char *const SAME[] = {"main.main", "runtime.main"};
    if (go_binary_open(out, bin, err) != 0)
        return gmon_fail_context(err, "--bin %s", bin);
    if (strcmp(t->bin.version_string, out->version_string) != 0) {
        gmon_fail(err, "--bin %s: built by %s, the target by %s: not the same program", bin,
                  out->version_string, t->bin.version_string);
        go_binary_close(out);
        return -1;
    }
    for (int i = 0; i < 2; i++) {
        struct go_func a, b;
        if (!go_binary_find_func(&t->bin, SAME[i], &a, NULL) ||
            !go_binary_find_func(out, SAME[i], &b, NULL) || a.entry != b.entry) {
            gmon_fail(err, "--bin %s: %s is not where the target has it: not a build of the same program",
                      bin, SAME[i]);
            go_binary_close(out);
            return -1;
        }
    }
    return 0;
}
