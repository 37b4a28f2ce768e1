/* A goroutine's traceback in the text of Go's own dumps (runtime/traceback.go goroutineheader, traceback2 or
 * gentraceback, printcreatedby; printed by runtime.Stack and /debug/pprof/goroutine?debug=2). */
#include "goroutine_trace_print.h"

#include <inttypes.h>
#include <string.h>

#include "json_writer.h"

/* runtime/runtime2.go gStatusStrings. */
static const char *go_status_text(uint32_t status) {
    static const char *const NAMES[] = {"idle", "runnable", "running", "syscall",   "waiting",
                                        "",     "dead",     "",        "copystack", "preempted"};
    return status < sizeof(NAMES) / sizeof(NAMES[0]) ? NAMES[status] : "???";
}

void trace_status_text(const struct goroutine_snapshot *s, const struct goroutine *g, char *out,
                       size_t size) {
    const char *reason = s->have_reasons ? go_string_table_get(&s->reasons, g->reason) : NULL;
    if (g->status == GOROUTINE_WAITING && g->reason != 0) {
        if (reason && reason[0])
            snprintf(out, size, "%s", reason);
        else
            snprintf(out, size, "wait reason %u", g->reason); /* the strings were not found in the binary */
    } else {
        snprintf(out, size, "%s", go_status_text(g->status));
    }
}

int64_t trace_wait_minutes(const struct goroutine *g) {
    return g->waited_ns >= 0 ? g->waited_ns / 60000000000 : 0;
}

void trace_print_func_name(FILE *out, const char *name, const struct traceback_rules *r) {
    if (strcmp(name, "runtime.gopanic") == 0) {
        fputs("panic", out);
        return;
    }
    const char *open = r->collapse_generics ? strchr(name, '[') : NULL;
    const char *close = open ? strrchr(name, ']') : NULL;
    if (!open || close <= open) {
        fputs(name, out);
        return;
    }
    fprintf(out, "%.*s[...]%s", (int)(open - name), name, close + 1);
}

/* goroutineheader: "goroutine 7 [chan receive, 3 minutes, locked to thread]:". */
static void print_header(FILE *out, const struct goroutine_snapshot *s, const struct goroutine_trace *tr) {
    const struct goroutine *g = tr->g;
    char status[96];
    trace_status_text(s, g, status, sizeof(status));
    fprintf(out, "goroutine %" PRIu64 " [%s", g->goid, status);
    if (g->scan)
        fputs(" (scan)", out);
    int64_t minutes = trace_wait_minutes(g);
    if (minutes >= 1)
        fprintf(out, ", %" PRId64 " minutes", minutes);
    if (tr->st.lockedm)
        fputs(", locked to thread", out);
    fputs("]:\n", out);
}

static void print_frame(FILE *out, const struct goroutine_trace *tr, const struct trace_frame *f,
                        const struct traceback_rules *r, bool with_args) {
    trace_print_func_name(out, f->function, r);
    fprintf(out, "(%s)\n\t%s:%d", f->inlined || !with_args ? "..." : trace_frame_args(tr, f), f->file,
            f->line);
    if (f->offset)
        fprintf(out, " +0x%" PRIx64, f->offset);
    fputc('\n', out);
}

void trace_print_body(FILE *out, const struct goroutine_trace *tr, const struct traceback_rules *r,
                      bool with_args) {
    if (tr->kind == TRACE_RUNNING)
        fputs("\tgoroutine running on other thread; stack unavailable\n", out);
    if (tr->kind == TRACE_CHANGED)
        fputs("\tgoroutine kept running while gmon read it; stack unavailable\n", out);
    for (size_t i = 0; tr->kind == TRACE_FRAMES && i < tr->n; i++) {
        if (tr->elided && i == tr->elide_after)
            fprintf(out, "...%" PRIu64 " frames elided...\n", tr->elided);
        print_frame(out, tr, &tr->frames[i], r, with_args);
    }
    if (tr->kind == TRACE_FRAMES && tr->additional_elided)
        fputs("...additional frames elided...\n", out);
    if (tr->kind == TRACE_FRAMES && !tr->walk_complete)
        fprintf(out, "...gmon: the stack ends here: %s at 0x%" PRIx64 "...\n", stack_end_text(tr->walk.end),
                tr->walk.bad_pc);
    if (!tr->has_creator)
        return;
    fputs("created by ", out);
    trace_print_func_name(out, tr->creator, r);
    if (tr->creator_parent)
        fprintf(out, " in goroutine %" PRIu64, tr->creator_parent);
    fprintf(out, "\n\t%s:%d", tr->creator_file, tr->creator_line);
    if (tr->creator_offset)
        fprintf(out, " +0x%" PRIx64, tr->creator_offset);
    fputc('\n', out);
}

