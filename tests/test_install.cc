// Installing gmon (`cmake --install`, what ./gmon.sh install and the package do): the binary, man pages made
// from docs/, bash completion and the docs land in their usual places under the prefix; the installed binary
// works with the source and build trees out of sight; man finds the page every command's --help names; the
// completion offers every command, subcommand and option, which it learns from gmon's own tables.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <string>

#include "test_support.h"

using namespace gmon_test;

namespace {

bool exists(const std::string &path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

// cmake --install of this build into a fresh prefix (once per test process).
const std::string &installed_prefix() {
    static std::string prefix;
    if (prefix.empty()) {
        prefix = scratch_dir() + "/prefix";
        auto r = run("cmake --install '" + gmon_build_dir() + "' --prefix '" + prefix + "'", 120);
        EXPECT_EQ(r.status, 0) << r.out << r.err;
    }
    return prefix;
}

// The man page each command's --help points to ("Reference: man gmon-summary (docs/summary.md)").
std::string man_page_named_by_help(const std::string &command) {
    auto help = gmon(command + " --help");
    size_t at = help.out.find("Reference: man ");
    if (at == std::string::npos)
        return "";
    at += 15;
    return help.out.substr(at, help.out.find(' ', at) - at);
}

TEST(Install, PutsTheBinaryManPagesCompletionAndDocsInTheirPlaces) {
    const std::string &prefix = installed_prefix();
    EXPECT_TRUE(exists(prefix + "/bin/gmon"));
    EXPECT_TRUE(exists(prefix + "/share/bash-completion/completions/gmon"));
    EXPECT_TRUE(exists(prefix + "/share/doc/gmon/README.md"));
    EXPECT_TRUE(exists(prefix + "/share/doc/gmon/docs/summary.md"));
    auto version = run(prefix + "/bin/gmon --version");
    EXPECT_EQ(version.status, 0);
    EXPECT_EQ(version.out.rfind("gmon ", 0), 0u) << version.out;

    // Every command's --help names a man page, and man finds and renders it, made from the same docs page.
    auto commands = lines(gmon("--list-commands").out);
    ASSERT_GE(commands.size(), 14u);
    std::vector<std::string> named = {"gmon"};
    for (const auto &c : commands) {
        std::string page = man_page_named_by_help(c);
        EXPECT_EQ(page.rfind("gmon-", 0), 0u) << "gmon " << c << " --help names no man page";
        named.push_back(page);
    }
    for (const auto &page : named) {
        auto where = run("man -M '" + prefix + "/share/man' -w " + page);
        EXPECT_EQ(where.status, 0) << page << ": " << where.err;
        EXPECT_EQ(where.out.rfind(prefix + "/share/man/man1/" + page + ".1", 0), 0u) << where.out;
    }
    auto summary =
        run("env MANWIDTH=200 man -M '" + prefix + "/share/man' gmon-summary 2>/dev/null | col -b");
    EXPECT_NE(summary.out.find("gmon-summary - the goroutines of a running program"), std::string::npos)
        << summary.out.substr(0, 2000);
    EXPECT_NE(summary.out.find("--pc start|caller|current"), std::string::npos);
    // The NAME line that whatis and apropos index (man-db's own parser).
    for (const auto &page : named) {
        auto whatis = run("lexgrog '" + prefix + "/share/man/man1/" + page + ".1'");
        EXPECT_NE(whatis.out.find(": \"" + page + " - "), std::string::npos) << whatis.out << whatis.err;
    }
    auto gmon_page = run("lexgrog '" + prefix + "/share/man/man1/gmon.1'");
    EXPECT_NE(gmon_page.out.find("watch Go programs from outside"), std::string::npos) << gmon_page.out;
}

// The installed gmon needs nothing from the source or build trees: with both hidden (a private mount
// namespace with an empty tmpfs over each), it reads a binary, snapshots a process and traces it (the BPF
// source is embedded; the compiler child is the installed binary itself).
TEST(Install, RunsWithTheSourceAndBuildTreesOutOfSight) {
    const std::string &prefix = installed_prefix();
    std::string copy = private_copy(fixture("lifecycle-plain"), "install");
    population target(copy);
    std::string hide;
    for (const std::string &dir :
         {std::string(GMON_SOURCE_DIR), gmon_build_dir(), std::string(GMON_FIXTURES_DIR)})
        hide += "if [ -d '" + dir + "' ]; then mount -t tmpfs tmpfs '" + dir + "'; fi; ";
    std::string gmon_installed =
        "env GMON_CACHE_DIR='" + scratch_dir() + "/install-cache' " + prefix + "/bin/gmon";
    auto r =
        run("unshare -m sh -c \"" + hide + "ls -A '" + gmon_build_dir() + "' | wc -l; " + gmon_installed +
                " info --path " + copy + " && " + gmon_installed + " summary --pid " + target.pid() + " && " +
                gmon_installed + " --pid " + target.pid() + " --duration 2 --level WARN\"",
            120);
    EXPECT_EQ(r.status, 0) << r.out << r.err;
    EXPECT_EQ(r.out.rfind("0\n", 0), 0u) << "the build tree was not hidden: " << r.out.substr(0, 200);
    EXPECT_NE(r.out.find("go1.19"), std::string::npos) << r.out;
    EXPECT_NE(r.out.find("goroutines:"), std::string::npos) << r.out;
    EXPECT_NE(r.err.find("probes attached"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("BPF program compiled"), std::string::npos) << r.err;
}

// Bash completion, sourced from the installed file and driven as bash drives it: every command and subcommand
// completes from its first letters, and every option of each (gmon CMD [SUB] --list-options, the tables its
// parsers use) is among what "--" completes to; prefixes and the one-dash form are sampled for each.
TEST(Install, CompletionOffersEveryCommandSubcommandAndOption) {
    const std::string &prefix = installed_prefix();
    auto r = run(std::string("bash ") + GMON_TEST_TOOLS + "/completion_check.sh '" + prefix + "'", 240);
    EXPECT_EQ(r.status, 0) << r.err;
    auto out = lines(r.out);
    ASSERT_FALSE(out.empty()) << r.err;
    for (size_t i = 0; i + 1 < out.size(); i++)
        ADD_FAILURE() << out[i];
    EXPECT_EQ(out.back().rfind("checked ", 0), 0u) << r.out;
    EXPECT_GE(std::stoi(out.back().substr(8)), 200) << r.out;
}

// Every gmon run maps what the binary links: the libraries only one kind of command needs are loaded with
// dlopen when it starts (libbcc to trace, libcurl for --container, libmicrohttpd for /metrics; together over
// 20 more libraries and ~15 ms of each snapshot command's start).
TEST(Package, TheBinaryLinksNoLibraryOnlySomeCommandsNeed) {
    auto needed = run("readelf -d '" + gmon_build_dir() + "/gmon'");
    ASSERT_EQ(needed.status, 0) << needed.err;
    EXPECT_NE(needed.out.find("(NEEDED)"), std::string::npos) << needed.out;
    for (const char *lazy : {"libbcc", "libcurl", "libmicrohttpd", "libgnutls", "libLLVM", "libclang"})
        EXPECT_EQ(needed.out.find(lazy), std::string::npos) << lazy << " is linked:\n" << needed.out;
}

// Its Depends are run-time libraries only (libbpfcc, libcurl4 and libmicrohttpd12, which gmon loads with
// dlopen, among them),
// the kernel headers are recommended, it holds what cmake --install lays out under /usr with the man pages
// compressed, and Debian's checker finds no error in it.
TEST(Package, DependsOnRunTimeLibrariesOnlyAndPassesLintian) {
    std::string deb = built_package();
    ASSERT_FALSE(deb.empty());
    auto depends = run("dpkg-deb -f '" + deb + "' Depends");
    ASSERT_EQ(depends.status, 0) << depends.err;
    EXPECT_NE(depends.out.find("libbpfcc"), std::string::npos) << depends.out; // loaded with dlopen
    EXPECT_NE(depends.out.find("libcurl4"), std::string::npos) << depends.out; // likewise, for --container
    EXPECT_NE(depends.out.find("libdw1"), std::string::npos) << depends.out;
    EXPECT_NE(depends.out.find("libmicrohttpd12"), std::string::npos)
        << depends.out; // likewise, for /metrics
    for (const char *build_only : {"-dev", "gcc", "clang", "cmake", "golang", "llvm", "make", "go-md2man"})
        EXPECT_EQ(depends.out.find(build_only), std::string::npos) << build_only << " in " << depends.out;
    EXPECT_EQ(run("dpkg-deb -f '" + deb + "' Recommends").out, "linux-headers-amd64\n");
    auto contents = run("dpkg-deb -c '" + deb + "'");
    for (const char *file :
         {"./usr/bin/gmon", "./usr/share/man/man1/gmon.1.gz", "./usr/share/man/man1/gmon-summary.1.gz",
          "./usr/share/bash-completion/completions/gmon", "./usr/share/doc/gmon/copyright",
          "./usr/share/doc/gmon/changelog.gz", "./usr/share/doc/gmon/docs/summary.md"})
        EXPECT_NE(contents.out.find(std::string(file) + "\n"), std::string::npos) << file << "\n"
                                                                                  << contents.out;
    auto version = run("dpkg-deb -f '" + deb + "' Version");
    EXPECT_EQ("gmon " + version.out.substr(0, version.out.size() - 1) + " (linux/x86_64)\n",
              gmon("--version").out);
    auto lint = run("lintian --fail-on error,warning '" + deb + "'", 300);
    EXPECT_EQ(lint.status, 0) << lint.out << lint.err;
}

} // namespace
