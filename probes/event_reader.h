/* Reads fixed-size events from a BPF ring buffer, from gmon's per-CPU rings (cpu_rings.h; the ring buffer
 * then only wakes the reader), or from a per-CPU perf buffer on kernels without ring buffers (before 5.8).
 * Lost events are counted, never dropped silently. */
#ifndef GMON_EVENT_READER_H
#define GMON_EVENT_READER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cpu_rings.h"
#include "gmon_error.h"

typedef void (*event_handler)(void *ctx, const void *data, size_t size);

/* Events one read hands over at most (a few milliseconds' worth of a storm; the ring buffer holds ~47,000).
 */
enum { EVENT_READER_BUDGET = 8192 };

struct event_reader {
    bool ringbuf;
    void *rb;            /* struct ring_buffer * */
    void **perf_readers; /* struct perf_reader *, one per possible CPU */
    int nreaders;
    event_handler handler;
    void *ctx;
    uint64_t perf_lost;   /* samples the perf buffer reported lost (ring buffer losses are counted in BPF) */
    int batch_ms;         /* 0, or read in batches (below): set after opening */
    uint64_t delivered;   /* events handed to the handler so far */
    bool last_delivered;  /* the last poll delivered events: the next one lets batch_ms pass first */
    int64_t last_poll_ns; /* CLOCK_MONOTONIC, when that poll ended */
    uint64_t budget;      /* events the current read may still hand over (0: no limit) */
    bool more_pending;    /* the last read stopped at its budget: the next one does not pause */
    struct cpu_rings rings; /* mapped (rings.ends set) when the events come through them */
};

/* True when the running kernel has BPF ring buffers. */
bool event_reader_kernel_has_ringbuf(void);
/* Opens a reader on the map fd (BPF_RINGBUF_OUTPUT or BPF_PERF_OUTPUT, as ringbuf says). */
int event_reader_open(struct event_reader *r, int map_fd, bool ringbuf, int perf_pages, event_handler handler,
                      void *ctx, struct gmon_error *err);
/* Opens a reader of a program's per-CPU rings (the maps ends_fd and slots_fd, of that shape), which wakes it
 * through its ring buffer wake_fd. */
int event_reader_open_cpu_rings(struct event_reader *r, int wake_fd, int ends_fd, int slots_fd,
                                const struct cpu_rings_shape *shape, event_handler handler, void *ctx,
                                struct gmon_error *err);
/* Events the programs put in the per-CPU rings so far (they count them nowhere else); 0 for the other
 * buffers. */
uint64_t event_reader_ring_events_sent(const struct event_reader *r);
/* "per-CPU rings", "ring buffer" or "perf buffer": how the events come. */
const char *event_reader_transport(const struct event_reader *r);
/* Waits up to timeout_ms for events and hands each to the handler, at most EVENT_READER_BUDGET of them: a
 * ring buffer read goes on as long as the programs write (libbpf reads until it finds the buffer empty), so a
 * reader slower than a storm would never return to look at its stop flag. With batch_ms, events are read in
 * batches: after a poll that delivered events, the next one first lets batch_ms pass, so that a storm's
 * events are handled (and logged) hundreds at a time rather than a few per wake-up; an event waits at most
 * that much longer. Returns -1 on error (not EINTR). */
int event_reader_poll(struct event_reader *r, int timeout_ms);
/* Hands the events buffered now to the handler, without waiting. Returns true when the buffer was emptied,
 * false when the read stopped at its budget because the programs kept writing faster (call again; once the
 * probes are detached, a loop of calls ends with everything read). */
bool event_reader_drain(struct event_reader *r);
/* Hands over every event left, reading until the buffer is empty: for after the probes are detached, when
 * nothing writes any more (else it might not end). */
void event_reader_drain_all(struct event_reader *r);
void event_reader_close(struct event_reader *r);

#endif
