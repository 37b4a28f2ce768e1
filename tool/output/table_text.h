/* Cells of the human tables the tracing commands print (gc, gr, sched, gm): wall-clock times, durations
 * with three significant digits, and padding that counts columns rather than bytes. */
#ifndef GMON_TABLE_TEXT_H
#define GMON_TABLE_TEXT_H
#include <stddef.h>
#include <stdint.h>

/* "15:04:05.123" in local time, from CLOCK_REALTIME nanoseconds. */
void clock_text(int64_t wall_ns, char *out, size_t size);
/* Three significant digits, so that table columns stay aligned: 950ns, 12.3µs, 1.43ms, 2.05s. */
void duration_text(int64_t ns, char *out, size_t size);
/* Bytes with three significant digits in binary units: 512B, 12.3KiB, 1.50MiB, 2.00GiB. */
void bytes_text(uint64_t bytes, char *out, size_t size);
/* Prints text and pads it to width columns plus one space; "µ" is two bytes for one column. */
void print_cell(const char *text, int width);

#endif
