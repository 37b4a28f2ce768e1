/* The snapshot header (binary, scheduler, GC, heap, Ps, goroutine counts, threads) as text and JSON;
 * goroutine_snapshot.c reads it. */
#include "goroutine_snapshot.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "json_writer.h"
#include "table_text.h"

static const char *const STATUS_NAMES[STATUSES] = {"idle",      "runnable",  "running", "syscall",
                                                   "waiting",   "moribund",  "dead",    "enqueue",
                                                   "copystack", "preempted", "leaked",  "deadextra"};

const char *snapshot_status_name(uint32_t s) {
    return s < STATUSES ? STATUS_NAMES[s] : "?";
}

void snapshot_waited_text(const struct goroutine *g, char *out, size_t size) {
    if (g->waited_ns < 0) {
        snprintf(out, size, "-");
        return;
    }
    char d[32];
    duration_text(g->waited_ns, d, sizeof(d));
    snprintf(out, size, "~%s", d);
}

const char *snapshot_reason(const struct goroutine_snapshot *s, const struct goroutine *g, char *buf,
                            size_t size) {
    const char *name = s->have_reasons ? go_string_table_get(&s->reasons, g->reason) : NULL;
    if (g->status != GOROUTINE_WAITING)
        return "-";
    if (name && name[0])
        return name;
    snprintf(buf, size, "wait reason %u", g->reason);
    return buf;
}

/* "function (file:line)" of a return address, formatted once per distinct PC and kept in the cache. */
static const char *return_site_text(const struct pc_symbol *sym) {
    if (sym->text)
        return sym->text;
    char text[512];
    snprintf(text, sizeof(text), "%s (%s:%d)", sym->inner.function, sym->inner.file, sym->inner.line);
    const char *kept = pc_cache_keep_text(sym, text);
    return kept ? kept : "?";
}

/* The cached symbol of a goroutine's start function, go statement or current return address. */
static const struct pc_symbol *location_symbol(const struct goroutine_snapshot *s, const struct goroutine *g,
                                               enum snapshot_pc pc) {
    if (pc == PC_CALLER || pc == PC_CURRENT) {
        uint64_t ret = pc == PC_CALLER ? g->gopc : g->current_pc;
        return pc_cache_get(&s->pcs->at_return, ret ? ret - s->t.load_bias : 0);
    }
    return pc_cache_get(&s->pcs->func, g->startpc ? g->startpc - s->t.load_bias : 0);
}

/* The text of a location whose symbol is sym: the symbol's own when it names a function, else what the
 * goroutine's state says. */
static const char *location_text(const struct goroutine *g, enum snapshot_pc pc,
                                 const struct pc_symbol *sym) {
    if (sym->n == 0)
        return pc == PC_CURRENT && g->status == GOROUTINE_RUNNING ? "- (running)" : "?";
    return pc == PC_START ? sym->inner.function : return_site_text(sym);
}

const char *snapshot_location(const struct goroutine_snapshot *s, const struct goroutine *g,
                              enum snapshot_pc pc) {
    return location_text(g, pc, location_symbol(s, g, pc));
}

const char *snapshot_location_json(const struct goroutine_snapshot *s, const struct goroutine *g,
                                   enum snapshot_pc pc) {
    const struct pc_symbol *sym = location_symbol(s, g, pc);
    if (sym->json || sym->n == 0) /* "?" and "- (running)" depend on the goroutine: not kept */
        return sym->json;
    char *quoted = json_quote(location_text(g, pc, sym));
    const char *kept = quoted ? pc_cache_keep_json(sym, quoted) : NULL;
    free(quoted);
    return kept;
}

void snapshot_json_begin(const struct goroutine_snapshot *s, struct json_writer *w) {
    json_begin_object(w);
    json_key(w, "binary");
    json_string(w, s->t.proc.exe);
    json_key(w, "go_version");
    json_string(w, s->t.bin.version_string);
    target_json_process(w, &s->t);
    json_key(w, "gomaxprocs");
    json_int(w, s->gomaxprocs);
    json_key(w, "bytes_read");
    json_uint(w, s->bytes_read);
    /* false: the Ps and the goroutines' statuses were read at moments the scheduler told apart */
    json_key(w, "consistent");
    json_bool(w, s->consistent);
}

void snapshot_print_binary(const struct goroutine_snapshot *s, FILE *out) {
    fprintf(out, "binary:     %s (%s)\n", s->t.proc.exe, s->t.bin.version_string);
    if (s->t.proc.nspid != s->t.pid || s->t.proc.container_id[0]) {
        char process[128];
        fprintf(out, "process:    %s\n", target_process_text(&s->t, process, sizeof(process)));
    }
}

void snapshot_print_header(const struct goroutine_snapshot *s, FILE *out) {
    snapshot_print_binary(s, out);
    if (s->gomaxprocs > 0)
        fprintf(out, "GOMAXPROCS: %d\n", s->gomaxprocs);
    else
        fprintf(out, "GOMAXPROCS: ? (runtime.allp not found or not consistent)\n");
    runtime_state_print(&s->state, s->now_ns, out);
    fprintf(out, "goroutines: %zu", s->n);
    const char *sep = " (";
    for (int st = 0; st < STATUSES; st++) {
        if (!s->counts[st])
            continue;
        fprintf(out, "%s%s %" PRIu64, sep, STATUS_NAMES[st], s->counts[st]);
        sep = ", ";
    }
    fprintf(out, "%s; allgs from the %s", s->n ? ")" : "", s->globals.allgs_from);
    if (s->unreadable)
        fprintf(out, "; %zu changed while read, skipped", s->unreadable);
    if (!s->consistent)
        fprintf(
            out,
            "\n            (the scheduler moved while gmon read, %d times: the Ps above and these statuses "
            "are from moments apart)",
            s->attempts);
    fprintf(out, "\nthreads:    %d", s->threads.total);
    sep = " (";
    for (int i = 0; i < 26; i++) {
        if (!s->threads.by_state[i])
            continue;
        fprintf(out, "%s%s %d", sep, proc_thread_state_name((char)('A' + i)), s->threads.by_state[i]);
        sep = ", ";
    }
    char up[32];
    duration_text((int64_t)(s->threads.uptime_s * 1e9), up, sizeof(up));
    fprintf(out, "%s\nuptime:     %s", s->threads.total ? ")" : "", s->threads.uptime_s >= 0 ? up : "?");
    fputc('\n', out);
}
