/* Host side of the per-CPU event rings (cpu_ring.h): maps the two BPF arrays into gmon's memory and hands
 * their events over in time order, without locks and without stopping the programs that write them. */
#ifndef GMON_CPU_RINGS_H
#define GMON_CPU_RINGS_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cpu_ring.h"

/* The rings' shape, as the BPF program was compiled with it. */
struct cpu_rings_shape {
    uint32_t cpus;        /* CPU_RING_CPUS: the possible CPUs */
    uint32_t slots;       /* CPU_RING_SLOTS per CPU: a power of two */
    uint32_t event_bytes; /* CPU_RING_EVENT_BYTES: a multiple of 8 */
    uint32_t time_offset; /* where in an event its CLOCK_MONOTONIC time (a u64) lies */
};

/* Slots per CPU for a program on cpus possible CPUs: about 65,536 events in all (the ring buffer holds
 * ~47,000), a power of two from 8,192 to 32,768 per CPU; 0 over 16 CPUs. A CPU's ring must hold what one
 * busy CPU sends between two reads (10 ms apart in a storm: ~3,000 events at the pace of the storm fixture),
 * and the kernel allocates every CPU's ring up front: 16 CPUs take 11.5 MB of locked memory, where the ring
 * buffer takes 4 MB. Larger machines keep the ring buffer. */
uint32_t cpu_rings_slots_per_cpu(uint32_t cpus);

struct cpu_rings {
    struct cpu_rings_shape shape;
    struct cpu_ring_ends *ends;
    unsigned char *slots;
    size_t ends_bytes, slots_bytes, stride;
    uint64_t *next; /* per CPU: the next position to read */
    /* Scratch for one read: the CPUs with an event ready to hand over, and that event with its time. */
    uint32_t *pending;
    uint64_t *times;
    const unsigned char **events;
};

/* Maps the arrays `cpu_ring_ends` (ends_fd) and `cpu_ring_slots` (slots_fd). Returns 0, or -1 with errno. */
int cpu_rings_map(struct cpu_rings *r, int ends_fd, int slots_fd, const struct cpu_rings_shape *shape);
void cpu_rings_unmap(struct cpu_rings *r);

typedef void (*cpu_ring_fn)(void *ctx, const void *event, size_t size);
/* Hands fn the events written, whose time is before before_ns, in time order, at most budget of them (0:
 * no limit), and frees their slots. Events of a later time wait for a later read: whatever a program sent
 * after another event it can see (an exit after its goroutine's creation, from another CPU) was written
 * after that one, so a read that hands over an event with a time before before_ns, taken before the read
 * began, also hands over the events written before it, except those behind a slot still being written,
 * whose times then lower before_ns. Returns how many it handed over; *at_budget says whether it stopped at
 * the budget with events still to hand over. */
size_t cpu_rings_read(struct cpu_rings *r, uint64_t before_ns, size_t budget, cpu_ring_fn fn, void *ctx,
                      bool *at_budget);
/* Whether the rings hold events not handed over yet (written or being written, of any time). */
bool cpu_rings_hold_events(const struct cpu_rings *r);
/* Events the programs have put in the rings so far (read or not). */
uint64_t cpu_rings_sent(const struct cpu_rings *r);

#endif
