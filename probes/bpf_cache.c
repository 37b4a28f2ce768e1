#include "bpf_cache.h"
#include "fd_io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* An entry: "GMONBPC1", u64 key size, the key, u64 object size, the object, u64 FNV-1a of everything before.
 */
static const char ENTRY_MAGIC[8] = {'G', 'M', 'O', 'N', 'B', 'P', 'C', '1'};
static const char ENTRY_SUFFIX[] = ".bpfobj";
enum { MAX_ENTRY = 64 << 20 };

static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}
static const uint64_t FNV_OFFSET = 0xcbf29ce484222325ULL;

static void entry_name(const void *key, size_t key_size, char *out, size_t size) {
    snprintf(out, size, "%016llx%s", (unsigned long long)fnv1a(FNV_OFFSET, key, key_size), ENTRY_SUFFIX);
}

/* The directory the cache lives in, by the environment; false when none can be named. */
static bool cache_path(struct bpf_cache *c) {
    const char *dir = getenv("GMON_CACHE_DIR"), *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (dir && dir[0])
        n = snprintf(c->path, sizeof(c->path), "%s", dir);
    else if (xdg && xdg[0] == '/')
        n = snprintf(c->path, sizeof(c->path), "%s/gmon/bpf", xdg);
    else if (home && home[0] == '/')
        n = snprintf(c->path, sizeof(c->path), "%s/.cache/gmon/bpf", home);
    else {
        snprintf(c->why_off, sizeof(c->why_off), "neither GMON_CACHE_DIR, XDG_CACHE_HOME nor HOME is set");
        return false;
    }
    if (n < 0 || (size_t)n >= sizeof(c->path)) {
        snprintf(c->why_off, sizeof(c->why_off), "the cache directory's path is too long");
        return false;
    }
    return true;
}

/* mkdir -p, each missing component created private to the user. */
static void create_directories(const char *path) {
    char partial[4096];
    snprintf(partial, sizeof(partial), "%s", path);
    for (char *slash = strchr(partial + 1, '/');; slash = strchr(slash + 1, '/')) {
        if (slash)
            *slash = '\0';
        if (mkdir(partial, 0700) != 0 && errno != EEXIST)
            return;
        if (!slash)
            return;
        *slash = '/';
    }
}

