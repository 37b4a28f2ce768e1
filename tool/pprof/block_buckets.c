#include "block_buckets.h"

#include <stdlib.h>
#include <string.h>

#include "grow_array.h"

enum { BLOCK_RECORD = 16 /* blockRecord {count float64; cycles int64} */ };

static bool append_bucket(void *ctx, const struct raw_bucket *raw) {
    struct block_buckets *out = ctx;
    if (!grow_array_reserve((void **)&out->b, &out->cap, out->n + 1, sizeof(*out->b)) ||
        !grow_array_reserve((void **)&out->pcs, &out->pcs_cap, out->npcs + raw->nstk, sizeof(*out->pcs)))
        return false;
    struct block_bucket *b = &out->b[out->n++];
    memcpy(&b->count, raw->record, 8);
    memcpy(&b->cycles, raw->record + 8, 8);
    b->nstk = raw->nstk;
    b->stk_at = out->npcs;
    memcpy(out->pcs + out->npcs, raw->stk, raw->nstk * 8);
    out->npcs += raw->nstk;
    return true;
}

int block_buckets_read(mem_read_fn read, void *ctx, uint64_t head_addr, enum bucket_type typ,
                       struct block_buckets *out, struct gmon_error *err) {
    memset(out, 0, sizeof(*out));
    if (bucket_list_walk(read, ctx, head_addr, typ, BLOCK_RECORD, append_bucket, out, out->stopped,
                         sizeof(out->stopped), err) != 0) {
        block_buckets_free(out);
        return -1;
    }
    return 0;
}

void block_buckets_free(struct block_buckets *m) {
    free(m->b);
    free(m->pcs);
    memset(m, 0, sizeof(*m));
}
