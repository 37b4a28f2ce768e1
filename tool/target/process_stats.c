#include "process_stats.h"

#include <dirent.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { USER_HZ = 100 /* procfs proc_stat.go: userHZ, fixed */ };

/* A whole small file into buf (NUL-terminated); false when it cannot be read. */
static bool read_small_file(const char *path, char *buf, size_t size) {
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    size_t n = fread(buf, 1, size - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n > 0;
}

/* /proc/stat's "btime" line: boot time in seconds since the epoch. */
static bool boot_time(const char *proc, uint64_t *out) {
    char path[PATH_MAX], line[256];
    snprintf(path, sizeof(path), "%s/stat", proc);
    FILE *f = fopen(path, "re");
    bool found = false;
    while (f && !found && fgets(line, sizeof(line), f))
        found = sscanf(line, "btime %" SCNu64, out) == 1;
    if (f)
        fclose(f);
    return found;
}

/* /proc/PID/stat: the fields after the command's last ')' (a command may hold ") "): state is field 3,
 * utime 14, stime 15, starttime 22, vsize 23, rss 24. */
static bool read_stat(const char *proc, int pid, struct process_stats *out) {
    char path[PATH_MAX], buf[4096];
    snprintf(path, sizeof(path), "%s/%d/stat", proc, pid);
    if (!read_small_file(path, buf, sizeof(buf)))
        return false;
    const char *rest = strrchr(buf, ')');
    unsigned long long utime, stime, starttime, vsize;
    long long rss;
    uint64_t btime;
    if (!rest ||
        sscanf(rest + 1,
               " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu %*d %*d %*d %*d %*d %*d %llu "
               "%llu %lld",
               &utime, &stime, &starttime, &vsize, &rss) != 5 ||
        !boot_time(proc, &btime))
        return false;
    out->cpu_seconds = (double)(utime + stime) / USER_HZ;
    out->resident_bytes = (double)(rss * sysconf(_SC_PAGESIZE));
    out->virtual_bytes = (double)vsize;
    out->start_time_seconds = (double)btime + (double)starttime / USER_HZ;
    return true;
}

static bool count_fds(const char *proc, int pid, double *out) {
    char path[PATH_MAX];
    snprintf(path, sizeof(path), "%s/%d/fd", proc, pid);
    DIR *d = opendir(path);
    if (!d)
        return false;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    *out = (double)n;
    return true;
}

/* procfs parseUint: "unlimited" is 2^64 - 1. */
static double limit_value(const char *text) {
    return strcmp(text, "unlimited") == 0 ? 18446744073709551615.0 : (double)strtoull(text, NULL, 10);
}

/* /proc/PID/limits: the soft limits (the first value column) of "Max open files" and "Max address space". */
static bool read_limits(const char *proc, int pid, struct process_stats *out) {
    char path[PATH_MAX], line[256];
    snprintf(path, sizeof(path), "%s/%d/limits", proc, pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return false;
    int found = 0;
    while (fgets(line, sizeof(line), f)) {
        char soft[64];
        if (sscanf(line, "Max open files %63s", soft) == 1) {
            out->max_fds = limit_value(soft);
            found++;
        } else if (sscanf(line, "Max address space %63s", soft) == 1) {
            out->virtual_max_bytes = limit_value(soft);
            found++;
        }
    }
    fclose(f);
    return found == 2;
}

bool process_stats_read(const char *proc, int pid, struct process_stats *out) {
    memset(out, 0, sizeof(*out));
    out->have_stat = read_stat(proc, pid, out);
    out->have_fds = count_fds(proc, pid, &out->open_fds);
    out->have_limits = read_limits(proc, pid, out);
    return out->have_stat;
}

double process_start_time(int pid) {
    struct process_stats ps;
    return process_stats_read("/proc", pid, &ps) && ps.have_stat ? ps.start_time_seconds : -1;
}
