/* A running process seen from the host: its executable (also when it lives in another mount namespace, as in
 * a container), its PID inside its own PID namespace, and the load bias of its executable (PIE). */
#ifndef GMON_PROC_TARGET_H
#define GMON_PROC_TARGET_H

#include <stdbool.h>
#include <stdint.h>

#include "elf_image.h"

#ifdef __cplusplus
extern "C" {
#endif

struct proc_target {
    int pid;
    int nspid;             /* PID in the innermost PID namespace (NSpid), == pid outside containers */
    char exe[4096];        /* the executable's path as the process sees it */
    bool exe_deleted;      /* replaced or removed on disk since the process started */
    char open_path[64];    /* "/proc/PID/exe": always opens the very file the process runs */
    char host_path[4200];  /* "/proc/PID/root<exe>": the same file by a path valid in gmon's namespace */
    bool other_mount_ns;   /* the process runs in another mount namespace (a container) */
    char container_id[65]; /* the container engine's ID from /proc/PID/cgroup, "" outside containers */
};

struct maps_entry {
    uint64_t start, end, offset, inode;
    char perms[5];
    const char *path; /* points into the parsed line; "" for anonymous mappings */
};

/* Resolves the process. Errors name the problem: no such process, permission, no executable. */
int proc_target_open(int pid, struct proc_target *t, struct gmon_error *err);

/* The ID of the container process pid runs in, as Docker, containerd and Podman name its cgroup (64 hex
 * digits in a path such as /docker/ID or /system.slice/docker-ID.scope; the innermost one when containers
 * nest): true and id set when there is one. */
bool proc_container_id(int pid, char id[65]);
/* True when a cgroup path of process pid names the container id (64 hex digits), at any nesting level. */
bool proc_cgroup_mentions(int pid, const char *id);

/* Parses one line of /proc/PID/maps (modifies line: the path is cut at the newline). */
bool proc_maps_parse_line(char *line, struct maps_entry *e);

/* Runtime address minus link-time address for the executable's mappings. 0 for non-PIE executables. */
int proc_load_bias(const struct proc_target *t, const struct elf_image *img, uint64_t *bias,
                   struct gmon_error *err);

/* True when /proc/PID exists (the process is alive or a zombie). */
bool proc_exists(int pid);
/* True when the process has exited or is exiting: no /proc entry, or one without a single mapping (a zombie,
 * or a process whose memory the kernel has already released in do_exit). */
bool proc_memory_gone(int pid);
/* Copies len bytes at addr of process pid's memory into buf, without stopping it (process_vm_readv). Returns
 * true only when every byte was read. */
bool proc_read(int pid, uint64_t addr, void *buf, size_t len);
/* proc_read for readers that take a callback and its context (bucket lists, pprof labels): pid_ptr points at
 * the pid. */
bool proc_read_callback(void *pid_ptr, uint64_t addr, void *buf, size_t len);
/* Fails with advice when gmon may not read process pid's memory (no CAP_SYS_PTRACE, Yama), so that commands
 * say so up front instead of reporting the first structure they could not read. */
int proc_check_memory_access(int pid, struct gmon_error *err);
/* Reads n blocks of len bytes, block i at addrs[i] into out + i * len, in as few system calls as the kernel
 * allows (1024 blocks each); ok[i] says whether block i was read. Returns how many were. */
size_t proc_read_blocks(int pid, const uint64_t *addrs, size_t n, size_t len, void *out, bool *ok);
/* proc_read_blocks for blocks of lens[i] bytes, laid end to end in out. */
size_t proc_read_ranges(int pid, const uint64_t *addrs, const size_t *lens, size_t n, void *out, bool *ok);

#ifdef __cplusplus
}
#endif

#endif
