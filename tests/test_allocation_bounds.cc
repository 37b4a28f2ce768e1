// Counts that a binary or a process hands gmon size what gmon allocates, so each has a bound
// (docs/reliability.md, "Bounds on what a binary or a process can make gmon allocate"). Each is tried at the
// bound, which gmon must take, and just past it, which gmon must refuse with one line saying why (gmon heap:
// in place of the spans), or cut where it keeps a prefix (build settings, string tables). The real gmon
// binary runs with its address space capped, so that an allocation sized by an unchecked count fails the
// test, and its peak resident size is checked; string tables, which no command prints from a file, go through
// gmon's reader in this process.
#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <regex>
#include <thread>

#include "test_support.h"

extern "C" {
#include "elf_image.h"
#include "go_buildinfo.h"
#include "go_string_table.h"
}

using namespace gmon_test;

namespace {

// The limits under test, as the code sets them (symbolize/elf_image.c, tool/snapshot/goroutine_snapshot.c).
constexpr size_t MAX_PHDRS = 4096, MAX_SECTIONS = 65536;
constexpr uint64_t MAX_GOROUTINES = 1ull << 24, MAX_SPANS = 1ull << 25;

#ifdef __SANITIZE_ADDRESS__
// gmon is built with ASan too. ASan reserves terabytes of address space for its shadow memory, so gmon's
// cannot be capped, and its shadow and quarantine add to the resident size.
constexpr bool SANITIZED = true;
#else
constexpr bool SANITIZED = false;
#endif

// What gmon may keep resident for a figure measured on the release build.
long rss_allowance(long mib) {
    return SANITIZED ? 4 * mib : mib;
}

// gmon with a cap on its address space, and its peak resident size from time(1).
struct bounded_run {
    run_result r;
    long max_rss_mib = -1;
};

bounded_run gmon_within(const std::string &args, long address_space_mib) {
    static int counter = 0;
    std::string rss = scratch_dir() + "/bounds-rss" + std::to_string(++counter);
    bounded_run b;
    std::string cap = SANITIZED ? "" : "prlimit --as=" + std::to_string(address_space_mib << 20) + " ";
    b.r = run(cap + "/usr/bin/time -f %M -o " + rss + " " + GMON_BINARY + " " + args);
    // time(1) writes "Command exited with non-zero status N" before the figure when gmon fails.
    auto l = lines(read_file(rss));
    if (l.empty())
        ADD_FAILURE() << "time(1) gave no resident size for gmon " << args;
    else
        b.max_rss_mib = std::stol(l.back()) / 1024;
    return b;
}

void expect_one_line_error(const run_result &r, const std::string &message) {
    EXPECT_EQ(r.status, 2) << r.out << r.err;
    auto err = lines(r.err);
    ASSERT_EQ(err.size(), 1u) << r.err;
    EXPECT_NE(err[0].find(message), std::string::npos) << err[0];
    EXPECT_EQ(r.out, "");
}

// The line of gmon's text output that starts with prefix, or "".
std::string line_starting(const std::string &text, const std::string &prefix) {
    for (const auto &l : lines(text))
        if (l.rfind(prefix, 0) == 0)
            return l;
    return "";
}

// --- Crafted binaries: copies of the plain Go 1.19 fixture with one count changed -----------------------

// gmon info's text without its first line, the file's name: what a crafted copy must share with the fixture.
std::string but_the_name(const std::string &info) {
    return info.substr(std::min(info.find('\n'), info.size()));
}

template <typename T> T get(const std::string &file, size_t at) {
    T v;
    memcpy(&v, file.data() + at, sizeof(v));
    return v;
}

template <typename T> void put(std::string &file, size_t at, const T &v) {
    memcpy(&file[at], &v, sizeof(v));
}

// Appends bytes at the next multiple of align; returns their file offset.
uint64_t append_aligned(std::string &file, const std::string &bytes, size_t align) {
    file.resize((file.size() + align - 1) / align * align, '\0');
    uint64_t at = file.size();
    file += bytes;
    return at;
}

// The binary with its program header table moved to the end of the file and grown to n entries: its own,
// then PT_NULL ones, which every reader skips. All n are really there, so only their number is unusual.
std::string with_program_headers(const std::string &elf, size_t n) {
    auto eh = get<Elf64_Ehdr>(elf, 0);
    std::string table = elf.substr(eh.e_phoff, eh.e_phnum * sizeof(Elf64_Phdr));
    table.resize(n * sizeof(Elf64_Phdr), '\0');
    std::string out = elf;
    eh.e_phoff = append_aligned(out, table, 8);
    eh.e_phnum = (Elf64_Half)n;
    put(out, 0, eh);
    return out;
}

// The same for the section header table, grown with SHT_NULL sections (no name, no bytes).
std::string with_section_headers(const std::string &elf, size_t n) {
    auto eh = get<Elf64_Ehdr>(elf, 0);
    std::string table = elf.substr(eh.e_shoff, eh.e_shnum * sizeof(Elf64_Shdr));
    table.resize(n * sizeof(Elf64_Shdr), '\0');
    if (n >= SHN_LORESERVE) {
        // Too many for e_shnum: ELF's extended numbering keeps the count in section 0's sh_size.
        auto zero = get<Elf64_Shdr>(table, 0);
        zero.sh_size = n;
        put(table, 0, zero);
        eh.e_shnum = 0;
    } else {
        eh.e_shnum = (Elf64_Half)n;
    }
    std::string out = elf;
    eh.e_shoff = append_aligned(out, table, 8);
    put(out, 0, eh);
    return out;
}

// The file offset of the named section's header.
size_t section_header(const std::string &elf, const std::string &name) {
    auto eh = get<Elf64_Ehdr>(elf, 0);
    auto names = get<Elf64_Shdr>(elf, eh.e_shoff + eh.e_shstrndx * sizeof(Elf64_Shdr));
    for (size_t i = 1; i < eh.e_shnum; i++) {
        size_t at = eh.e_shoff + i * sizeof(Elf64_Shdr);
        if (elf.c_str() + names.sh_offset + get<Elf64_Shdr>(elf, at).sh_name == name)
            return at;
    }
    ADD_FAILURE() << "no section " << name;
    return 0;
}

std::string uvarint(uint64_t v) {
    std::string s;
    for (; v >= 0x80; v >>= 7)
        s += (char)(v | 0x80);
    return s + (char)v;
}

// A string of Go 1.18+ build info: a uvarint length, then the bytes.
std::string take_string(const std::string &blob, size_t &at) {
    uint64_t n = 0;
    for (int shift = 0;; shift += 7) {
        uint8_t c = (uint8_t)blob[at++];
        n |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            break;
    }
    std::string s = blob.substr(at, n);
    at += n;
    return s;
}

// The binary with build settings added up to `total` (the fixture records 5; the added ones are
// gmon.bound.6=6 and so on). The new build info goes at the end of the file and .go.buildinfo's header points
// at it, as the section has no room to grow in place.
std::string with_build_settings(const std::string &elf, size_t total) {
    size_t at_header = section_header(elf, ".go.buildinfo");
    auto sh = get<Elf64_Shdr>(elf, at_header);
    std::string blob = elf.substr(sh.sh_offset, sh.sh_size);
    // Go 1.18+: a 32-byte header whose flags (byte 15) have bit 2 set for inline strings, then the version
    // and the module info, which the linker wraps in two 16-byte sentinels.
    EXPECT_EQ(blob[15] & 2, 2) << "not the inline build info format";
    size_t at = 32;
    std::string version = take_string(blob, at), mod = take_string(blob, at);
    std::string text = mod.substr(16, mod.size() - 32);
    size_t have = 0;
    for (const auto &l : lines(text))
        have += l.rfind("build\t", 0) == 0;
    EXPECT_EQ(have, 5u) << text;
    for (size_t i = have + 1; i <= total; i++)
        text += "build\tgmon.bound." + std::to_string(i) + "=" + std::to_string(i) + "\n";
    mod = mod.substr(0, 16) + text + mod.substr(mod.size() - 16);
    std::string grown = blob.substr(0, 32) + uvarint(version.size()) + version + uvarint(mod.size()) + mod;
    std::string out = elf;
    sh.sh_offset = append_aligned(out, grown, 16);
    sh.sh_size = grown.size();
    put(out, at_header, sh);
    return out;
}

std::string crafted(const std::string &name, const std::string &bytes) {
    std::string path = scratch_dir() + "/bounds-" + name;
    write_file(path, bytes);
    return path;
}

// Enough for gmon info on any of these files (its peak is 7 to 45 MiB), too little for a table sized by a
// count it had not checked.
constexpr long INFO_ADDRESS_SPACE_MIB = 256, INFO_RSS_MIB = 64;

// gmon info on a crafted copy of the fixture must print what it prints for the fixture itself (all its
// sections still found: build info, .gopclntab, symbols, DWARF), within the memory bounds.
void expect_read_like_the_fixture(const std::string &name, const std::string &bytes) {
    std::string path = crafted(name, bytes);
    auto b = gmon_within("info --path " + path, INFO_ADDRESS_SPACE_MIB);
    ASSERT_EQ(b.r.status, 0) << b.r.err;
    EXPECT_EQ(but_the_name(b.r.out), but_the_name(gmon("info --path " + fixture("lifecycle-plain")).out));
    EXPECT_LT(b.max_rss_mib, rss_allowance(INFO_RSS_MIB));
}

// gmon info on a crafted copy must refuse it with exactly "PATH: message", within the memory bounds.
void expect_refused(const std::string &name, const std::string &bytes, const std::string &message) {
    std::string path = crafted(name, bytes);
    auto b = gmon_within("info --path " + path, INFO_ADDRESS_SPACE_MIB);
    expect_one_line_error(b.r, path + ": " + message);
    EXPECT_LT(b.max_rss_mib, rss_allowance(INFO_RSS_MIB));
}

TEST(AllocationBounds, ProgramHeadersAtTheBoundAreRead) {
    expect_read_like_the_fixture("phdrs-at",
                                 with_program_headers(read_file(fixture("lifecycle-plain")), MAX_PHDRS));
}

TEST(AllocationBounds, ProgramHeadersPastTheBoundAreRefused) {
    expect_refused("phdrs-past", with_program_headers(read_file(fixture("lifecycle-plain")), MAX_PHDRS + 1),
                   "corrupted ELF program headers: 4097 of them (gmon reads at most 4096)");
}

TEST(AllocationBounds, SectionsAtTheBoundAreRead) {
    expect_read_like_the_fixture("sections-at",
                                 with_section_headers(read_file(fixture("lifecycle-plain")), MAX_SECTIONS));
}

TEST(AllocationBounds, SectionsPastTheBoundAreRefused) {
    expect_refused("sections-past",
                   with_section_headers(read_file(fixture("lifecycle-plain")), MAX_SECTIONS + 1),
                   "corrupted ELF section headers: 65537 of them (gmon reads at most 65536)");
}

// Build settings past the 64th are not errors: gmon keeps the first 64 and says how many it left out.
TEST(AllocationBounds, BuildSettingsAtTheBoundAreAllKept) {
    std::string path = crafted(
        "settings-at", with_build_settings(read_file(fixture("lifecycle-plain")), GO_BUILDINFO_MAX_SETTINGS));
    auto b = gmon_within("info --path " + path, INFO_ADDRESS_SPACE_MIB);
    ASSERT_EQ(b.r.status, 0) << b.r.err;
    std::string settings = line_starting(b.r.out, "build settings:");
    EXPECT_EQ(std::count(settings.begin(), settings.end(), '='), 64) << settings;
    EXPECT_NE(settings.find(" CGO_ENABLED=0 "), std::string::npos) << settings;
    EXPECT_EQ(settings.substr(settings.size() - 17), " gmon.bound.64=64") << settings;
    EXPECT_EQ(settings.find("not kept"), std::string::npos) << settings;
    EXPECT_LT(b.max_rss_mib, rss_allowance(INFO_RSS_MIB));
}

TEST(AllocationBounds, BuildSettingsPastTheBoundAreCounted) {
    std::string elf = read_file(fixture("lifecycle-plain"));
    for (size_t total : {size_t(GO_BUILDINFO_MAX_SETTINGS + 1), size_t(20000)}) {
        SCOPED_TRACE(total);
        std::string path = crafted("settings-past", with_build_settings(elf, total));
        auto b = gmon_within("info --path " + path, INFO_ADDRESS_SPACE_MIB);
        ASSERT_EQ(b.r.status, 0) << b.r.err;
        std::string settings = line_starting(b.r.out, "build settings:");
        std::string note = " gmon.bound.64=64 (and " + std::to_string(total - 64) +
                           " more not kept: gmon keeps the first 64)";
        ASSERT_GE(settings.size(), note.size()) << settings;
        EXPECT_EQ(settings.substr(settings.size() - note.size()), note) << settings;
        EXPECT_EQ(std::count(settings.begin(), settings.end(), '='), 64) << settings;
        EXPECT_LT(b.max_rss_mib, rss_allowance(INFO_RSS_MIB));
        auto j = gmon_within("info --json --path " + path, INFO_ADDRESS_SPACE_MIB);
        ASSERT_EQ(j.r.status, 0) << j.r.err;
        EXPECT_EQ(json_field(j.r.out, "build_settings_not_kept"), std::to_string(total - 64));
    }
}

// --- Go string tables: runtime.waitReasonStrings rewritten in a copy of the fixture --------------------
//
// No gmon command prints these tables from a file (summary, sched and gc name wait and stop reasons from a
// live process), so the copy, which would not run, goes through the same reader they use.

struct wait_reasons {
    std::string elf;   // the patched copy
    size_t own = 0;    // entries of the fixture's own table
    bool fits = false; // the rewritten table and its strings stayed inside the data the file holds
};

// The fixture's table continued with made-up entries "made-up reason N" up to `entries`, then an empty
// entry, which ends a table; entry long_at (when below entries) becomes a string of long_len letters.
wait_reasons with_wait_reasons(size_t entries, size_t long_at = SIZE_MAX, size_t long_len = 0) {
    wait_reasons w;
    w.elf = read_file(fixture("lifecycle-plain"));
    struct elf_image img;
    struct gmon_error err;
    if (elf_image_open(&img, fixture("lifecycle-plain").c_str(), &err) != 0) {
        ADD_FAILURE() << err.msg;
        return w;
    }
    uint64_t table, size, at;
    const struct elf_segment *found = nullptr;
    if (elf_image_find_symbol(&img, "runtime.waitReasonStrings", &table, &size) &&
        elf_image_vaddr_to_offset(&img, table, &at))
        found = elf_image_segment_of(&img, table);
    struct elf_segment seg = found ? *found : elf_segment{};
    elf_image_close(&img);
    if (!found) {
        ADD_FAILURE() << "no runtime.waitReasonStrings in the fixture";
        return w;
    }
    w.own = size / 16;
    // The strings go right after the table's end marker, in the same writable segment.
    uint64_t end = seg.offset + seg.filesz, strings = at + (entries + 1) * 16;
    uint64_t vaddr_of = seg.vaddr - seg.offset;
    for (size_t i = w.own; i <= entries; i++) {
        std::string s = i == long_at ? std::string(long_len, 'x') : "made-up reason " + std::to_string(i);
        if (i == entries)
            s = ""; // the end
        if (strings + s.size() > end)
            return w;
        memcpy(&w.elf[strings], s.data(), s.size());
        put<uint64_t>(w.elf, at + i * 16, s.empty() ? 0 : strings + vaddr_of);
        put<uint64_t>(w.elf, at + i * 16 + 8, s.size());
        strings += s.size();
    }
    w.fits = true;
    return w;
}

// The wait reasons gmon finds in a (patched) binary.
struct go_string_table found_reasons(const std::string &elf, bool *found) {
    struct go_string_table t = {};
    struct elf_image img;
    struct gmon_error err;
    *found = false;
    if (elf_image_open(&img, crafted("wait-reasons", elf).c_str(), &err) != 0) {
        ADD_FAILURE() << err.msg;
        return t;
    }
    *found = go_wait_reasons_find(&img, &t) == 0;
    elf_image_close(&img);
    return t;
}

// The unpatched fixture: the table found is the runtime's, as long as its symbol says.
TEST(AllocationBounds, StringTableOfTheFixtureIsReadWhole) {
    auto w = with_wait_reasons(0); // below the table's own length: nothing is rewritten
    ASSERT_GT(w.own, 20u);
    bool found;
    auto t = found_reasons(w.elf, &found);
    ASSERT_TRUE(found);
    EXPECT_EQ(t.n, w.own);
    EXPECT_STREQ(go_string_table_get(&t, 2), "IO wait");
    go_string_table_free(&t);
}

TEST(AllocationBounds, StringTableAtTheBoundIsKeptWhole) {
    auto w = with_wait_reasons(GO_STRING_TABLE_MAX);
    ASSERT_TRUE(w.fits);
    bool found;
    auto t = found_reasons(w.elf, &found);
    ASSERT_TRUE(found);
    EXPECT_EQ(t.n, (size_t)GO_STRING_TABLE_MAX);
    EXPECT_STREQ(go_string_table_get(&t, 2), "IO wait");
    EXPECT_STREQ(go_string_table_get(&t, 255), "made-up reason 255");
    go_string_table_free(&t);
}

TEST(AllocationBounds, StringTablePastTheBoundIsCut) {
    for (size_t entries : {size_t(GO_STRING_TABLE_MAX + 1), size_t(300)}) {
        SCOPED_TRACE(entries);
        auto w = with_wait_reasons(entries);
        ASSERT_TRUE(w.fits);
        bool found;
        auto t = found_reasons(w.elf, &found);
        ASSERT_TRUE(found);
        EXPECT_EQ(t.n, (size_t)GO_STRING_TABLE_MAX);
        EXPECT_STREQ(go_string_table_get(&t, 255), "made-up reason 255");
        EXPECT_EQ(go_string_table_get(&t, 256), nullptr);
        go_string_table_free(&t);
    }
}

TEST(AllocationBounds, StringsAtTheLengthBoundAreKeptAndLongerOnesEndTheTable) {
    bool found;
    auto at = with_wait_reasons(100, 50, GO_STRING_MAX_LEN);
    ASSERT_TRUE(at.fits);
    auto t = found_reasons(at.elf, &found);
    ASSERT_TRUE(found);
    EXPECT_EQ(t.n, 100u);
    EXPECT_STREQ(go_string_table_get(&t, 50), std::string(GO_STRING_MAX_LEN, 'x').c_str());
    go_string_table_free(&t);

    // A header claiming 129 bytes is not a string of such a table: the table ends before it.
    auto past = with_wait_reasons(100, 50, GO_STRING_MAX_LEN + 1);
    ASSERT_TRUE(past.fits);
    t = found_reasons(past.elf, &found);
    ASSERT_TRUE(found);
    EXPECT_EQ(t.n, 50u);
    EXPECT_STREQ(go_string_table_get(&t, 49), "made-up reason 49");
    go_string_table_free(&t);
}

// --- Counts read from a live process: the bounds fixture swaps its runtime's lists -----------------------

// tests/fixtures/bounds running with runtime.allgs or mheap_.allspans swapped for a list of n entries. Its
// stdin is a socket so that a message to a fixture that died is an error, not a SIGPIPE.
class swapped_list {
  public:
    swapped_list(const std::string &list, uint64_t n) {
        int control[2], out[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, control) != 0 || pipe2(out, O_CLOEXEC) != 0)
            return;
        std::string bin = fixture("bounds-plain"), count = std::to_string(n);
        pid_ = fork();
        if (pid_ == 0) {
            dup2(control[1], 0);
            dup2(out[1], 1);
            execl(bin.c_str(), bin.c_str(), list.c_str(), count.c_str(), (char *)nullptr);
            _exit(127);
        }
        close(control[1]);
        close(out[1]);
        to_ = control[0];
        from_ = out[0];
        ready_ = read_line(30000).rfind("ready ", 0) == 0;
    }
    ~swapped_list() {
        finish();
        if (from_ >= 0)
            close(from_);
    }
    swapped_list(const swapped_list &) = delete;
    swapped_list &operator=(const swapped_list &) = delete;

