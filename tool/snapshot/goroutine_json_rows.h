/* summary --json's "goroutines" array: a row per goroutine of a snapshot. */
#ifndef GMON_GOROUTINE_JSON_ROWS_H
#define GMON_GOROUTINE_JSON_ROWS_H

#include "goroutine_snapshot.h"
#include "json_writer.h"

/* Writes the array (its key already written): id, status, wait reason, start function, go statement, where
 * it is now, how long it has waited (approximately) and its parent, for each goroutine of s. */
void snapshot_json_goroutines(const struct goroutine_snapshot *s, struct json_writer *w);

/* How many distinct row middles (status to now_at) the writer keeps, formatted, at most. */
enum { ROW_MIDDLES = 256 };
/* snapshot_json_goroutines keeping at most slots (1..ROW_MIDDLES) middles: the same output, whatever slots
 * is (the tests' way to make every two middles meet in one slot). */
void snapshot_json_goroutines_kept(const struct goroutine_snapshot *s, struct json_writer *w, size_t slots);

#endif
