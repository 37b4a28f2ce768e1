// The host side of gmon's per-CPU event rings (probes/cpu_rings.c) on real kernel maps: two BPF array maps
// made mappable (BPF_F_MMAPABLE), as the lifecycle program declares them, written here the way the program
// writes them (probe_common.bpf.h: the head moved, the event copied, then the slot's seq). The programs'
// own half is tested end to end by the lifecycle tests (every event of a storm, exits after creations).
#include <array>
#include <cerrno>
#include <initializer_list>
#include <cstring>
#include <linux/bpf.h>
#include <string>
#include <sys/syscall.h>
#include <unistd.h>
#include <vector>

#include <gtest/gtest.h>

extern "C" {
#include "cpu_rings.h"
}

namespace {

struct event {
    uint64_t id;
    uint64_t time_ns;
};

int mappable_array(uint32_t value_size, uint32_t entries) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.map_type = BPF_MAP_TYPE_ARRAY;
    attr.key_size = 4;
    attr.value_size = value_size;
    attr.max_entries = entries;
    attr.map_flags = BPF_F_MMAPABLE;
    return (int)syscall(__NR_bpf, BPF_MAP_CREATE, &attr, sizeof(attr));
}

// Two CPUs' rings of `slots` slots each, and a writer that plays the BPF programs' part.
class Rings {
  public:
    explicit Rings(uint32_t slots) {
        shape_ = {.cpus = 2, .slots = slots, .event_bytes = sizeof(event), .time_offset = 8};
        ends_fd_ = mappable_array(sizeof(struct cpu_ring_ends), shape_.cpus);
        slots_fd_ = mappable_array(CPU_RING_SLOT_HEADER_BYTES + sizeof(event), shape_.cpus * slots);
        ok_ = ends_fd_ >= 0 && slots_fd_ >= 0 && cpu_rings_map(&r_, ends_fd_, slots_fd_, &shape_) == 0;
        error_ = ok_ ? "" : strerror(errno);
    }
    ~Rings() {
        cpu_rings_unmap(&r_);
        close(ends_fd_);
        close(slots_fd_);
    }
    bool ok() const {
        return ok_;
    }
    const std::string &error() const {
        return error_;
    }
    struct cpu_rings *rings() {
        return &r_;
    }

    // Reserves the next position of cpu's ring (the head moved, nothing written yet); false when full.
    bool reserve(uint32_t cpu, uint64_t *pos) {
        *pos = r_.ends[cpu].head;
        if (*pos - r_.ends[cpu].tail >= shape_.slots)
            return false;
        r_.ends[cpu].head = *pos + 1;
        return true;
    }
    void commit(uint32_t cpu, uint64_t pos, event e) {
        unsigned char *slot = r_.slots + (cpu * shape_.slots + (pos & (shape_.slots - 1))) * r_.stride;
        memcpy(slot + CPU_RING_SLOT_HEADER_BYTES, &e, sizeof(e));
        __atomic_store_n((uint64_t *)slot, pos + 1, __ATOMIC_RELEASE);
    }
    // Events as {cpu, id, time}.
    void put_all(std::initializer_list<std::array<uint64_t, 3>> events) {
        for (const auto &e : events)
            ASSERT_TRUE(put((uint32_t)e[0], e[1], e[2]));
    }
    bool put(uint32_t cpu, uint64_t id, uint64_t time_ns) {
        uint64_t pos;
        if (!reserve(cpu, &pos))
            return false;
        commit(cpu, pos, {id, time_ns});
        return true;
    }

    // The ids a read hands over, in order.
    std::vector<uint64_t> read(uint64_t before_ns, size_t budget = 0, bool *at_budget = nullptr) {
        std::vector<uint64_t> ids;
        bool stopped;
        cpu_rings_read(
            &r_, before_ns, budget,
            [](void *ctx, const void *ev, size_t size) {
                event e;
                ASSERT_EQ(size, sizeof(e));
                memcpy(&e, ev, sizeof(e));
                static_cast<std::vector<uint64_t> *>(ctx)->push_back(e.id);
            },
            &ids, &stopped);
        if (at_budget)
            *at_budget = stopped;
        return ids;
    }

  private:
    struct cpu_rings_shape shape_;
    struct cpu_rings r_ = {};
    int ends_fd_ = -1, slots_fd_ = -1;
    bool ok_ = false;
    std::string error_;
};

using ids = std::vector<uint64_t>;

TEST(CpuRings, MergesTheCpusByTimeAndFreesWhatItRead) {
    Rings t(8);
    ASSERT_TRUE(t.ok()) << t.error();
    t.put_all({{0, 1, 100}, {1, 2, 150}, {0, 3, 200}, {1, 4, 250}, {1, 5, 260}});
    EXPECT_EQ(t.read(1000), (ids{1, 2, 3, 4, 5}));
    EXPECT_EQ(t.rings()->ends[0].tail, 2u);
    EXPECT_EQ(t.rings()->ends[1].tail, 3u);
    EXPECT_EQ(cpu_rings_sent(t.rings()), 5u);
    EXPECT_FALSE(cpu_rings_hold_events(t.rings()));
    EXPECT_EQ(t.read(1000), ids{});
}

