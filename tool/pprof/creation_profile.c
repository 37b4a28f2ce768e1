#include "creation_profile.h"

#include <stdio.h>
#include <string.h>

enum { MAX_DEPTH = 64, MAX_INLINE = 32 };

bool creation_profile_init(struct profile_builder *p, enum creation_profile_kind kind) {
    static const char *const CREATION[][2] = {
        {"created", "count"}, {"exited", "count"}, {"live", "count"}, {"lifetime", "nanoseconds"}};
    static const char *const LIVE[][2] = {{"live", "count"}, {"age", "nanoseconds"}};
    bool ok = kind == CREATION_PROFILE ? profile_builder_init(p, 4, CREATION, "created", "count", 1)
                                       : profile_builder_init(p, 2, LIVE, "live", "count", 1);
    if (ok) /* go tool pprof ranks by count unless told otherwise */
        profile_set_default_sample_type(p, kind == CREATION_PROFILE ? "created" : "live");
    return ok && !p->oom;
}

/* A physical return address as one location: the frames of the CALL before it, inlined ones first. */
static uint64_t location_of(struct profile_builder *p, uint64_t mapping, const struct pclntab *pcln,
                            uint64_t load_bias, uint64_t pc) {
    struct go_frame frames[MAX_INLINE];
    struct profile_line lines[MAX_INLINE];
    int n = pclntab_frames_at_return(pcln, pc - load_bias, frames, MAX_INLINE);
    if (n > 0 && strcmp(frames[n - 1].function, "runtime.goexit") == 0)
        return 0; /* the bottom of every stack: Go's profiles leave it out */
    for (int i = 0; i < n; i++)
        lines[i] =
            (struct profile_line){frames[i].function, frames[i].file, frames[i].line, frames[i].start_line};
    return profile_location(p, mapping, pc - 1, lines, n > 0 ? (size_t)n : 0);
}

bool creation_profile_add(struct profile_builder *p, uint64_t mapping, const struct pclntab *pcln,
                          uint64_t load_bias, const uint64_t *pcs, size_t n, const int64_t *values, int pid) {
    uint64_t locs[MAX_DEPTH];
    size_t nlocs = 0;
    for (size_t i = 0; i < n && nlocs < MAX_DEPTH; i++) {
        uint64_t id = location_of(p, mapping, pcln, load_bias, pcs[i]);
        if (id)
            locs[nlocs++] = id;
    }
    char pid_text[16];
    snprintf(pid_text, sizeof(pid_text), "%d", pid);
    struct profile_label label = {"pid", pid_text, 0};
    return profile_add_sample(p, locs, nlocs, values, &label, pid > 0 ? 1 : 0);
}