    bool ready() const {
        return ready_;
    }
    std::string pid() const {
        return std::to_string(pid_);
    }
    // Puts the runtime's own list back.
    bool restore() {
        return send(to_, "restore\n", 8, MSG_NOSIGNAL) == 8 && read_line(5000) == "restored";
    }
    // Ends the fixture (it restores its list first): its exit status, 0 when its runtime lived through it.
    int finish() {
        if (to_ >= 0)
            close(to_);
        to_ = -1;
        if (pid_ <= 0)
            return status_;
        int st = 0;
        for (int waited = 0; waited < 500 && waitpid(pid_, &st, WNOHANG) == 0; waited++)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        if (waitpid(pid_, &st, WNOHANG) == 0) {
            kill(pid_, SIGKILL);
            waitpid(pid_, &st, 0);
        }
        pid_ = -1;
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        return status_;
    }

  private:
    std::string read_line(int timeout_ms) {
        std::string line;
        char c;
        struct pollfd p = {from_, POLLIN, 0};
        while (poll(&p, 1, timeout_ms) == 1 && read(from_, &c, 1) == 1 && c != '\n')
            line += c;
        return line;
    }
    pid_t pid_ = -1;
    int to_ = -1, from_ = -1, status_ = -1;
    bool ready_ = false;
};

