#include "profile_builder.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "fnv1a.h"
#include "profile.pb-c.h"

/* A hash map from byte strings to IDs (open addressing, grown at half full). */
struct profile_slot {
    uint64_t hash, id;
    char *key;
    size_t len;
};
struct profile_table {
    struct profile_slot *slots;
    size_t n, nslots;
};

static struct profile_slot *table_find(struct profile_table *t, const void *key, size_t len, uint64_t h) {
    for (size_t at = h & (t->nslots - 1);; at = (at + 1) & (t->nslots - 1)) {
        struct profile_slot *s = &t->slots[at];
        if (!s->key || (s->hash == h && s->len == len && memcmp(s->key, key, len) == 0))
            return s;
    }
}

static bool table_grow(struct profile_table *t) {
    size_t nslots = t->nslots ? t->nslots * 2 : 256;
    struct profile_slot *slots = calloc(nslots, sizeof(*slots));
    if (!slots)
        return false;
    struct profile_table bigger = {slots, t->n, nslots};
    for (size_t i = 0; i < t->nslots; i++)
        if (t->slots[i].key)
            *table_find(&bigger, t->slots[i].key, t->slots[i].len, t->slots[i].hash) = t->slots[i];
    free(t->slots);
    *t = bigger;
    return true;
}

/* The ID stored for key, or 0; *slot is where a new one goes. */
static uint64_t table_get(struct profile_table *t, const void *key, size_t len, struct profile_slot **slot) {
    if ((t->n + 1) * 2 > t->nslots && !table_grow(t)) {
        *slot = NULL;
        return 0;
    }
    uint64_t h = fnv1a(key, len);
    *slot = table_find(t, key, len, h);
    (*slot)->hash = h;
    return (*slot)->key ? (*slot)->id : 0;
}

static bool table_put(struct profile_table *t, struct profile_slot *slot, const void *key, size_t len,
                      uint64_t id) {
    if (!slot || !(slot->key = malloc(len ? len : 1)))
        return false;
    memcpy(slot->key, key, len);
    slot->len = len;
    slot->id = id;
    t->n++;
    return true;
}

static void table_free(struct profile_table *t) {
    for (size_t i = 0; t && i < t->nslots; i++)
        free(t->slots[i].key);
    if (t)
        free(t->slots);
    free(t);
}

static bool push(void ***items, size_t *n, size_t *cap, void *item) {
    if (!item)
        return false;
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 64;
        void **p = realloc(*items, c * sizeof(*p));
        if (!p)
            return false;
        *items = p;
        *cap = c;
    }
    (*items)[(*n)++] = item;
    return true;
}

/* The index of s in the string table, added once. */
static int64_t string_id(struct profile_builder *b, const char *s) {
    struct profile_slot *slot;
    size_t len = strlen(s);
    uint64_t id = table_get(b->string_ids, s, len, &slot);
    if (id || len == 0)
        return (int64_t)id;
    char *copy = strdup(s);
    size_t before = b->nstrings;
    if (!copy || !push((void ***)&b->strings, &b->nstrings, &b->strings_cap, copy) ||
        !table_put(b->string_ids, slot, s, len, before)) {
        b->oom = true;
        return 0;
    }
    return (int64_t)before;
}

bool profile_builder_init(struct profile_builder *b, size_t nvalues, const char *const types[][2],
                          const char *period_type, const char *period_unit, int64_t period) {
    memset(b, 0, sizeof(*b));
    b->string_ids = calloc(1, sizeof(struct profile_table));
    b->function_ids = calloc(1, sizeof(struct profile_table));
    b->location_ids = calloc(1, sizeof(struct profile_table));
    b->sample_ids = calloc(1, sizeof(struct profile_table));
    char *empty = strdup("");
    if (!b->string_ids || !b->function_ids || !b->location_ids || !b->sample_ids || nvalues == 0 ||
        nvalues > PROFILE_MAX_VALUES || !push((void ***)&b->strings, &b->nstrings, &b->strings_cap, empty))
        return false;
    b->nvalues = nvalues;
    for (size_t i = 0; i < nvalues; i++) {
        b->sample_types[i][0] = string_id(b, types[i][0]);
        b->sample_types[i][1] = string_id(b, types[i][1]);
    }
    b->period_type[0] = string_id(b, period_type);
    b->period_type[1] = string_id(b, period_unit);
    b->period = period;
    return !b->oom;
}

void profile_set_default_sample_type(struct profile_builder *b, const char *type) {
    b->default_sample_type = string_id(b, type);
}

void profile_builder_free(struct profile_builder *b) {
    for (size_t i = 0; i < b->nstrings; i++)
        free(b->strings[i]);
    free(b->strings);
    for (size_t i = 0; i < b->nfunctions; i++)
        free(b->functions[i]);
    free(b->functions);
    for (size_t i = 0; i < b->nlocations; i++) {
        Gmon__Pprof__Location *l = b->locations[i];
        for (size_t j = 0; j < l->n_line; j++)
            free(l->line[j]);
        free(l->line);
        free(l);
    }
    free(b->locations);
    for (size_t i = 0; i < b->nsamples; i++) {
        Gmon__Pprof__Sample *s = b->samples[i];
        for (size_t j = 0; j < s->n_label; j++)
            free(s->label[j]);
        free(s->label);
        free(s->location_id);
        free(s->value);
        free(s);
    }
    free(b->samples);
    for (size_t i = 0; i < b->nmappings; i++)
        free(b->mappings[i]);
    free(b->mappings);
    table_free(b->string_ids);
    table_free(b->function_ids);
    table_free(b->location_ids);
    table_free(b->sample_ids);
    memset(b, 0, sizeof(*b));
}

