/* A pprof profile (the format `go tool pprof` reads: gzipped protobuf, profile.proto) built up a sample at a
 * time, with strings, functions and locations stored once each, and identical samples (same locations and
 * labels) merged by adding their values. Encoded with protobuf-c from profile.proto, gzipped with zlib. The
 * base of every profile gmon writes. */
#ifndef GMON_PROFILE_BUILDER_H
#define GMON_PROFILE_BUILDER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "gmon_error.h"

enum { PROFILE_MAX_VALUES = 4 };

struct profile_line {
    const char *function, *file;
    int line, start_line;
};

/* A string label (value set), or a numeric one (value NULL: num, as Go's heap profile labels each sample
 * with the object size, "bytes"). */
struct profile_label {
    const char *key, *value;
    int64_t num;
};

struct profile_table; /* a hash set, inside the .c */

struct profile_builder {
    size_t nvalues;
    /* the strings, functions, locations and samples so far (protobuf-c messages, owned) */
    char **strings;
    size_t nstrings, strings_cap;
    struct profile_table *string_ids, *function_ids, *location_ids, *sample_ids;
    void **functions, **locations, **samples, **mappings;
    size_t nfunctions, functions_cap, nlocations, locations_cap, nsamples, samples_cap, nmappings;
    int64_t sample_types[PROFILE_MAX_VALUES][2], period_type[2], period;
    int64_t default_sample_type; /* string ID; 0: pprof's default, the last sample type */
    /* Every sample kept as added, equal ones too: Go writes one sample per profile bucket (the heap
     * profile), and tools that count samples see as many as Go's own file has. */
    bool keep_samples_apart;
    bool oom;
    /* A CPU profile's window: time_nanos (0: the time the profile is written) and duration_nanos. */
    int64_t start_ns, duration_ns;
};

/* types: nvalues "type/unit" pairs, e.g. {"goroutine", "count"}. */
bool profile_builder_init(struct profile_builder *b, size_t nvalues, const char *const types[][2],
                          const char *period_type, const char *period_unit, int64_t period);
void profile_builder_free(struct profile_builder *b);
/* The sample type `go tool pprof` shows unless told otherwise (a type given to init, e.g. "alloc_space"). */
void profile_set_default_sample_type(struct profile_builder *b, const char *type);
/* The mapping of one file: [start, limit) at file offset; returns its ID. */
uint64_t profile_add_mapping(struct profile_builder *b, uint64_t start, uint64_t limit, uint64_t offset,
                             const char *file, const char *build_id);
/* The mapping of process pid's executable (its first executable mapping, from /proc/PID/maps); 0 when
 * there is none. */
uint64_t profile_process_mapping(struct profile_builder *b, int pid);
/* A location at address with its lines, innermost inlined first; the same address and lines give the same
 * ID. 0 when out of memory. */
uint64_t profile_location(struct profile_builder *b, uint64_t mapping, uint64_t address,
                          const struct profile_line *lines, size_t nlines);
/* A sample (locations leaf first); merged into an equal one. */
bool profile_add_sample(struct profile_builder *b, const uint64_t *locations, size_t nlocations,
                        const int64_t *values, const struct profile_label *labels, size_t nlabels);
/* float64 to int64 as Go on amd64 converts it (CVTTSD2SQ): out of range and NaN give the "integer
 * indefinite", INT64_MIN, where C leaves the conversion undefined. Only memory read while it changed gets
 * there. */
int64_t profile_go_int64(double x);
/* Encodes, gzips and writes the profile. */
int profile_write(struct profile_builder *b, FILE *out, int64_t time_ns, struct gmon_error *err);

#endif