// One past the bound, gmon must refuse before sizing anything by the count: 512 MiB is well short of the
// 1.3 GiB that reading 2^24 goroutines reserves.
constexpr long SNAPSHOT_ADDRESS_SPACE_MIB = 512, SNAPSHOT_RSS_MIB = 64;

TEST(AllocationBounds, GoroutinesPastTheBoundAreRefused) {
    swapped_list target("allgs", MAX_GOROUTINES + 1);
    ASSERT_TRUE(target.ready());
    auto b = gmon_within("summary --pid " + target.pid(), SNAPSHOT_ADDRESS_SPACE_MIB);
    expect_one_line_error(b.r, "process " + target.pid() +
                                   ": runtime.allgs has an implausible length 16777217 (cap 16777217)");
    EXPECT_LT(b.max_rss_mib, rss_allowance(SNAPSHOT_RSS_MIB));
    // The length was all that was wrong: with the runtime's own list back, the same process reads.
    ASSERT_TRUE(target.restore());
    auto again = gmon("summary --pid " + target.pid());
    EXPECT_EQ(again.status, 0) << again.err;
    EXPECT_NE(line_starting(again.out, "goroutines:").find("allgs from the symbol table"), std::string::npos)
        << again.out;
    EXPECT_EQ(target.finish(), 0);
}

