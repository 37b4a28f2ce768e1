/* The layout of the per-CPU event rings, shared by the BPF programs that write them (probe_common.bpf.h,
 * USE_CPU_RINGS) and the host that reads them (cpu_rings.c). The build embeds this header in front of every
 * BPF source, so both sides compile the very same text.
 *
 * Why: the kernel's BPF ring buffer is one buffer behind a spin lock for all CPUs. A goroutine storm sends
 * two events per goroutine, a creation from one CPU and an exit from the other, and each send cost the
 * programs 80-100 ns (bench/bpf_cost.sh), a fifth of what gmon adds to the two traps. A ring per CPU, in
 * two array maps that gmon maps into its memory, takes a compare-and-swap on a cache line that stays on its
 * CPU, a copy and a store: ~20 ns.
 *
 * Each CPU has `slots` slots (a power of two). A program on CPU c reserves position p by moving the head
 * from p to p + 1 with a compare-and-swap (two programs can interleave on one CPU: a uprobe program runs
 * with migration disabled, not preemption), copies its event into slot p % slots, then sets the slot's seq
 * to p + 1. The host reads slot p once its seq says p + 1, and moves the tail past what it read; a program
 * finding `slots` positions unread counts its event lost. x86-64 keeps stores in order, and the programs
 * keep the compiler from moving them (gmon runs on x86-64 only). */
#ifndef GMON_CPU_RING_H
#define GMON_CPU_RING_H

#include <linux/types.h>

/* One per CPU, in an array of its own: the head is written by the programs, the tail by the host, each on
 * its own cache line. */
struct cpu_ring_ends {
    __u64 head; /* positions reserved */
    __u64 head_pad[7];
    __u64 tail; /* positions the host has read */
    __u64 tail_pad[7];
};

/* A slot: seq, then the event (CPU_RING_EVENT_BYTES, a multiple of 8). */
#define CPU_RING_SLOT_HEADER_BYTES 8

#endif
