// gmon heap: the heap of a running Go program read from its memory. The go1.19 fixture's population mode
// holds a known heap (1,000 objects of the 3,072-byte class and 7 objects of 1 MiB) after two forced GCs;
// with
// --freeze, the span walk must add up exactly to the runtime's own counters (mheap_.pagesInUse and the heap's
// in-use bytes), on every fixture variant and on real stripped binaries of other releases.
#include <regex>

#include "test_support.h"

using namespace gmon_test;

namespace {

// One "size_classes" entry of `heap --json`.
struct class_row {
    uint64_t cls, size, spans, pages, objects, slots, bytes, unswept, cached;
};

std::vector<class_row> size_classes(const std::string &json) {
    std::vector<class_row> out;
    std::regex row(R"re(\{"class":(\d+),"object_size":(\d+),"spans":(\d+),"pages":(\d+),"objects":(\d+),)re"
                   R"re("slots":(\d+),"bytes":(\d+),"unswept_spans":(\d+),"cached_spans":(\d+)\})re");
    for (std::sregex_iterator i(json.begin(), json.end(), row), end; i != end; ++i) {
        class_row r;
        uint64_t *f[] = {&r.cls,   &r.size,  &r.spans,   &r.pages, &r.objects,
                         &r.slots, &r.bytes, &r.unswept, &r.cached};
        for (int k = 0; k < 9; k++)
            *f[k] = std::stoull((*i)[k + 1]);
        out.push_back(r);
    }
    return out;
}

// What every frozen heap view must satisfy, whatever the program: the spans of allspans add up to the
// runtime's own counters, and each class's figures are consistent.
void expect_spans_add_up(const std::string &json) {
    auto classes = size_classes(json);
    ASSERT_FALSE(classes.empty()) << json;
    uint64_t pages = 0, spans = 0;
    for (const auto &c : classes) {
        pages += c.pages;
        spans += c.spans;
        EXPECT_LE(c.objects, c.slots) << "class " << c.cls;
        EXPECT_EQ(c.bytes, c.cls ? c.objects * c.size : c.pages * 8192) << "class " << c.cls;
        EXPECT_LE(c.cached, c.spans) << "class " << c.cls;
    }
    EXPECT_EQ(pages, object_u(json, "pages", "in_use")) << json;
    EXPECT_EQ(pages * 8192, object_u(json, "heap", "inuse_bytes")) << json;
    EXPECT_EQ(spans, object_u(json, "spans", "in_use")) << json;
    EXPECT_EQ(object_u(json, "spans", "unreadable"), 0u) << json;
    EXPECT_EQ(object_u(json, "spans", "in_use") + object_u(json, "spans", "manual") +
                  object_u(json, "spans", "free"),
              object_u(json, "spans", "all"))
        << json;
    EXPECT_EQ(object_u(json, "pages", "sweepgen"), 2 * object_u(json, "gc", "cycles")) << json;
    std::regex mcache(R"re(\{"p":\d+,"flush_gen":(\d+),"tiny_allocs":\d+,"tiny_offset":(\d+),"spans":\[)re");
    int n = 0;
    for (std::sregex_iterator i(json.begin(), json.end(), mcache), end; i != end; ++i, ++n)
        EXPECT_LE(std::stoull((*i)[2]), 16u) << json;
    EXPECT_EQ(n, std::stoi(json_field(json, "gomaxprocs"))) << json;
}

class HeapFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(HeapFixture, KnownHeapIsFoundSpanBySpan) {
    population p(fixture("lifecycle-" + GetParam()));
    auto r = gmon("heap --freeze --json --pid " + p.pid());
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(json_field(r.out, "state_layout_from"), GetParam() == "stripped" ? "table (go1.19)" : "DWARF");
    expect_spans_add_up(r.out);
    bool found_3072 = false;
    for (const auto &c : size_classes(r.out)) {
        EXPECT_EQ(c.unswept, 0u) << "two forced GCs finished sweeping; class " << c.cls;
        if (c.size == 3072) {
            found_3072 = true;
            EXPECT_GE(c.objects, 1000u) << r.out;
            EXPECT_LE(c.objects, 1064u) << r.out;
            EXPECT_GE(c.spans, 125u) << "8 objects per 3-page span";
        }
        if (c.cls == 0) {
            EXPECT_GE(c.spans, 7u) << r.out;
            EXPECT_LE(c.spans, 12u) << r.out;
            EXPECT_GE(c.pages, 7u * 128) << r.out;
        }
    }
    EXPECT_TRUE(found_3072) << r.out;
    EXPECT_GE(object_u(r.out, "heap", "large_allocs") - object_u(r.out, "heap", "large_frees"), 7u) << r.out;
    // Every P's mcache was flushed by the last GC's mark termination.
    std::string json = r.out;
    std::regex flushed("\"flush_gen\":" + std::to_string(object_u(r.out, "pages", "sweepgen")) + ",");
    EXPECT_EQ(std::distance(std::sregex_iterator(json.begin(), json.end(), flushed), std::sregex_iterator()),
              sysconf(_SC_NPROCESSORS_ONLN))
        << r.out;

