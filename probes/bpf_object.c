#include "bpf_object.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The serialized form, in the host's byte order (the object never leaves the machine that compiled it):
 *   "GMONBPF1", u32 kern_version, license[32],
 *   u32 nmaps, then per map: name[32], u32 type, key_size, value_size, max_entries, flags,
 *   u32 nfunctions, then per function: name[64], u32 ninsns, ninsns instructions of 8 bytes. */
static const char MAGIC[8] = {'G', 'M', 'O', 'N', 'B', 'P', 'F', '1'};

struct writer {
    uint8_t *data;
    size_t size, cap;
    bool failed;
};

static void put(struct writer *w, const void *bytes, size_t n) {
    if (w->failed)
        return;
    if (w->size + n > w->cap) {
        size_t cap = w->cap ? w->cap : 4096;
        while (cap < w->size + n)
            cap *= 2;
        uint8_t *grown = realloc(w->data, cap);
        if (!grown) {
            w->failed = true;
            return;
        }
        w->data = grown;
        w->cap = cap;
    }
    memcpy(w->data + w->size, bytes, n);
    w->size += n;
}

static void put_u32(struct writer *w, uint32_t v) {
    put(w, &v, sizeof(v));
}

int bpf_object_serialize(const struct bpf_object *o, uint8_t **out, size_t *size) {
    struct writer w = {0};
    put(&w, MAGIC, sizeof(MAGIC));
    put_u32(&w, o->kern_version);
    put(&w, o->license, sizeof(o->license));
    put_u32(&w, o->nmaps);
    for (uint32_t i = 0; i < o->nmaps; i++) {
        const struct bpf_object_map *m = &o->maps[i];
        put(&w, m->name, sizeof(m->name));
        uint32_t fields[5] = {m->type, m->key_size, m->value_size, m->max_entries, m->flags};
        put(&w, fields, sizeof(fields));
    }
    put_u32(&w, o->nfunctions);
    for (uint32_t i = 0; i < o->nfunctions; i++) {
        const struct bpf_object_function *f = &o->functions[i];
        put(&w, f->name, sizeof(f->name));
        put_u32(&w, f->ninsns);
        put(&w, f->insns, (size_t)f->ninsns * sizeof(*f->insns));
    }
    if (w.failed) {
        free(w.data);
        return -1;
    }
    *out = w.data;
    *size = w.size;
    return 0;
}

struct reader {
    const uint8_t *data;
    size_t size, at;
};

static bool take(struct reader *r, void *out, size_t n) {
    if (n > r->size - r->at)
        return false;
    memcpy(out, r->data + r->at, n);
    r->at += n;
    return true;
}

static bool take_u32(struct reader *r, uint32_t *v) {
    return take(r, v, sizeof(*v));
}

/* A fixed-size name field must hold a non-empty, NUL-terminated string. */
static bool name_ok(const char *name, size_t field) {
    return name[0] != '\0' && memchr(name, '\0', field) != NULL;
}

static int parse_maps(struct bpf_object *o, struct reader *r, struct gmon_error *err) {
    if (!take_u32(r, &o->nmaps) || o->nmaps > BPF_OBJECT_MAX_MAPS)
        return gmon_fail(err, "damaged BPF object: map count");
    o->maps = calloc(o->nmaps ? o->nmaps : 1, sizeof(*o->maps));
    if (!o->maps)
        return gmon_fail(err, "out of memory");
    for (uint32_t i = 0; i < o->nmaps; i++) {
        struct bpf_object_map *m = &o->maps[i];
        uint32_t fields[5];
        if (!take(r, m->name, sizeof(m->name)) || !name_ok(m->name, sizeof(m->name)) ||
            !take(r, fields, sizeof(fields)))
            return gmon_fail(err, "damaged BPF object: map %u", i);
        m->type = fields[0], m->key_size = fields[1], m->value_size = fields[2];
        m->max_entries = fields[3], m->flags = fields[4];
    }
    return 0;
}

