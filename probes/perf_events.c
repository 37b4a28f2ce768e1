#include "perf_events.h"

#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

size_t perf_online_cpus(int *cpus, size_t max) {
    FILE *f = fopen("/sys/devices/system/cpu/online", "r");
    if (!f)
        return 0;
    size_t n = 0;
    int first, last;
    /* "0-3,5,7-8\n" */
    while (n < max && fscanf(f, "%d", &first) == 1) {
        last = first;
        int c = fgetc(f);
        if (c == '-') {
            if (fscanf(f, "%d", &last) != 1)
                break;
            c = fgetc(f);
        }
        for (int cpu = first; cpu <= last && n < max; cpu++)
            cpus[n++] = cpu;
        if (c != ',')
            break;
    }
    fclose(f);
    return n;
}

static int open_cpu_clock(int cpu, int hz) {
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.type = PERF_TYPE_SOFTWARE;
    attr.size = sizeof(attr);
    attr.config = PERF_COUNT_SW_CPU_CLOCK;
    attr.freq = 1;
    attr.sample_freq = (unsigned long long)hz;
    attr.disabled = 1;
    return (int)syscall(SYS_perf_event_open, &attr, -1, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

/* A number from a file of /proc/sys, or def. */
static int sysctl_int(const char *path, int def) {
    int v = def;
    FILE *f = fopen(path, "r");
    if (f) {
        if (fscanf(f, "%d", &v) != 1)
            v = def;
        fclose(f);
    }
    return v;
}

static int refused(int saved, int hz, struct gmon_error *err) {
    if (saved == EACCES || saved == EPERM) {
        int level = sysctl_int("/proc/sys/kernel/perf_event_paranoid", 0);
        return gmon_fail(err,
                         "the kernel refuses perf events for every process on a CPU (%s; "
                         "kernel.perf_event_paranoid is %d): run gmon as root, or give it CAP_PERFMON, or "
                         "lower the setting with: sysctl kernel.perf_event_paranoid=-1",
                         strerror(saved), level);
    }
    int max_rate = sysctl_int("/proc/sys/kernel/perf_event_max_sample_rate", 0);
    if (saved == EINVAL && max_rate > 0 && hz > max_rate)
        return gmon_fail(err,
                         "--hz %d is above what the kernel allows now (kernel.perf_event_max_sample_rate %d, "
                         "which it lowers when sampling takes too long): use --hz %d or less",
                         hz, max_rate, max_rate);
    if (saved == ENOENT || saved == EOPNOTSUPP)
        return gmon_fail(err, "this kernel has no CPU-clock perf event to sample with (%s)", strerror(saved));
    return gmon_fail(err, "perf_event_open: %s", strerror(saved));
}

int perf_events_permitted(struct gmon_error *err) {
    int cpus[1];
    int fd = open_cpu_clock(perf_online_cpus(cpus, 1) ? cpus[0] : 0, 99);
    if (fd < 0)
        return refused(errno, 99, err);
    close(fd);
    return 0;
}

int perf_event_open_sampler(int cpu, int hz, int prog_fd, struct gmon_error *err) {
    int fd = open_cpu_clock(cpu, hz);
    if (fd < 0) {
        if (errno == ENODEV)
            gmon_fail(err, "CPU %d went offline while gmon attached to it", cpu);
        else
            refused(errno, hz, err);
        return -1;
    }
    if (ioctl(fd, PERF_EVENT_IOC_SET_BPF, prog_fd) != 0 || ioctl(fd, PERF_EVENT_IOC_ENABLE, 0) != 0) {
        int saved = errno;
        close(fd);
        gmon_fail(err, "cannot attach the profiler to CPU %d's perf event: %s", cpu, strerror(saved));
        return -1;
    }
    return fd;
}