// At the bound gmon reads the list: the goroutines the fixture has, every other entry (nil) skipped. The
// goroutine pointers are read whole (8 bytes each: 128 MiB here), the goroutines themselves in chunks, and
// the array they are kept in (80 bytes each, reserved for all of them but written only for live ones) needs
// the larger address space.
TEST(AllocationBounds, GoroutinesAtTheBoundAreRead) {
    swapped_list target("allgs", MAX_GOROUTINES);
    ASSERT_TRUE(target.ready());
    auto b = gmon_within("summary --pid " + target.pid(), 2048);
    ASSERT_EQ(b.r.status, 0) << b.r.err;
    std::smatch m;
    std::string line = line_starting(b.r.out, "goroutines:");
    ASSERT_TRUE(std::regex_search(line, m, std::regex(R"(^goroutines: (\d+) .*; (\d+) changed while read)")))
        << b.r.out;
    uint64_t live = std::stoull(m[1]), skipped = std::stoull(m[2]);
    EXPECT_GE(live, 4u); // main, the force-GC helper, the sweeper and the scavenger at least
    EXPECT_LT(live, 20u);
    EXPECT_EQ(live + skipped, MAX_GOROUTINES);
    EXPECT_LT(b.max_rss_mib, rss_allowance(128 + SNAPSHOT_RSS_MIB));
    EXPECT_EQ(target.finish(), 0);
}

