// Damaged Go binaries must give errors or partial answers, never crashes or hangs (run under ASan+UBSan in
// CI).
#include <random>

#include "test_support.h"

extern "C" {
#include "go_binary.h"
#include "layout_select.h"
#include "probe_plan.h"
}

using namespace gmon_test;

namespace {

// Opens a (possibly damaged) binary and exercises every reader on it. Returns whether it opened.
bool exercise(const std::string &path, std::mt19937_64 &rng) {
    struct go_binary b;
    struct gmon_error err;
    if (go_binary_open(&b, path.c_str(), &err) != 0) {
        EXPECT_GT(strlen(err.msg), 0u);
        return false;
    }
    struct layout_choice c;
    layout_select(&b, &c, &err);
    struct probe_plan plan;
    probe_plan_build(&b, &plan, &err);
    uint64_t lo = b.pcln.text_start, span = b.md.found && b.md.etext > lo ? b.md.etext - lo : 1 << 20;
    for (int i = 0; i < 300; i++) {
        struct go_func fn;
        struct go_frame frames[8];
        uint64_t pc = lo + rng() % span;
        if (pclntab_func_at(&b.pcln, pc, &fn))
            pclntab_frames(&b.pcln, &fn, pc, frames, 8);
    }
    go_binary_close(&b);
    return true;
}

TEST(Robustness, MutatedPclntabAndHeaders) {
    std::string orig = read_file(fixture("lifecycle-plain"));
    struct go_binary b;
    struct gmon_error err;
    ASSERT_EQ(go_binary_open(&b, fixture("lifecycle-plain").c_str(), &err), 0);
    uint64_t pcln_off = (uint64_t)(b.pcln.data - b.elf.data), pcln_size = b.pcln.size;
    go_binary_close(&b);
    std::mt19937_64 rng(1234);
    std::string path = scratch_dir() + "/mutated";
    int opened = 0, rejected = 0;
    for (int iter = 0; iter < 300; iter++) {
        std::string data = orig;
        int flips = 1 + (int)(rng() % 32);
        for (int k = 0; k < flips; k++) {
            uint64_t at = iter % 3 == 0   ? rng() % 4096                  // ELF and program headers
                          : iter % 3 == 1 ? pcln_off + rng() % 128        // pcHeader
                                          : pcln_off + rng() % pcln_size; // tables
            data[at] = (char)rng();
        }
        write_file(path, data);
        (exercise(path, rng) ? opened : rejected)++;
    }
    EXPECT_GT(opened, 0);
    EXPECT_GT(rejected, 0);
}

TEST(Robustness, TruncatedAtManyLengths) {
    std::string orig = read_file(fixture("lifecycle-stripped"));
    std::mt19937_64 rng(99);
    std::string path = scratch_dir() + "/truncated";
    int rejected = 0;
    for (size_t len : {size_t(0), size_t(10), size_t(63), size_t(64), size_t(4096), orig.size() / 4,
                       orig.size() / 2, orig.size() * 3 / 4, orig.size() - 1}) {
        write_file(path, orig.substr(0, len));
        rejected += !exercise(path, rng);
    }
    EXPECT_GE(rejected, 6);
}

} // namespace
