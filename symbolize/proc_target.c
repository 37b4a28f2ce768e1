#include "proc_target.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

bool proc_exists(int pid) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d", pid);
    return access(path, F_OK) == 0;
}

bool proc_memory_gone(int pid) {
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return !proc_exists(pid); /* gone, or not ours to read: only the first is "gone" */
    bool empty = fgetc(f) == EOF;
    fclose(f);
    return empty;
}

/* Whether this process has CAP_SYS_PTRACE in its effective set (CapEff of /proc/self/status, bit 19). */
static bool has_ptrace_capability(void) {
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    unsigned long long caps = 0;
    bool found = false;
    while (f && !found && fgets(line, sizeof(line), f))
        found = sscanf(line, "CapEff: %llx", &caps) == 1;
    if (f)
        fclose(f);
    return found && (caps >> 19 & 1);
}

/* The reason a permission was denied on process pid: gmon's own lack of CAP_SYS_PTRACE (fixable by the
 * user), or a kernel that refuses even that. */
static int permission_denied(int pid, const char *what, struct gmon_error *err) {
    if (!has_ptrace_capability())
        return gmon_fail(err,
                         "permission denied reading %s: gmon needs root with CAP_SYS_PTRACE (in a container: "
                         "docker run --cap-add SYS_PTRACE)",
                         what);
    return gmon_fail(
        err,
        "permission denied reading %s, although gmon has CAP_SYS_PTRACE: the kernel will not let "
        "this process inspect process %d (a security module such as Yama, AppArmor, SELinux or "
        "Landlock, or a process gmon's namespace may not trace)",
        what, pid);
}

static int read_nspid(int pid) {
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/status", pid);
    FILE *f = fopen(path, "re");
    int nspid = pid;
    if (!f)
        return nspid;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, "NSpid:", 6) != 0)
            continue;
        /* NSpid lists the PID in each namespace, outermost first: the last one is the container's view. */
        for (char *tok = strtok(line + 6, " \t\n"); tok; tok = strtok(NULL, " \t\n"))
            nspid = atoi(tok);
        break;
    }
    fclose(f);
    return nspid;
}

/* True when gmon itself runs in a Docker or Podman container, which mark their root. */
static bool in_container(void) {
    return access("/.dockerenv", F_OK) == 0 || access("/run/.containerenv", F_OK) == 0;
}

static bool same_mount_ns(int pid) {
    struct stat self, other;
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/ns/mnt", pid);
    if (stat("/proc/self/ns/mnt", &self) != 0 || stat(path, &other) != 0)
        return true;
    return self.st_ino == other.st_ino && self.st_dev == other.st_dev;
}

/* Calls each(run, ctx) for every run of exactly 64 hex digits in text (bounded by non-hex characters), in
 * order, until it returns true. Returns whether one did. */
static bool each_hex64(const char *text, bool (*each)(const char *run, void *ctx), void *ctx) {
    for (const char *p = text; *p;) {
        size_t n = strspn(p, "0123456789abcdef");
        if (n == 64 && !isxdigit((unsigned char)p[n]) && each(p, ctx))
            return true;
        p += n ? n : 1;
    }
    return false;
}

/* Calls each for every 64-hex run of every line of /proc/PID/cgroup, until it returns true. */
static bool each_cgroup_id(int pid, bool (*each)(const char *run, void *ctx), void *ctx) {
    char path[64], line[1024];
    snprintf(path, sizeof(path), "/proc/%d/cgroup", pid);
    FILE *f = fopen(path, "re");
    bool stopped = false;
    while (f && !stopped && fgets(line, sizeof(line), f))
        stopped = each_hex64(line, each, ctx);
    if (f)
        fclose(f);
    return stopped;
}

/* Keeps the run: the last one wins, as nested containers list the outer one first. */
static bool keep_innermost(const char *run, void *ctx) {
    char *id = ctx;
    memcpy(id, run, 64);
    id[64] = '\0';
    return false;
}

bool proc_container_id(int pid, char id[65]) {
    id[0] = '\0';
    each_cgroup_id(pid, keep_innermost, id);
    return id[0] != '\0';
}

