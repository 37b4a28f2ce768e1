#include <gtest/gtest.h>

extern "C" {
#include "go_version.h"
#include "runtime_layout.h"
}

namespace {

struct go_version parse_ok(const char *s) {
    struct go_version v;
    struct gmon_error err;
    EXPECT_EQ(go_version_parse(s, &v, &err), 0) << s << ": " << err.msg;
    return v;
}

TEST(GoVersion, ReleaseForms) {
    auto v = parse_ok("go1.19");
    EXPECT_EQ(v.minor, 19);
    EXPECT_EQ(v.patch, 0);
    v = parse_ok("go1.21.13");
    EXPECT_EQ(v.minor, 21);
    EXPECT_EQ(v.patch, 13);
    v = parse_ok("go1.21rc2");
    EXPECT_EQ(v.rc, 2);
    v = parse_ok("go1.22beta1");
    EXPECT_EQ(v.beta, 1);
}

TEST(GoVersion, ExperimentsAndDevel) {
    auto v = parse_ok("go1.17.2 X:noregabi,loopvar");
    EXPECT_EQ(v.minor, 17);
    EXPECT_TRUE(go_version_has_experiment(&v, "noregabi"));
    EXPECT_TRUE(go_version_has_experiment(&v, "loopvar"));
    EXPECT_FALSE(go_version_has_experiment(&v, "regabi"));
    v = parse_ok("devel go1.23-1e6e4a1 Tue Jan 2 10:00:00 2024 +0000");
    EXPECT_TRUE(v.devel);
    EXPECT_EQ(v.minor, 23);
}

TEST(GoVersion, Rejects) {
    struct go_version v;
    for (const char *bad :
         {"", "go", "go1", "go2.0", "1.19", "go1.x", "devel +abcdef Tue", "go1.19junk", "go1.123456789"})
        EXPECT_NE(go_version_parse(bad, &v, nullptr), 0) << bad;
}

TEST(GoVersion, UserForms) {
    struct go_version v;
    EXPECT_EQ(go_version_parse_user("1.21", &v, nullptr), 0);
    EXPECT_EQ(v.minor, 21);
    EXPECT_EQ(go_version_parse_user("go1.21.3", &v, nullptr), 0);
    EXPECT_EQ(v.patch, 3);
    EXPECT_NE(go_version_parse_user("banana", &v, nullptr), 0);
    EXPECT_NE(go_version_parse_user("1.21 X:foo", &v, nullptr), 0);
}

TEST(RuntimeLayout, CoversEveryReleaseFrom117To127) {
    for (int minor = 17; minor <= 27; minor++) {
        struct go_version v = {};
        v.major = 1;
        v.minor = minor;
        const struct runtime_layout *l = runtime_layout_for(&v);
        ASSERT_NE(l, nullptr) << minor;
        EXPECT_EQ(l->g.m, 48);
        EXPECT_EQ(l->g.parent_goid >= 0, minor >= 21) << minor;
        ASSERT_NE(runtime_layout_arg(l, "runtime.newproc1", "callergp"), nullptr) << minor;
    }
    struct go_version v = {};
    v.major = 1;
    v.minor = 16;
    EXPECT_EQ(runtime_layout_for(&v), nullptr);
    v.minor = 28;
    EXPECT_EQ(runtime_layout_for(&v), nullptr);
}

TEST(RuntimeLayout, KnownOffsets) {
    struct go_version v = {};
    v.major = 1;
    v.minor = 23;
    EXPECT_EQ(runtime_layout_for(&v)->g.goid, 160);
    v.minor = 25;
    EXPECT_EQ(runtime_layout_for(&v)->g.goid, 152);
    EXPECT_EQ(runtime_layout_for(&v)->m.curg, 184);
    v.minor = 17;
    EXPECT_EQ(runtime_layout_arg(runtime_layout_for(&v), "runtime.newproc1", "callergp")->reg, X86_RDI);
}

} // namespace
