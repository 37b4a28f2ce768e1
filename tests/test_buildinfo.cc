#include <cstring>
#include <string>

#include <gtest/gtest.h>

extern "C" {
#include "go_buildinfo.h"
}

namespace {

TEST(Modinfo, ParsesLinesWithSentinels) {
    std::string text = "path\texample.com/app/cmd/app\nmod\texample.com/app\tv1.2.3\th1:abc=\n"
                       "dep\tgolang.org/x/sys\tv0.1.0\th1:x=\nbuild\t-compiler=gc\nbuild\tCGO_ENABLED=1\n"
                       "build\tvcs.revision=0123abcd\n";
    std::string wrapped = std::string(16, '\x30') + text + std::string(16, '\x31');
    struct go_buildinfo bi;
    memset(&bi, 0, sizeof(bi));
    go_buildinfo_parse_modinfo(wrapped.data(), wrapped.size(), &bi);
    EXPECT_STREQ(bi.main_path, "example.com/app/cmd/app");
    EXPECT_STREQ(bi.mod_path, "example.com/app");
    EXPECT_STREQ(bi.mod_version, "v1.2.3");
    EXPECT_STREQ(go_buildinfo_setting(&bi, "CGO_ENABLED"), "1");
    EXPECT_STREQ(go_buildinfo_setting(&bi, "vcs.revision"), "0123abcd");
    EXPECT_EQ(go_buildinfo_setting(&bi, "GOEXPERIMENT"), nullptr);
}

TEST(Modinfo, EmptyAndGarbageAreHarmless) {
    struct go_buildinfo bi;
    memset(&bi, 0, sizeof(bi));
    go_buildinfo_parse_modinfo("", 0, &bi);
    go_buildinfo_parse_modinfo("no tabs here\nmod\n\t\t\nbuild\tnoequals\n", 36, &bi);
    EXPECT_STREQ(bi.main_path, "");
    EXPECT_EQ(bi.nsettings, 0u);
}

} // namespace
