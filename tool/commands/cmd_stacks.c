/* gmon stacks --pid PID: every goroutine's whole stack, read from the process's memory without stopping it,
 * printed as the target's Go release prints its own dump (runtime.Stack(buf, true), /debug/pprof/goroutine?
 * debug=2, GOTRACEBACK=all), so that the tools that parse those (panicparse, ...) read gmon's too. */
#include <inttypes.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "goroutine_labels.h"
#include "goroutine_snapshot.h"
#include "goroutine_trace.h"
#include "goroutine_trace_print.h"
#include "json_writer.h"
#include "option_help.h"
#include "snapshot_options.h"
#include "stack_dump.h"
#include "stack_groups.h"

static const char USAGE[] =
    "Usage: gmon stacks (--pid PID | --container NAME) [--bin BIN] [--goid N]... [--match REGEX]\n"
    "                   [--group] [--system] [--json] [--freeze]\n"
    "\n"
    "Prints every goroutine's stack, read from the process's memory without stopping it, in the text the\n"
    "target's own Go release prints for runtime.Stack, /debug/pprof/goroutine?debug=2 and GOTRACEBACK=all:\n"
    "the wait reason, ', N minutes' where Go prints it, every frame with file:line and +0x offset, inlined\n"
    "frames as '(...)', argument words, and the 'created by' line. Works on Go 1.17-1.27, stripped or not,\n"
    "PIE, cgo, in containers. As Go does, goroutines the runtime started are left out (--system shows "
    "them).\n"
    "A goroutine running on a thread at that moment has no stack to read without stopping it: it says so in\n"
    "one line. A stack that cannot be read to its end says where and why. A summary goes to stderr.\n"
    "\n" HELP_SNAPSHOT_PID HELP_SNAPSHOT_CONTAINER HELP_BIN
    "  --goid N            only goroutine N (repeat for more)\n"
    "  --match REGEX       only goroutines whose header or a frame line matches REGEX (POSIX extended)\n"
    "  --group             goroutines with the same state and stack merged, most numerous first, with their\n"
    "                      count and IDs (arguments left out): the view that shows a leak\n"
    "  --system            the runtime's own goroutines too (GC workers, finalizers, ...)\n"
    "  --json              one JSON object with a \"goroutines\" array (frames, labels, "
    "created_by)\n" HELP_FREEZE HELP_HELP "\n" HELP_EXIT_STATUS
    "Reference: man gmon-stacks (docs/stacks.md).\n"
    "\n"
    "Examples:\n"
    "  gmon stacks --pid 4242                        the whole dump, as Go prints it\n"
    "  gmon stacks --pid 4242 --group                identical stacks merged, most numerous first\n"
    "  gmon stacks --pid 4242 --match 'chan receive' the goroutines blocked on a channel receive\n"
    "  gmon stacks --pid 4242 | panicparse           the dump through panicparse\n";

struct stacks_run {
    const struct snapshot_options *o;
    regex_t match;
    bool has_match;
    FILE *out; /* stdout, or a temporary file while the process is frozen */
    struct stack_groups groups;
    struct json_writer json;
    size_t printed, running, moving, incomplete;
};

/* The goroutine's lines into a fresh buffer (header and body, or the group key); NULL when out of memory. */
static char *render(const struct stack_dump *d, const struct goroutine_snapshot *s, bool group_key) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f)
        return NULL;
    if (group_key) {
        char status[96];
        trace_status_text(s, d->tr.g, status, sizeof(status));
        fprintf(f, "%s%s\n", status, d->tr.st.lockedm ? ", locked to thread" : "");
        trace_print_body(f, &d->tr, &d->rules, false);
    } else {
        trace_print(f, s, &d->tr, &d->rules);
    }
    fclose(f);
    return text;
}

static void begin(struct stack_dump *d, struct goroutine_snapshot *s) {
    struct stacks_run *r = d->ctx;
    if (!r->o->json)
        return;
    json_init(&r->json, r->out);
    snapshot_json_begin(s, &r->json);
    json_key(&r->json, "goroutines");
    json_begin_array(&r->json);
}

