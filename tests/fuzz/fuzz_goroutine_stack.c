/* The stack walker, the traceback builder and the label reader on crafted target memory: the input is a
 * goroutine (its PCs, SPs and label pointer, 64 bytes) and the image of its stack and heap, mapped at a fixed
 * address; the functions come from a real Go binary's .gopclntab (GMON_FUZZ_GO_BINARY, set by run.sh). Every
 * read outside the image fails, as process_vm_readv fails on unmapped memory. The walk must end, whatever the
 * bytes, without reading out of bounds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "go_binary.h"
#include "goroutine_labels.h"
#include "goroutine_trace.h"

enum { IMAGE_BASE = 0x10000000, HEADER = 64 };

static const uint8_t *image;
static size_t image_size;

static bool read_image(int pid, uint64_t addr, void *buf, size_t len) {
    (void)pid;
    if (addr < IMAGE_BASE || addr - IMAGE_BASE > image_size || len > image_size - (addr - IMAGE_BASE))
        return false;
    memcpy(buf, image + (addr - IMAGE_BASE), len);
    return true;
}

static bool read_labels(void *ctx, uint64_t addr, void *buf, size_t len) {
    (void)ctx;
    return read_image(0, addr, buf, len);
}

static struct go_binary *binary(void) {
    static struct go_binary bin;
    static bool opened;
    if (!opened) {
        const char *path = getenv("GMON_FUZZ_GO_BINARY");
        struct gmon_error err;
        if (!path || go_binary_open(&bin, path, &err) != 0) {
            fprintf(stderr, "fuzz_goroutine_stack: set GMON_FUZZ_GO_BINARY to a Go binary (%s)\n",
                    path ? err.msg : "unset");
            abort();
        }
        opened = true;
    }
    return &bin;
}

static uint64_t word(const uint8_t *p) {
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < HEADER)
        return 0;
    struct go_binary *bin = binary();
    image = data + HEADER;
    image_size = size - HEADER;
    /* PCs inside the binary's text (so that frames symbolize), SPs inside the image */
    uint64_t text = bin->pcln.text_start, span = 4 << 20;
    struct goroutine g = {
        .goid = word(data) % 1000,
        .status = (uint32_t)(data[8] % 10),
        .gopc = text + word(data + 48) % span,
    };
    struct goroutine_stack_state st = {
        .sched_pc = text + word(data + 16) % span,
        .sched_sp = IMAGE_BASE + word(data + 24) % (image_size + 16),
        .syscall_pc = data[9] & 1 ? text + word(data + 32) % span : 0,
        .syscall_sp = data[9] & 1 ? IMAGE_BASE + word(data + 40) % (image_size + 16) : 0,
        .labels = IMAGE_BASE + word(data + 56) % (image_size + 16),
        .stack_lo = IMAGE_BASE,
        .stack_hi = IMAGE_BASE + image_size,
    };
    struct traceback_rules rules;
    traceback_rules_for(17 + data[10] % 11, &rules);
    /* one builder for the whole run: its frame cache (by PC of the same binary) stays valid across inputs */
    static struct trace_builder b;
    static bool built;
    if (!built) {
        trace_builder_init(&b, &bin->pcln, 0, &rules, 0, NULL);
        b.mem.read = read_image;
        built = true;
    }
    b.rules = rules;
    b.max_walk = 1000;
    struct goroutine_trace tr = {0};
    goroutine_trace_build(&b, &g, &st, 0, 0, &tr);
    goroutine_is_system(&bin->pcln, 0, &g, &tr);
    struct goroutine_labels labels;
    goroutine_labels_read(st.labels, rules.minor, read_labels, NULL, &labels);
    goroutine_trace_free(&tr);
    return 0;
}