// What a program sent after it could see another event (an exit after its goroutine's creation) has a later
// time: a read hands over only events older than its start, so it cannot hand over the exit and miss a
// creation that was still being written.
TEST(CpuRings, EventsFromTheReadsStartOnWaitForTheNextRead) {
    Rings t(8);
    ASSERT_TRUE(t.ok()) << t.error();
    t.put_all({{0, 1, 100}, {1, 2, 300}, {0, 3, 400}});
    EXPECT_EQ(t.read(301), (ids{1, 2}));
    EXPECT_TRUE(cpu_rings_hold_events(t.rings()));
    EXPECT_EQ(t.read(1000), ids{3});
}

// A position reserved and not yet written (a program in the middle of its copy, or preempted there) holds
// back its own CPU's later events, and, on the other CPUs, the events later than those: behind the hole may
// be a goroutine's creation (time 200) whose exit (time 300) another CPU has already written.
TEST(CpuRings, ASlotBeingWrittenHoldsBackWhatMayFollowFromTheEventsBehindIt) {
    Rings t(8);
    ASSERT_TRUE(t.ok()) << t.error();
    uint64_t pos;
    ASSERT_TRUE(t.reserve(0, &pos));
    t.put(0, 2, 200); // the creation
    t.put(1, 3, 150); // older than anything behind the hole
    t.put(1, 4, 300); // the exit
    EXPECT_EQ(t.read(1000), ids{3});
    EXPECT_TRUE(cpu_rings_hold_events(t.rings()));
    t.commit(0, pos, {1, 100});
    EXPECT_EQ(t.read(1000), (ids{1, 2, 4}));
    EXPECT_FALSE(cpu_rings_hold_events(t.rings()));
}

// A hole with nothing written behind it holds back nothing else.
TEST(CpuRings, AnEmptyHoleHoldsBackNothingElse) {
    Rings t(8);
    ASSERT_TRUE(t.ok()) << t.error();
    uint64_t pos;
    ASSERT_TRUE(t.reserve(0, &pos));
    t.put(1, 2, 300);
    EXPECT_EQ(t.read(1000), ids{2});
    t.commit(0, pos, {1, 100});
    EXPECT_EQ(t.read(1000), ids{1});
}

TEST(CpuRings, StopsAtItsBudgetAndGoesOnNextTime) {
    Rings t(8);
    ASSERT_TRUE(t.ok()) << t.error();
    for (uint64_t i = 1; i <= 6; i++)
        t.put(i % 2, i, i * 10);
    bool at_budget = false;
    EXPECT_EQ(t.read(1000, 4, &at_budget), (ids{1, 2, 3, 4}));
    EXPECT_TRUE(at_budget);
    EXPECT_EQ(t.read(1000, 4, &at_budget), (ids{5, 6}));
    EXPECT_FALSE(at_budget);
}

// A full ring refuses (the program counts the event lost); reads free slots, and positions wrap around.
TEST(CpuRings, AFullRingRefusesUntilReadAndPositionsWrap) {
    Rings t(4);
    ASSERT_TRUE(t.ok()) << t.error();
    uint64_t id = 0, time = 0;
    for (int i = 0; i < 4; i++)
        ASSERT_TRUE(t.put(0, ++id, ++time));
    EXPECT_FALSE(t.put(0, 99, 99)) << "a fifth event in a ring of four";
    ids all;
    for (int round = 0; round < 5; round++) {
        ids got = t.read(1000);
        all.insert(all.end(), got.begin(), got.end());
        for (int i = 0; i < 3; i++)
            ASSERT_TRUE(t.put(0, ++id, ++time));
    }
    ids got = t.read(1000);
    all.insert(all.end(), got.begin(), got.end());
    ids want;
    for (uint64_t i = 1; i <= id; i++)
        want.push_back(i);
    EXPECT_EQ(all, want);
    EXPECT_EQ(cpu_rings_sent(t.rings()), id);
}

TEST(CpuRings, RefusesAShapeItCannotRead) {
    struct cpu_rings r;
    struct cpu_rings_shape odd_slots = {.cpus = 2, .slots = 6, .event_bytes = 16, .time_offset = 8};
    struct cpu_rings_shape time_outside = {.cpus = 2, .slots = 8, .event_bytes = 16, .time_offset = 16};
    errno = 0;
    EXPECT_EQ(cpu_rings_map(&r, -1, -1, &odd_slots), -1);
    EXPECT_EQ(errno, EINVAL);
    EXPECT_EQ(cpu_rings_map(&r, -1, -1, &time_outside), -1);
    EXPECT_EQ(errno, EINVAL);
}

TEST(CpuRings, SlotsPerCpuKeepAboutTheSameEventsInAll) {
    EXPECT_EQ(cpu_rings_slots_per_cpu(1), 32768u);
    EXPECT_EQ(cpu_rings_slots_per_cpu(2), 32768u);
    EXPECT_EQ(cpu_rings_slots_per_cpu(4), 16384u);
    EXPECT_EQ(cpu_rings_slots_per_cpu(8), 8192u);
    EXPECT_EQ(cpu_rings_slots_per_cpu(16), 8192u) << "a busy CPU's 10 ms, and some";
    EXPECT_EQ(cpu_rings_slots_per_cpu(17), 0u) << "more would take over 11.5 MB: the ring buffer";
    EXPECT_EQ(cpu_rings_slots_per_cpu(4096), 0u);
}

} // namespace