TEST(AllocationBounds, SpansPastTheBoundAreNotRead) {
    swapped_list target("allspans", MAX_SPANS + 1);
    ASSERT_TRUE(target.ready());
    // gmon heap shows what it could read, and says in the sweep line why it has no spans.
    auto b = gmon_within("heap --pid " + target.pid(), SNAPSHOT_ADDRESS_SPACE_MIB);
    ASSERT_EQ(b.r.status, 0) << b.r.err;
    EXPECT_EQ(b.r.err, "");
    EXPECT_NE(line_starting(b.r.out, "sweep:")
                  .find("? (mheap_.allspans has an implausible length 33554433 (cap 33554433; gmon reads at "
                        "most 33554432))"),
              std::string::npos)
        << b.r.out;
    EXPECT_EQ(line_starting(b.r.out, "spans:"), "") << b.r.out;
    EXPECT_EQ(b.r.out.find("CLASS"), std::string::npos) << b.r.out;
    EXPECT_LT(b.max_rss_mib, rss_allowance(SNAPSHOT_RSS_MIB));
    auto j = gmon_within("heap --json --pid " + target.pid(), SNAPSHOT_ADDRESS_SPACE_MIB);
    ASSERT_EQ(j.r.status, 0) << j.r.err;
    EXPECT_NE(json_field(j.r.out, "why_not").find("implausible length 33554433"), std::string::npos)
        << j.r.out;
    // With the runtime's own list back, the spans are read.
    ASSERT_TRUE(target.restore());
    auto again = gmon("heap --pid " + target.pid());
    EXPECT_EQ(again.status, 0) << again.err;
    EXPECT_NE(line_starting(again.out, "spans:"), "") << again.out;
    EXPECT_EQ(target.finish(), 0);
}