    auto text = gmon("heap --pid " + p.pid());
    ASSERT_EQ(text.status, 0) << text.err;
    for (
        const char *line : {
            R"(\npages: +\d+ in use \(\S+\), \d+ swept this cycle\n)",
            R"(\nsweep: +generation \d+ \(GC cycle \d+\): done, every in-use span swept\n)",
            R"(\nspans: +\d+ in allspans: \d+ in use, \d+ manual \(goroutine stacks and other runtime memory, \d+ )"
            R"(pages\), \d+ free\n)",
            R"(\nlarge: +\d+ objects over 32KiB allocated \(\S+\), \d+ freed \(\S+\); \d+ spans of large objects )",
            R"(\nP0 +mcache flushGen \d+ \(flushed this cycle\), \d+ tiny allocations, tiny block \d+/16 bytes used)",
            R"(\nCLASS +SIZE +SPANS +PAGES +OBJECTS +SLOTS +USED +IN USE +UNSWEPT +CACHED\n)",
            R"(\n\d+ +3\.00KiB +1[2-3]\d +\d+ +10[0-6]\d +\d+ +\d+% +\S+ +0 +\d+\n)",
            R"(\n0 +large +\d+ +\d+ +\d+ +\d+ +100% +\S+ +0 +0\n)",
        })
        EXPECT_TRUE(std::regex_search(text.out, std::regex(line))) << line << "\n" << text.out;
}

INSTANTIATE_TEST_SUITE_P(Go119, HeapFixture, ::testing::Values("plain", "stripped", "pie", "cgo"));

class HeapCorpus : public ::testing::TestWithParam<corpus_entry> {};

// esbuild in watch mode, stripped, go1.17 to go1.26: the layout from gmon's table, mheap_ found from code,
// and the frozen span walk adding up to the runtime's counters.
TEST_P(HeapCorpus, SpansOfRealStrippedBinariesAddUp) {
    const corpus_entry &e = GetParam();
    idle_esbuild watch(e, "heap");
    ASSERT_FALSE(watch.pid.empty()) << "esbuild --watch is not running";
    auto r = gmon("heap --freeze --json --pid " + watch.pid);
    ASSERT_EQ(r.status, 0) << r.err;
    expect_spans_add_up(r.out);
    EXPECT_GT(object_u(r.out, "spans", "in_use"), 20u) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Npm, HeapCorpus, ::testing::ValuesIn(esbuild_corpus()), corpus_test_name);

// A stripped target with --bin, the unstripped build of the same program: layouts from --bin's DWARF, mheap_
// from its symbol table, the same exact sums; a build of another program is refused.
TEST(Heap, BinGivesAStrippedTargetTheUnstrippedBuildsDwarf) {
    population p(fixture("lifecycle-stripped"));
    auto r = gmon("heap --freeze --json --pid " + p.pid() + " --bin " + fixture("lifecycle-plain"));
    ASSERT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(json_field(r.out, "state_layout_from"), "DWARF of --bin") << r.out;
    expect_spans_add_up(r.out);
    auto other = gmon("heap --pid " + p.pid() + " --bin " + fixture("httpserver-plain"));
    EXPECT_EQ(other.status, 2);
    EXPECT_NE(other.err.find("not a build of the same program"), std::string::npos) << other.err;
}

TEST(Heap, BadInputIsRefusedWithOneLine) {
    auto none = gmon("heap");
    EXPECT_EQ(none.status, 2);
    EXPECT_EQ(none.err, "gmon heap: give --pid PID or --container NAME (see 'gmon heap --help')\n");
    auto bad = gmon("heap --pid 1x");
    EXPECT_EQ(bad.status, 2);
    EXPECT_EQ(lines(bad.err).size(), 1u) << bad.err;
    background sleeper("sleep 30");
    auto not_go = gmon("heap --pid " + std::to_string(sleeper.pid()));
    EXPECT_EQ(not_go.status, 2);
    EXPECT_NE(not_go.err.find("not a Go binary"), std::string::npos) << not_go.err;
    auto foreign = gmon("heap --pid 1 --pc start");
    EXPECT_EQ(foreign.status, 2);
    EXPECT_EQ(foreign.err, "gmon heap: --pc is not an option of gmon heap (see 'gmon heap --help')\n");
    auto help = gmon("heap --help");
    EXPECT_EQ(help.status, 0);
    EXPECT_NE(help.out.find("Usage: gmon heap (--pid PID | --container NAME)"), std::string::npos);
}

} // namespace