static int parse_functions(struct bpf_object *o, struct reader *r, struct gmon_error *err) {
    if (!take_u32(r, &o->nfunctions) || o->nfunctions > BPF_OBJECT_MAX_FUNCTIONS)
        return gmon_fail(err, "damaged BPF object: function count");
    o->functions = calloc(o->nfunctions ? o->nfunctions : 1, sizeof(*o->functions));
    if (!o->functions)
        return gmon_fail(err, "out of memory");
    for (uint32_t i = 0; i < o->nfunctions; i++) {
        struct bpf_object_function *f = &o->functions[i];
        if (!take(r, f->name, sizeof(f->name)) || !name_ok(f->name, sizeof(f->name)) ||
            !take_u32(r, &f->ninsns) || f->ninsns == 0 || f->ninsns > BPF_OBJECT_MAX_INSNS ||
            (size_t)f->ninsns * sizeof(*f->insns) > r->size - r->at)
            return gmon_fail(err, "damaged BPF object: function %u", i);
        f->insns = malloc((size_t)f->ninsns * sizeof(*f->insns));
        if (!f->insns)
            return gmon_fail(err, "out of memory");
        take(r, f->insns, (size_t)f->ninsns * sizeof(*f->insns));
        if (bpf_object_check_function(o, f, err) != 0)
            return -1;
    }
    return 0;
}

int bpf_object_parse(struct bpf_object *o, const uint8_t *data, size_t size, struct gmon_error *err) {
    struct bpf_object parsed = {0};
    struct reader r = {data, size, 0};
    char magic[sizeof(MAGIC)];
    int rc = -1;
    if (!take(&r, magic, sizeof(magic)) || memcmp(magic, MAGIC, sizeof(MAGIC)) != 0)
        gmon_fail(err, "not a gmon BPF object (or one of another format version)");
    else if (!take_u32(&r, &parsed.kern_version) || !take(&r, parsed.license, sizeof(parsed.license)) ||
             !name_ok(parsed.license, sizeof(parsed.license)))
        gmon_fail(err, "damaged BPF object: header");
    else if (parse_maps(&parsed, &r, err) == 0 && parse_functions(&parsed, &r, err) == 0) {
        if (r.at != r.size)
            gmon_fail(err, "damaged BPF object: %zu bytes after its end", r.size - r.at);
        else
            rc = 0;
    }
    if (rc != 0) {
        bpf_object_free(&parsed);
        return -1;
    }
    *o = parsed;
    return 0;
}

int bpf_object_check_function(const struct bpf_object *o, const struct bpf_object_function *f,
                              struct gmon_error *err) {
    for (uint32_t i = 0; i < f->ninsns; i++) {
        const struct bpf_object_insn *in = &f->insns[i];
        if (in->code != BPF_OBJECT_LD_IMM64)
            continue;
        unsigned src = in->regs >> 4;
        if (i + 1 == f->ninsns)
            return gmon_fail(err, "BPF function %s ends inside a 64-bit load", f->name);
        if (src == BPF_OBJECT_PSEUDO_MAP_FD && (in->imm < 0 || (uint32_t)in->imm >= o->nmaps))
            return gmon_fail(err, "BPF function %s refers to map %d of %u", f->name, in->imm, o->nmaps);
        if (src != 0 && src != BPF_OBJECT_PSEUDO_MAP_FD)
            return gmon_fail(err,
                             "BPF function %s loads a pseudo value of kind %u, which gmon does not relocate",
                             f->name, src);
        i++; /* the load's second half */
    }
    return 0;
}

bool bpf_object_rewrite_map_refs(struct bpf_object_insn *insns, uint32_t n,
                                 int32_t (*map)(void *ctx, int32_t imm), void *ctx, int32_t *refused) {
    for (uint32_t i = 0; i + 1 < n; i++) {
        if (insns[i].code != BPF_OBJECT_LD_IMM64)
            continue;
        if (insns[i].regs >> 4 == BPF_OBJECT_PSEUDO_MAP_FD) {
            int32_t to = map(ctx, insns[i].imm);
            if (to < 0) {
                *refused = insns[i].imm;
                return false;
            }
            insns[i].imm = to;
        }
        i++; /* the load's second half */
    }
    return true;
}

const struct bpf_object_function *bpf_object_function(const struct bpf_object *o, const char *name) {
    for (uint32_t i = 0; i < o->nfunctions; i++)
        if (strcmp(o->functions[i].name, name) == 0)
            return &o->functions[i];
    return NULL;
}

int bpf_object_map_index(const struct bpf_object *o, const char *name) {
    for (uint32_t i = 0; i < o->nmaps; i++)
        if (strcmp(o->maps[i].name, name) == 0)
            return (int)i;
    return -1;
}

void bpf_object_free(struct bpf_object *o) {
    if (o->functions)
        for (uint32_t i = 0; i < o->nfunctions; i++)
            free(o->functions[i].insns);
    free(o->functions);
    free(o->maps);
    memset(o, 0, sizeof(*o));
}