/* The directory must be the caller's alone: whoever else could write it could feed gmon a program. */
static bool directory_is_private(struct bpf_cache *c) {
    struct stat st;
    if (fstat(c->dir_fd, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(c->why_off, sizeof(c->why_off), "%s is not a directory", c->path);
        return false;
    }
    if (st.st_uid != geteuid()) {
        snprintf(c->why_off, sizeof(c->why_off), "%s belongs to uid %u, not to this user (uid %u)", c->path,
                 (unsigned)st.st_uid, (unsigned)geteuid());
        return false;
    }
    if (st.st_mode & 077) {
        snprintf(c->why_off, sizeof(c->why_off),
                 "%s is open to other users (mode %03o; chmod 700 it to use the cache)", c->path,
                 (unsigned)(st.st_mode & 0777));
        return false;
    }
    return true;
}

bool bpf_cache_open(struct bpf_cache *c, bool create) {
    memset(c, 0, sizeof(*c));
    c->dir_fd = -1;
    if (!cache_path(c))
        return false;
    if (create)
        create_directories(c->path);
    c->dir_fd = open(c->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (c->dir_fd < 0) {
        snprintf(c->why_off, sizeof(c->why_off), "cannot open %s: %s", c->path, strerror(errno));
        return false;
    }
    if (!directory_is_private(c)) {
        bpf_cache_close(c);
        return false;
    }
    return true;
}

void bpf_cache_close(struct bpf_cache *c) {
    if (c->dir_fd >= 0)
        close(c->dir_fd);
    c->dir_fd = -1;
}

static bool take_u64(const uint8_t *entry, size_t size, size_t *at, uint64_t *v) {
    if (size - *at < sizeof(*v))
        return false;
    memcpy(v, entry + *at, sizeof(*v));
    *at += sizeof(*v);
    return true;
}

bool bpf_cache_entry_parse(const uint8_t *entry, size_t entry_size, const void *key, size_t key_size,
                           size_t *object_at, size_t *object_size) {
    size_t at = sizeof(ENTRY_MAGIC);
    uint64_t stored_key, stored_object, checksum;
    if (entry_size < at || memcmp(entry, ENTRY_MAGIC, at) != 0 ||
        !take_u64(entry, entry_size, &at, &stored_key) || stored_key != key_size ||
        entry_size - at < key_size || memcmp(entry + at, key, key_size) != 0)
        return false;
    at += key_size;
    if (!take_u64(entry, entry_size, &at, &stored_object) || stored_object > entry_size - at)
        return false;
    size_t object_start = at;
    at += stored_object;
    size_t summed = at;
    if (!take_u64(entry, entry_size, &at, &checksum) || at != entry_size ||
        checksum != fnv1a(FNV_OFFSET, entry, summed))
        return false;
    *object_at = object_start;
    *object_size = stored_object;
    return true;
}

/* An entry file that only the caller could have written, read whole. */
static bool read_entry(struct bpf_cache *c, const char *name, uint8_t **data, size_t *size) {
    int fd = openat(c->dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat st;
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() && !(st.st_mode & 022) &&
              st.st_size > 0 && st.st_size <= MAX_ENTRY;
    uint8_t *buf = ok ? malloc((size_t)st.st_size) : NULL;
    ok = buf && pread(fd, buf, (size_t)st.st_size, 0) == st.st_size;
    if (ok)
        futimens(fd, NULL); /* recently used: kept when older entries are removed */
    close(fd);
    if (!ok) {
        free(buf);
        return false;
    }
    *data = buf;
    *size = (size_t)st.st_size;
    return true;
}

bool bpf_cache_get(struct bpf_cache *c, const void *key, size_t key_size, uint8_t **object, size_t *size) {
    if (c->dir_fd < 0)
        return false;
    char name[64];
    entry_name(key, key_size, name, sizeof(name));
    uint8_t *entry;
    size_t entry_size, at, n;
    if (!read_entry(c, name, &entry, &entry_size))
        return false;
    if (!bpf_cache_entry_parse(entry, entry_size, key, key_size, &at, &n)) {
        free(entry);
        return false;
    }
    memmove(entry, entry + at, n);
    *object = entry;
    *size = n;
    return true;
}

static bool is_entry(const char *name) {
    size_t n = strlen(name), s = sizeof(ENTRY_SUFFIX) - 1;
    return n > s && strcmp(name + n - s, ENTRY_SUFFIX) == 0;
}

/* Calls fn on each entry of the directory (by name, with its stat). */
static void for_each_entry(struct bpf_cache *c,
                           void (*fn)(void *ctx, const char *name, const struct stat *st), void *ctx) {
    int fd = dup(c->dir_fd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return;
    }
    rewinddir(d);
    struct dirent *e;
    struct stat st;
    while ((e = readdir(d)))
        if (is_entry(e->d_name) && fstatat(c->dir_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0)
            fn(ctx, e->d_name, &st);
    closedir(d);
}

struct oldest {
    char name[256];
    struct timespec mtime;
    size_t count;
};

static void note_oldest(void *ctx, const char *name, const struct stat *st) {
    struct oldest *o = ctx;
    if (o->count++ == 0 || st->st_mtim.tv_sec < o->mtime.tv_sec ||
        (st->st_mtim.tv_sec == o->mtime.tv_sec && st->st_mtim.tv_nsec < o->mtime.tv_nsec)) {
        snprintf(o->name, sizeof(o->name), "%s", name);
        o->mtime = st->st_mtim;
    }
}

/* Removes the least recently used entries beyond BPF_CACHE_MAX_ENTRIES. */
static void prune(struct bpf_cache *c) {
    for (int round = 0; round < BPF_CACHE_MAX_ENTRIES; round++) {
        struct oldest o = {0};
        for_each_entry(c, note_oldest, &o);
        if (o.count <= BPF_CACHE_MAX_ENTRIES)
            return;
        unlinkat(c->dir_fd, o.name, 0);
    }
}

bool bpf_cache_put(struct bpf_cache *c, const void *key, size_t key_size, const uint8_t *object,
                   size_t size) {
    if (c->dir_fd < 0)
        return false;
    char name[64], temp[96];
    entry_name(key, key_size, name, sizeof(name));
    snprintf(temp, sizeof(temp), ".%s.%d.tmp", name, (int)getpid());
    int fd = openat(c->dir_fd, temp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return false;
    uint64_t key_len = key_size, object_len = size, h = FNV_OFFSET;
    h = fnv1a(h, ENTRY_MAGIC, sizeof(ENTRY_MAGIC));
    h = fnv1a(h, &key_len, sizeof(key_len));
    h = fnv1a(h, key, key_size);
    h = fnv1a(h, &object_len, sizeof(object_len));
    h = fnv1a(h, object, size);
    bool ok = fd_write_all(fd, ENTRY_MAGIC, sizeof(ENTRY_MAGIC)) == 0 &&
              fd_write_all(fd, &key_len, sizeof(key_len)) == 0 && fd_write_all(fd, key, key_size) == 0 &&
              fd_write_all(fd, &object_len, sizeof(object_len)) == 0 && fd_write_all(fd, object, size) == 0 &&
              fd_write_all(fd, &h, sizeof(h)) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || renameat(c->dir_fd, temp, c->dir_fd, name) != 0) {
        unlinkat(c->dir_fd, temp, 0);
        return false;
    }
    prune(c);
    return true;
}

struct usage {
    size_t entries;
    uint64_t bytes;
};

static void add_usage(void *ctx, const char *name, const struct stat *st) {
    (void)name;
    struct usage *u = ctx;
    u->entries++;
    u->bytes += (uint64_t)st->st_size;
}

void bpf_cache_usage(struct bpf_cache *c, size_t *entries, uint64_t *bytes) {
    struct usage u = {0};
    if (c->dir_fd >= 0)
        for_each_entry(c, add_usage, &u);
    *entries = u.entries;
    *bytes = u.bytes;
}

struct removal {
    int dir_fd;
    long removed;
    int error;
};

static void remove_entry(void *ctx, const char *name, const struct stat *st) {
    (void)st;
    struct removal *r = ctx;
    if (unlinkat(r->dir_fd, name, 0) == 0)
        r->removed++;
    else
        r->error = errno;
}

long bpf_cache_clear(struct bpf_cache *c, struct gmon_error *err) {
    struct removal r = {c->dir_fd, 0, 0};
    for_each_entry(c, remove_entry, &r);
    if (r.error)
        return gmon_fail(err, "cannot remove entries of %s: %s", c->path, strerror(r.error));
    return r.removed;
}
