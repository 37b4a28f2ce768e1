// --help is where a user learns a command: every long option a command accepts (its getopt table, listed by
// the hidden --list-options) must be described in its --help and in its page of docs/, and every help must
// end with examples that name the command.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#include "test_support.h"

using namespace gmon_test;

namespace {

struct command_page {
    std::string command; // as typed after "gmon"
    std::string page;    // its page in docs/
    bool has_options = true;
};

const command_page COMMANDS[] = {
    {"lifecycle", "lifecycle.md"},
    {"gc", "gc.md"},
    {"gr", "gr.md"},
    {"gr seq", "gr.md"},
    {"sched", "sched.md"},
    {"gm", "gm.md"},
    {"summary", "summary.md"},
    {"top", "top.md"},
    {"heap", "heap.md"},
    {"exporter", "exporter.md"},
    {"var", "var.md"},
    {"info", "info.md"},
    {"cache", "cache.md", false},
    {"stacks", "stacks.md"},
    {"pprof goroutine", "pprof.md"},
    {"pprof heap", "pprof.md"},
    {"pprof allocs", "pprof.md"},
    {"pprof creation", "pprof.md"},
    {"pprof live", "pprof.md"},
    {"pprof cpu", "pprof.md"},
};

std::string read_text(const std::string &path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

} // namespace

TEST(Help, EveryAcceptedOptionIsInTheHelpAndTheDocsPage) {
    for (const auto &c : COMMANDS) {
        auto listed = gmon(c.command + " --list-options");
        ASSERT_EQ(listed.status, 0) << c.command << ": " << listed.err;
        auto names = lines(listed.out);
        EXPECT_GE(names.size(), c.has_options ? 2u : 0u) << c.command;
        if (!c.has_options) {
            EXPECT_TRUE(names.empty()) << c.command << ": " << listed.out;
        }
        auto help = gmon(c.command + " --help");
        ASSERT_EQ(help.status, 0) << c.command << ": " << help.err;
        std::string page = read_text(std::string(GMON_SOURCE_DIR) + "/docs/" + c.page);
        ASSERT_FALSE(page.empty()) << "docs/" << c.page;
        for (const auto &name : names) {
            EXPECT_NE(help.out.find("--" + name), std::string::npos)
                << "gmon " << c.command << " accepts --" << name << " but its --help does not say so";
            EXPECT_NE(page.find("--" + name), std::string::npos)
                << "gmon " << c.command << " accepts --" << name << " but docs/" << c.page
                << " does not say so";
        }
    }
}

TEST(Help, EveryHelpEndsWithExamplesOfItsCommand) {
    for (const auto &c : COMMANDS) {
        auto help = gmon(c.command + " --help");
        ASSERT_EQ(help.status, 0) << c.command << ": " << help.err;
        size_t at = help.out.rfind("\nExamples:\n");
        ASSERT_NE(at, std::string::npos) << c.command << "\n" << help.out;
        auto example_lines = lines(help.out.substr(at + 11));
        ASSERT_GE(example_lines.size(), 2u) << c.command << "\n" << help.out;
        std::string prefix = c.command == "lifecycle" ? "  gmon " : "  gmon " + c.command + " ";
        for (const auto &l : example_lines) {
            EXPECT_TRUE(l.rfind(prefix, 0) == 0 || l.rfind("        ", 0) == 0)
                << c.command << ": an example that is not one: " << l;
        }
        std::string stem = c.page.substr(0, c.page.find('.'));
        EXPECT_NE(help.out.find("Reference: man gmon-" + stem + " (docs/" + c.page + ")"), std::string::npos)
            << c.command;
    }
    auto top = gmon("--help");
    EXPECT_NE(top.out.find("\nExamples:\n  gmon "), std::string::npos) << top.out;
}

// The hidden option lists and exits: it never starts a trace, even with a target given.
TEST(Help, ListOptionsNeverRunsTheCommand) {
    auto r = gmon("gc --pid 1 --list-options");
    EXPECT_EQ(r.status, 0) << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_NE(r.out.find("duration\n"), std::string::npos) << r.out;
}
