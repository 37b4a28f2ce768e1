/* The CPU profiler, compiled at run time by libbcc (cpu_profile_probes.c supplies the -D flags): a perf
 * event on every CPU fires SAMPLE_HZ times a second of CPU time, and for each sample of a traced process the
 * program counts {thread's goroutine, its pprof labels, user stack, kernel stack} in the samples map. Nothing
 * goes to user space per sample: the host reads the small maps of new processes and label sets four times a
 * second, and the samples (with the stacks they refer to) at the end.
 *
 * The user stack is walked by the kernel along frame pointers (bpf_get_stack, BPF_F_USER_STACK), which Go
 * keeps on amd64; the first entry is the PC itself (user mode) or the instruction after the system call
 * (kernel mode). The goroutine comes from thread-local storage, where Go keeps the current g at FS_base +
 * TLS_G
 * (-8; runtime/go_tls.h, get_tls): that is right in every context of a thread the runtime manages (Go code,
 * assembly, C code of cgo, system calls, signal handlers), where R14 holds g only inside Go's register-ABI
 * code. The g found is g0 on the system stack and gsignal in a signal handler: g.m.curg is the goroutine the
 * M runs, whose labels and goid the sample gets, and the flags say which stack the sample was on.
 *
 * Configuration (-D): G_M G_GOID G_LABELS G_SYSCALLSP G_SCHED_SP G_SCHED_BP M_G0 M_CURG (runtime.g/m
 * offsets; -1: none), TLS_G,
 * TASK_FSBASE (task_struct.thread.fsbase in the running kernel),
 * TARGET_TGID (0: the processes running the binary of inode number TARGET_INO, with the kernel offsets
 * TASK_MM MM_EXE_FILE FILE_INODE INODE_INO), BY_GOROUTINE, BY_THREAD, KERNEL_STACKS,
 * MAX_STACKS, MAX_SAMPLES, MAX_PROCESSES, MAX_LABEL_SETS, USE_RINGBUF RINGBUF_PAGES (unused here: the shared
 * header declares the buffer). */
#ifndef GMON_CPU_PROFILE_EVENT_H /* the build embeds both headers in front; includes are for editors */
#include "cpu_profile_event.h"
#include "probe_common.bpf.h"
#endif
#include <uapi/linux/bpf_perf_event.h>

/* Every stack (user, kernel, a goroutine's under cgo) under the FNV-1a hash of its addresses: not a
 * BPF_STACK_TRACE map, whose buckets are a hash of the stack modulo its size, and which refuses a stack whose
 * bucket another holds (-EEXIST: 7 % of the samples of a YAML parser's thousands of stacks were lost so).
 * Preallocated, as every hash map of a perf-event program before Linux 6.1. */
BPF_HASH(stacks, u64, struct cpu_stack, MAX_STACKS);
BPF_PERCPU_ARRAY(stack_scratch, struct cpu_stack, 1);
BPF_HASH(samples, struct cpu_sample_key, u64, MAX_SAMPLES);
/* The processes and label sets seen so far, for the host to read what it needs of each while the process
 * runs, without going through every sample. */
BPF_HASH(processes, u32, u8, MAX_PROCESSES);
BPF_HASH(label_sets, struct cpu_label_set_key, u8, MAX_LABEL_SETS);
#if !TARGET_TGID
/* Whether the current process may run the binary (--path): its task->mm->exe_file is a file of inode number
 * TARGET_INO (offsets from the running kernel's BTF); the host drops the processes whose /proc/PID/exe is
 * another file of that number. Every process running it is sampled from its first instruction, however
 * short its life. */
static __always_inline bool runs_target_binary(void) {
    u64 task = bpf_get_current_task(), mm = 0, file = 0, inode = 0, ino = 0;
    if (gmon_read_kernel(&mm, 8, (void *)(task + TASK_MM)) != 0 || !mm ||
        gmon_read_kernel(&file, 8, (void *)(mm + MM_EXE_FILE)) != 0 || !file ||
        gmon_read_kernel(&inode, 8, (void *)(file + FILE_INODE)) != 0 || !inode ||
        gmon_read_kernel(&ino, 8, (void *)(inode + INODE_INO)) != 0)
        return false;
    return ino == TARGET_INO;
}
#endif

