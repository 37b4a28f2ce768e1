/* The goroutines of summary --json, a row each:
 *   {"id":N,"status":...,"wait_reason":...,"start":...,"go_statement":...,"now_at":...,
 *    "waited_approx_ns":W,"parent_id":P}
 * Between the ID and the wait, a row depends only on the goroutine's status, wait reason, start function, go
 * statement and current PC, and a million parked goroutines share a handful of those. Each distinct middle
 * is written when first met and kept in a table of ROW_MIDDLES slots (one that a collision evicts is written
 * again when met again), and each row is assembled from it and three numbers in one buffer,
 * handed to the writer whole: writing the rows member by member was 40 % of a 1,000,000-goroutine summary
 * (310 of 780 ms), most of it the same keys and strings written again. */
#include "goroutine_json_rows.h"

#include <stdlib.h>

#include "text_buf.h"

/* What a row's middle depends on. */
struct row_key {
    uint64_t startpc, gopc, current_pc;
    uint32_t status, reason; /* reason: 0 unless waiting (only a waiting goroutine's is printed) */
};

/* One middle kept: direct-mapped by its key's hash, a collision writes the newcomer over it. */
struct row_middle {
    struct row_key key;
    char *json; /* NULL: the slot is empty */
    size_t len;
};

static struct row_key key_of(const struct goroutine *g) {
    return (struct row_key){.startpc = g->startpc,
                            .gopc = g->gopc,
                            .current_pc = g->current_pc,
                            .status = g->status,
                            .reason = g->status == GOROUTINE_WAITING ? g->reason : 0};
}

static bool same_key(const struct row_key *a, const struct row_key *b) {
    return a->startpc == b->startpc && a->gopc == b->gopc && a->current_pc == b->current_pc &&
           a->status == b->status && a->reason == b->reason;
}

/* The top 8 bits of a Fibonacci hash pick the slot: at most 256 of them. */
_Static_assert(ROW_MIDDLES <= 256, "slot_of picks among 256 slots");
static size_t slot_of(const struct row_key *k, size_t slots) {
    uint64_t h = k->startpc ^ (k->gopc * 0x9E3779B97F4A7C15ull) ^ (k->current_pc * 0xC2B2AE3D27D4EB4Full) ^
                 ((uint64_t)k->status << 8 | k->reason);
    return (size_t)((h * 0x9E3779B97F4A7C15ull) >> 56) % slots;
}

/* A location as JSON: escaped once per distinct PC, then copied. */
static void write_location(struct json_writer *w, const struct goroutine_snapshot *s,
                           const struct goroutine *g, enum snapshot_pc pc) {
    const char *json = snapshot_location_json(s, g, pc);
    if (json)
        json_raw(w, json);
    else
        json_string(w, snapshot_location(s, g, pc));
}

/* The members of g's row from "status" to "now_at", written by w. */
static void write_middle(struct json_writer *w, const struct goroutine_snapshot *s,
                         const struct goroutine *g) {
    char unnamed[32];
    const char *reason = snapshot_reason(s, g, unnamed, sizeof(unnamed));
    json_key(w, "status");
    json_string(w, snapshot_status_name(g->status));
    json_key(w, "wait_reason");
    json_string(w, g->status == GOROUTINE_WAITING ? reason : "");
    json_key(w, "start");
    write_location(w, s, g, PC_START);
    json_key(w, "go_statement");
    write_location(w, s, g, PC_CALLER);
    json_key(w, "now_at");
    write_location(w, s, g, PC_CURRENT);
}

/* g's row member by member: what middle_of's table saves, and what is written without it. */
static void write_row(struct json_writer *w, const struct goroutine_snapshot *s, const struct goroutine *g) {
    json_begin_object(w);
    json_key(w, "id");
    json_uint(w, g->goid);
    write_middle(w, s, g);
    json_key(w, "waited_approx_ns");
    if (g->waited_ns >= 0)
        json_int(w, g->waited_ns);
    else
        json_null(w);
    json_key(w, "parent_id");
    if (snapshot_has_parent(s))
        json_uint(w, g->parent);
    else
        json_null(w);
    json_end_object(w);
}

/* The row's text from its ID's value to the wait's, ',"status":...,"waited_approx_ns":', from the table,
 * written there first when it is not; NULL when out of memory. */
static const struct row_middle *middle_of(struct row_middle *table, size_t slots,
                                          const struct goroutine_snapshot *s, const struct goroutine *g) {
    struct row_key k = key_of(g);
    struct row_middle *m = &table[slot_of(&k, slots)];
    if (m->json && same_key(&m->key, &k))
        return m;
    struct text_buf buf = {0};
    struct json_writer mw;
    text_buf_putc(&buf, ',');
    json_init_buffer(&mw, &buf);
    write_middle(&mw, s, g);
    text_buf_puts(&buf, ",\"waited_approx_ns\":");
    size_t len;
    char *json = text_buf_take(&buf, &len);
    if (!json)
        return NULL;
    free(m->json);
    *m = (struct row_middle){.key = k, .json = json, .len = len};
    return m;
}

/* g's row, as write_row writes it, in row (emptied first) from its middle m: two numbers and three copies. */
static void assemble_row(struct text_buf *row, const struct goroutine_snapshot *s, const struct goroutine *g,
                         const struct row_middle *m) {
    row->len = 0;
    text_buf_puts(row, "{\"id\":");
    text_buf_uint(row, g->goid);
    text_buf_put(row, m->json, m->len);
    if (g->waited_ns >= 0)
        text_buf_uint(row, (uint64_t)g->waited_ns);
    else
        text_buf_puts(row, "null");
    text_buf_puts(row, ",\"parent_id\":");
    if (snapshot_has_parent(s))
        text_buf_uint(row, g->parent);
    else
        text_buf_puts(row, "null");
    text_buf_putc(row, '}');
}

void snapshot_json_goroutines(const struct goroutine_snapshot *s, struct json_writer *w) {
    snapshot_json_goroutines_kept(s, w, ROW_MIDDLES);
}

void snapshot_json_goroutines_kept(const struct goroutine_snapshot *s, struct json_writer *w, size_t slots) {
    slots = slots < 1 ? 1 : slots > ROW_MIDDLES ? ROW_MIDDLES : slots;
    struct row_middle *table = calloc(slots, sizeof(*table));
    struct text_buf row = {0};
    json_begin_array(w);
    for (size_t i = 0; i < s->n; i++) {
        const struct goroutine *g = &s->gs[i];
        const struct row_middle *m = table ? middle_of(table, slots, s, g) : NULL;
        if (m)
            assemble_row(&row, s, g, m);
        if (m && !row.failed)
            json_raw_len(w, row.data, row.len);
        else
            write_row(w, s, g); /* out of memory: slower, but whole */
    }
    json_end_array(w);
    text_buf_free(&row);
    for (size_t i = 0; table && i < slots; i++)
        free(table[i].json);
    free(table);
}
