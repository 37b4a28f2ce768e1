/* Creation sites of goroutines: the symbolized user stack that ran each `go` statement, and the label set
 * (stack_0..stack_4) it is counted under in metrics. stack_0 is the function containing the `go` statement
 * (g.gopc), the next labels its callers; runtime frames above it (newproc, systemstack) are dropped. The
 * number of label sets is capped: sites beyond the cap fold into one "other" set, so a target cannot blow up
 * Prometheus. */
#ifndef GMON_CREATION_SITES_H
#define GMON_CREATION_SITES_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "go_binary.h"
#include "lifecycle_probes.h"
#include "pc_cache.h"

enum { SITE_LABELS = 5, SITE_MAX_FRAMES = 48 };

/* Runtime address minus link-time address of the binary in program `image` of process tgid (0 for non-PIE;
 * image SITE_IMAGE_CURRENT: the program it runs now). */
typedef bool (*site_bias_fn)(void *ctx, uint32_t tgid, uint32_t image, uint64_t *bias);
#define SITE_IMAGE_CURRENT UINT32_MAX

struct site {
    struct site_key key;
    bool used;
    size_t label_set;
    size_t nframes;
    char *frames[SITE_MAX_FRAMES]; /* innermost first, inlined frames included */
    char location[256];            /* file:line of the `go` statement */
    /* What the command's log lines say of this site, rendered once by the command (NULL until then); freed
     * with the site. */
    char *log_attrs;
    size_t log_attrs_len;
    /* The same for what they say of a goroutine besides its IDs (its process and start function), for start
     * PC ident_startpc. */
    char *ident_attrs;
    size_t ident_attrs_len;
    uint64_t ident_startpc;
    /* The last start PC named for a goroutine of this site and its name: a site's goroutines nearly always
     * start in the same function, named once instead of at every event. */
    uint64_t named_startpc;
    char startpc_name[256];
};

struct label_set {
    char *labels[SITE_LABELS];
    struct site_stats retired; /* totals of processes that exited (their BPF entries are gone) */
};

struct creation_sites {
    const struct go_binary *bin;
    struct lifecycle_probes *probes;
    site_bias_fn bias;
    void *bias_ctx;
    size_t max_label_sets;
    struct site *table; /* open addressing by site key */
    size_t nsites, capacity;
    struct label_set *sets;
    size_t nsets, sets_cap;
    size_t other; /* index of the "other" set, SIZE_MAX until a site folds */
    uint64_t folded_sites;
    /* Start functions by link-time PC (creation_sites_function_name): gr names every row's, and a storm's
     * rows share a few; the pclntab search per row was a tenth of gr's time. Bounded by the binary's
     * functions. */
    struct pc_cache names;
};

void creation_sites_init(struct creation_sites *cs, const struct go_binary *bin,
                         struct lifecycle_probes *probes, site_bias_fn bias, void *bias_ctx,
                         size_t max_label_sets);
void creation_sites_free(struct creation_sites *cs);
/* The site for a key, symbolized on first sight. NULL only when out of memory. */
struct site *creation_sites_get(struct creation_sites *cs, const struct site_key *key);
/* Drops the sites of a process that has ended (its counts live on in the label sets' retired totals): a
 * --path trace of a program started every second would otherwise grow without end. */
void creation_sites_forget_process(struct creation_sites *cs, uint32_t tgid);
/* The name of a goroutine's start function (creation_sites_function_name), cached in its site. */
const char *creation_sites_start_name(struct creation_sites *cs, struct site *s, uint32_t tgid,
                                      uint64_t startpc);
/* Names the function at a runtime PC of process tgid ("main.worker"), or "0x..." when unknown. */
void creation_sites_function_name(struct creation_sites *cs, uint32_t tgid, uint64_t pc, char *out,
                                  size_t size);

#endif