uint64_t profile_add_mapping(struct profile_builder *b, uint64_t start, uint64_t limit, uint64_t offset,
                             const char *file, const char *build_id) {
    Gmon__Pprof__Mapping *m = malloc(sizeof(*m));
    if (!m) {
        b->oom = true;
        return 0;
    }
    gmon__pprof__mapping__init(m);
    m->id = b->nmappings + 1;
    m->memory_start = start;
    m->memory_limit = limit;
    m->file_offset = offset;
    m->filename = string_id(b, file);
    m->build_id = string_id(b, build_id ? build_id : "");
    m->has_functions = m->has_filenames = m->has_line_numbers = m->has_inline_frames = 1;
    size_t cap = b->nmappings;
    if (!push(&b->mappings, &b->nmappings, &cap, m)) {
        b->oom = true;
        free(m);
        return 0;
    }
    return m->id;
}

/* The ID of a function by its name and file, added once. */
static uint64_t function_id(struct profile_builder *b, const struct profile_line *l) {
    char key[1024];
    int len = snprintf(key, sizeof(key), "%s%c%s", l->function, 0, l->file);
    if (len < 0 || (size_t)len >= sizeof(key))
        len = sizeof(key) - 1;
    struct profile_slot *slot;
    uint64_t id = table_get(b->function_ids, key, (size_t)len, &slot);
    if (id)
        return id;
    Gmon__Pprof__Function *f = malloc(sizeof(*f));
    if (!f) {
        b->oom = true;
        return 0;
    }
    gmon__pprof__function__init(f);
    f->id = b->nfunctions + 1;
    f->name = f->system_name = string_id(b, l->function);
    f->filename = string_id(b, l->file);
    f->start_line = l->start_line;
    if (!push(&b->functions, &b->nfunctions, &b->functions_cap, f) ||
        !table_put(b->function_ids, slot, key, (size_t)len, f->id)) {
        b->oom = true;
        return 0;
    }
    return f->id;
}

uint64_t profile_location(struct profile_builder *b, uint64_t mapping, uint64_t address,
                          const struct profile_line *lines, size_t nlines) {
    enum { MAX_LINES = 64 };
    if (nlines == 0 || nlines > MAX_LINES)
        return 0;
    uint64_t key[2 + 2 * MAX_LINES];
    key[0] = address;
    key[1] = nlines;
    for (size_t i = 0; i < nlines; i++) {
        key[2 + 2 * i] = function_id(b, &lines[i]);
        key[3 + 2 * i] = (uint64_t)lines[i].line;
    }
    size_t len = (2 + 2 * nlines) * sizeof(uint64_t);
    struct profile_slot *slot;
    uint64_t id = table_get(b->location_ids, key, len, &slot);
    if (id)
        return id;
    Gmon__Pprof__Location *l = malloc(sizeof(*l));
    Gmon__Pprof__Line **ls = calloc(nlines, sizeof(*ls));
    if (!l || !ls) {
        free(l);
        free(ls);
        b->oom = true;
        return 0;
    }
    gmon__pprof__location__init(l);
    l->id = b->nlocations + 1;
    l->mapping_id = mapping;
    l->address = address;
    l->line = ls;
    for (size_t i = 0; i < nlines; i++) {
        if (!(ls[i] = malloc(sizeof(**ls)))) {
            b->oom = true;
            break;
        }
        gmon__pprof__line__init(ls[i]);
        ls[i]->function_id = key[2 + 2 * i];
        ls[i]->line = (int64_t)key[3 + 2 * i];
        l->n_line++;
    }
    if (!push(&b->locations, &b->nlocations, &b->locations_cap, l) ||
        !table_put(b->location_ids, slot, key, len, l->id)) {
        b->oom = true;
        return 0;
    }
    return l->id;
}

static Gmon__Pprof__Sample *new_sample(struct profile_builder *b, const uint64_t *locations, size_t n,
                                       const int64_t *label_ids, size_t nlabels) {
    Gmon__Pprof__Sample *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    gmon__pprof__sample__init(s);
    s->location_id = malloc((n ? n : 1) * sizeof(*locations));
    s->value = calloc(b->nvalues, sizeof(*s->value));
    s->label = calloc(nlabels ? nlabels : 1, sizeof(*s->label));
    if (!s->location_id || !s->value || !s->label)
        return s; /* freed with the builder */
    memcpy(s->location_id, locations, n * sizeof(*locations));
    s->n_location_id = n;
    s->n_value = b->nvalues;
    for (size_t i = 0; i < nlabels; i++) {
        Gmon__Pprof__Label *l = malloc(sizeof(*l));
        if (!l)
            break;
        gmon__pprof__label__init(l);
        l->key = label_ids[3 * i];
        l->str = label_ids[3 * i + 1];
        l->num = label_ids[3 * i + 2];
        s->label[s->n_label++] = l;
    }
    return s;
}

