// The symbolizer against Go's own tools on binaries built by Debian's Go 1.19 in four variants:
// names and entries against `go tool nm`, file:line against `go tool addr2line`, layout against DWARF.
#include <map>
#include <set>

#include "test_support.h"

extern "C" {
#include "dwarf_layout.h"
#include "dwarf_open.h"
#include "go_binary.h"
#include "go_string_table.h"
#include "layout_select.h"
#include "pc_cache.h"
#include "probe_plan.h"
#include "x86_rets.h"
}

using namespace gmon_test;

namespace {

// Symbol tables and DWARF name things as the linker's symbols do; pclntab as the runtime does: ABI0 wrappers
// carry no ".abi0" suffix, and array equality functions are type..eq.[...]T with no length.
std::string runtime_name(std::string name) {
    const std::string eq = "type..eq.[";
    size_t close = name.find(']');
    if (name.rfind(eq, 0) == 0 && close != std::string::npos && close > eq.size() &&
        name.find_first_not_of("0123456789", eq.size()) == close)
        name = eq + "..." + name.substr(close);
    if (name.size() > 5 && name.compare(name.size() - 5, 5, ".abi0") == 0)
        name.resize(name.size() - 5);
    return name;
}

struct nm_symbol {
    std::string name;
    char type;
};

// `go tool nm -n -size` lines: "  addr  size type name". Text symbols only.
std::multimap<uint64_t, nm_symbol> read_nm_text(const std::string &path) {
    std::multimap<uint64_t, nm_symbol> out;
    for (const auto &l : lines(read_file(path))) {
        std::istringstream in(l);
        std::string addr, size, type, name;
        if (!(in >> addr >> size >> type) || !std::getline(in >> std::ws, name))
            continue;
        if (type == "T" || type == "t")
            out.emplace(std::stoull(addr, nullptr, 16), nm_symbol{runtime_name(name), type[0]});
    }
    return out;
}

class Fixture : public ::testing::TestWithParam<std::string> {
  protected:
    void SetUp() override {
        path = fixture("lifecycle-" + GetParam());
        struct gmon_error err;
        ASSERT_EQ(go_binary_open(&bin, path.c_str(), &err), 0) << err.msg;
    }
    void TearDown() override {
        go_binary_close(&bin);
    }
    std::string path;
    struct go_binary bin;
};

TEST_P(Fixture, VersionAndModuleFromBuildInfo) {
    EXPECT_EQ(std::string(bin.version_string), "go1.19.8");
    EXPECT_EQ(bin.version_source, GOVER_BUILDINFO);
    EXPECT_EQ(std::string(bin.buildinfo.main_path), "gmon.test/fixtures/lifecycle");
    EXPECT_EQ(std::string(bin.buildinfo.mod_path), "gmon.test/fixtures");
    EXPECT_EQ(bin.pcln.magic, (uint32_t)PCLNTAB_MAGIC_118);
    EXPECT_TRUE(bin.md.found);
    EXPECT_EQ(bin.pcln.text_start, bin.md.text);
}

TEST_P(Fixture, VariantPropertiesAreDetected) {
    const std::string v = GetParam();
    EXPECT_EQ(elf_image_is_pie(&bin.elf), v == "pie");
    EXPECT_EQ(bin.stripped, v == "stripped");
    EXPECT_EQ(bin.has_dwarf, v != "stripped");
    EXPECT_EQ(elf_image_externally_linked(&bin.elf), v == "cgo");
    EXPECT_STREQ(go_buildinfo_setting(&bin.buildinfo, "CGO_ENABLED"), v == "cgo" ? "1" : "0");
}

// Every pclntab function must be a text symbol of `go tool nm` with the same name and address (ABI0 wrappers
// appear as NAME.abi0 there), and every Go text symbol must be a pclntab function. The stripped build has no
// symbols, so it is compared with the plain build, whose text is laid out identically.
TEST_P(Fixture, EveryFunctionMatchesGoToolNm) {
    std::string ref = GetParam() == "stripped" ? "plain" : GetParam();
    auto nm = read_nm_text(fixture("lifecycle-" + ref + ".nm"));
    ASSERT_GT(nm.size(), 1000u);
    std::set<uint64_t> entries;
    for (uint64_t i = 0; i < bin.pcln.nfunc; i++) {
        struct go_func fn;
        ASSERT_TRUE(pclntab_func(&bin.pcln, i, &fn)) << i;
        entries.insert(fn.entry);
        bool matched = false;
        auto range = nm.equal_range(fn.entry);
        for (auto it = range.first; it != range.second; ++it)
            matched |= it->second.name == fn.name;
        EXPECT_TRUE(matched) << fn.name << " at 0x" << std::hex << fn.entry;
    }
    size_t go_symbols = 0;
    for (const auto &[addr, sym] : nm) {
        if (addr < bin.md.text || addr >= bin.md.etext || sym.name == "runtime.text" ||
            sym.name == "runtime.etext")
            continue;
        go_symbols++;
        EXPECT_TRUE(entries.count(addr)) << sym.name << " at 0x" << std::hex << addr << " not in pclntab";
    }
    EXPECT_GT(go_symbols, 1000u);
}

// file:line of 2,400 PCs spread over the text must equal `go tool addr2line`'s, as must the function name.
// go1.19's addr2line answers "?" for every PC of a PIE binary, so there the reference is the binary's own
// DWARF line table through binutils' addr2line, which names the innermost (possibly inlined) function.
TEST_P(Fixture, LinesMatchGoToolAddr2line) {
    const int N = 2400;
    const bool pie = GetParam() == "pie";
    std::string pcs_path = scratch_dir() + "/pcs-" + GetParam();
    std::ostringstream pcs;
    std::vector<uint64_t> pc_list;
    for (int i = 0; i < N; i++) {
        uint64_t pc = bin.md.text + (bin.md.etext - bin.md.text) / N * i + (i % 7);
        pc_list.push_back(pc);
        pcs << "0x" << std::hex << pc << "\n";
    }
    write_file(pcs_path, pcs.str());
    std::string tool = pie ? "addr2line -f -e " : std::string(GO_EXECUTABLE) + " tool addr2line ";
    auto r = run(tool + path + " < " + pcs_path, 120);
    ASSERT_EQ(r.status, 0) << r.err;
    auto out = lines(r.out);
    ASSERT_EQ(out.size(), 2u * N);
    int compared = 0, no_line = 0, dwarf_disagrees = 0;
    for (int i = 0; i < N; i++) {
        std::string want_fn = runtime_name(out[2 * i]), want_pos = out[2 * i + 1];
        if (want_pos.rfind("./", 0) == 0)
            want_pos.erase(0, 2); // binutils joins the compilation directory "." to <autogenerated>
        struct go_func fn;
        const char *file;
        int line;
        bool have = pclntab_func_at(&bin.pcln, pc_list[i], &fn) &&
                    pclntab_line(&bin.pcln, &fn, pc_list[i], &file, &line);
        if (want_pos.find('?') != std::string::npos || want_pos == ":-1") { // padding between functions
            EXPECT_FALSE(have) << "0x" << std::hex << pc_list[i];
            no_line++;
            continue;
        }
        ASSERT_TRUE(have) << "0x" << std::hex << pc_list[i] << " " << want_fn << " " << want_pos;
        std::string got_pos = std::string(file) + ":" + std::to_string(line);
        // For PIE the reference is the DWARF line table, which the compiler writes separately from the
        // pclntab and which differs from it at a handful of PCs (e.g. go1.19.8's runtime.scanobject+0x1df:
        // DWARF mgcmark.go:1324, pclntab :1312); go tool addr2line reads the pclntab itself and must agree
        // exactly.
        if (pie && want_pos != got_pos)
            dwarf_disagrees++;
        else
            EXPECT_EQ(want_pos, got_pos) << "0x" << std::hex << pc_list[i];
        bool name_ok = want_fn == fn.name;
        struct go_frame frames[8];
        int n = pie ? pclntab_frames(&bin.pcln, &fn, pc_list[i], frames, 8) : 0;
        for (int k = 0; k < n; k++)
            name_ok |= want_fn == frames[k].function;
        EXPECT_TRUE(name_ok) << "0x" << std::hex << pc_list[i] << " " << want_fn << " vs " << fn.name;
        compared++;
    }
    EXPECT_GE(compared, 2000);
    EXPECT_LT(no_line, N / 10);
    EXPECT_LE(dwarf_disagrees, N / 200) << "more than 0.5% of PCs disagree with DWARF";
}

TEST_P(Fixture, LayoutEqualsDwarf) {
    struct layout_choice c;
    struct gmon_error err;
    ASSERT_EQ(layout_select(&bin, &c, &err), 0) << err.msg;
    ASSERT_NE(c.layout, nullptr);
    if (GetParam() == "stripped") {
        EXPECT_FALSE(c.dwarf.has_dwarf);
        return;
    }
    EXPECT_TRUE(c.dwarf.has_dwarf);
    EXPECT_EQ(c.dwarf.mismatches, 0);
    EXPECT_GE(c.dwarf.compared, 16);
}

TEST_P(Fixture, ProbePlanRetsDecodeAsRet) {
    struct probe_plan plan;
    struct gmon_error err;
    ASSERT_EQ(probe_plan_build(&bin, &plan, &err), 0) << err.msg;
    const struct probe_site *np = probe_plan_site(&plan, "runtime.newproc1");
    ASSERT_NE(np, nullptr);
    ASSERT_TRUE(np->found);
    EXPECT_GE(np->nrets, 1u);
    for (size_t i = 0; i < plan.nsites; i++) {
        const struct probe_site *s = &plan.sites[i];
        if (!s->found)
            continue;
        for (size_t r = 0; r < s->nrets && r < PROBE_MAX_RETS; r++) {
            ASSERT_LT(s->ret_offsets[r], bin.elf.size);
            EXPECT_TRUE(x86_is_ret(bin.elf.data + s->ret_offsets[r], 16)) << s->function;
            EXPECT_GT(s->ret_offsets[r], s->entry_offset);
            EXPECT_LT(s->ret_offsets[r], s->entry_offset + s->size);
        }
    }
    // goexit1 has an ABI0 wrapper of the same name; the plan must point at the real body.
    const struct probe_site *ge = probe_plan_site(&plan, "runtime.goexit1");
    ASSERT_NE(ge, nullptr);
    struct go_func fn;
    ASSERT_TRUE(pclntab_func_at(&bin.pcln, ge->entry, &fn));
    EXPECT_FALSE(go_binary_is_abi_wrapper(&bin, &fn));
}

// Inlined frames: newproc1 inlines acquirem in every release; the frames must name it, then newproc1.
TEST_P(Fixture, InlinedFramesAreReported) {
    struct go_func fn;
    ASSERT_TRUE(go_binary_find_func(&bin, "runtime.newproc1", &fn, nullptr));
    bool seen = false;
    for (uint64_t pc = fn.entry; pc < fn.end && !seen; pc++) {
        struct go_frame frames[8];
        int n = pclntab_frames(&bin.pcln, &fn, pc, frames, 8);
        ASSERT_GE(n, 1);
        EXPECT_STREQ(frames[n - 1].function, "runtime.newproc1");
        if (n >= 2 && std::string(frames[0].function) == "runtime.acquirem") {
            EXPECT_TRUE(frames[0].inlined);
            EXPECT_NE(std::string(frames[0].file).find("runtime/runtime1.go"), std::string::npos);
            EXPECT_NE(std::string(frames[n - 1].file).find("runtime/proc.go"), std::string::npos);
            seen = true;
        }
    }
    EXPECT_TRUE(seen);
}

// PIE data holds relocated pointers too: the tables must be found in every variant.
TEST_P(Fixture, WaitReasonsReadFromTheBinary) {
    const char *first[] = {"", "GC assist marking", "IO wait"};
    struct go_string_table waits;
    ASSERT_EQ(go_string_table_find(&bin.elf, first, 3, &waits), 0);
    EXPECT_EQ(waits.n >= 27 ? std::string(waits.strings[26]) : "", "debug call"); // the last one in Go 1.19
    EXPECT_STREQ(go_string_table_get(&waits, 14), "chan receive");
    go_string_table_free(&waits);
}

// The ELF symbol table (of the builds that keep it): the globals snapshots and gc read are where go tool nm
// says. Regression: sh_link was read as an index into a section array that leaves out the null section.
TEST(FixtureSymbols, DataSymbolsMatchGoToolNm) {
    for (const char *variant : {"plain", "pie", "cgo"}) {
        struct elf_image img;
        struct gmon_error err;
        ASSERT_EQ(elf_image_open(&img, fixture(std::string("lifecycle-") + variant).c_str(), &err), 0)
            << err.msg;
        size_t checked = 0;
        for (const auto &l : lines(read_file(fixture(std::string("lifecycle-") + variant + ".nm")))) {
            std::istringstream in(l);
            std::string addr, size, type, name;
            if (!(in >> addr >> size >> type >> name) || (type != "D" && type != "d"))
                continue;
            if (name != "runtime.gcController" && name != "runtime.buildVersion" && name != "main.Counter" &&
                name != "runtime.mheap_")
                continue;
            uint64_t value = 0, sym_size = 0;
            EXPECT_TRUE(elf_image_find_symbol(&img, name.c_str(), &value, &sym_size))
                << variant << " " << name;
            EXPECT_EQ(value, std::stoull(addr, nullptr, 16)) << variant << " " << name;
            EXPECT_EQ(sym_size, std::stoull(size)) << variant << " " << name;
            checked++;
        }
        EXPECT_EQ(checked, 4u) << variant;
        elf_image_close(&img);
    }
}

// The pc cache says once per PC whether its innermost function is the runtime's and its outermost
// runtime.goexit (what a snapshot's stack walk asks of every frame).
TEST_P(Fixture, PcCacheKnowsRuntimeAndGoexitFrames) {
    struct pc_cache c;
    pc_cache_init(&c, &bin.pcln, PC_AT_RETURN);
    struct expected {
        const char *function;
        bool in_runtime, goexit;
    };
    for (const expected &e : {expected{"runtime.gopark", true, false}, expected{"runtime.goexit", true, true},
                              expected{"main.main", false, false}}) {
        struct go_func fn;
        ASSERT_EQ(pclntab_funcs_named(&bin.pcln, e.function, &fn, 1), 1u) << e.function;
        for (int twice = 0; twice < 2; twice++) { // the lookup, then the cached answer
            const struct pc_symbol *sym = pc_cache_get(&c, fn.entry + 1); // a "return address" in its body
            ASSERT_EQ(sym->n, 1) << e.function;
            EXPECT_STREQ(sym->inner.function, e.function);
            EXPECT_EQ(sym->inner_in_runtime, e.in_runtime) << e.function;
            EXPECT_EQ(sym->outer_is_goexit, e.goexit) << e.function;
        }
    }
    EXPECT_FALSE(pc_cache_get(&c, 0)->inner_in_runtime);
    pc_cache_free(&c);
}

INSTANTIATE_TEST_SUITE_P(Go119, Fixture, ::testing::Values("plain", "stripped", "pie", "cgo"));

// A layout that disagrees with DWARF must be caught.
TEST(DwarfLayout, MismatchIsDetected) {
    struct go_version v = {};
    v.major = 1;
    v.minor = 19;
    struct runtime_layout wrong = *runtime_layout_for(&v);
    wrong.g.goid = 160;
    struct layout_verdict verdict;
    struct gmon_error err;
    ASSERT_EQ(dwarf_layout_check(fixture("lifecycle-plain").c_str(), &wrong, &verdict, &err), 0) << err.msg;
    EXPECT_TRUE(verdict.has_dwarf);
    EXPECT_EQ(verdict.mismatches, 1);
}

// Type lookups open a binary's DWARF without the sections they do not read (Go compresses them all, and libdw
// inflates every one it knows on opening): the line table is gone, the types are there, the file is
// unchanged.
TEST(DwarfLayout, TypeLookupsOpenOnlyTheSectionsTheyRead) {
    for (const char *kept : {".debug_info", ".zdebug_info", ".debug_abbrev", ".debug_str", ".debug_addr"})
        EXPECT_TRUE(dwarf_types_section_needed(kept)) << kept;
    for (const char *hidden : {".debug_line", ".zdebug_line", ".debug_loc", ".debug_frame", ".debug_ranges",
                               ".debug_rnglists", ".debug_loclists", ".debug_gdb_scripts"})
        EXPECT_FALSE(dwarf_types_section_needed(hidden)) << hidden;
    EXPECT_TRUE(dwarf_types_section_needed(".text"));

    std::string bin = fixture("lifecycle-plain");
    std::string before = read_file(bin);
    struct dwarf_types d;
    ASSERT_TRUE(dwarf_types_open(bin.c_str(), &d));
    Dwarf_Off next;
    size_t header;
    ASSERT_EQ(dwarf_nextcu(d.dbg, 0, &next, &header, nullptr, nullptr, nullptr), 0);
    Dwarf_Die cu;
    ASSERT_NE(dwarf_offdie(d.dbg, header, &cu), nullptr);
    Dwarf_Lines *lines;
    size_t nlines;
    EXPECT_NE(dwarf_getsrclines(&cu, &lines, &nlines), 0) << "the line table should not have been opened";
    dwarf_types_close(&d);
    EXPECT_FALSE(dwarf_types_open(fixture("lifecycle-stripped").c_str(), &d));
    EXPECT_EQ(d.dbg, nullptr);
    EXPECT_TRUE(read_file(bin) == before) << "the binary was written";

    struct go_version v = {};
    v.major = 1;
    v.minor = 19;
    struct layout_verdict verdict;
    struct gmon_error err;
    ASSERT_EQ(dwarf_layout_check(bin.c_str(), runtime_layout_for(&v), &verdict, &err), 0) << err.msg;
    EXPECT_TRUE(verdict.has_dwarf);
    EXPECT_EQ(verdict.mismatches, 0);
}

} // namespace
