// Real stripped Go binaries of other releases (esbuild and lefthook from npm, go1.17.2 to go1.27.0).
#include "test_support.h"

extern "C" {
#include "go_binary.h"
#include "go_release_evidence.h"
#include "go_string_table.h"
#include "layout_select.h"
#include "probe_plan.h"
#include "x86_calls.h"
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

// Where a probe sees a CALL's state at least cost (x86_cheapest_probe_point), on hand-made code at 0x1000:
// the NOP right before the call, unless something may jump to the call itself or the code is not understood.
TEST(ProbePoints, TheNopBeforeACallOnlyWhenNothingJumpsToTheCall) {
    x86_assume_kernel_release(6, 18); // the multi-byte NOPs skipped, as on the development VM
    const uint64_t at = 0x1000, target = 0x2000;
    auto call_to = [&](uint64_t from) { // E8 rel32 at `from`
        int32_t rel = (int32_t)(target - (from + 5));
        std::vector<uint8_t> b = {0xe8};
        for (int i = 0; i < 4; i++)
            b.push_back((uint8_t)((uint32_t)rel >> (8 * i)));
        return b;
    };
    struct code_case {
        const char *what;
        std::vector<uint8_t> before, after; // around the call
        uint64_t nop;                       // the expected point when it is the NOP, else 0
    };
    const std::vector<uint8_t> nop5 = {0x0f, 0x1f, 0x44, 0x00, 0x00};
    std::vector<code_case> cases = {
        {"a 5-byte NOP before the call", nop5, {0xc3}, at},
        {"a 1-byte NOP before the call", {0x48, 0x89, 0xc3, 0x90}, {0xc3}, at + 3},
        {"no NOP: mov %rax,%rbx", {0x48, 0x89, 0xc3}, {0xc3}, 0},
        {"a jump lands on the call", {0xeb, 0x05, 0x0f, 0x1f, 0x44, 0x00, 0x00}, {0xc3}, 0},
        {"a later jump back to the call", nop5, {0xeb, 0xf9, 0xc3}, 0},
        {"an indirect jump (a jump table)", nop5, {0xff, 0xe0, 0xc3}, 0},
        {"bytes that do not decode", nop5, {0x06, 0xc3}, 0},
    };
    for (const auto &c : cases) {
        SCOPED_TRACE(c.what);
        std::vector<uint8_t> code = c.before;
        uint64_t call = at + code.size();
        auto bytes = call_to(call);
        code.insert(code.end(), bytes.begin(), bytes.end());
        code.insert(code.end(), c.after.begin(), c.after.end());
        uint64_t found = 0;
        ASSERT_EQ(x86_find_calls(code.data(), code.size(), at, target, &found, 1), 1u);
        EXPECT_EQ(found, call);
        EXPECT_EQ(x86_find_calls(code.data(), code.size(), at, target + 1, &found, 1), 0u)
            << "another callee";
        EXPECT_EQ(x86_cheapest_probe_point(code.data(), code.size(), at, call), c.nop ? c.nop : call);
    }
    // Before Linux 6.16 the kernel single-steps a multi-byte NOP, and emulates the CALL: the CALL then.
    x86_assume_kernel_release(6, 1);
    std::vector<uint8_t> code = nop5;
    auto bytes = call_to(at + 5);
    code.insert(code.end(), bytes.begin(), bytes.end());
    code.push_back(0xc3);
    EXPECT_EQ(x86_cheapest_probe_point(code.data(), code.size(), at, at + 5), at + 5);
    x86_assume_kernel_release(-1, -1);
}

// The point where a probe still sees the arguments of `at`: the cheapest instruction of the straight run from
// `at` before an argument register changes, where no branch lands.
TEST(ProbePoints, TheArgumentsPointIsTheCheapestBeforeTheyChange) {
    x86_assume_kernel_release(6, 18); // the multi-byte NOPs skipped, as on the development VM
    const uint64_t at = 0x1000;
    const std::vector<uint8_t> sub_rsp = {0x48, 0x83, 0xec, 0x40}, store_rax = {0x48, 0x89, 0x44, 0x24, 0x48},
                               nop1 = {0x90}, nop5 = {0x0f, 0x1f, 0x44, 0x00, 0x00}, jb = {0x72, 0x02},
                               bt_ebx = {0x0f, 0xba, 0xe3, 0x0c}, mov_rbx_rax = {0x48, 0x89, 0xc3},
                               ret = {0xc3}, nops2 = {0x90, 0x90};
    struct code_case {
        const char *what;
        std::vector<std::vector<uint8_t>> parts;
        int expected; // index of the part the point is at
    };
    std::vector<code_case> cases = {
        {"a NOP after stores of the arguments", {sub_rsp, store_rax, bt_ebx, nop1, jb, nops2, ret}, 3},
        {"the first jump when there is no NOP", {sub_rsp, store_rax, bt_ebx, jb, nops2, ret}, 3},
        {"a 5-byte NOP over a 1-byte one", {sub_rsp, nop1, nop5, jb, nops2, ret}, 2},
        {"not past a write of RBX", {sub_rsp, mov_rbx_rax, nop1, jb, nops2, ret}, 0},
        {"the writing instruction itself when cheapest", {sub_rsp, nop1, mov_rbx_rax, jb, nops2, ret}, 1},
        {"not past the first jump", {sub_rsp, jb, nops2, nop5, ret}, 1},
        {"not where a later branch lands (the 5-byte NOP)",
         {sub_rsp, nop1, nop5, jb, nops2, {0xeb, 0xf5}, ret},
         1},
        {"an indirect jump: the entry", {sub_rsp, nop1, jb, nops2, {0xff, 0xe0}, ret}, 0},
        {"not past CPUID (writes RAX..RDX unseen)", {sub_rsp, {0x0f, 0xa2}, nop1, jb, nops2, ret}, 0},
        {"not past MUL (writes RAX, RDX)", {sub_rsp, {0x48, 0xf7, 0xe6}, nop1, jb, nops2, ret}, 0},
        {"not past a write of BL", {sub_rsp, {0xb3, 0x01}, nop1, jb, nops2, ret}, 0},
        {"past a write of RDX (no argument of Go's)", {sub_rsp, {0x31, 0xd2}, nop1, jb, nops2, ret}, 2},
        {"a branch back to the first instruction changes nothing",
         {sub_rsp, nop1, jb, nops2, {0xeb, 0xf5}, ret},
         1},
        {"a call ends the run and may be the point", {sub_rsp, {0xe8, 0x00, 0x00, 0x00, 0x00}, nop5, ret}, 1},
        {"bytes that do not decode: the entry", {sub_rsp, nop1, jb, {0x06}, ret}, 0},
    };
    for (const auto &c : cases) {
        SCOPED_TRACE(c.what);
        std::vector<uint8_t> code;
        std::vector<uint64_t> starts;
        for (const auto &p : c.parts) {
            starts.push_back(at + code.size());
            code.insert(code.end(), p.begin(), p.end());
        }
        EXPECT_EQ(x86_cheapest_point_with_arguments(code.data(), code.size(), at, at), starts[c.expected]);
    }
    // Before Linux 6.16 the kernel single-steps a multi-byte NOP: the jump is cheaper; 0x90 it always skips.
    x86_assume_kernel_release(6, 1);
    std::vector<uint8_t> code = sub_rsp;
    for (const auto &p : {nop5, jb, nops2, ret})
        code.insert(code.end(), p.begin(), p.end());
    EXPECT_EQ(x86_cheapest_point_with_arguments(code.data(), code.size(), at, at), at + 4 + 5) << "the jump";
    code = sub_rsp;
    for (const auto &p : {nop5, nop1, jb, nops2, ret})
        code.insert(code.end(), p.begin(), p.end());
    EXPECT_EQ(x86_cheapest_point_with_arguments(code.data(), code.size(), at, at), at + 4 + 5) << "0x90";
    x86_assume_kernel_release(-1, -1);
}

// The lifecycle probes sit on newproc.func1's one call of runqput and goexit1's one call of mcall, or on the
// NOP right before it (where a probe costs least: x86_calls.h), in every release.
TEST_P(Corpus, LifecycleProbesSitOnTheirCallOrTheNopBeforeIt) {
    struct probe_plan plan;
    struct gmon_error err;
    ASSERT_EQ(probe_plan_build(&bin, &plan, &err), 0) << err.msg;
    for (const char *name : {"runtime.newproc.func1", "runtime.goexit1"}) {
        SCOPED_TRACE(name);
        const struct probe_site *s = probe_plan_site(&plan, name);
        ASSERT_TRUE(s && s->found && s->callee);
        ASSERT_EQ(s->ncalls, 1u);
        struct go_func callee;
        ASSERT_TRUE(go_binary_find_func(&bin, s->callee, &callee, nullptr));
        uint64_t point = s->call_offsets[0], vaddr = s->entry + (point - s->entry_offset), call = 0;
        ASSERT_GT(point, s->entry_offset);
        ASSERT_LT(point, s->entry_offset + s->size);
        const uint8_t *code = bin.elf.data + point;
        ASSERT_EQ(x86_find_calls(code, 16, vaddr, callee.entry, &call, 1), 1u);
        bool nop = code[0] == 0x90 || (code[0] == 0x0f && code[1] == 0x1f) ||
                   (code[0] == 0x66 && (code[1] == 0x90 || (code[1] == 0x0f && code[2] == 0x1f)));
        if (call != vaddr) {
            EXPECT_TRUE(nop) << "the probe point is neither the call nor a NOP";
            EXPECT_LE(call - vaddr, 9u) << "a NOP right before the call";
        }
    }
}

// The scheduler probe reads casgstatus's arguments only: in every release it sits on the first jump of the
// function (a check of the status bits, emulated by the kernel) or a NOP, within its first 32 bytes, where
// the entry's SUB RSP or PUSH RBP would be single-stepped (four times the cost, bench/README.md).
TEST_P(Corpus, SchedProbeSitsOnAJumpOrNopBeforeTheArgumentsChange) {
    struct probe_plan plan;
    struct gmon_error err;
    ASSERT_EQ(probe_plan_build(&bin, &plan, &err), 0) << err.msg;
    const struct probe_site *s = probe_plan_site(&plan, "runtime.casgstatus");
    ASSERT_TRUE(s && s->found);
    EXPECT_EQ(s->body_offset, s->entry_offset) << "casgstatus is nosplit";
    ASSERT_GT(s->args_offset, s->entry_offset);
    ASSERT_LT(s->args_offset, s->entry_offset + 32);
    const uint8_t *code = bin.elf.data + s->args_offset;
    bool nop = code[0] == 0x90 || (code[0] == 0x0f && code[1] == 0x1f);
    bool jcc =
        (code[0] >= 0x70 && code[0] <= 0x7f) || (code[0] == 0x0f && code[1] >= 0x80 && code[1] <= 0x8f);
    EXPECT_TRUE(nop || jcc) << "byte 0x" << std::hex << (int)code[0];
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
