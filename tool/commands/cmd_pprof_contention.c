/* gmon pprof block|mutex --pid PID: the blocking and mutex profiles a running Go program keeps when it set a
 * rate (runtime.SetBlockProfileRate, runtime.SetMutexProfileFraction), read from its memory without stopping
 * it, as its own /debug/pprof/block and /debug/pprof/mutex would give them. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "block_buckets.h"
#include "cli.h"
#include "commands.h"
#include "contention_profile.h"
#include "cpu_ticks.h"
#include "go_profile_globals.h"
#include "option_help.h"
#include "profile_builder.h"
#include "snapshot_options.h"

static const char USAGE[] =
    "Usage: gmon pprof %s (--pid PID | --container NAME) [--bin BIN] [-o FILE]\n"
    "\n"
    "Writes the %s profile the Go runtime keeps in a running program (Go 1.17-1.27, stripped or not)\n"
    "as the program's own /debug/pprof/%s would, without net/http/pprof and without stopping it:\n"
    "%s\n"
    "Sample types contentions/count and delay/nanoseconds, most delay first. The runtime records only once\n"
    "the program set a rate with %s; without one gmon says the profile is off\n"
    "and writes nothing (exit status 2). Delays are CPU ticks turned into nanoseconds with the program's own "
    "ticks per\n"
    "second when it has computed them, else with the figure it would compute (said on stderr).\n"
    "\n" HELP_SNAPSHOT_PID HELP_SNAPSHOT_CONTAINER HELP_BIN HELP_PPROF_OUTPUT HELP_HELP "\n" HELP_EXIT_STATUS
    "Reference: man gmon-pprof (docs/pprof.md).\n"
    "\n"
    "Examples:\n"
    "  gmon pprof %s --pid 4242 -o p.pb.gz        then: go tool pprof -top p.pb.gz\n"
    "  gmon pprof %s --container web -o - > p.pb.gz\n";

void pprof_contention_usage(const char *kind) {
    bool mutex = strcmp(kind, "mutex") == 0;
    printf(
        USAGE, kind, mutex ? "mutex" : "blocking", kind,
        mutex
            ? "by the stack that unlocked, how often and how long other goroutines waited for a sync.Mutex\n"
              "or RWMutex it held (and, from Go 1.22, for the runtime's own locks)."
            : "by stack, how often and how long goroutines blocked on channels, select, sync.Mutex,\n"
              "RWMutex, WaitGroup and Cond.",
        mutex ? "runtime.SetMutexProfileFraction" : "runtime.SetBlockProfileRate", kind, kind);
}

struct contention_run {
    struct goroutine_snapshot *s;
    const char *cmd;
    bool mutex;
    struct go_profile_globals g;
    int64_t rate;
    uint64_t head; /* runtime address of the list's head pointer */
    struct block_buckets m;
    struct cpu_ticks ticks;
};

/* The list head: of the lists found beside each mbuckets candidate (go_profile_globals.h), the first whose
 * pointer leads to a bucket of the wanted type, or holds nil. */
static bool find_head(struct contention_run *r) {
    uint64_t bias = r->s->t.load_bias, heads[MBUCKETS_CANDIDATES];
    for (int i = 0; i < MBUCKETS_CANDIDATES; i++) {
        uint64_t list = r->mutex ? r->g.xbuckets[i] : r->g.bbuckets[i];
        heads[i] = list ? list + bias : 0;
    }
    int at = bucket_list_pick_head(proc_read_callback, &r->s->t.pid, heads, MBUCKETS_CANDIDATES,
                                   r->mutex ? BUCKET_MUTEX : BUCKET_BLOCK);
    if (at < 0)
        return false;
    r->head = heads[at];
    return true;
}

static const char *rate_name(bool mutex) {
    return mutex ? "runtime.mutexprofilerate" : "runtime.blockprofilerate";
}