void trace_print(FILE *out, const struct goroutine_snapshot *s, const struct goroutine_trace *tr,
                 const struct traceback_rules *r) {
    print_header(out, s, tr);
    trace_print_body(out, tr, r, true);
}

/* A function name as Go prints it, into a buffer (for JSON). */
static void func_name_text(const char *name, const struct traceback_rules *r, char *out, size_t size) {
    FILE *f = fmemopen(out, size, "w");
    if (!f) {
        snprintf(out, size, "%s", name);
        return;
    }
    trace_print_func_name(f, name, r);
    fclose(f);
}

static void json_frame(struct json_writer *w, const struct goroutine_trace *tr, const struct trace_frame *f,
                       const struct traceback_rules *r) {
    char name[512];
    func_name_text(f->function, r, name, sizeof(name));
    json_begin_object(w);
    json_key(w, "function");
    json_string(w, name);
    json_key(w, "file");
    json_string(w, f->file);
    json_key(w, "line");
    json_int(w, f->line);
    json_key(w, "offset");
    json_uint(w, f->offset);
    json_key(w, "inlined");
    json_bool(w, f->inlined);
    json_key(w, "args");
    if (f->inlined)
        json_null(w);
    else
        json_string(w, trace_frame_args(tr, f));
    json_end_object(w);
}

void trace_print_json(struct json_writer *w, const struct goroutine_snapshot *s,
                      const struct goroutine_trace *tr, const struct traceback_rules *r,
                      const struct goroutine_labels *labels) {
    const struct goroutine *g = tr->g;
    char status[96];
    trace_status_text(s, g, status, sizeof(status));
    json_begin_object(w);
    json_key(w, "id");
    json_uint(w, g->goid);
    json_key(w, "status");
    json_string(w, snapshot_status_name(g->status));
    json_key(w, "state");
    json_string(w, status);
    json_key(w, "wait_minutes");
    json_int(w, trace_wait_minutes(g));
    json_key(w, "locked_to_thread");
    json_bool(w, tr->st.lockedm != 0);
    json_key(w, "labels");
    if (labels && !labels->problem) {
        json_begin_object(w);
        for (size_t i = 0; i < labels->n; i++) {
            json_key(w, labels->key[i]);
            json_string(w, labels->value[i]);
        }
        json_end_object(w);
    } else {
        json_null(w); /* unknown: labels_problem says why */
    }
    if (labels && labels->problem) {
        json_key(w, "labels_problem");
        json_string(w, labels->problem);
    }
    json_key(w, "stack");
    json_string(w, tr->kind == TRACE_RUNNING   ? "running: unavailable without --freeze"
                   : tr->kind == TRACE_CHANGED ? "changed while it was read: unavailable without --freeze"
                   : tr->walk.end == STACK_END_DEPTH && tr->walk_complete
                       ? "complete up to the release's 100 frames"
                       : stack_end_text(tr->walk.end));
    json_key(w, "frames");
    json_begin_array(w);
    for (size_t i = 0; tr->kind == TRACE_FRAMES && i < tr->n; i++)
        json_frame(w, tr, &tr->frames[i], r);
    json_end_array(w);
    json_key(w, "elided_frames");
    json_uint(w, tr->elided);
    json_key(w, "created_by");
    if (tr->has_creator) {
        char name[512];
        func_name_text(tr->creator, r, name, sizeof(name));
        json_begin_object(w);
        json_key(w, "function");
        json_string(w, name);
        json_key(w, "file");
        json_string(w, tr->creator_file);
        json_key(w, "line");
        json_int(w, tr->creator_line);
        json_key(w, "offset");
        json_uint(w, tr->creator_offset);
        json_key(w, "parent_id");
        if (tr->creator_parent)
            json_uint(w, tr->creator_parent);
        else
            json_null(w);
        json_end_object(w);
    } else {
        json_null(w);
    }
    json_end_object(w);
}
