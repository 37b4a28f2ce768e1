/* gmon summary --pid PID: the goroutines of a running Go program, read from its memory without stopping it
 * and without eBPF: runtime.allgs (found through the symbol table, or from the code of runtime.allgadd in
 * stripped binaries), each g read with the release's layout, under a header of scheduler, GC, heap and
 * per-P figures (runtime_state.h); one row per goroutine. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "goroutine_json_rows.h"
#include "goroutine_snapshot.h"
#include "json_writer.h"
#include "option_help.h"
#include "snapshot_options.h"

static const char USAGE[] =
    "Usage: gmon summary (--pid PID | --container NAME) [--bin BIN] [--pc start|caller|current]\n"
    "                    [--freeze] [--json] [--no-color]\n"
    "\n"
    "Lists the goroutines of a running Go program (Go 1.17-1.27, stripped or not) by reading its memory,\n"
    "without stopping it and without eBPF. A header: binary, Go version, GOMAXPROCS, the scheduler (Ms, "
    "idle\n"
    "Ps, global run queue), GC (cycles, forced, total pause, last), heap (in use, sys, live, objects, "
    "mallocs,\n"
    "frees), one line per P (status, ticks, run queue, M and its thread), goroutines by status, threads and\n"
    "uptime; then one row per goroutine: ID, status, wait reason (the target's own strings), how long it "
    "has\n"
    "waited (~, as the runtime's GC stamps it), and where it is from. The target keeps running: a goroutine\n"
    "whose state changes while it is read may show its old or new state; unreadable ones are counted, never\n"
    "printed as garbage. Figures gmon cannot locate in this release show ? with the reason.\n"
    "\n" HELP_SNAPSHOT_PID HELP_SNAPSHOT_CONTAINER HELP_BIN
    "  --pc WHICH          LOCATION is the goroutine's start function (start, the default), its go "
    "statement\n"
    "                      (caller), or where it is now (current: the first function outside the runtime on "
    "its\n"
    "                      stack, with file:line)\n"
    "  --json              one JSON object: header fields and a \"goroutines\" array\n"
    "  --no-color          no colours (they are only used when stdout is a terminal anyway)\n" HELP_FREEZE
        HELP_HELP "\n" HELP_EXIT_STATUS "Reference: man gmon-summary (docs/summary.md).\n"
    "\n"
    "Examples:\n"
    "  gmon summary --pid 4242                     every goroutine, with the header\n"
    "  gmon summary --pid 4242 --pc current        where each goroutine is now (file:line)\n"
    "  gmon summary --pid 4242 --bin ./app.debug   a stripped target, with an unstripped build's symbols\n";

/* The terminal colour of a status: green running, cyan runnable, yellow syscall, default otherwise. */
static const char *status_color(uint32_t status) {
    switch (status) {
    case GOROUTINE_RUNNING:
        return "\033[32m";
    case GOROUTINE_RUNNABLE:
        return "\033[36m";
    case GOROUTINE_SYSCALL:
        return "\033[33m";
    default:
        return "";
    }
}

static void print_text(const struct goroutine_snapshot *s, enum snapshot_pc pc, bool color) {
    snapshot_print_header(s, stdout);
    printf("\n%-8s %-8s %-10s %-24s %-9s %s\n", "GOID", "PARENT", "STATUS", "WAIT REASON", "WAITED",
           pc == PC_START    ? "START"
           : pc == PC_CALLER ? "GO STATEMENT"
                             : "NOW AT");
    for (size_t i = 0; i < s->n; i++) {
        const struct goroutine *g = &s->gs[i];
        char unnamed[32], waited[32], parent[24] = "-";
        const char *reason = snapshot_reason(s, g, unnamed, sizeof(unnamed));
        const char *where = snapshot_location(s, g, pc);
        snapshot_waited_text(g, waited, sizeof(waited));
        const char *on = color ? status_color(g->status) : "";
        if (snapshot_has_parent(s))
            snprintf(parent, sizeof(parent), "%" PRIu64, g->parent);
        printf("%-8" PRIu64 " %-8s %s%-10s%s %-24s %-9s %s\n", g->goid, parent, on,
               snapshot_status_name(g->status), on[0] ? "\033[0m" : "", reason, waited, where);
    }
}

static void print_json(const struct goroutine_snapshot *s) {
    struct json_writer w;
    json_init(&w, stdout);
    snapshot_json_begin(s, &w);
    json_key(&w, "allgs_from");
    json_string(&w, s->globals.allgs_from);
    json_key(&w, "unreadable");
    json_uint(&w, s->unreadable);
    json_key(&w, "uptime_s");
    json_int(&w, (int64_t)s->threads.uptime_s);
    runtime_state_json(&s->state, s->now_ns, &w);
    json_key(&w, "threads");
    json_begin_object(&w);
    for (int i = 0; i < 26; i++) {
        if (!s->threads.by_state[i])
            continue;
        json_key(&w, proc_thread_state_name((char)('A' + i)));
        json_int(&w, s->threads.by_state[i]);
    }
    json_end_object(&w);
    /* Every location of every goroutine, whatever --pc says: programs pick the one they want. */
    json_key(&w, "goroutines");
    snapshot_json_goroutines(s, &w);
    json_end_object(&w);
}

int cmd_summary(int argc, char *argv[]) {
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    struct snapshot_options o;
    int parsed = snapshot_parse_options(
        "summary", SNAP_BIN | SNAP_PC | SNAP_JSON | SNAP_FREEZE | SNAP_NO_COLOR, argc, argv, &o);
    if (parsed != 0)
        return cli_exit_after_parse(parsed);
    static struct goroutine_snapshot s;
    struct gmon_error err;
    int rc = GMON_EXIT_OK;
    int opened = snapshot_open(&s, o.pid, o.bin, &err);
    s.walk_stacks = o.pc == PC_CURRENT || o.json;
    if (opened != 0 || snapshot_take(&s, o.freeze, &err) != 0) {
        cli_error("summary", "%s", err.msg);
        rc = GMON_EXIT_BAD_INPUT;
    } else if (o.json) {
        /* A million goroutines are ~300 MB of JSON: written a megabyte at a time, not stdio's 4 KB. */
        static char out_buffer[1 << 20];
        setvbuf(stdout, out_buffer, _IOFBF, sizeof(out_buffer));
        print_json(&s);
    } else {
        print_text(&s, o.pc, !o.no_color && isatty(STDOUT_FILENO));
    }
    snapshot_close(&s);
    return rc;
}
