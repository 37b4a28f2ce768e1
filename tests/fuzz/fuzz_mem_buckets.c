/* libFuzzer target: the profile bucket readers (tool/pprof/bucket_list.c, mem_buckets.c, block_buckets.c) and
 * the heap and contention profiles built from what they read (heap_profile.c, contention_profile.c, with
 * stack_locations.c), on crafted target memory. The input: one byte choosing the Go release (1.17-1.27) and
 * the list (memory, blocking, mutex), eight bytes of GC cycle count (the sampling rate, the ticks per
 * second), then a memory image mapped at IMAGE_BASE whose first eight bytes are the list's head pointer.
 * Reads outside the image fail, as reads of unmapped target memory do. Stacks are symbolized with a real
 * binary's functions when GMON_FUZZ_GO_BINARY names one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "go_binary.h"
#include "contention_profile.h"
#include "heap_profile.h"
#include "mem_buckets.h"

enum { IMAGE_BASE = 0x10000 };

struct image {
    const uint8_t *data;
    size_t size;
};

static bool read_image(void *ctx, uint64_t addr, void *buf, size_t len) {
    const struct image *im = ctx;
    if (addr < IMAGE_BASE || addr - IMAGE_BASE > im->size || len > im->size - (addr - IMAGE_BASE))
        return false;
    memcpy(buf, im->data + (addr - IMAGE_BASE), len);
    return true;
}

static const struct pclntab *symbols(void) {
    static struct go_binary bin;
    static int state; /* 0 not tried, 1 open, -1 none */
    if (state == 0) {
        const char *path = getenv("GMON_FUZZ_GO_BINARY");
        struct gmon_error err;
        state = path && go_binary_open(&bin, path, &err) == 0 ? 1 : -1;
    }
    return state == 1 ? &bin.pcln : NULL;
}

static void write_null(struct profile_builder *p) {
    struct gmon_error err;
    FILE *null = fopen("/dev/null", "wb");
    if (null) {
        profile_write(p, null, 0, &err);
        fclose(null);
    }
}

/* The blocking (typ 2) or mutex (typ 3) list and its profile. */
static void contention(const struct image *im, int minor, enum bucket_type typ, uint64_t knob) {
    struct block_buckets m;
    struct gmon_error err;
    if (block_buckets_read(read_image, (void *)im, IMAGE_BASE, typ, &m, &err) != 0)
        return;
    if (m.n > BUCKETS_MAX || m.npcs > m.n * (size_t)BUCKET_MAX_DEPTH)
        abort();
    const struct pclntab *pcln = symbols();
    struct profile_builder p;
    if (pcln && contention_profile_init(&p)) {
        struct contention_rules r =
            contention_rules_for(minor, typ == BUCKET_MUTEX, (int64_t)(knob % 7), (int64_t)(knob >> 8));
        contention_profile_add(&p, 0, pcln, 0, &m, &r);
        write_null(&p);
        profile_builder_free(&p);
    }
    block_buckets_free(&m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 9)
        return 0;
    int minor = 17 + data[0] % 11;
    int list = data[0] / 11 % 3;
    uint64_t cycle;
    memcpy(&cycle, data + 1, 8);
    struct image im = {data + 9, size - 9};
    if (list != 0) {
        contention(&im, minor, list == 1 ? BUCKET_BLOCK : BUCKET_MUTEX, cycle);
        return 0;
    }
    uint64_t head = IMAGE_BASE;
    if (mem_buckets_pick_head(read_image, &im, &head, 1) < 0)
        return 0;
    struct mem_buckets m;
    struct gmon_error err;
    if (mem_buckets_read(read_image, &im, head, minor, cycle, &m, &err) != 0)
        return 0;
    if (m.n > MEM_BUCKETS_MAX || m.npcs > m.n * (size_t)MEM_BUCKET_MAX_DEPTH)
        abort();
    const struct pclntab *pcln = symbols();
    if (pcln) {
        struct profile_builder p;
        if (heap_profile_init(&p, (int64_t)(cycle % 4) * 262144, NULL)) {
            heap_profile_add(&p, 0, pcln, 0, minor, &m, (int64_t)(cycle % 4) * 262144);
            write_null(&p);
        }
        profile_builder_free(&p);
    }
    mem_buckets_free(&m);
    return 0;
}
