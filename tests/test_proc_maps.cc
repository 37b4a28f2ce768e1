#include <string>

#include "test_support.h"

extern "C" {
#include "proc_target.h"
}

namespace {

TEST(ProcMaps, ParsesFileAndAnonymousLines) {
    char line[] = "55d4c0a00000-55d4c0a21000 r-xp 00001000 fd:01 1234567   /usr/bin/my app\n";
    struct maps_entry e;
    ASSERT_TRUE(proc_maps_parse_line(line, &e));
    EXPECT_EQ(e.start, 0x55d4c0a00000ull);
    EXPECT_EQ(e.end, 0x55d4c0a21000ull);
    EXPECT_EQ(e.offset, 0x1000ull);
    EXPECT_EQ(e.inode, 1234567ull);
    EXPECT_STREQ(e.perms, "r-xp");
    EXPECT_STREQ(e.path, "/usr/bin/my app");
    char anon[] = "7ffd1000-7ffd2000 rw-p 00000000 00:00 0\n";
    ASSERT_TRUE(proc_maps_parse_line(anon, &e));
    EXPECT_STREQ(e.path, "");
}

TEST(ProcMaps, RejectsGarbage) {
    struct maps_entry e;
    for (const char *bad : {"", "zzzz", "1000-0500 r-xp 0 00:00 0 /x", "1000-2000 rwxpq 0 00:00 0"}) {
        std::string copy = bad;
        EXPECT_FALSE(proc_maps_parse_line(copy.data(), &e)) << bad;
    }
}

TEST(ProcTarget, DeadAndInvalidPids) {
    struct proc_target t;
    struct gmon_error err;
    EXPECT_NE(proc_target_open(0, &t, &err), 0);
    EXPECT_NE(proc_target_open(4194304, &t, &err), 0);
    EXPECT_NE(std::string(err.msg).find("no process"), std::string::npos) << err.msg;
}

} // namespace
