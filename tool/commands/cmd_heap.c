/* gmon heap --pid PID: the heap of a running Go program, read from its memory without stopping it and
 * without eBPF (heap_view.h): pages in use and swept, the sweep's progress, large objects, each P's mcache,
 * and every span of the heap added up by size class. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "goroutine_snapshot.h"
#include "heap_view.h"
#include "json_writer.h"
#include "option_help.h"
#include "snapshot_options.h"

static const char USAGE[] =
    "Usage: gmon heap (--pid PID | --container NAME) [--bin BIN] [--freeze] [--json]\n"
    "\n"
    "The heap of a running Go program (Go 1.17-1.27, stripped or not), read from its memory without "
    "stopping\n"
    "it and without eBPF: the GC and heap lines of gmon summary; pages in use and swept this cycle; the\n"
    "sweep's progress (in-use spans the sweeper has yet to look at); how many spans the heap has set up and\n"
    "what they hold (heap objects, goroutine stacks and other runtime memory, nothing); large objects (over\n"
    "32KiB) allocated and freed; for each P, its mcache's flush generation, tiny allocations not yet "
    "counted\n"
    "in the heap's statistics and the spans it holds; then one row per size class over every in-use span:\n"
    "spans, pages, objects allocated and not yet freed by the sweeper, slots, how full the spans are, bytes\n"
    "in use, spans left to sweep and spans held by mcaches. The target keeps running: a span that changes\n"
    "while it is read is counted and skipped; --freeze gives exact totals.\n"
    "\n" HELP_SNAPSHOT_PID HELP_SNAPSHOT_CONTAINER HELP_BIN
    "  --json              one JSON object: \"gc\", \"heap\", \"pages\", \"spans\", \"size_classes\" and "
    "\"mcaches\"\n" HELP_FREEZE HELP_HELP "\n" HELP_EXIT_STATUS "Reference: man gmon-heap (docs/heap.md).\n"
    "\n"
    "Examples:\n"
    "  gmon heap --pid 4242                        the heap, span by span, without stopping the process\n"
    "  gmon heap --pid 4242 --freeze --json        exact totals, the process stopped while it is read\n";

static void print_text(const struct goroutine_snapshot *s, const struct heap_view *h) {
    snapshot_print_binary(s, stdout);
    runtime_state_print_memory(&s->state, s->now_ns, stdout);
    heap_view_print(h, &s->state, stdout);
}

static void print_json(const struct goroutine_snapshot *s, const struct heap_view *h) {
    struct json_writer w;
    json_init(&w, stdout);
    snapshot_json_begin(s, &w);
    runtime_state_json(&s->state, s->now_ns, &w);
    heap_view_json(h, &w);
    json_end_object(&w);
}

int cmd_heap(int argc, char *argv[]) {
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    struct snapshot_options o;
    int parsed = snapshot_parse_options("heap", SNAP_BIN | SNAP_JSON | SNAP_FREEZE, argc, argv, &o);
    if (parsed != 0)
        return cli_exit_after_parse(parsed);
    static struct goroutine_snapshot s;
    static struct heap_view h;
    struct gmon_error err;
    int rc = GMON_EXIT_OK;
    if (snapshot_open(&s, o.pid, o.bin, &err) != 0) {
        cli_error("heap", "%s", err.msg);
        snapshot_close(&s);
        return GMON_EXIT_BAD_INPUT;
    }
    heap_view_init(&h, &s.t);
    s.no_goroutines = true;
    s.heap = &h;
    if (snapshot_take(&s, o.freeze, &err) != 0) {
        cli_error("heap", "%s", err.msg);
        rc = GMON_EXIT_BAD_INPUT;
    } else if (o.json) {
        print_json(&s, &h);
    } else {
        print_text(&s, &h);
    }
    heap_view_free(&h);
    snapshot_close(&s);
    return rc;
}