static bool same_id(const char *run, void *ctx) {
    return memcmp(run, ctx, 64) == 0;
}

bool proc_cgroup_mentions(int pid, const char *id) {
    return strlen(id) == 64 && each_cgroup_id(pid, same_id, (void *)id);
}

int proc_target_open(int pid, struct proc_target *t, struct gmon_error *err) {
    memset(t, 0, sizeof(*t));
    t->pid = pid;
    if (pid <= 0)
        return gmon_fail(err, "invalid PID %d", pid);
    if (!proc_exists(pid))
        return gmon_fail(
            err, "no process with PID %d%s", pid,
            in_container()
                ? " (if gmon runs in a container without --pid=host, it cannot see the host's PIDs)"
                : "");
    snprintf(t->open_path, sizeof(t->open_path), "/proc/%d/exe", pid);
    ssize_t n = readlink(t->open_path, t->exe, sizeof(t->exe) - 1);
    if (n < 0) {
        if (errno == EACCES || errno == EPERM)
            return permission_denied(pid, t->open_path, err);
        if (errno == ENOENT)
            return gmon_fail(err, "process %d has no executable (a kernel thread, or it has exited)", pid);
        return gmon_fail(err, "cannot read %s: %s", t->open_path, strerror(errno));
    }
    t->exe[n] = '\0';
    static const char deleted[] = " (deleted)";
    size_t len = (size_t)n, dlen = sizeof(deleted) - 1;
    if (len > dlen && strcmp(t->exe + len - dlen, deleted) == 0) {
        t->exe_deleted = true;
        t->exe[len - dlen] = '\0';
    }
    t->nspid = read_nspid(pid);
    t->other_mount_ns = !same_mount_ns(pid);
    proc_container_id(pid, t->container_id);
    snprintf(t->host_path, sizeof(t->host_path), "/proc/%d/root%s", pid, t->exe);
    return 0;
}

bool proc_maps_parse_line(char *line, struct maps_entry *e) {
    char perms[8];
    int path_at = 0;
    unsigned long long start, end, offset, inode;
    unsigned dev_major, dev_minor;
    if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end, perms, &offset, &dev_major, &dev_minor,
               &inode, &path_at) < 7)
        return false;
    if (end < start || strlen(perms) != 4)
        return false;
    e->start = start;
    e->end = end;
    e->offset = offset;
    e->inode = inode;
    memcpy(e->perms, perms, 5);
    char *path = path_at > 0 ? line + path_at : line + strlen(line);
    path[strcspn(path, "\n")] = '\0';
    e->path = path;
    return true;
}

/* The link-time address that file offset `off` of the executable is loaded from. */
static bool vaddr_of_mapping(const struct elf_image *img, uint64_t off, uint64_t *vaddr) {
    for (size_t i = 0; i < img->nloads; i++) {
        const struct elf_segment *s = &img->loads[i];
        uint64_t page_off = s->offset & ~0xfffull;
        if (off >= page_off && off < s->offset + s->filesz) {
            *vaddr = (s->vaddr & ~0xfffull) + (off - page_off);
            return true;
        }
    }
    return false;
}

int proc_load_bias(const struct proc_target *t, const struct elf_image *img, uint64_t *bias,
                   struct gmon_error *err) {
    struct stat exe;
    if (stat(t->open_path, &exe) != 0)
        return gmon_fail(err, "cannot stat %s: %s", t->open_path, strerror(errno));
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", t->pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return gmon_fail(err, "cannot read %s: %s", path, strerror(errno));
    char line[4608];
    int rc = gmon_fail(err, "the executable is not mapped in process %d", t->pid);
    while (fgets(line, sizeof(line), f)) {
        struct maps_entry e;
        uint64_t vaddr;
        /* Match by inode: the path differs across mount namespaces, the inode does not. */
        if (!proc_maps_parse_line(line, &e) || e.inode != (uint64_t)exe.st_ino)
            continue;
        if (!vaddr_of_mapping(img, e.offset, &vaddr))
            continue;
        *bias = e.start - vaddr;
        rc = 0;
        break;
    }
    fclose(f);
    return rc;
}

