#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

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

/* A child process (so that the reads cross address spaces, as on a target) whose second of three pages is
 * unmapped: the blocks before and after the hole are read in one system call each side of it, the block that
 * runs into the hole is not, and the blocks after the kernel stopped are still read. */
struct holed_child {
    pid_t pid = -1;
    uint64_t base = 0;
    long page = sysconf(_SC_PAGESIZE);
    int ready[2] = {-1, -1}, hold[2] = {-1, -1};

    holed_child() {
        if (pipe(ready) != 0 || pipe(hold) != 0)
            return;
        pid = fork();
        if (pid == 0) {
            close(hold[1]); /* else the read below never sees the parent's end close */
            close(ready[0]);
            auto *p = static_cast<uint8_t *>(
                mmap(nullptr, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
            for (long i = 0; i < 3 * page; i++)
                p[i] = static_cast<uint8_t>(i * 7);
            munmap(p + page, page);
            uint64_t at = reinterpret_cast<uintptr_t>(p);
            (void)!write(ready[1], &at, sizeof(at));
            char c;
            (void)!read(hold[0], &c, 1); /* until the parent closes its end */
            _exit(0);
        }
        close(ready[1]);
        close(hold[0]);
        if (read(ready[0], &base, sizeof(base)) != sizeof(base))
            base = 0;
    }
    ~holed_child() {
        close(hold[1]);
        close(ready[0]);
        if (pid > 0)
            waitpid(pid, nullptr, 0);
    }
    uint8_t expected(uint64_t addr) const {
        return static_cast<uint8_t>((addr - base) * 7);
    }
};

TEST(ProcRead, RangesAroundAnUnmappedPageAreEachReadOrRefused) {
    holed_child c;
    ASSERT_GT(c.pid, 0);
    ASSERT_NE(c.base, 0u);
    const uint64_t page = static_cast<uint64_t>(c.page);
    std::vector<uint64_t> addrs = {c.base + 8, c.base + page - 100, c.base + 2 * page + 16, c.base + 300};
    std::vector<size_t> lens = {200, 200, 1000, 16}; /* the second runs into the hole */
    std::vector<uint8_t> out(200 + 200 + 1000 + 16, 0xee);
    bool ok[4];
    EXPECT_EQ(proc_read_ranges(c.pid, addrs.data(), lens.data(), 4, out.data(), ok), 3u);
    EXPECT_TRUE(ok[0]);
    EXPECT_FALSE(ok[1]);
    EXPECT_TRUE(ok[2]);
    EXPECT_TRUE(ok[3]);
    size_t at = 0;
    for (size_t i = 0; i < 4; at += lens[i], i++) {
        if (!ok[i])
            continue;
        for (size_t k = 0; k < lens[i]; k++)
            ASSERT_EQ(out[at + k], c.expected(addrs[i] + k)) << "range " << i << " byte " << k;
    }

    std::vector<uint64_t> blocks = {c.base, c.base + page + 8, 0, c.base + 2 * page};
    std::vector<uint8_t> fixed(4 * 64, 0xee);
    bool fixed_ok[4];
    EXPECT_EQ(proc_read_blocks(c.pid, blocks.data(), 4, 64, fixed.data(), fixed_ok), 2u);
    EXPECT_TRUE(fixed_ok[0]);
    EXPECT_FALSE(fixed_ok[1]); /* in the hole */
    EXPECT_FALSE(fixed_ok[2]); /* a null pointer */
    EXPECT_TRUE(fixed_ok[3]);
    EXPECT_EQ(fixed[3 * 64 + 5], c.expected(c.base + 2 * page + 5));
}

} // namespace
