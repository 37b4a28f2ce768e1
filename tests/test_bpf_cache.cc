// The cache of compiled BPF programs (probes/bpf_cache.c) and the compiler child (probes/bpf_compiler.c): a
// program compiled once is loaded from the cache the next time and traces exactly the same; the tracing
// process never maps the compiler (LLVM); a damaged, foreign or mismatched entry is never loaded (the program
// is compiled again), a directory other users could write is not used at all; `gmon cache` shows and clears.
#include <gtest/gtest.h>

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <regex>

#include "lifecycle_support.h"

extern "C" {
#include "bpf_object.h"
}

using namespace gmon_test;

namespace {

const char COMPILED[] = "(BPF program compiled and cached)";
const char FROM_CACHE[] = "(BPF program from the cache)";

// The .bpfobj entries of a cache directory.
std::vector<std::string> entries(const std::string &dir) {
    std::vector<std::string> names;
    if (DIR *d = opendir(dir.c_str())) {
        while (dirent *e = readdir(d)) {
            std::string n = e->d_name;
            if (n.size() > 7 && n.compare(n.size() - 7, 7, ".bpfobj") == 0)
                names.push_back(dir + "/" + n);
        }
        closedir(d);
    }
    return names;
}

// Traces `spawn 10 50` of a private copy of the fixture with the cache in dir; returns gmon's stderr after
// checking the trace counted every goroutine. maps_out: the tracing process's /proc/PID/maps while attached.
std::string trace_with_cache(const std::string &dir, const std::string &bin,
                             std::string *maps_out = nullptr) {
    background g("env GMON_CACHE_DIR=" + dir + " " +
                 gmon_command("--path " + bin + " --level WARN --metrics 0"));
    if (!attached(g))
        return g.err();
    if (maps_out)
        *maps_out = read_file("/proc/" + std::to_string(g.pid()) + "/maps");
    auto r = run(bin + " spawn 10 50", 60);
    EXPECT_EQ(r.status, 0) << r.err;
    usleep(300 * 1000);
    g.signal(SIGINT);
    EXPECT_EQ(g.wait(10), 0) << g.err();
    // The workers' 10, and the runtime's own goroutines of the process, which end with it.
    EXPECT_TRUE(std::regex_search(g.err(),
                                  std::regex(R"(: 15 goroutines created, 10 exited, 0 still live, 5 ended)")))
        << g.err();
    return g.err();
}

uint64_t fnv1a(const std::string &bytes) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (unsigned char c : bytes) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return h;
}

