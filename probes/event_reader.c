#include "event_reader.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bcc/libbpf.h>
#include <bcc/perf_reader.h>

bool event_reader_kernel_has_ringbuf(void) {
    int fd = bcc_create_map(BPF_MAP_TYPE_RINGBUF, "gmon_probe", 0, 0, 4096, 0);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

static int on_ringbuf_sample(void *ctx, void *data, size_t size) {
    struct event_reader *r = ctx;
    r->delivered++;
    r->handler(r->ctx, data, size);
    return 0;
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

static int event_reader_wait(struct event_reader *r, int timeout_ms) {
    int rc;
    if (r->ringbuf) {
        /* Most events do not wake the reader (probe_common.bpf.h): what a wake-up did not bring is read
         * when the wait ends. */
        rc = bpf_poll_ringbuf(r->rb, timeout_ms);
        if (rc >= 0)
            rc = bpf_consume_ringbuf(r->rb);
    } else
        rc = perf_reader_poll(r->nreaders, (struct perf_reader **)r->perf_readers, timeout_ms);
    if (rc < 0 && (errno == EINTR || rc == -EINTR))
        return 0;
    return rc < 0 ? -1 : 0;
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* After a poll that delivered events, lets the rest of batch_ms pass (never more than timeout_ms):
 * the ring buffer reports itself readable as soon as it holds one event, so without the pause a reader
 * that keeps up wakes for every few events. Returns the time left of timeout_ms. */
static int pause_between_batches(struct event_reader *r, int timeout_ms) {
    if (!r->batch_ms || !r->last_delivered)
        return timeout_ms;
    int64_t wait_ns = r->last_poll_ns + r->batch_ms * 1000000LL - now_ns();
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
        r->last_poll_ns = now_ns();
    return rc;
}

void event_reader_drain(struct event_reader *r) {
    if (r->rb)
        bpf_consume_ringbuf(r->rb);
    else if (r->nreaders)
        perf_reader_consume(r->nreaders, (struct perf_reader **)r->perf_readers);
}

void event_reader_close(struct event_reader *r) {
    if (r->rb)
        bpf_free_ringbuf(r->rb);
    for (int i = 0; i < r->nreaders; i++)
        perf_reader_free(r->perf_readers[i]);
    free(r->perf_readers);
    memset(r, 0, sizeof(*r));
}