/* The process of the current thread when it is sampled, else 0. */
static __always_inline u32 sampled_tgid(void) {
    u32 tgid = traced_tgid(); /* TARGET_TGID, or any process while tracing is on */
#if TARGET_TGID
    return tgid;
#else
    return tgid && runs_target_binary() ? tgid : 0;
#endif
}

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

/* Stores the stack in st (depth addresses) in the stacks map; returns its key, 0 when the map is full. */
static __always_inline u64 store_stack(struct cpu_stack *st) {
    u64 hash = FNV_OFFSET;
#pragma unroll
    for (int i = 0; i < CPU_STACK_DEPTH; i++)
        if (i < st->depth)
            hash = (hash ^ st->pcs[i]) * FNV_PRIME;
    hash |= 1; /* never 0, which means none */
    if (!stacks.lookup(&hash) && stacks.update(&hash, st) != 0) {
        count(CPU_COUNTER_STACKS_FULL);
        return 0;
    }
    return hash;
}

/* The sample's user (flags BPF_F_USER_STACK) or kernel stack, walked by the kernel; 0 when the walk failed.
 */
static __always_inline u64 sampled_stack(struct bpf_perf_event_data *ctx, u64 flags) {
    int zero = 0;
    struct cpu_stack *st = stack_scratch.lookup(&zero);
    if (!st)
        return 0;
    long n = bpf_get_stack(ctx, st->pcs, sizeof(st->pcs), flags);
    if (n <= 0)
        return 0;
    st->depth = (u64)n / sizeof(st->pcs[0]);
    return store_stack(st);
}

/* The goroutine's own stack while its thread runs C code for it (cgo) on the system stack, where C code keeps
 * no frame pointers to follow: runtime.cgocall called entersyscall (g.syscallsp set) and then asmcgocall,
 * which has no frame of its own and saved the goroutine's SP and BP in g.sched before switching stacks
 * (gosave_systemstack_switch, asm_amd64.s). The word at sched.sp is so the return address into cgocall, and
 * sched.bp cgocall's frame pointer, from which the chain goes on outward. Returns the stack's key; 0 when
 * curg is in no cgo call or nothing was read. */
static __always_inline u64 goroutine_stack(u64 curg) {
    u64 syscallsp = 0, sp = 0;
    if (G_SYSCALLSP < 0 || read_u64(curg + G_SYSCALLSP, &syscallsp) != 0 || !syscallsp ||
        read_u64(curg + G_SCHED_SP, &sp) != 0 || !sp)
        return 0;
    int zero = 0;
    struct cpu_stack *st = stack_scratch.lookup(&zero);
    if (!st)
        return 0;
    u64 frame[2] = {0, 0}; /* a frame record: the caller's BP, then the return address */
    if (read_u64(sp, &frame[1]) != 0 || read_u64(curg + G_SCHED_BP, &frame[0]) != 0)
        return 0;
    st->pcs[0] = frame[1];
    st->depth = 1;
#pragma unroll
    for (int i = 1; i < CPU_STACK_DEPTH; i++) {
        if (!frame[0] || gmon_read_user(frame, sizeof(frame), (void *)frame[0]) != 0 || !frame[1])
            break;
        st->pcs[i] = frame[1];
        st->depth = i + 1;
    }
    u64 key = store_stack(st);
    if (!key)
        count(CPU_COUNTER_GO_STACK_LOST);
    return key;
}