TEST(BpfCache, ProgramCompiledOnceIsLoadedFromTheCacheAndTracesTheSame) {
    std::string dir = scratch_dir() + "/bpfcache-warm",
                bin = private_copy(fixture("lifecycle-plain"), "bpfwarm");
    std::string maps;
    std::string cold = trace_with_cache(dir, bin, &maps);
    EXPECT_NE(cold.find(COMPILED), std::string::npos) << cold;
    // A warning of clang's is a change the program did not mean (one said a loop was not unrolled, after a
    // change that had made the program ten times larger and its load a second longer).
    EXPECT_EQ(cold.find("warning:"), std::string::npos) << cold;
    // libbcc's compiler (libbcc.so and the LLVM it carries) ran in a child: the tracer has only libbcc_bpf.
    EXPECT_NE(maps.find("libbcc_bpf.so"), std::string::npos) << maps;
    EXPECT_EQ(maps.find("libbcc.so"), std::string::npos) << maps;
    EXPECT_EQ(maps.find("libLLVM"), std::string::npos) << maps;
    std::string warm = trace_with_cache(dir, bin);
    EXPECT_NE(warm.find(FROM_CACHE), std::string::npos) << warm;
    // The directory and the entry are private to the user.
    struct stat st;
    ASSERT_EQ(stat(dir.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0700u);
    auto files = entries(dir);
    ASSERT_EQ(files.size(), 1u);
    ASSERT_EQ(stat(files[0].c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
    // Another program (log lines on: other -D flags) is another entry.
    background g("env GMON_CACHE_DIR=" + dir + " " +
                 gmon_command("--path " + bin + " --metrics 0 --duration 1"));
    EXPECT_EQ(g.wait(60), 0) << g.err();
    EXPECT_NE(g.err().find(COMPILED), std::string::npos) << g.err();
    EXPECT_EQ(entries(dir).size(), 2u);
}

// Each way an entry can be wrong makes gmon compile again (and replace the entry), never load it.
TEST(BpfCache, DamagedForeignOrMismatchedEntriesAreCompiledAgain) {
    std::string dir = scratch_dir() + "/bpfcache-damaged",
                bin = private_copy(fixture("lifecycle-plain"), "bpfdmg");
    std::string first = trace_with_cache(dir, bin);
    ASSERT_NE(first.find(COMPILED), std::string::npos) << first;
    std::string entry = entries(dir).at(0), good = read_file(entry);
    ASSERT_GT(good.size(), 1000u);

    std::string flipped = good;
    flipped[good.size() / 2] ^= 0x40; // in the object: the checksum no longer matches
    std::string truncated = good.substr(0, good.size() / 2);
    // The key compared byte for byte: another kernel release, with a checksum made to match.
    std::string other_key = good;
    size_t at = other_key.find("kernel: ");
    ASSERT_NE(at, std::string::npos);
    other_key[at + 8] = other_key[at + 8] == '9' ? '8' : '9';
    uint64_t sum = fnv1a(other_key.substr(0, other_key.size() - 8));
    other_key.replace(other_key.size() - 8, 8, std::string(reinterpret_cast<const char *>(&sum), 8));

    for (const auto &[what, bytes] :
         std::vector<std::pair<std::string, std::string>>{{"a flipped byte", flipped},
                                                          {"half an entry", truncated},
                                                          {"another kernel's key", other_key}}) {
        write_file(entry, bytes);
        std::string err = trace_with_cache(dir, bin);
        EXPECT_NE(err.find(COMPILED), std::string::npos) << what << ": " << err;
        EXPECT_EQ(read_file(entry), good) << what << ": the entry was not replaced";
    }
    // An entry another user owns (it could have written it) is not loaded.
    ASSERT_EQ(chown(entry.c_str(), 65534, 65534), 0);
    std::string err = trace_with_cache(dir, bin);
    EXPECT_NE(err.find(COMPILED), std::string::npos) << err;
    // Nor one that others can write.
    ASSERT_EQ(chmod(entry.c_str(), 0666), 0);
    err = trace_with_cache(dir, bin);
    EXPECT_NE(err.find(COMPILED), std::string::npos) << err;
    // The replaced entry is the user's again and loads.
    err = trace_with_cache(dir, bin);
    EXPECT_NE(err.find(FROM_CACHE), std::string::npos) << err;
}

// A directory that is not the user's alone is not used at all, and the line says why; tracing still works.
TEST(BpfCache, DirectoryOthersCouldWriteIsNotUsed) {
    std::string base = scratch_dir() + "/bpfcache-unsafe",
                bin = private_copy(fixture("lifecycle-plain"), "bpfunsafe");
    std::string open_dir = base + "/open", foreign = base + "/foreign", link = base + "/link";
    run("mkdir -p " + open_dir + " " + foreign + " && chmod 777 " + open_dir + " && chmod 700 " + foreign +
        " && chown 65534 " + foreign + " && ln -s " + foreign + " " + link);
    std::string err = trace_with_cache(open_dir, bin);
    EXPECT_NE(err.find("not cached: " + open_dir + " is open to other users (mode 777"), std::string::npos)
        << err;
    err = trace_with_cache(foreign, bin);
    EXPECT_NE(err.find("not cached: " + foreign + " belongs to uid 65534"), std::string::npos) << err;
    err = trace_with_cache(link, bin);
    EXPECT_NE(err.find("not cached: cannot open " + link), std::string::npos) << err;
    EXPECT_TRUE(entries(open_dir).empty());
    EXPECT_TRUE(entries(foreign).empty());
}

TEST(BpfCache, CacheCommandShowsAndClears) {
    std::string dir = scratch_dir() + "/bpfcache-command",
                bin = private_copy(fixture("lifecycle-plain"), "bpfcmd");
    std::string env = "env GMON_CACHE_DIR=" + dir + " ";
    auto none = run(env + GMON_BINARY + " cache");
    EXPECT_EQ(none.status, 0);
    EXPECT_NE(none.out.find("not in use: cannot open " + dir), std::string::npos) << none.out;
    trace_with_cache(dir, bin);
    auto shown = run(env + GMON_BINARY + " cache");
    EXPECT_EQ(shown.status, 0) << shown.err;
    EXPECT_TRUE(
        std::regex_search(shown.out, std::regex("BPF program cache: " + dir + ": 1 program, [0-9.]+ KiB\n")))
        << shown.out;
    auto cleared = run(env + GMON_BINARY + " cache clear");
    EXPECT_EQ(cleared.status, 0) << cleared.err;
    EXPECT_EQ(cleared.out, "BPF program cache: " + dir + ": removed 1 program\n");
    EXPECT_TRUE(entries(dir).empty());
    auto bad = run(env + GMON_BINARY + " cache purge");
    EXPECT_EQ(bad.status, 2);
    EXPECT_EQ(lines(bad.err).size(), 1u) << bad.err;
    EXPECT_NE(bad.err.find("unexpected argument \"purge\""), std::string::npos) << bad.err;
}

} // namespace

namespace {

// The compiler child on its own: a source that compiles gives a status byte 0 and the object; one that does
// not gives status 1 and the reason (the compiler's messages go to stderr).
TEST(BpfCache, CompilerChildWritesTheObjectOrTheReason) {
    std::string dir = scratch_dir() + "/bpfcompiler";
    run("mkdir -p " + dir);
    write_file(dir + "/good.c", "BPF_ARRAY(hits, u64, 1);\n"
                                "int on_hit(struct pt_regs *ctx) { int k = 0; u64 *v = hits.lookup(&k);\n"
                                "  if (v) __sync_fetch_and_add(v, STEP); return 0; }\n");
    write_file(dir + "/bad.c", "int on_hit(struct pt_regs *ctx) { return undeclared; }\n");
    auto good = run(std::string(GMON_BINARY) + " __bpf-compile -DSTEP=2 < " + dir + "/good.c");
    EXPECT_EQ(good.status, 0) << good.err;
    EXPECT_EQ(good.out.substr(0, 9), std::string("\0GMONBPF1", 9));
    EXPECT_NE(good.out.find(std::string("hits\0", 5)), std::string::npos);
    EXPECT_NE(good.out.find(std::string("on_hit\0", 7)), std::string::npos);
    auto bad = run(std::string(GMON_BINARY) + " __bpf-compile < " + dir + "/bad.c");
    EXPECT_EQ(bad.status, 1);
    ASSERT_FALSE(bad.out.empty());
    EXPECT_EQ(bad.out[0], '\1');
    EXPECT_EQ(bad.out.substr(1), "libbcc could not compile the BPF program (compiler messages above)");
    EXPECT_NE(bad.err.find("undeclared"), std::string::npos) << bad.err;
}

} // namespace

namespace {

/* The helper every call instruction (BPF_JMP | BPF_CALL) of the child's object calls. */
std::vector<int32_t> helpers_called(const std::string &object_reply) {
    std::vector<int32_t> ids;
    struct bpf_object o;
    struct gmon_error err;
    const auto *bytes = reinterpret_cast<const uint8_t *>(object_reply.data());
    if (object_reply.size() < 1 || bpf_object_parse(&o, bytes + 1, object_reply.size() - 1, &err) != 0) {
        ADD_FAILURE() << "the child's object does not parse";
        return ids;
    }
    for (uint32_t f = 0; f < o.nfunctions; f++)
        for (uint32_t i = 0; i < o.functions[f].ninsns; i++)
            if (o.functions[f].insns[i].code == 0x85)
                ids.push_back(o.functions[f].insns[i].imm);
    bpf_object_free(&o);
    return ids;
}

// The child compiles with /proc/kallsyms hidden (libbcc would load it whole to learn whether
// bpf_probe_read_kernel exists): libbcc, answered "no", turns a call of bpf_probe_read_kernel into
// bpf_probe_read (helper 4) instead of keeping it (113); a helper called through a pointer of gmon's own, as
// probe_common.bpf.h's gmon_read_user, stays the one asked for (bpf_probe_read_user, 112).
TEST(BpfCache, CompilerChildHidesTheKernelSymbolsLibbccWouldLoad) {
    std::string dir = scratch_dir() + "/bpfkallsyms";
    run("mkdir -p " + dir);
    write_file(dir + "/kernel.c",
               "#include <uapi/linux/ptrace.h>\n"
               "int on_hit(struct pt_regs *ctx) { u64 v = 0;\n"
               "  bpf_probe_read_kernel(&v, sizeof(v), (void *)ctx->sp); return (int)v; }\n");
    write_file(dir + "/user.c", "#include <uapi/linux/ptrace.h>\n"
                                "static long (*read_user)(void *dst, u32 size, const void *src) =\n"
                                "    (void *)BPF_FUNC_probe_read_user;\n"
                                "int on_hit(struct pt_regs *ctx) { u64 v = 0;\n"
                                "  read_user(&v, sizeof(v), (void *)ctx->sp); return (int)v; }\n");
    auto kernel = run(std::string(GMON_BINARY) + " __bpf-compile < " + dir + "/kernel.c");
    ASSERT_EQ(kernel.status, 0) << kernel.err;
    EXPECT_EQ(helpers_called(kernel.out), std::vector<int32_t>{4});
    auto user = run(std::string(GMON_BINARY) + " __bpf-compile < " + dir + "/user.c");
    ASSERT_EQ(user.status, 0) << user.err;
    EXPECT_EQ(helpers_called(user.out), std::vector<int32_t>{112});
}

} // namespace
