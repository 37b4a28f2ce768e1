/* Where each goroutine of a snapshot is now: the top of its stack, walked from what the scheduler saved in
 * its g (summary --pc current, summary --json's "now_at", top). */
#ifndef GMON_GOROUTINE_STACK_TOPS_H
#define GMON_GOROUTINE_STACK_TOPS_H
#include <stddef.h>

#include "goroutine_snapshot.h"

/* Sets current_pc of each goroutine of s that is not running (0 where it cannot be found) and adds what it
 * read to s->bytes_read. A second thread walks half of them when snapshot_two_threads says so. */
void snapshot_find_current_pcs(struct goroutine_snapshot *s);

#endif
