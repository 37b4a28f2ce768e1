/* Structures shared by the CPU profiler's BPF program (cpu_profile.bpf.c) and its host side
 * (cpu_profile_probes.c). The build embeds this header in front of the BPF source. */
#ifndef GMON_CPU_PROFILE_EVENT_H
#define GMON_CPU_PROFILE_EVENT_H

#include <linux/types.h>

/* What a sample's thread was running, beside its stacks (cpu_sample_key.flags). */
enum cpu_sample_flag {
    CPU_SAMPLE_IN_KERNEL = 1,     /* the CPU was in the kernel (a system call, a page fault, an interrupt) */
    CPU_SAMPLE_SYSTEM_STACK = 2,  /* Go code on the M's g0 stack (the scheduler, systemstack, cgo calls) */
    CPU_SAMPLE_SIGNAL_STACK = 4,  /* on a g that is neither g0 nor the M's goroutine: a signal handler */
    CPU_SAMPLE_NO_GOROUTINE = 8,  /* no goroutine on the thread (an idle M, or a thread Go did not start) */
    CPU_SAMPLE_G_UNREADABLE = 16, /* thread-local storage or the g/m structures could not be read */
};

/* Return addresses kept per stack, innermost first: as many as Go's own profiler keeps (maxCPUProfStack). */
#define CPU_STACK_DEPTH 64

/* A stack in the stacks map, under the FNV-1a hash of its addresses. */
struct cpu_stack {
    __u64 depth;
    __u64 pcs[CPU_STACK_DEPTH];
};

/* One aggregated sample: how many times the profiler saw exactly this. 56 bytes, no padding. Stacks are
 * keys of the stacks map; 0: none. */
struct cpu_sample_key {
    __u32 tgid;
    __u32 flags;        /* enum cpu_sample_flag */
    __u64 user_stack;   /* walked by the kernel along frame pointers; 0 when the walk failed */
    __u64 kernel_stack; /* with KERNEL_STACKS, when the CPU was in the kernel */
    __u64 go_stack;     /* on the system stack in a cgo call: the goroutine's own stack */
    __u64 goid;         /* the goroutine, with BY_GOROUTINE; else 0 */
    __u64 labels;       /* its g.labels (the pprof label set, read by the host); 0: none */
    __u64 pid;          /* the thread (its kernel task id), with BY_THREAD; else 0 */
};

/* A label set seen in samples of process tgid (its g.labels pointer): the host reads its labels while the
 * process runs. */
struct cpu_label_set_key {
    __u32 tgid;
    __u32 pad;
    __u64 labels;
};

enum cpu_counter {
    CPU_COUNTER_SAMPLES,           /* samples of the target's threads */
    CPU_COUNTER_EVENTS_SENT,       /* unused: the profiler sends no events (probe_common.bpf.h counts them) */
    CPU_COUNTER_EVENTS_LOST,       /* likewise */
    CPU_COUNTER_READ_FAILED,       /* reads of the target's memory that faulted */
    CPU_COUNTER_USER_STACK_LOST,   /* samples whose user stack could not be walked or stored */
    CPU_COUNTER_KERNEL_STACK_LOST, /* samples in the kernel whose kernel stack could not be stored */
    CPU_COUNTER_MAP_FULL,          /* samples not counted: the samples map was full */
    CPU_COUNTER_GO_STACK_LOST,     /* samples in a cgo call whose goroutine stack could not be stored */
    CPU_COUNTER_NEW_LOST,    /* processes or label sets not announced to the host: their maps were full */
    CPU_COUNTER_STACKS_FULL, /* stacks not stored: the stacks map was full */
    CPU_COUNTERS
};

#ifdef GMON_BPF_PROGRAM
#define PROBE_COUNTERS            CPU_COUNTERS
#define PROBE_COUNTER_SENT        CPU_COUNTER_EVENTS_SENT
#define PROBE_COUNTER_LOST        CPU_COUNTER_EVENTS_LOST
#define PROBE_COUNTER_READ_FAILED CPU_COUNTER_READ_FAILED
#endif

#endif