/* Finds and reads what the profile needs; GMON_EXIT_OK, or the exit status after saying why not. */
static int read_contention(struct contention_run *r) {
    struct goroutine_snapshot *s = r->s;
    uint64_t bias = s->t.load_bias;
    int minor = s->symbols->version.minor;
    struct gmon_error err;
    go_profile_globals_find(s->symbols, minor, &r->g);
    uint64_t rate_addr = r->mutex ? r->g.mutex_rate : r->g.block_rate;
    if (!rate_addr || !proc_read(s->t.pid, rate_addr + bias, &r->rate, 8)) {
        cli_error(r->cmd, "%s not found (no symbol table, and the code of %s does not show it); give --bin",
                  rate_name(r->mutex), r->mutex ? "sync.event" : "runtime.blockevent");
        return GMON_EXIT_BAD_INPUT;
    }
    if (!find_head(r)) {
        cli_error(r->cmd,
                  "runtime.%s not found (no symbol table, and no list runtime.stkbucket picks leads to a "
                  "%s bucket); give --bin",
                  r->mutex ? "xbuckets" : "bbuckets", r->mutex ? "mutex-profile" : "blocking-profile");
        return GMON_EXIT_BAD_INPUT;
    }
    if (block_buckets_read(proc_read_callback, &s->t.pid, r->head, r->mutex ? BUCKET_MUTEX : BUCKET_BLOCK,
                           &r->m, &err) != 0) {
        cli_error(r->cmd, "%s", err.msg);
        return GMON_EXIT_FAILED;
    }
    if (r->rate == 0 && r->m.n == 0) {
        cli_error(r->cmd,
                  "process %d: the %s profile is off: the program never set a rate (%s is 0), so the runtime "
                  "records nothing",
                  s->t.pid, r->mutex ? "mutex" : "blocking", rate_name(r->mutex));
        return GMON_EXIT_BAD_INPUT;
    }
    if (r->mutex && r->rate <= 0 && minor <= 19) {
        cli_error(
            r->cmd,
            "process %d: mutex profiling is off now (%s is 0); Go %d.%d scales the events it recorded by "
            "the current fraction when it writes the profile, which would make every value 0",
            s->t.pid, rate_name(true), 1, minor);
        return GMON_EXIT_BAD_INPUT;
    }
    cpu_ticks_per_second(proc_read_callback, &s->t.pid, r->g.ticks_val ? r->g.ticks_val + bias : 0,
                         r->g.ticks_start ? r->g.ticks_start + bias : 0, &r->ticks);
    return GMON_EXIT_OK;
}

static void report(const struct contention_run *r, const char *kind, size_t samples) {
    fprintf(stderr, "gmon pprof %s: %zu buckets of process %d (%s) in %zu samples; ", kind, r->m.n,
            r->s->t.pid, r->s->t.bin.version_string, samples);
    if (r->rate == 0)
        fprintf(stderr, "recording is off now (%s is 0): these are the events recorded while it was on",
                rate_name(r->mutex));
    else if (r->mutex)
        fprintf(stderr, "one mutex contention in %lld recorded", (long long)r->rate);
    else if (r->rate == 1)
        fputs("every blocking event recorded", stderr);
    else
        fprintf(stderr, "blocking events of %lld CPU ticks or more recorded, shorter ones sampled",
                (long long)r->rate);
    fprintf(stderr, "; delays converted at %lld CPU ticks per second, %s", (long long)r->ticks.per_second,
            r->ticks.how);
    if (!r->ticks.programs_own)
        fputs(": they may differ slightly from those of the program's own profile", stderr);
    if (r->m.stopped[0])
        fprintf(stderr, "; the list was read up to a bucket that did not read as one (%s)", r->m.stopped);
    fputc('\n', stderr);
}

int pprof_contention(const struct snapshot_options *o, const char *kind) {
    static struct goroutine_snapshot s;
    char cmd[32];
    snprintf(cmd, sizeof(cmd), "pprof %s", kind);
    struct contention_run r = {.s = &s, .cmd = cmd, .mutex = strcmp(kind, "mutex") == 0};
    struct gmon_error err;
    if (snapshot_open(&s, o->pid, o->bin, &err) != 0) {
        cli_error(cmd, "%s", err.msg);
        snapshot_close(&s);
        return GMON_EXIT_BAD_INPUT;
    }
    int rc = read_contention(&r);
    if (rc == GMON_EXIT_OK) {
        struct profile_builder p;
        int minor = s.symbols->version.minor;
        struct contention_rules rules = contention_rules_for(minor, r.mutex, r.rate, r.ticks.per_second);
        bool built = contention_profile_init(&p) &&
                     contention_profile_add(&p, profile_process_mapping(&p, s.t.pid), &s.symbols->pcln,
                                            s.t.load_bias, &r.m, &rules);
        rc = built ? pprof_write(&p, o->output, cmd, kind, s.t.pid) : GMON_EXIT_FAILED;
        if (!built)
            cli_error(cmd, "out of memory while building the profile");
        if (rc == GMON_EXIT_OK)
            report(&r, kind, p.nsamples);
        profile_builder_free(&p);
    }
    block_buckets_free(&r.m);
    snapshot_close(&s);
    return rc;
}
