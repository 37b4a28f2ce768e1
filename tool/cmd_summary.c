/* gmon summary --pid PID: the goroutines of a running Go program, read from its memory without stopping it
 * and without eBPF: runtime.allgs (found through the symbol table, or from the code of runtime.allgadd in
 * stripped binaries), each g read with the release's layout. First slice of issue 5: the header has the
 * binary, Go version, GOMAXPROCS and counts by status and wait reason; one row per goroutine. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "freeze.h"
#include "go_runtime_globals.h"
#include "go_string_table.h"
#include "json_writer.h"
#include "layout_select.h"
#include "proc_threads.h"
#include "table_text.h"
#include "target.h"

static const char USAGE[] =
    "Usage: gmon summary --pid PID [--pc start|caller] [--freeze] [--json]\n"
    "\n"
    "Lists the goroutines of a running Go program (Go 1.17-1.27, stripped or not) by reading its memory,\n"
    "without stopping it and without eBPF: a header with the binary, Go version, GOMAXPROCS and the number "
    "of\n"
    "goroutines by status and wait reason, then one row per goroutine: ID, status, wait reason (the "
    "target's\n"
    "own strings) and where it is from. The target keeps running: a goroutine whose state changes while it "
    "is\n"
    "read may show its old or new state; unreadable ones are counted, never printed as garbage.\n"
    "\n"
    "  --pid PID         the process\n"
    "  --pc start|caller LOCATION is the goroutine's start function (default) or its go statement "
    "(file:line)\n"
    "  --json            one JSON object: header fields and a \"goroutines\" array\n"
    "  --freeze          stop the process (SIGSTOP) while reading it, for a consistent view; it is resumed\n"
    "                    whatever happens to gmon, except SIGKILL (then: kill -CONT PID)\n"
    "\n"
    "Exit status: 0 ok, 2 bad input (no such process, not a Go program, unsupported release).\n";

enum { OPT_PID = 1000, OPT_PC, OPT_JSON, OPT_FREEZE };

struct options {
    int pid;
    bool json, caller, freeze;
};

static int parse_options(int argc, char *argv[], struct options *o) {
    static const struct option opts[] = {{"pid", required_argument, NULL, OPT_PID},
                                         {"pc", required_argument, NULL, OPT_PC},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"freeze", no_argument, NULL, OPT_FREEZE},
                                         {NULL, 0, NULL, 0}};
    memset(o, 0, sizeof(*o));
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long_only(argc, argv, "", opts, NULL)) != -1) {
        if (c == OPT_PID) {
            if (!cli_parse_pid("summary", optarg, &o->pid))
                return -1;
        } else if (c == OPT_PC && (strcmp(optarg, "start") == 0 || strcmp(optarg, "caller") == 0)) {
            o->caller = strcmp(optarg, "caller") == 0;
        } else if (c == OPT_PC) {
            cli_error("summary", "--pc takes start or caller, not \"%s\"", optarg);
            return -1;
        } else if (c == OPT_JSON) {
            o->json = true;
        } else if (c == OPT_FREEZE) {
            o->freeze = true;
        } else {
            cli_bad_option("summary", argv, optind);
            return -1;
        }
    }
    if (optind < argc) {
        cli_error("summary", "unexpected argument \"%s\" (see 'gmon summary --help')", argv[optind]);
        return -1;
    }
    if (!o->pid) {
        cli_error("summary", "give --pid PID (see 'gmon summary --help')");
        return -1;
    }
    return 0;
}

/* One goroutine as read. */
struct goroutine {
    uint64_t goid, parent, startpc, gopc;
    uint32_t status;
    uint8_t reason;
};

enum { G_STATUS_DEAD = 6, G_SCAN = 0x1000, STATUSES = 12, MAX_GOROUTINES = 1 << 24, G_READ = 512 };

static const char *const STATUS_NAMES[STATUSES] = {"idle",      "runnable",  "running", "syscall",
                                                   "waiting",   "moribund",  "dead",    "enqueue",
                                                   "copystack", "preempted", "leaked",  "deadextra"};

struct snapshot {
    struct target t;
    struct layout_choice layout;
    struct go_runtime_globals globals;
    struct go_string_table reasons;
    bool have_reasons;
    struct goroutine *gs;
    size_t n, unreadable;
    uint64_t counts[STATUSES];
    int gomaxprocs; /* -1: unknown */
    struct proc_threads threads;
};

static const char *status_name(uint32_t s) {
    return s < STATUSES ? STATUS_NAMES[s] : "?";
}

static uint64_t field(const uint8_t *g, int off, int size) {
    uint64_t v = 0;
    if (off >= 0 && off + size <= G_READ)
        memcpy(&v, g + off, (size_t)size);
    return v;
}

/* The bytes of a g that hold the fields summary reads (no further: the g may end a mapping). */
static size_t g_extent(const struct g_offsets *o) {
    int fields[] = {o->atomicstatus, o->goid, o->waitreason, o->startpc, o->gopc, o->parent_goid};
    int end = 0;
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
        end = fields[i] + 8 > end ? fields[i] + 8 : end;
    return end < G_READ ? (size_t)end : G_READ;
}

