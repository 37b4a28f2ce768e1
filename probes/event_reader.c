#include "event_reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>

#include "clocks.h"

bool event_reader_kernel_has_ringbuf(void) {
    int fd = bcc_create_map(BPF_MAP_TYPE_RINGBUF, "gmon_probe", 0, 0, 4096, 0);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

/* What a ring buffer read returns when it stopped at its budget: the sample was consumed, libbpf stops there
 * (ringbuf_process_ring) and hands the value back. */
enum { OVER_BUDGET = -E2BIG };

static int on_ringbuf_sample(void *ctx, void *data, size_t size) {
    struct event_reader *r = ctx;
    if (r->rings.ends)
        return 0; /* a wake-up token: the events are in the rings */
    r->delivered++;
    r->handler(r->ctx, data, size);
    return r->budget && --r->budget == 0 ? OVER_BUDGET : 0;
}

/* True when a ring buffer call's result says it stopped at the budget (libbpf returns the callback's value,
 * or -1 with errno, depending on its version and mode). */
static bool stopped_at_budget(const struct event_reader *r, int rc) {
    return rc < 0 && r->budget == 0 && (rc == OVER_BUDGET || errno == -OVER_BUDGET);
}

static void on_perf_sample(void *ctx, void *data, int size) {
    struct event_reader *r = ctx;
    r->delivered++;
    r->handler(r->ctx, data, (size_t)size);
}

static void on_perf_lost(void *ctx, uint64_t lost) {
    struct event_reader *r = ctx;
    r->perf_lost += lost;
}

static int open_perf_readers(struct event_reader *r, int map_fd, int pages, struct gmon_error *err) {
    long ncpus = sysconf(_SC_NPROCESSORS_CONF);
    if (ncpus < 1)
        ncpus = 1;
    r->perf_readers = calloc((size_t)ncpus, sizeof(void *));
    if (!r->perf_readers)
        return gmon_fail(err, "out of memory");
    for (int cpu = 0; cpu < ncpus; cpu++) {
        void *reader = bpf_open_perf_buffer(on_perf_sample, on_perf_lost, r, -1, cpu, pages);
        if (!reader)
            continue; /* an offline CPU: nothing can be written for it */
        int fd = perf_reader_fd(reader);
        if (bpf_update_elem(map_fd, &cpu, &fd, 0) != 0) {
            perf_reader_free(reader);
            return gmon_fail(err, "cannot install the perf buffer of CPU %d: %s", cpu, strerror(errno));
        }
        r->perf_readers[r->nreaders++] = reader;
    }
    if (r->nreaders == 0)
        return gmon_fail(err, "cannot open any perf buffer: %s", strerror(errno));
    return 0;
}

int event_reader_open(struct event_reader *r, int map_fd, bool ringbuf, int perf_pages, event_handler handler,
                      void *ctx, struct gmon_error *err) {
    memset(r, 0, sizeof(*r));
    r->ringbuf = ringbuf;
    r->handler = handler;
    r->ctx = ctx;
    if (map_fd < 0)
        return gmon_fail(err, "the BPF program has no event buffer");
    if (!ringbuf)
        return open_perf_readers(r, map_fd, perf_pages, err);
    r->rb = bpf_new_ringbuf(map_fd, on_ringbuf_sample, r);
    if (!r->rb)
        return gmon_fail(err, "cannot open the BPF ring buffer: %s", strerror(errno));
    return 0;
}

int event_reader_open_cpu_rings(struct event_reader *r, int wake_fd, int ends_fd, int slots_fd,
                                const struct cpu_rings_shape *shape, event_handler handler, void *ctx,
                                struct gmon_error *err) {
    if (event_reader_open(r, wake_fd, true, 0, handler, ctx, err) != 0)
        return -1;
    if (ends_fd < 0 || slots_fd < 0 || cpu_rings_map(&r->rings, ends_fd, slots_fd, shape) != 0) {
        int saved = errno;
        event_reader_close(r);
        return gmon_fail(err, "cannot map the BPF program's per-CPU event rings into memory: %s",
                         strerror(saved));
    }
    return 0;
}

uint64_t event_reader_ring_events_sent(const struct event_reader *r) {
    return cpu_rings_sent(&r->rings);
}

const char *event_reader_transport(const struct event_reader *r) {
    return r->rings.ends ? "per-CPU rings" : r->ringbuf ? "ring buffer" : "perf buffer";
}

/* Hands over the events in the per-CPU rings written before now, at most a read's budget. */
static void read_rings(struct event_reader *r) {
    bool at_budget;
    r->delivered += cpu_rings_read(&r->rings, (uint64_t)monotonic_ns(), EVENT_READER_BUDGET, r->handler,
                                   r->ctx, &at_budget);
    r->more_pending = at_budget;
}

static int event_reader_wait(struct event_reader *r, int timeout_ms) {
    int rc;
    if (r->ringbuf) {
        /* Most events do not wake the reader (probe_common.bpf.h): what a wake-up did not bring is read
         * when the wait ends. */
        r->budget = EVENT_READER_BUDGET;
        /* A ring wakes the reader once, when its unread events reach a mark (probe_common.bpf.h): a read
         * that left events in a ring (later than its start, or over its budget) must not wait for a
         * wake-up that the ring already sent. */
        if (r->rings.ends && cpu_rings_hold_events(&r->rings))
            timeout_ms = r->last_delivered || r->more_pending ? 0 : 1; /* 1: a program still writing */
        rc = bpf_poll_ringbuf(r->rb, timeout_ms);
        if (rc >= 0)
            rc = bpf_consume_ringbuf(r->rb);
        r->more_pending = stopped_at_budget(r, rc);
        if (r->more_pending)
            rc = 0;
        if (r->rings.ends && (rc >= 0 || errno == EINTR))
            read_rings(r);
    } else
        rc = perf_reader_poll(r->nreaders, (struct perf_reader **)r->perf_readers, timeout_ms);
    if (rc < 0 && (errno == EINTR || rc == -EINTR))
        return 0;
    return rc < 0 ? -1 : 0;
}

/* After a poll that delivered events, lets the rest of batch_ms pass (never more than timeout_ms):
 * the ring buffer reports itself readable as soon as it holds one event, so without the pause a reader
 * that keeps up wakes for every few events. Returns the time left of timeout_ms. */
static int pause_between_batches(struct event_reader *r, int timeout_ms) {
    if (!r->batch_ms || !r->last_delivered || r->more_pending)
        return timeout_ms;
    int64_t wait_ns = r->last_poll_ns + r->batch_ms * 1000000LL - monotonic_ns();
    if (wait_ns > (int64_t)timeout_ms * 1000000LL)
        wait_ns = (int64_t)timeout_ms * 1000000LL;
    if (wait_ns <= 0)
        return timeout_ms;
    struct timespec ts = {0, (long)wait_ns};
    nanosleep(&ts, NULL); /* a signal ends it early: the caller's loop looks at its stop flag */
    return timeout_ms - (int)(wait_ns / 1000000);
}

int event_reader_poll(struct event_reader *r, int timeout_ms) {
    timeout_ms = pause_between_batches(r, timeout_ms);
    uint64_t before = r->delivered;
    int rc = event_reader_wait(r, timeout_ms);
    r->last_delivered = r->delivered != before;
    if (r->last_delivered)
        r->last_poll_ns = monotonic_ns();
    return rc;
}

bool event_reader_drain(struct event_reader *r) {
    if (r->rings.ends) {
        r->budget = 0;
        bpf_consume_ringbuf(r->rb); /* wake-up tokens */
        read_rings(r);
        return !r->more_pending;
    }
    if (r->rb) {
        r->budget = EVENT_READER_BUDGET;
        int rc = bpf_consume_ringbuf(r->rb);
        r->more_pending = stopped_at_budget(r, rc);
        return !r->more_pending;
    }
    if (r->nreaders) /* each perf buffer is read up to where its head was when the read began */
        perf_reader_consume(r->nreaders, (struct perf_reader **)r->perf_readers);
    return true;
}

void event_reader_drain_all(struct event_reader *r) {
    while (!event_reader_drain(r))
        ;
}

void event_reader_close(struct event_reader *r) {
    cpu_rings_unmap(&r->rings);
    if (r->rb)
        bpf_free_ringbuf(r->rb);
    for (int i = 0; i < r->nreaders; i++)
        perf_reader_free(r->perf_readers[i]);
    free(r->perf_readers);
    memset(r, 0, sizeof(*r));
}
