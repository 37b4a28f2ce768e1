/* Streaming JSON output with correct string escaping and automatic commas. */
#ifndef GMON_JSON_WRITER_H
#define GMON_JSON_WRITER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "text_buf.h"

enum { JSON_MAX_DEPTH = 16 };

enum { JSON_CHUNK = 8192 };

struct json_writer {
    FILE *out;
    struct text_buf *buf; /* when set, output goes here instead of out */
    int depth;
    bool need_comma[JSON_MAX_DEPTH];
    bool after_key;
    /* Output for out waits here, written in one call when full and whenever the writer is at the top level
     * (a value there is complete, and the caller may write to out itself): a call per piece cost a snapshot
     * of a million goroutines a sixth of its time. */
    size_t used;
    char chunk[JSON_CHUNK];
};

/* A writer to out. What it writes reaches out when a top-level value is complete (a document, or a value of
 * json_write_escaped and the like), or in chunks before. */
void json_init(struct json_writer *w, FILE *out);
/* A writer that appends to buf (a log record being built). */
void json_init_buffer(struct json_writer *w, struct text_buf *buf);
void json_begin_object(struct json_writer *w);
void json_end_object(struct json_writer *w);
void json_begin_array(struct json_writer *w);
void json_end_array(struct json_writer *w);
void json_key(struct json_writer *w, const char *key);
void json_string(struct json_writer *w, const char *s);
/* A value already in JSON (a string quoted and escaped by json_quote): written as it is. */
void json_raw(struct json_writer *w, const char *json);
/* json_raw for a value of len bytes (not NUL-terminated). */
void json_raw_len(struct json_writer *w, const char *json, size_t len);
/* s as a JSON string, quoted and escaped, in memory the caller frees; NULL when out of memory. For text
 * written many times: escaped once. */
char *json_quote(const char *s);
void json_uint(struct json_writer *w, uint64_t v);
/* "key":v, the usual member of an object. */
void json_member_uint(struct json_writer *w, const char *key, uint64_t v);
void json_int(struct json_writer *w, int64_t v);
/* A number with `decimals` digits after the point (finite values only). */
void json_fixed(struct json_writer *w, double v, int decimals);
void json_bool(struct json_writer *w, bool v);
void json_null(struct json_writer *w);
/* Writes an address as a "0x..." string (JSON numbers lose precision above 2^53). */
void json_hex(struct json_writer *w, uint64_t v);

/* Writes v in decimal, as JSON and logfmt both write numbers, without printf (numbers fill most of a
 * snapshot's JSON and of a log line). */
void json_write_uint(FILE *out, uint64_t v);
void json_write_int(FILE *out, int64_t v);

/* Writes s as a JSON string literal with quotes, escaping control characters and invalid UTF-8 bytes. */
void json_write_escaped(FILE *out, const char *s);

#endif
