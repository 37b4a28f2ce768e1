/* libFuzzer target: a whole Go binary through everything gmon reads from one, as `gmon info` and the tracing
 * commands do: ELF (libelf), build info, .gopclntab, moduledata discovery, the runtime layout choice, the
 * probe plan (x86 decoding of RETs and prologues), and PC symbolization with inlined frames. */
#include "fuzz_input.h"
#include "go_binary.h"
#include "layout_select.h"
#include "probe_plan.h"

/* Symbolizes PCs spread over the text: function, file:line, inlined frames, a pcdata table. */
static void symbolize_some(const struct go_binary *b, uint64_t seed) {
    uint64_t lo = b->pcln.text_start, span = b->md.found && b->md.etext > lo ? b->md.etext - lo : 1 << 20;
    for (int i = 0; i < 64; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        uint64_t pc = lo + (seed >> 11) % span;
        struct go_func fn;
        struct go_frame frames[8];
        const char *file;
        int line;
        if (!pclntab_func_at(&b->pcln, pc, &fn))
            continue;
        pclntab_frames(&b->pcln, &fn, pc, frames, 8);
        pclntab_line(&b->pcln, &fn, pc, &file, &line);
        pclntab_pcdata(&b->pcln, &fn, 0, pc);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int fd;
    char path[64];
    struct go_binary b;
    struct gmon_error err;
    if (go_binary_open(&b, fuzz_input_file(data, size, &fd, path), &err) == 0) {
        struct layout_choice choice;
        struct probe_plan plan;
        layout_select(&b, &choice, &err);
        probe_plan_build(&b, &plan, &err);
        symbolize_some(&b, size);
        go_binary_close(&b);
    }
    close(fd);
    return 0;
}