/* The goroutine the thread runs (its goid and labels into key) and which stack it is on (key->flags). */
static __always_inline void find_goroutine(struct cpu_sample_key *key) {
    /* task->thread.fsbase, at the running kernel's offset (TASK_FSBASE, from its BTF): the headers BCC
     * compiles with may be another kernel's. */
    u64 task = bpf_get_current_task(), fsbase = 0, g = 0, m = 0, g0 = 0, g0_m = 0, curg = 0;
    if (gmon_read_kernel(&fsbase, sizeof(fsbase), (void *)(task + TASK_FSBASE)) != 0 ||
        (fsbase && read_u64(fsbase + TLS_G, &g) != 0)) {
        key->flags |= CPU_SAMPLE_G_UNREADABLE;
        return;
    }
    if (!g) { /* no TLS yet (a process's first instructions), a thread Go did not start, no Go code run yet */
        key->flags |= CPU_SAMPLE_NO_GOROUTINE;
        return;
    }
    /* g.m.g0.m is g.m again: what TLS_G led to is a g (TLS_G may be a guess for a stripped binary whose
     * statically linked C library shares the TLS block). */
    if (read_u64(g + G_M, &m) != 0) {
        key->flags |= CPU_SAMPLE_G_UNREADABLE;
        return;
    }
    if (!m) { /* the runtime starting (rt0_go sets g0 in TLS, then g0.m) or a g without its M */
        key->flags |= CPU_SAMPLE_NO_GOROUTINE;
        return;
    }
    if (read_u64(m + M_G0, &g0) != 0 || !g0 || read_u64(g0 + G_M, &g0_m) != 0 || g0_m != m ||
        read_u64(m + M_CURG, &curg) != 0) {
        key->flags |= CPU_SAMPLE_G_UNREADABLE;
        return;
    }
    if (g == g0)
        key->flags |= CPU_SAMPLE_SYSTEM_STACK;
    else if (g != curg)
        key->flags |= CPU_SAMPLE_SIGNAL_STACK;
    if (!curg) {
        key->flags |= CPU_SAMPLE_NO_GOROUTINE;
        return;
    }
    if (g == g0)
        key->go_stack = goroutine_stack(curg);
    if (G_LABELS >= 0)
        read_u64(curg + G_LABELS, &key->labels);
    if (BY_GOROUTINE)
        read_u64(curg + G_GOID, &key->goid);
}

/* Tells the host of a process or label set it has not seen (a lookup per sample; an update the first time).
 */
static __always_inline void announce(struct cpu_sample_key *key) {
    u8 zero = 0;
    /* -EEXIST: another CPU announced it meanwhile */
    if (!processes.lookup(&key->tgid) && processes.insert(&key->tgid, &zero) == -E2BIG)
        count(CPU_COUNTER_NEW_LOST);
    struct cpu_label_set_key set = {.tgid = key->tgid, .labels = key->labels};
    if (key->labels && !label_sets.lookup(&set) && label_sets.insert(&set, &zero) == -E2BIG)
        count(CPU_COUNTER_NEW_LOST);
}

static __always_inline void add_sample(struct cpu_sample_key *key) {
    u64 *n = samples.lookup(key);
    if (n) {
        __sync_fetch_and_add(n, 1);
        return;
    }
    u64 one = 1;
    if (samples.insert(key, &one) == 0)
        return;
    n = samples.lookup(key); /* another CPU added it meanwhile */
    if (n)
        __sync_fetch_and_add(n, 1);
    else
        count(CPU_COUNTER_MAP_FULL);
}

int on_cpu_sample(struct bpf_perf_event_data *ctx) {
    u32 tgid = sampled_tgid();
    if (!tgid)
        return 0;
    count(CPU_COUNTER_SAMPLES);
    struct cpu_sample_key key = {.tgid = tgid};
    if ((ctx->regs.cs & 3) == 0)
        key.flags |= CPU_SAMPLE_IN_KERNEL;
    find_goroutine(&key);
    if (BY_THREAD)
        key.pid = (u32)bpf_get_current_pid_tgid();
    key.user_stack = sampled_stack(ctx, BPF_F_USER_STACK);
    if (!key.user_stack)
        count(CPU_COUNTER_USER_STACK_LOST);
    if (KERNEL_STACKS && (key.flags & CPU_SAMPLE_IN_KERNEL)) {
        key.kernel_stack = sampled_stack(ctx, 0);
        if (!key.kernel_stack)
            count(CPU_COUNTER_KERNEL_STACK_LOST);
    }
    announce(&key);
    add_sample(&key);
    return 0;
}
