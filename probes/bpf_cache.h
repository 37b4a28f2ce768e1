/* Compiled BPF programs kept between runs, so that a tracing command whose program was compiled before (same
 * source, same -D flags, same kernel, same libbcc: all in the key) attaches without running the compiler.
 *
 * One directory per user: $GMON_CACHE_DIR, else $XDG_CACHE_HOME/gmon/bpf, else $HOME/.cache/gmon/bpf. A
 * program loaded into the kernel runs with the loader's privileges, so the cache is used only when the
 * directory is the caller's own (owned by the effective user, no access for group or others, not a symbolic
 * link) and each entry is a regular file of the same owner that nobody else can write: another user can
 * neither feed gmon a program nor read one. An entry holds its whole key, compared byte for byte, and a
 * checksum; one that does not match is ignored and compiled again (and replaced). At most
 * BPF_CACHE_MAX_ENTRIES are kept, the least recently used removed first. `gmon cache clear` empties it. */
#ifndef GMON_BPF_CACHE_H
#define GMON_BPF_CACHE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gmon_error.h"

enum { BPF_CACHE_MAX_ENTRIES = 64 };

struct bpf_cache {
    int dir_fd; /* -1: not in use, for the reason in why_off */
    char path[4096];
    char why_off[512];
};

/* Opens (creating it when create is set) the caller's cache directory. Returns true when it can be used;
 * otherwise dir_fd is -1 and why_off says why (the directory is someone else's, open to others, ...). */
bool bpf_cache_open(struct bpf_cache *c, bool create);
void bpf_cache_close(struct bpf_cache *c);

/* The object stored under key, in a malloc'd buffer; false when there is none or the entry is damaged. */
bool bpf_cache_get(struct bpf_cache *c, const void *key, size_t key_size, uint8_t **object, size_t *size);
/* Stores object under key (written to a temporary file, then renamed: a reader never sees half an entry);
 * false, with nothing left behind, when it cannot. */
bool bpf_cache_put(struct bpf_cache *c, const void *key, size_t key_size, const uint8_t *object, size_t size);

/* The number of entries and their bytes. */
void bpf_cache_usage(struct bpf_cache *c, size_t *entries, uint64_t *bytes);
/* Removes every entry; the number removed, or -1 with the reason. */
long bpf_cache_clear(struct bpf_cache *c, struct gmon_error *err);

/* Checks one cache entry's bytes against key: true when it is whole, of this key, and gives the object's
 * place in it. Exposed for the fuzz target. */
bool bpf_cache_entry_parse(const uint8_t *entry, size_t entry_size, const void *key, size_t key_size,
                           size_t *object_at, size_t *object_size);

#endif
