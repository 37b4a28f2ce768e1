/* Prints goroutine traces as Go's own dumps print them. */
#ifndef GMON_GOROUTINE_TRACE_PRINT_H
#define GMON_GOROUTINE_TRACE_PRINT_H
#include <stdio.h>

#include "goroutine_labels.h"
#include "goroutine_trace.h"

struct json_writer;

/* The status in the header: the wait reason of a waiting goroutine, else runtime's gStatusStrings. */
void trace_status_text(const struct goroutine_snapshot *s, const struct goroutine *g, char *out, size_t size);
/* The ", N minutes" of the header: whole minutes since g.waitsince, 0 when unknown or under a minute. */
int64_t trace_wait_minutes(const struct goroutine *g);
/* A function name as printFuncName prints it (generic type arguments as [...] from 1.21; gopanic as panic).
 */
void trace_print_func_name(FILE *out, const char *name, const struct traceback_rules *r);
/* Header, frames and "created by" lines of one goroutine (no blank line around). */
void trace_print(FILE *out, const struct goroutine_snapshot *s, const struct goroutine_trace *tr,
                 const struct traceback_rules *r);
/* The lines after the header; without arguments every frame prints "(...)" (for merged goroutines). */
void trace_print_body(FILE *out, const struct goroutine_trace *tr, const struct traceback_rules *r,
                      bool with_args);

/* One goroutine as a JSON object: id, status, state, wait_minutes, locked_to_thread, labels (null when
 * unknown, with labels_problem), stack, frames, elided_frames, created_by. */
void trace_print_json(struct json_writer *w, const struct goroutine_snapshot *s,
                      const struct goroutine_trace *tr, const struct traceback_rules *r,
                      const struct goroutine_labels *labels);

#endif