bool proc_read(int pid, uint64_t addr, void *buf, size_t len) {
    struct iovec local = {buf, len}, remote = {(void *)(uintptr_t)addr, len};
    return len == 0 || process_vm_readv((pid_t)pid, &local, 1, &remote, 1, 0) == (ssize_t)len;
}

bool proc_read_callback(void *pid_ptr, uint64_t addr, void *buf, size_t len) {
    return proc_read(*(const int *)pid_ptr, addr, buf, len);
}

int proc_check_memory_access(int pid, struct gmon_error *err) {
    char path[64], line[512];
    snprintf(path, sizeof(path), "/proc/%d/maps", pid);
    FILE *f = fopen(path, "re");
    unsigned long long start = 0;
    bool have = f && fgets(line, sizeof(line), f) && sscanf(line, "%llx-", &start) == 1;
    if (f)
        fclose(f);
    uint8_t byte;
    if (!have || proc_read(pid, start, &byte, 1))
        return 0; /* an exited process or an odd map is left to the reads that follow to report */
    if (errno == EPERM || errno == EACCES) {
        char what[64];
        snprintf(what, sizeof(what), "the memory of process %d", pid);
        return permission_denied(pid, what, err);
    }
    return 0;
}

enum { BLOCKS_PER_CALL = 1024 }; /* IOV_MAX */

/* The length of block i: lens[i], or len for all of them when lens is NULL. */
static size_t block_length(const size_t *lens, size_t len, size_t i) {
    return lens ? lens[i] : len;
}

/* One system call for up to BLOCKS_PER_CALL blocks, laid end to end in out. The kernel stops at the first
 * block it cannot read, so the blocks after it are retried one by one. */
static size_t read_batch(int pid, const uint64_t *addrs, const size_t *lens, size_t len, size_t n,
                         uint8_t *out, bool *ok) {
    struct iovec local[BLOCKS_PER_CALL], remote[BLOCKS_PER_CALL];
    uint8_t *at = out;
    for (size_t i = 0; i < n; i++) {
        size_t l = block_length(lens, len, i);
        local[i] = (struct iovec){at, l};
        remote[i] = (struct iovec){(void *)(uintptr_t)addrs[i], l};
        at += l;
    }
    ssize_t got = process_vm_readv((pid_t)pid, local, n, remote, n, 0);
    /* No such process, or no permission to read it: no block would read one by one either (an exited
     * process's goroutines were retried a system call each, thousands per scan of --exits poll). */
    bool hopeless = got < 0 && (errno == ESRCH || errno == EPERM);
    size_t left = got > 0 ? (size_t)got : 0, read = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = block_length(lens, len, i);
        bool whole = left >= l;
        left = whole ? left - l : 0;
        ok[i] = whole || (!hopeless && addrs[i] && proc_read(pid, addrs[i], local[i].iov_base, l));
        read += ok[i];
    }
    return read;
}

static size_t read_blocks(int pid, const uint64_t *addrs, const size_t *lens, size_t len, size_t n, void *out,
                          bool *ok) {
    size_t read = 0;
    uint8_t *at = out;
    for (size_t i = 0; i < n; i += BLOCKS_PER_CALL) {
        size_t batch = n - i < BLOCKS_PER_CALL ? n - i : BLOCKS_PER_CALL;
        read += read_batch(pid, addrs + i, lens ? lens + i : NULL, len, batch, at, ok + i);
        for (size_t k = i; k < i + batch; k++)
            at += block_length(lens, len, k);
    }
    return read;
}

size_t proc_read_blocks(int pid, const uint64_t *addrs, size_t n, size_t len, void *out, bool *ok) {
    return read_blocks(pid, addrs, NULL, len, n, out, ok);
}

size_t proc_read_ranges(int pid, const uint64_t *addrs, const size_t *lens, size_t n, void *out, bool *ok) {
    return read_blocks(pid, addrs, lens, 0, n, out, ok);
}
