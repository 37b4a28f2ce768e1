#include "cpu_rings.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "bpf_program.h"

enum { RING_EVENTS_IN_ALL = 65536, RING_SLOTS_MIN = 8192, RING_SLOTS_MAX = 32768, RING_CPUS_MAX = 16 };

uint32_t cpu_rings_slots_per_cpu(uint32_t cpus) {
    if (cpus > RING_CPUS_MAX)
        return 0;
    uint32_t slots = RING_SLOTS_MAX;
    while (slots > RING_SLOTS_MIN && (uint64_t)slots * (cpus ? cpus : 1) > RING_EVENTS_IN_ALL)
        slots /= 2;
    return slots;
}

static bool shape_is_sound(const struct cpu_rings_shape *s) {
    return s->cpus > 0 && s->slots > 0 && (s->slots & (s->slots - 1)) == 0 && s->event_bytes % 8 == 0 &&
           s->time_offset + 8 <= s->event_bytes;
}

int cpu_rings_map(struct cpu_rings *r, int ends_fd, int slots_fd, const struct cpu_rings_shape *shape) {
    memset(r, 0, sizeof(*r));
    if (!shape_is_sound(shape)) {
        errno = EINVAL;
        return -1;
    }
    r->shape = *shape;
    /* An array map's values lie one after the other, each rounded up to 8 bytes (kernel/bpf/arraymap.c). */
    r->stride = CPU_RING_SLOT_HEADER_BYTES + shape->event_bytes;
    r->ends = bpf_map_values(ends_fd, (size_t)shape->cpus * sizeof(struct cpu_ring_ends), &r->ends_bytes);
    r->slots = bpf_map_values(slots_fd, (size_t)shape->cpus * shape->slots * r->stride, &r->slots_bytes);
    r->next = calloc(shape->cpus, sizeof(*r->next));
    r->pending = calloc(shape->cpus, sizeof(*r->pending));
    r->times = calloc(shape->cpus, sizeof(*r->times));
    r->events = calloc(shape->cpus, sizeof(*r->events));
    if (!r->ends || !r->slots || !r->next || !r->pending || !r->times || !r->events) {
        int saved = errno ? errno : ENOMEM;
        cpu_rings_unmap(r);
        errno = saved;
        return -1;
    }
    return 0;
}

void cpu_rings_unmap(struct cpu_rings *r) {
    if (r->ends)
        munmap(r->ends, r->ends_bytes);
    if (r->slots)
        munmap(r->slots, r->slots_bytes);
    free(r->next);
    free(r->pending);
    free(r->times);
    free(r->events);
    memset(r, 0, sizeof(*r));
}

/* The event written at CPU cpu's position pos, with its time in *time; NULL when the position is not written
 * yet (reserved by a program still copying its event, or not reserved at all). */
static const unsigned char *written_event(const struct cpu_rings *r, uint32_t cpu, uint64_t pos,
                                          uint64_t *time) {
    size_t index = (size_t)cpu * r->shape.slots + (size_t)(pos & (r->shape.slots - 1));
    const unsigned char *slot = r->slots + index * r->stride;
    if (__atomic_load_n((const uint64_t *)slot, __ATOMIC_ACQUIRE) != pos + 1)
        return NULL;
    const unsigned char *event = slot + CPU_RING_SLOT_HEADER_BYTES;
    memcpy(time, event + r->shape.time_offset, sizeof(*time));
    return event;
}

/* CPU cpu's next position is reserved and not written (a program in the middle of its copy, or preempted
 * there): the events written behind it may hold a goroutine's creation whose exit another CPU has already
 * sent, with a later time. Lowers *before_ns to the earliest of their times, so that such an exit waits for
 * its creation. */
static void wait_behind_hole(const struct cpu_rings *r, uint32_t cpu, uint64_t *before_ns) {
    uint64_t next = r->next[cpu], head = __atomic_load_n(&r->ends[cpu].head, __ATOMIC_ACQUIRE);
    uint64_t time;
    for (uint64_t pos = next + 1; pos < head && pos - next < r->shape.slots; pos++)
        if (written_event(r, cpu, pos, &time) && time < *before_ns)
            *before_ns = time;
}

/* CPU cpu's next event when it is written (its time in *time), else NULL (and *before_ns lowered when a
 * program is still writing it). */
static const unsigned char *front_event(const struct cpu_rings *r, uint32_t cpu, uint64_t *before_ns,
                                        uint64_t *time) {
    const unsigned char *event = written_event(r, cpu, r->next[cpu], time);
    if (!event)
        wait_behind_hole(r, cpu, before_ns);
    return event;
}

/* Of the pending CPUs, the index (in r->pending and times) of the one whose next event is the oldest. */
static uint32_t oldest_pending(uint32_t npending, const uint64_t *times) {
    uint32_t best = 0;
    for (uint32_t i = 1; i < npending; i++)
        if (times[i] < times[best])
            best = i;
    return best;
}

static void free_read_slots(struct cpu_rings *r) {
    for (uint32_t cpu = 0; cpu < r->shape.cpus; cpu++)
        if (__atomic_load_n(&r->ends[cpu].tail, __ATOMIC_RELAXED) != r->next[cpu])
            __atomic_store_n(&r->ends[cpu].tail, r->next[cpu], __ATOMIC_RELEASE);
}

size_t cpu_rings_read(struct cpu_rings *r, uint64_t before_ns, size_t budget, cpu_ring_fn fn, void *ctx,
                      bool *at_budget) {
    *at_budget = false;
    if (!r->ends)
        return 0;
    /* The events at the front of each CPU's ring, merged by time: each ring is in time order but for
     * programs that interrupted one another on a CPU, which the merge takes as they come. Whatever is
     * written before a creation on its CPU has an earlier time than the goroutine's exit, so the merge hands
     * the creation over first, once nothing in front of it is still being written (wait_behind_hole). */
    uint32_t npending = 0;
    uint64_t *times = r->times;
    const unsigned char **events = r->events;
    for (uint32_t cpu = 0; cpu < r->shape.cpus; cpu++) {
        events[npending] = front_event(r, cpu, &before_ns, &times[npending]);
        if (events[npending])
            r->pending[npending++] = cpu;
    }
    size_t handed = 0;
    while (npending) {
        uint32_t i = oldest_pending(npending, times);
        if (times[i] >= before_ns)
            break; /* the oldest is too recent: the rest wait for a later read */
        if (budget && handed == budget) {
            *at_budget = true;
            break;
        }
        uint32_t cpu = r->pending[i];
        fn(ctx, events[i], r->shape.event_bytes);
        r->next[cpu]++;
        handed++;
        events[i] = front_event(r, cpu, &before_ns, &times[i]);
        if (!events[i]) { /* this CPU has no more: the last pending one takes its place */
            npending--;
            r->pending[i] = r->pending[npending];
            events[i] = events[npending];
            times[i] = times[npending];
        }
    }
    free_read_slots(r);
    return handed;
}

bool cpu_rings_hold_events(const struct cpu_rings *r) {
    for (uint32_t cpu = 0; r->ends && cpu < r->shape.cpus; cpu++)
        if (__atomic_load_n(&r->ends[cpu].head, __ATOMIC_RELAXED) != r->next[cpu])
            return true;
    return false;
}

uint64_t cpu_rings_sent(const struct cpu_rings *r) {
    uint64_t sent = 0;
    for (uint32_t cpu = 0; r->ends && cpu < r->shape.cpus; cpu++)
        sent += __atomic_load_n(&r->ends[cpu].head, __ATOMIC_RELAXED);
    return sent;
}