bool profile_add_sample(struct profile_builder *b, const uint64_t *locations, size_t nlocations,
                        const int64_t *values, const struct profile_label *labels, size_t nlabels) {
    enum { MAX_LABELS = 64, MAX_DEPTH = 4096 };
    if (nlabels > MAX_LABELS || nlocations > MAX_DEPTH)
        return false;
    int64_t label_ids[3 * MAX_LABELS]; /* key, str, num of each */
    for (size_t i = 0; i < nlabels; i++) {
        label_ids[3 * i] = string_id(b, labels[i].key);
        label_ids[3 * i + 1] = labels[i].value ? string_id(b, labels[i].value) : 0;
        label_ids[3 * i + 2] = labels[i].value ? 0 : labels[i].num;
    }
    size_t len = (nlocations + 1) * sizeof(uint64_t) + 3 * nlabels * sizeof(int64_t);
    uint64_t *key = malloc(len);
    if (!key)
        return !(b->oom = true);
    key[0] = nlocations;
    memcpy(key + 1, locations, nlocations * sizeof(uint64_t));
    memcpy(key + 1 + nlocations, label_ids, 3 * nlabels * sizeof(int64_t));
    struct profile_slot *slot = NULL;
    uint64_t id = b->keep_samples_apart ? 0 : table_get(b->sample_ids, key, len, &slot);
    if (!id) {
        Gmon__Pprof__Sample *s = new_sample(b, locations, nlocations, label_ids, nlabels);
        if (!s || !push(&b->samples, &b->nsamples, &b->samples_cap, s) || !s->value ||
            (!b->keep_samples_apart && !table_put(b->sample_ids, slot, key, len, b->nsamples))) {
            free(key);
            return !(b->oom = true);
        }
        id = b->nsamples;
    }
    free(key);
    Gmon__Pprof__Sample *s = b->samples[id - 1];
    for (size_t i = 0; i < b->nvalues; i++)
        s->value[i] += values[i];
    return true;
}

/* gzip (RFC 1952) of data, as pprof expects its files. */
static int write_gzip(const uint8_t *data, size_t len, FILE *out, struct gmon_error *err) {
    z_stream z = {0};
    if (deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return gmon_fail(err, "zlib: cannot start compressing");
    uint8_t buf[65536];
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    int rc;
    do {
        z.next_out = buf;
        z.avail_out = sizeof(buf);
        rc = deflate(&z, Z_FINISH);
        size_t have = sizeof(buf) - z.avail_out;
        if (have && fwrite(buf, 1, have, out) != have) {
            deflateEnd(&z);
            return gmon_fail(err, "cannot write the profile");
        }
    } while (rc == Z_OK);
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : gmon_fail(err, "zlib: compression failed");
}

int profile_write(struct profile_builder *b, FILE *out, int64_t time_ns, struct gmon_error *err) {
    if (b->oom)
        return gmon_fail(err, "out of memory while building the profile");
    Gmon__Pprof__ValueType types[PROFILE_MAX_VALUES], period;
    Gmon__Pprof__ValueType *type_ptrs[PROFILE_MAX_VALUES];
    for (size_t i = 0; i < b->nvalues; i++) {
        gmon__pprof__value_type__init(&types[i]);
        types[i].type = b->sample_types[i][0];
        types[i].unit = b->sample_types[i][1];
        type_ptrs[i] = &types[i];
    }
    gmon__pprof__value_type__init(&period);
    period.type = b->period_type[0];
    period.unit = b->period_type[1];
    Gmon__Pprof__Profile p;
    gmon__pprof__profile__init(&p);
    p.n_sample_type = b->nvalues;
    p.sample_type = type_ptrs;
    p.n_sample = b->nsamples;
    p.sample = (Gmon__Pprof__Sample **)b->samples;
    p.n_mapping = b->nmappings;
    p.mapping = (Gmon__Pprof__Mapping **)b->mappings;
    p.n_location = b->nlocations;
    p.location = (Gmon__Pprof__Location **)b->locations;
    p.n_function = b->nfunctions;
    p.function = (Gmon__Pprof__Function **)b->functions;
    p.n_string_table = b->nstrings;
    p.string_table = b->strings;
    p.time_nanos = b->start_ns ? b->start_ns : time_ns;
    p.duration_nanos = b->duration_ns;
    p.period_type = &period;
    p.period = b->period;
    p.default_sample_type = b->default_sample_type;
    size_t len = gmon__pprof__profile__get_packed_size(&p);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return gmon_fail(err, "out of memory while encoding the profile");
    gmon__pprof__profile__pack(&p, buf);
    int rc = write_gzip(buf, len, out, err);
    free(buf);
    return rc;
}

int64_t profile_go_int64(double x) {
    return x > -9223372036854775808.0 && x < 9223372036854775808.0 ? (int64_t)x : INT64_MIN;
}
