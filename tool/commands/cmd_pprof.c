/* gmon pprof goroutine --pid PID: the goroutine profile of a running Go program, read from its memory
 * without stopping it and without net/http/pprof, in the format `go tool pprof` reads (gzipped
 * profile.proto), as the program's own /debug/pprof/goroutine would give it. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "goroutine_labels.h"
#include "goroutine_profile.h"
#include "option_help.h"
#include "profile_builder.h"
#include "snapshot_options.h"
#include "stack_dump.h"

static const char USAGE[] =
    "Usage: gmon pprof goroutine (--pid PID | --container NAME) [--bin BIN] [-o FILE] [--system] [--freeze]\n"
    "\n"
    "Writes the goroutine profile of a running Go program (Go 1.17-1.27, stripped or not) as the program's\n"
    "own /debug/pprof/goroutine would, without net/http/pprof and without stopping it: a gzipped pprof\n"
    "profile (sample type goroutine/count), one sample per distinct stack and pprof label set, every frame\n"
    "with its file:line and inlined frames, for `go tool pprof`. Goroutines running on a thread at that\n"
    "moment have no stack to read without --freeze: they are left out and counted on stderr.\n"
    "\n" HELP_SNAPSHOT_PID HELP_SNAPSHOT_CONTAINER HELP_BIN
    "  -o, --output FILE   write the profile to FILE (default: stdout, when it is not a terminal)\n"
    "  --system            the runtime's own goroutines too (Go's profile leaves them out)\n" HELP_FREEZE
        HELP_HELP "\n" HELP_EXIT_STATUS "Reference: docs/pprof.md.\n"
    "\n"
    "Examples:\n"
    "  gmon pprof goroutine --pid 4242 -o g.pb.gz        then: go tool pprof -traces g.pb.gz\n"
    "  gmon pprof goroutine --container web > g.pb.gz  then: go tool pprof -top g.pb.gz\n";

struct profile_run {
    struct profile_builder p;
    uint64_t mapping;
    size_t goroutines, running, moving, incomplete;
};

static void begin(struct stack_dump *d, struct goroutine_snapshot *s) {
    struct profile_run *r = d->ctx;
    r->mapping = goroutine_profile_mapping(&r->p, s->t.pid);
}

static void each(struct stack_dump *d, struct goroutine_snapshot *s) {
    struct profile_run *r = d->ctx;
    if (d->tr.kind != TRACE_FRAMES) {
        r->running += d->tr.kind == TRACE_RUNNING;
        r->moving += d->tr.kind == TRACE_CHANGED;
        return;
    }
    r->incomplete += !d->tr.walk_complete;
    struct goroutine_labels labels;
    goroutine_labels_read_process(d->tr.st.labels, d->rules.minor, s->t.pid, &labels);
    if (!goroutine_profile_add(&r->p, r->mapping, &d->tr, &d->rules, &labels))
        d->failed = true;
    r->goroutines++;
}

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int write_profile(struct profile_run *r, const struct snapshot_options *o) {
    FILE *out = o->output ? fopen(o->output, "wb") : stdout;
    if (!out) {
        cli_error("pprof", "cannot write %s: %m", o->output);
        return GMON_EXIT_BAD_INPUT;
    }
    struct gmon_error err;
    int rc = profile_write(&r->p, out, now_ns(), &err);
    if (out != stdout && fclose(out) != 0 && rc == 0)
        rc = gmon_fail(&err, "cannot write %s", o->output);
    if (rc != 0) {
        cli_error("pprof", "%s", err.msg);
        return GMON_EXIT_FAILED;
    }
    return GMON_EXIT_OK;
}

static int profile_goroutines(const struct snapshot_options *o) {
    static struct goroutine_snapshot s;
    struct profile_run r = {0};
    static const char *const TYPES[][2] = {{"goroutine", "count"}};
    if (!profile_builder_init(&r.p, 1, TYPES, "goroutine", "count", 1)) {
        cli_error("pprof", "out of memory");
        return GMON_EXIT_FAILED;
    }
    struct stack_dump d = {.o = o, .no_args = true, .begin = begin, .each = each, .ctx = &r};
    int rc = stack_dump_run(&d, &s, "pprof");
    if (rc == GMON_EXIT_OK)
        rc = write_profile(&r, o);
    if (rc == GMON_EXIT_OK) {
        fprintf(stderr, "gmon pprof goroutine: %zu goroutines of process %d (%s) in %zu samples",
                r.goroutines, s.t.pid, s.t.bin.version_string, r.p.nsamples);
        if (d.system_hidden)
            fprintf(stderr, ", %zu of the runtime left out (--system adds them)", d.system_hidden);
        if (r.running)
            fprintf(stderr, ", %zu running on a thread left out (no stack without --freeze)", r.running);
        if (r.moving)
            fprintf(stderr, ", %zu that kept moving while read left out (--freeze reads them)", r.moving);
        if (r.incomplete)
            fprintf(stderr, ", %zu stacks not readable to their end", r.incomplete);
        fputc('\n', stderr);
    }
    stack_dump_free(&d);
    profile_builder_free(&r.p);
    snapshot_close(&s);
    return rc;
}

int cmd_pprof(int argc, char *argv[]) {
    if (argc < 2 || argv[1][0] == '-') {
        if (cli_wants_help(argc, argv)) {
            fputs(USAGE, stdout);
            return GMON_EXIT_OK;
        }
        cli_error("pprof", "name the profile: gmon pprof goroutine --pid PID (see 'gmon pprof --help')");
        return GMON_EXIT_BAD_INPUT;
    }
    if (strcmp(argv[1], "goroutine") != 0) {
        cli_error("pprof",
                  "\"%s\" is not a profile gmon writes; it writes: goroutine (see 'gmon pprof --help')",
                  argv[1]);
        return GMON_EXIT_BAD_INPUT;
    }
    argc--;
    argv++;
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    struct snapshot_options o;
    int parsed = snapshot_parse_options("pprof goroutine", SNAP_BIN | SNAP_FREEZE | SNAP_OUTPUT | SNAP_SYSTEM,
                                        argc, argv, &o);
    if (parsed != 0)
        return cli_exit_after_parse(parsed);
    if (!o.output && isatty(STDOUT_FILENO)) {
        cli_error("pprof", "a profile is binary: give -o FILE or redirect stdout (see 'gmon pprof --help')");
        return GMON_EXIT_BAD_INPUT;
    }
    return profile_goroutines(&o);
}
