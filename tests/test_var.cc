// gmon var: globals of a running Go 1.19 fixture read from its memory, typed by DWARF (its own, or --bin's
// for the stripped build).
#include "test_support.h"

using namespace gmon_test;

namespace {

// `gmon var --json` for one variable: {field -> value as text}.
std::string var_json(pid_t pid, const std::string &name, const std::string &extra = "") {
    auto r = gmon("var --json --pid " + std::to_string(pid) + " --name " + name + extra);
    EXPECT_EQ(r.status, 0) << name << ": " << r.err;
    return r.out;
}

void expect_fixture_globals(pid_t pid, const std::string &extra) {
    struct want {
        const char *name, *type, *kind, *value;
    } wants[] = {
        {"main.Counter", "int64", "int", "42"},
        {"main.Greeting", "string", "string", "hello from lifecycle"},
        {"main.Enabled", "bool", "bool", "true"},
        {"main.Ratio", "float64", "float", "0.25"},
        {"main.Small", "int8", "int", "-7"},
        {"main.Mode", "main.Level", "int", "3"},
    };
    for (const auto &w : wants) {
        std::string j = var_json(pid, w.name, extra);
        EXPECT_EQ(json_field(j, "type"), w.type) << j;
        EXPECT_EQ(json_field(j, "kind"), w.kind) << j;
        EXPECT_EQ(json_field(j, "value"), w.value) << j;
    }
    // A pointer's value is the address it points to: main.Target = &main.Counter.
    std::string target = var_json(pid, "main.Target", extra), counter = var_json(pid, "main.Counter", extra);
    EXPECT_EQ(json_field(target, "kind"), "pointer") << target;
    EXPECT_EQ(json_field(target, "value"), json_field(counter, "address")) << target << counter;
    std::string ncpu = var_json(pid, "runtime.ncpu", extra);
    EXPECT_EQ(json_field(ncpu, "type"), "int32") << ncpu;
    EXPECT_EQ(json_field(ncpu, "value"), std::to_string(sysconf(_SC_NPROCESSORS_ONLN))) << ncpu;
}

class VarFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(VarFixture, GlobalsOfEveryKindHaveTheirTypeAndValue) {
    running_fixture f(fixture("lifecycle-" + GetParam()));
    ASSERT_GT(f.pid, 0);
    expect_fixture_globals(f.pid, "");
    auto text = gmon("var --pid " + std::to_string(f.pid) + " --name main.Greeting");
    EXPECT_EQ(text.status, 0) << text.err;
    EXPECT_EQ(text.out.substr(0, 33), "main.Greeting (string, 16 bytes a") << text.out;
    EXPECT_NE(text.out.find(") = \"hello from lifecycle\"\n"), std::string::npos) << text.out;
}

INSTANTIATE_TEST_SUITE_P(Go119, VarFixture, ::testing::Values("plain", "pie", "cgo"));

TEST(Var, StrippedTargetIsReadWithAnUnstrippedBuild) {
    running_fixture f(fixture("lifecycle-stripped"));
    ASSERT_GT(f.pid, 0);
    auto r = gmon("var --pid " + std::to_string(f.pid) + " --name main.Counter");
    EXPECT_EQ(r.status, 2);
    EXPECT_NE(r.err.find("has no symbol table (stripped): give --bin"), std::string::npos) << r.err;
    expect_fixture_globals(f.pid, " --bin " + fixture("lifecycle-plain"));
}

TEST(Var, BadInputIsRefusedWithOneLine) {
    running_fixture f(fixture("lifecycle-plain"));
    ASSERT_GT(f.pid, 0);
    std::string pid = std::to_string(f.pid);
    for (const std::string &args : std::vector<std::string>{
             "var --name main.Counter", "var --pid " + pid, "var --pid " + pid + " --name main.NoSuchThing",
             "var --pid 999999999 --name x",
             "var --pid " + pid + " --name main.Counter --bin " + fixture("httpserver-plain"),
             "var --pid " + pid + " --name main.Counter extra"}) {
        auto r = gmon(args);
        EXPECT_EQ(r.status, 2) << args << ": " << r.err;
        EXPECT_EQ(lines(r.err).size(), 1u) << args << ": " << r.err;
    }
    // Names of what is not a variable, and no name, are refused by what they are, with nothing on stdout.
    for (const auto &[name, said] : std::vector<std::pair<std::string, std::string>>{
             {"runtime.main", "runtime.main is a function, not a global variable"},
             {"main.allocate", "main.allocate is a function, not a global variable"},
             {"''", "--name: the value is empty"}}) {
        auto r = gmon("var --pid " + pid + " --name " + name);
        EXPECT_EQ(r.status, 2) << name << ": " << r.err;
        EXPECT_NE(r.err.find(said), std::string::npos) << r.err;
        EXPECT_EQ(r.out, "") << name;
    }
}

} // namespace
