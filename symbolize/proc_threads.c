#include "proc_threads.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The state letter and start time (clock ticks after boot) of a /proc stat line; the command name in
 * parentheses may itself contain spaces and parentheses, so fields are counted from the last ')'. */
static bool parse_stat(const char *path, char *state, unsigned long long *start) {
    char buf[1024];
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    if (!p)
        return false;
    /* after ") ": field 3 is the state, field 22 the start time */
    return sscanf(p + 2, "%c %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %*s %llu",
                  state, start) == 2;
}

const char *proc_thread_state_name(char state) {
    switch (state) {
    case 'R':
        return "running";
    case 'S':
        return "sleeping";
    case 'D':
        return "disk sleep";
    case 'T':
        return "stopped";
    case 't':
        return "tracing stop";
    case 'Z':
        return "zombie";
    case 'X':
        return "dead";
    case 'I':
        return "idle";
    default:
        return "other";
    }
}

static double process_uptime(int pid) {
    char path[64], state;
    unsigned long long start;
    double boot_uptime;
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen("/proc/uptime", "r");
    if (!parse_stat(path, &state, &start) || !f) {
        if (f)
            fclose(f);
        return -1;
    }
    int ok = fscanf(f, "%lf", &boot_uptime);
    fclose(f);
    return ok == 1 ? boot_uptime - (double)start / (double)sysconf(_SC_CLK_TCK) : -1;
}

bool proc_threads_read(int pid, struct proc_threads *t) {
    memset(t, 0, sizeof(*t));
    char dir[64];
    snprintf(dir, sizeof(dir), "/proc/%d/task", pid);
    DIR *d = opendir(dir);
    if (!d)
        return false;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        char path[320], state;
        unsigned long long start;
        snprintf(path, sizeof(path), "%s/%s/stat", dir, e->d_name);
        if (!parse_stat(path, &state, &start))
            continue;
        t->total++;
        int i = state >= 'a' && state <= 'z' ? state - 'a' : state - 'A'; /* 't' folds into 'T' */
        if (i >= 0 && i < 26)
            t->by_state[i]++;
    }
    closedir(d);
    t->uptime_s = process_uptime(pid);
    return t->total > 0;
}