/* Reads one g; false when it cannot be read or does not look like one (it may be being reused). */
static bool read_g(struct snapshot *s, uint64_t addr, struct goroutine *out) {
    const struct g_offsets *o = &s->layout.layout->g;
    uint8_t g[G_READ] = {0};
    if (!addr || !proc_read(s->t.pid, addr, g, g_extent(o)))
        return false;
    out->status = (uint32_t)field(g, o->atomicstatus, 4) & ~(uint32_t)G_SCAN;
    out->goid = field(g, o->goid, 8);
    out->reason = (uint8_t)field(g, o->waitreason, 1);
    out->startpc = field(g, o->startpc, 8);
    out->gopc = field(g, o->gopc, 8);
    out->parent = field(g, o->parent_goid, 8);
    return out->status < STATUSES;
}

/* allgs is a slice header {ptr, len, cap}; the runtime appends under a lock, so len <= cap always holds. */
static int read_goroutines(struct snapshot *s, struct gmon_error *err) {
    uint64_t hdr[3];
    if (!proc_read(s->t.pid, s->globals.allgs + s->t.load_bias, hdr, sizeof(hdr)))
        return gmon_fail(err, "process %d: cannot read runtime.allgs", s->t.pid);
    if (hdr[1] > hdr[2] || hdr[1] > MAX_GOROUTINES)
        return gmon_fail(err,
                         "process %d: runtime.allgs has an implausible length %" PRIu64 " (cap %" PRIu64 ")",
                         s->t.pid, hdr[1], hdr[2]);
    uint64_t *ptrs = calloc(hdr[1] ? hdr[1] : 1, sizeof(*ptrs));
    s->gs = calloc(hdr[1] ? hdr[1] : 1, sizeof(*s->gs));
    if (!ptrs || !s->gs || !proc_read(s->t.pid, hdr[0], ptrs, hdr[1] * 8)) {
        free(ptrs);
        return gmon_fail(err, "process %d: cannot read the %" PRIu64 " goroutine pointers", s->t.pid, hdr[1]);
    }
    for (uint64_t i = 0; i < hdr[1]; i++) {
        struct goroutine g;
        if (!read_g(s, ptrs[i], &g)) {
            s->unreadable++;
            continue;
        }
        if (g.status == G_STATUS_DEAD)
            continue; /* free-list entries */
        s->counts[g.status]++;
        s->gs[s->n++] = g;
    }
    free(ptrs);
    return 0;
}

/* len(allp) when every allp[i].id == i (the check that the address found from code is right); else -1. */
static int read_gomaxprocs(struct snapshot *s) {
    uint64_t hdr[3];
    if (!s->globals.allp || !proc_read(s->t.pid, s->globals.allp + s->t.load_bias, hdr, sizeof(hdr)) ||
        hdr[1] == 0 || hdr[1] > hdr[2] || hdr[1] > 4096)
        return -1;
    for (uint64_t i = 0; i < hdr[1]; i++) {
        uint64_t p;
        int32_t id;
        if (!proc_read(s->t.pid, hdr[0] + i * 8, &p, 8) ||
            !proc_read(s->t.pid, p + (uint64_t)s->layout.layout->p.id, &id, 4) || id != (int32_t)i)
            return -1;
    }
    return (int)hdr[1];
}

static void reason_text(const struct snapshot *s, const struct goroutine *g, char *out, size_t size) {
    const char *name = s->have_reasons ? go_string_table_get(&s->reasons, g->reason) : NULL;
    if (g->status != 4)
        snprintf(out, size, "-");
    else if (name && name[0])
        snprintf(out, size, "%s", name);
    else
        snprintf(out, size, "wait reason %u", g->reason);
}

/* The start function, or the go statement's function and file:line (--pc caller). */
static void location_text(const struct snapshot *s, const struct goroutine *g, bool caller, char *out,
                          size_t size) {
    const struct pclntab *t = &s->t.bin.pcln;
    snprintf(out, size, "?");
    if (caller) {
        struct go_frame f[8];
        if (g->gopc && pclntab_frames_at_return(t, g->gopc - s->t.load_bias, f, 8) > 0)
            snprintf(out, size, "%s (%s:%d)", f[0].function, f[0].file, f[0].line);
        return;
    }
    struct go_func fn;
    if (g->startpc && pclntab_func_at(t, g->startpc - s->t.load_bias, &fn))
        snprintf(out, size, "%s", fn.name);
}

