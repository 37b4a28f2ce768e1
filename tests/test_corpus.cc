// Real stripped Go binaries of other releases (esbuild and lefthook from npm, go1.17.2 to go1.27.0).
#include "test_support.h"

extern "C" {
#include "go_binary.h"
#include "go_release_evidence.h"
#include "go_string_table.h"
#include "layout_select.h"
#include "probe_plan.h"
#include "x86_rets.h"
}

using namespace gmon_test;

namespace {

class Corpus : public ::testing::TestWithParam<corpus_entry> {
  protected:
    void SetUp() override {
        struct gmon_error err;
        ASSERT_EQ(go_binary_open(&bin, corpus(GetParam().name).c_str(), &err), 0) << err.msg;
    }
    void TearDown() override {
        go_binary_close(&bin);
    }
    struct go_binary bin;
};

TEST_P(Corpus, ExactGoVersionAndModule) {
    EXPECT_EQ(std::string(bin.version_string), GetParam().go_version);
    EXPECT_TRUE(bin.version_exact);
    EXPECT_EQ(std::string(bin.buildinfo.mod_path), GetParam().module);
    EXPECT_EQ(std::string(bin.buildinfo.main_path), GetParam().main_package);
    EXPECT_TRUE(bin.stripped);
    EXPECT_FALSE(bin.has_dwarf);
    struct layout_choice c;
    struct gmon_error err;
    ASSERT_EQ(layout_select(&bin, &c, &err), 0) << err.msg;
    EXPECT_NE(c.layout, nullptr) << c.problem;
}

// The runtime functions that bound a binary's release agree with the release of every binary of the corpus,
// and bound it: --go-version of the release before (the one the issue found accepted against a go1.22
// esbuild: 1.20) is refused, and so is the one after where a marker rules it out.
TEST_P(Corpus, ReleaseEvidenceContainsTheReleaseAndRefusesOthers) {
    struct go_release_evidence e;
    go_release_evidence_read(&bin.pcln, &e);
    int minor = bin.version.minor;
    EXPECT_LE(e.min_minor, minor) << e.min_because;
    EXPECT_GE(e.max_minor, minor) << e.max_because;
    EXPECT_GE(e.min_minor, std::min(minor, 24) - (minor == 17))
        << "1.18 to 1.24 each have a marker of their own";
    std::string bin_path = corpus(GetParam().name);
    for (int wrong : {minor - 1, minor - 2}) {
        if (wrong < 17)
            continue;
        auto r = gmon("info --path " + bin_path + " --go-version 1." + std::to_string(wrong));
        EXPECT_EQ(r.status, 2) << wrong << r.out;
        bool refused = r.err.find("contradicts the binary") != std::string::npos ||
                       r.err.find("does not match the binary") != std::string::npos;
        EXPECT_TRUE(refused) << r.err;
    }
}

// Enum names come from the binary: runtime.waitReasonStrings in every release (reordered in 1.20, 1.24,
// 1.25, 1.26), runtime.stwReasonStrings from 1.21.
TEST_P(Corpus, RuntimeStringTablesReadFromTheBinary) {
    const char *wait_first[] = {"", "GC assist marking", "IO wait"};
    struct go_string_table waits;
    ASSERT_EQ(go_string_table_find(&bin.elf, wait_first, 3, &waits), 0);
    EXPECT_GE(waits.n, 27u);
    bool has_sleep = false, has_select = false;
    for (size_t i = 0; i < waits.n; i++) {
        has_sleep |= std::string(waits.strings[i]) == "sleep";
        has_select |= std::string(waits.strings[i]) == "select";
    }
    EXPECT_TRUE(has_sleep && has_select);
    go_string_table_free(&waits);

    const char *stw_first[] = {"unknown", "GC mark termination", "GC sweep termination"};
    struct go_string_table stw;
    int found = go_string_table_find(&bin.elf, stw_first, 3, &stw);
    if (bin.version.minor < 21) {
        EXPECT_NE(found, 0) << "stopTheWorldWithSema takes no reason before Go 1.21";
        return;
    }
    ASSERT_EQ(found, 0);
    EXPECT_STREQ(go_string_table_get(&stw, 7), "read mem stats");
    EXPECT_STREQ(go_string_table_get(&stw, 9), "GOMAXPROCS");
    go_string_table_free(&stw);
}

TEST_P(Corpus, KeyFunctionsRoundTrip) {
    for (const char *name : {"runtime.newproc1", "runtime.goexit1", "runtime.mallocgc", "main.main"}) {
        struct go_func fn, back;
        ASSERT_TRUE(go_binary_find_func(&bin, name, &fn, nullptr)) << name;
        EXPECT_GE(fn.entry, bin.pcln.text_start);
        ASSERT_TRUE(pclntab_func_at(&bin.pcln, fn.entry, &back)) << name;
        EXPECT_STREQ(back.name, name);
        ASSERT_TRUE(pclntab_func_at(&bin.pcln, fn.end - 1, &back)) << name;
        EXPECT_STREQ(back.name, name);
        const char *file;
        int line;
        EXPECT_TRUE(pclntab_line(&bin.pcln, &fn, fn.entry, &file, &line)) << name;
        EXPECT_GT(line, 0);
    }
}

TEST_P(Corpus, EveryEntrySymbolizesToItself) {
    uint64_t bad = 0;
    for (uint64_t i = 0; i < bin.pcln.nfunc; i++) {
        struct go_func fn, back;
        ASSERT_TRUE(pclntab_func(&bin.pcln, i, &fn)) << i;
        if (fn.end == fn.entry)
            continue; // a zero-size function shares its entry with the next one
        if (!pclntab_func_at(&bin.pcln, fn.entry, &back) || back.index != fn.index)
            bad++;
    }
    EXPECT_EQ(bad, 0u);
    EXPECT_GT(bin.pcln.nfunc, 5000u);
}

TEST_P(Corpus, Newproc1RetsDecodeAsRet) {
    struct probe_plan plan;
    struct gmon_error err;
    ASSERT_EQ(probe_plan_build(&bin, &plan, &err), 0) << err.msg;
    const struct probe_site *s = probe_plan_site(&plan, "runtime.newproc1");
    ASSERT_NE(s, nullptr);
    ASSERT_TRUE(s->found);
    ASSERT_GE(s->nrets, 1u);
    for (size_t r = 0; r < s->nrets && r < PROBE_MAX_RETS; r++)
        EXPECT_TRUE(x86_is_ret(bin.elf.data + s->ret_offsets[r], 16));
}

// gmon gm --by site's probe on the memory profiler's sampling point: runtime.profilealloc is a function of
// its own (not only inlined) in every release, with a stack-split check to place the probe after.
TEST_P(Corpus, MemoryProfilerSamplingPointIsProbeable) {
    struct probe_site s;
    probe_site_plan(&bin, "runtime.profilealloc", &s);
    ASSERT_TRUE(s.found) << s.problem;
    EXPECT_GT(s.body_offset, s.entry_offset) << "after the stack-split check";
    EXPECT_LT(s.body_offset - s.entry_offset, 32u);
}

// Inline trees decode in every release (they need moduledata.gofunc from 1.18 on).
TEST_P(Corpus, InlinedFramesDecode) {
    struct go_func fn;
    ASSERT_TRUE(go_binary_find_func(&bin, "runtime.newproc1", &fn, nullptr));
    int inlined = 0;
    bool acquirem = false;
    for (uint64_t pc = fn.entry; pc < fn.end; pc++) {
        struct go_frame frames[8];
        int n = pclntab_frames(&bin.pcln, &fn, pc, frames, 8);
        ASSERT_GE(n, 1);
        EXPECT_STREQ(frames[n - 1].function, "runtime.newproc1");
        for (int i = 0; i < n - 1; i++) {
            EXPECT_TRUE(frames[i].inlined);
            EXPECT_STRNE(frames[i].function, "?");
            EXPECT_GT(frames[i].line, 0) << frames[i].function;
            acquirem |= std::string(frames[i].function) == "runtime.acquirem";
            inlined++;
        }
    }
    EXPECT_GT(inlined, 0);
    EXPECT_TRUE(acquirem) << "newproc1 inlines acquirem in every release";
}

INSTANTIATE_TEST_SUITE_P(Npm, Corpus, ::testing::ValuesIn(corpus_manifest()), corpus_test_name);

} // namespace