static void each(struct stack_dump *d, struct goroutine_snapshot *s) {
    struct stacks_run *r = d->ctx;
    const struct goroutine *g = d->tr.g;
    char *text = render(d, s, false);
    if (!text) {
        d->failed = true;
        return;
    }
    if (r->has_match && regexec(&r->match, text, 0, NULL, 0) != 0) {
        free(text);
        return;
    }
    r->printed++;
    r->running += d->tr.kind == TRACE_RUNNING;
    r->moving += d->tr.kind == TRACE_CHANGED;
    r->incomplete += d->tr.kind == TRACE_FRAMES && !d->tr.walk_complete;
    if (r->o->group) {
        char *key = render(d, s, true);
        if (!key || !stack_groups_add(&r->groups, key, g->goid))
            d->failed = true;
        free(key);
    } else if (r->o->json) {
        struct goroutine_labels labels;
        goroutine_labels_read_process(d->tr.st.labels, d->rules.minor, s->t.pid, &labels);
        trace_print_json(&r->json, s, &d->tr, &d->rules, &labels);
    } else {
        fprintf(r->out, "%s%s", r->printed > 1 ? "\n" : "", text);
    }
    free(text);
}

static void end(struct stack_dump *d, struct goroutine_snapshot *s) {
    struct stacks_run *r = d->ctx;
    (void)s;
    if (!r->o->json)
        return;
    json_end_array(&r->json);
    json_end_object(&r->json);
    fputc('\n', r->out);
}

static void print_summary(const struct stacks_run *r, const struct stack_dump *d,
                          const struct goroutine_snapshot *s) {
    fprintf(stderr, "gmon stacks: %zu goroutines of process %d (%s): %zu printed", s->n, s->t.pid,
            s->t.bin.version_string, r->printed);
    if (d->system_hidden)
        fprintf(stderr, ", %zu of the runtime left out (--system shows them)", d->system_hidden);
    if (r->running)
        fprintf(stderr, ", %zu running on a thread (no stack without --freeze)", r->running);
    if (r->moving)
        fprintf(stderr, ", %zu kept moving while read (--freeze reads them)", r->moving);
    if (r->incomplete)
        fprintf(stderr, ", %zu stacks not readable to their end", r->incomplete);
    if (d->changed)
        fprintf(stderr, ", %zu exited while read", d->changed);
    if (s->unreadable)
        fprintf(stderr, ", %zu goroutines unreadable", s->unreadable);
    fputc('\n', stderr);
}

/* With --freeze the output waits in a temporary file until the process runs again. */
static void copy_out(FILE *from) {
    char buf[65536];
    size_t n;
    rewind(from);
    while ((n = fread(buf, 1, sizeof(buf), from)) > 0)
        fwrite(buf, 1, n, stdout);
}

static int run(struct stacks_run *r, struct goroutine_snapshot *s) {
    r->out = r->o->freeze ? tmpfile() : stdout;
    if (!r->out) {
        cli_error("stacks", "cannot create a temporary file for the frozen read");
        return GMON_EXIT_FAILED;
    }
    struct stack_dump d = {.o = r->o, .begin = begin, .each = each, .end = end, .ctx = r};
    int rc = stack_dump_run(&d, s, "stacks");
    if (rc == GMON_EXIT_OK) {
        if (r->o->freeze)
            copy_out(r->out);
        if (r->o->group)
            stack_groups_print(&r->groups, stdout);
        fflush(stdout);
        print_summary(r, &d, s);
        rc = stack_dump_missing_goids(&d, "stacks");
    }
    stack_dump_free(&d);
    return rc;
}

int cmd_stacks(int argc, char *argv[]) {
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    struct snapshot_options o;
    int parsed = snapshot_parse_options(
        "stacks", SNAP_BIN | SNAP_JSON | SNAP_FREEZE | SNAP_GOID | SNAP_MATCH | SNAP_GROUP | SNAP_SYSTEM,
        argc, argv, &o);
    if (parsed != 0)
        return cli_exit_after_parse(parsed);
    if (o.group && o.json) {
        cli_error("stacks", "--group and --json do not go together (see 'gmon stacks --help')");
        return GMON_EXIT_BAD_INPUT;
    }
    static struct goroutine_snapshot s;
    struct stacks_run r = {.o = &o};
    stack_groups_init(&r.groups);
    if (o.match) {
        int rc = regcomp(&r.match, o.match, REG_EXTENDED | REG_NEWLINE | REG_NOSUB);
        if (rc != 0) {
            char why[128];
            regerror(rc, &r.match, why, sizeof(why));
            cli_error("stacks", "--match \"%s\": %s", o.match, why);
            return GMON_EXIT_BAD_INPUT;
        }
        r.has_match = true;
    }
    int rc = run(&r, &s);
    if (r.out && r.out != stdout)
        fclose(r.out);
    if (r.has_match)
        regfree(&r.match);
    stack_groups_free(&r.groups);
    snapshot_close(&s);
    return rc;
}