static void print_text(const struct snapshot *s, bool caller) {
    printf("binary:     %s (%s)\n", s->t.proc.exe, s->t.bin.version_string);
    if (s->gomaxprocs > 0)
        printf("GOMAXPROCS: %d\n", s->gomaxprocs);
    else
        printf("GOMAXPROCS: ? (runtime.allp not found or not consistent)\n");
    printf("goroutines: %zu", s->n);
    const char *sep = " (";
    for (int st = 0; st < STATUSES; st++) {
        if (!s->counts[st])
            continue;
        printf("%s%s %" PRIu64, sep, STATUS_NAMES[st], s->counts[st]);
        sep = ", ";
    }
    printf("%s; allgs from the %s", s->n ? ")" : "", s->globals.allgs_from);
    if (s->unreadable)
        printf("; %zu changed while read, skipped", s->unreadable);
    printf("\nthreads:    %d", s->threads.total);
    sep = " (";
    for (int i = 0; i < 26; i++) {
        if (!s->threads.by_state[i])
            continue;
        printf("%s%s %d", sep, proc_thread_state_name((char)('A' + i)), s->threads.by_state[i]);
        sep = ", ";
    }
    char up[32];
    duration_text((int64_t)(s->threads.uptime_s * 1e9), up, sizeof(up));
    printf("%s\nuptime:     %s", s->threads.total ? ")" : "", s->threads.uptime_s >= 0 ? up : "?");
    printf("\n\n%-8s %-10s %-24s %s\n", "GOID", "STATUS", "WAIT REASON", caller ? "GO STATEMENT" : "START");
    for (size_t i = 0; i < s->n; i++) {
        const struct goroutine *g = &s->gs[i];
        char reason[96], where[512];
        reason_text(s, g, reason, sizeof(reason));
        location_text(s, g, caller, where, sizeof(where));
        printf("%-8" PRIu64 " %-10s %-24s %s\n", g->goid, status_name(g->status), reason, where);
    }
}

static void print_json(const struct snapshot *s, bool caller) {
    struct json_writer w;
    json_init(&w, stdout);
    json_begin_object(&w);
    json_key(&w, "binary");
    json_string(&w, s->t.proc.exe);
    json_key(&w, "go_version");
    json_string(&w, s->t.bin.version_string);
    json_key(&w, "gomaxprocs");
    json_int(&w, s->gomaxprocs);
    json_key(&w, "allgs_from");
    json_string(&w, s->globals.allgs_from);
    json_key(&w, "unreadable");
    json_uint(&w, s->unreadable);
    json_key(&w, "uptime_s");
    json_int(&w, (int64_t)s->threads.uptime_s);
    json_key(&w, "threads");
    json_begin_object(&w);
    for (int i = 0; i < 26; i++) {
        if (!s->threads.by_state[i])
            continue;
        json_key(&w, proc_thread_state_name((char)('A' + i)));
        json_int(&w, s->threads.by_state[i]);
    }
    json_end_object(&w);
    json_key(&w, "goroutines");
    json_begin_array(&w);
    for (size_t i = 0; i < s->n; i++) {
        const struct goroutine *g = &s->gs[i];
        char reason[96], start[512], stmt[512];
        reason_text(s, g, reason, sizeof(reason));
        location_text(s, g, false, start, sizeof(start));
        location_text(s, g, true, stmt, sizeof(stmt));
        json_begin_object(&w);
        json_key(&w, "id");
        json_uint(&w, g->goid);
        json_key(&w, "status");
        json_string(&w, status_name(g->status));
        json_key(&w, "wait_reason");
        json_string(&w, g->status == 4 ? reason : "");
        json_key(&w, "start");
        json_string(&w, start);
        json_key(&w, "go_statement");
        json_string(&w, stmt);
        json_end_object(&w);
    }
    (void)caller;
    json_end_array(&w);
    json_end_object(&w);
}

static int take(struct snapshot *s, int pid, bool freeze, struct gmon_error *err) {
    if (target_open(&s->t, NULL, pid, "auto", err) != 0 || layout_select(&s->t.bin, &s->layout, err) != 0)
        return -1;
    if (freeze && freeze_process(pid, err) != 0)
        return -1;
    if (!s->layout.layout)
        return gmon_fail(err, "%s", s->layout.problem);
    if (go_runtime_globals_find(&s->t.bin, &s->globals, err) != 0)
        return -1;
    s->have_reasons = go_wait_reasons_find(&s->t.bin.elf, &s->reasons) == 0;
    s->gomaxprocs = read_gomaxprocs(s);
    proc_threads_read(pid, &s->threads);
    return read_goroutines(s, err);
}

int cmd_summary(int argc, char *argv[]) {
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    struct options o;
    if (parse_options(argc, argv, &o) != 0)
        return GMON_EXIT_BAD_INPUT;
    static struct snapshot s;
    memset(&s, 0, sizeof(s));
    struct gmon_error err;
    int rc = GMON_EXIT_OK;
    int taken = take(&s, o.pid, o.freeze, &err);
    thaw_process(); /* the reading is done: the target runs again before gmon prints */
    if (taken != 0) {
        cli_error("summary", "%s", err.msg);
        rc = GMON_EXIT_BAD_INPUT;
    } else if (o.json) {
        print_json(&s, o.caller);
    } else {
        print_text(&s, o.caller);
    }
    free(s.gs);
    go_string_table_free(&s.reasons);
    target_close(&s.t);
    return rc;
}