// At the bound the spans are read a chunk at a time: memory does not grow with their number.
TEST(AllocationBounds, SpansAtTheBoundAreRead) {
    swapped_list target("allspans", MAX_SPANS);
    ASSERT_TRUE(target.ready());
    auto b = gmon_within("heap --pid " + target.pid(), SNAPSHOT_ADDRESS_SPACE_MIB);
    ASSERT_EQ(b.r.status, 0) << b.r.err;
    std::smatch m;
    std::string line = line_starting(b.r.out, "spans:");
    ASSERT_TRUE(std::regex_search(
        line, m,
        std::regex(
            R"(^spans: +(\d+) in allspans: (\d+) in use, (\d+) manual .*, (\d+) free; (\d+) changed)")))
        << b.r.out;
    EXPECT_EQ(std::stoull(m[1]), MAX_SPANS);
    uint64_t in_use = std::stoull(m[2]), manual = std::stoull(m[3]), dead = std::stoull(m[4]),
             skipped = std::stoull(m[5]);
    EXPECT_GT(in_use, 0u);
    EXPECT_EQ(in_use + manual + dead + skipped, MAX_SPANS);
    EXPECT_LT(b.max_rss_mib, rss_allowance(SNAPSHOT_RSS_MIB));
    EXPECT_EQ(target.finish(), 0);
}

} // namespace
