#include "go_binary.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "go_release_evidence.h"

const char *go_version_source_name(enum go_version_source s) {
    switch (s) {
    case GOVER_BUILDINFO:
        return "build info (.go.buildinfo)";
    case GOVER_SYMTAB:
        return "runtime.buildVersion (symbol table)";
    case GOVER_DATA_SCAN:
        return "runtime.buildVersion (found in data)";
    case GOVER_PCLNTAB_FAMILY:
        return "pclntab magic (release family only)";
    case GOVER_USER:
        return "--go-version";
    }
    return "?";
}

static const char *SECTION_NAMES[] = {".gopclntab", ".data.rel.ro.gopclntab"};

/* The table by section name, or (PIE/relro builds without the section) by scanning every loadable segment. */
static int find_pclntab(struct go_binary *b, struct gmon_error *err) {
    struct gmon_error why = {{0}};
    for (size_t i = 0; i < sizeof(SECTION_NAMES) / sizeof(SECTION_NAMES[0]); i++) {
        const struct elf_section *sec = elf_image_section(&b->elf, SECTION_NAMES[i]);
        const uint8_t *d = elf_image_section_data(&b->elf, sec);
        if (!sec)
            continue;
        if (!d)
            return gmon_fail(err, "%s section lies outside the file (truncated?)", sec->name);
        if (pclntab_parse(&b->pcln, d, sec->size, sec->addr, err) != 0)
            return -1;
        b->pclntab_where = SECTION_NAMES[i];
        return 0;
    }
    for (size_t i = 0; i < b->elf.nloads; i++) {
        const struct elf_segment *s = &b->elf.loads[i];
        if (s->offset > b->elf.size || s->filesz > b->elf.size - s->offset)
            continue; /* a segment header pointing outside the file (damaged or crafted) */
        const uint8_t *base = b->elf.data + s->offset;
        for (uint64_t off = 0; off + 72 <= s->filesz; off += 8) {
            if (!pclntab_header_plausible(base + off, s->filesz - off))
                continue;
            if (pclntab_parse(&b->pcln, base + off, s->filesz - off, s->vaddr + off, &why) == 0) {
                b->pclntab_where = "segment scan";
                return 0;
            }
        }
    }
    if (why.msg[0])
        return gmon_fail(err, "%s", why.msg);
    return gmon_fail(err, "%s",
                     b->buildinfo.found ? "Go build info present but no .gopclntab (damaged binary?)"
                                        : "not a Go binary (no .gopclntab and no Go build info)");
}

static void version_from_family(struct go_binary *b) {
    /* The oldest release of the family: the layout differs within 1.20+, so no layout is chosen from it. */
    int minor = b->pcln.magic == PCLNTAB_MAGIC_116 ? 17 : b->pcln.magic == PCLNTAB_MAGIC_118 ? 18 : 20;
    snprintf(b->version_string, sizeof(b->version_string), "%s", pclntab_family_name(b->pcln.magic));
    b->version = (struct go_version){.major = 1, .minor = minor};
    b->version_source = GOVER_PCLNTAB_FAMILY;
    b->version_exact = false;
}

static void resolve_version(struct go_binary *b) {
    bool from_symtab;
    if (b->buildinfo.found && b->buildinfo.version[0] &&
        go_version_parse(b->buildinfo.version, &b->version, NULL) == 0) {
        snprintf(b->version_string, sizeof(b->version_string), "%s", b->buildinfo.version);
        b->version_source = GOVER_BUILDINFO;
        b->version_exact = true;
    } else if (go_buildversion_find(&b->elf, b->version_string, sizeof(b->version_string), &from_symtab) &&
               go_version_parse(b->version_string, &b->version, NULL) == 0) {
        b->version_source = from_symtab ? GOVER_SYMTAB : GOVER_DATA_SCAN;
        b->version_exact = true;
    } else {
        version_from_family(b);
    }
}

static const uint8_t *read_elf_vaddr(const void *ctx, uint64_t vaddr, size_t len) {
    return elf_image_at_vaddr(ctx, vaddr, len);
}

static int attach_moduledata(struct go_binary *b, struct gmon_error *err) {
    int minor = b->version_exact ? b->version.minor : 0;
    if (go_moduledata_find(&b->elf, &b->pcln, minor, &b->md, err) != 0)
        return -1;
    b->pcln.read_vaddr = read_elf_vaddr;
    b->pcln.read_ctx = &b->elf;
    if (b->pcln.magic == PCLNTAB_MAGIC_116) {
        /* absolute PCs and funcdata pointers: moduledata only tells where text starts */
        b->pcln.text_start = b->md.found ? b->md.text : 0;
        return 0;
    }
    if (b->md.found) {
        b->pcln.text_start = b->md.text;
        b->pcln.gofunc = b->md.gofunc;
    } else if (b->pcln.header_text_start == 0) {
        return gmon_fail(err,
                         "cannot find moduledata, and the pclntab header has no text address (Go 1.26+)");
    }
    return 0;
}

/* Length of the directory part of path ("a/b/c.go" -> 3). */
static size_t dir_length(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? (size_t)(slash - path) : 0;
}

/* Without build info, a -trimpath build still names its files "<import path>/<file>": the main package is the
 * directory of main.main's file, and the module is the longest directory prefix it shares with the other
 * files of the same repository host/owner that are not versioned dependencies ("path@version/..."). */
static void infer_module_from_sources(struct go_binary *b) {
    struct go_func fn;
    const char *file;
    int line;
    if (!go_binary_find_func(b, "main.main", &fn, NULL) ||
        !pclntab_line(&b->pcln, &fn, fn.entry, &file, &line) || file[0] == '/' || dir_length(file) == 0)
        return;
    size_t main_len = dir_length(file);
    const char *owner_end = strchr(file, '/');
    owner_end = owner_end ? strchr(owner_end + 1, '/') : NULL;
    size_t owner_len = owner_end ? (size_t)(owner_end - file) + 1 : main_len;
    size_t common = main_len;
    const char *p = (const char *)b->pcln.data + b->pcln.filetab;
    const char *end = (const char *)b->pcln.data + b->pcln.filetab_end;
    while (p < end) {
        size_t n = strnlen(p, (size_t)(end - p));
        if (n > owner_len && strncmp(p, file, owner_len) == 0 && !memchr(p, '@', n)) {
            size_t i = 0;
            while (i < common && i < n && p[i] == file[i])
                i++;
            while (i > 0 && i < main_len && file[i] != '/')
                i--; /* back to a whole path element */
            common = i;
        }
        p += n + 1;
    }
    snprintf(b->buildinfo.main_path, sizeof(b->buildinfo.main_path), "%.*s", (int)main_len, file);
    if (common > owner_len)
        snprintf(b->buildinfo.mod_path, sizeof(b->buildinfo.mod_path), "%.*s", (int)common, file);
    b->module_inferred = true;
}

int go_binary_open(struct go_binary *b, const char *path, struct gmon_error *err) {
    memset(b, 0, sizeof(*b));
    if (elf_image_open(&b->elf, path, err) != 0)
        return -1;
    struct gmon_error bi_err = {{0}};
    if (go_buildinfo_read(&b->elf, &b->buildinfo, &bi_err) != 0) {
        snprintf(b->buildinfo_problem, sizeof(b->buildinfo_problem), "%s", bi_err.msg);
        b->buildinfo.version[0] = '\0';
    }
    if (find_pclntab(b, err) != 0 || (resolve_version(b), attach_moduledata(b, err)) != 0) {
        go_binary_close(b);
        return -1;
    }
    if (!b->buildinfo.main_path[0])
        infer_module_from_sources(b);
    b->stripped = elf_image_section(&b->elf, ".symtab") == NULL;
    b->has_dwarf = elf_image_section(&b->elf, ".debug_info") || elf_image_section(&b->elf, ".zdebug_info");
    return 0;
}

void go_binary_close(struct go_binary *b) {
    elf_image_close(&b->elf);
}

/* The pclntab family each minor release writes. */
static uint32_t magic_of_minor(int minor) {
    return minor <= 17 ? PCLNTAB_MAGIC_116 : minor <= 19 ? PCLNTAB_MAGIC_118 : PCLNTAB_MAGIC_120;
}

/* A release the binary itself contradicts: what its build info or runtime.buildVersion says, or what its
 * runtime functions show. */
static bool contradicted(const struct go_binary *b, const char *user, const struct go_version *v,
                         struct gmon_error *err) {
    bool says = b->version_source != GOVER_PCLNTAB_FAMILY && b->version_source != GOVER_USER;
    if (says && (b->version.major != v->major || b->version.minor != v->minor)) {
        gmon_fail(err,
                  "--go-version %s contradicts the binary's %s, which says %s (--go-version is for binaries "
                  "whose build info is damaged)",
                  user, go_version_source_name(b->version_source), b->version_string);
        return true;
    }
    struct go_release_evidence e;
    go_release_evidence_read(&b->pcln, &e);
    if (v->minor < e.min_minor && e.min_because[0]) {
        gmon_fail(err, "--go-version %s contradicts the binary: it has %s, which Go 1.%d introduced", user,
                  e.min_because, e.min_minor);
        return true;
    }
    if (v->minor > e.max_minor && e.max_because[0]) {
        gmon_fail(err, "--go-version %s contradicts the binary: it has %s, which Go 1.%d removed", user,
                  e.max_because, e.max_minor + 1);
        return true;
    }
    return false;
}

int go_binary_set_version(struct go_binary *b, const char *user, struct gmon_error *err) {
    struct go_version v;
    if (go_version_parse_user(user, &v, err) != 0)
        return -1;
    if (v.minor >= 16 && magic_of_minor(v.minor) != b->pcln.magic)
        return gmon_fail(err, "--go-version %s does not match the binary, whose pclntab is from %s", user,
                         pclntab_family_name(b->pcln.magic));
    if (contradicted(b, user, &v, err))
        return -1;
    b->version = v;
    snprintf(b->version_string, sizeof(b->version_string), "go%d.%d.%d", v.major, v.minor, v.patch);
    b->version_source = GOVER_USER;
    b->version_exact = true;
    return 0;
}

bool go_binary_is_abi_wrapper(const struct go_binary *b, const struct go_func *fn) {
    static const uint8_t prologue[] = {0x45, 0x0f, 0x57, 0xff, 0x64, 0x4c, 0x8b,
                                       0x34, 0x25, 0xf8, 0xff, 0xff, 0xff};
    const uint8_t *code = elf_image_at_vaddr(&b->elf, fn->entry, sizeof(prologue));
    return code && memcmp(code, prologue, sizeof(prologue)) == 0;
}

bool go_binary_find_func(const struct go_binary *b, const char *name, struct go_func *fn, int *wrappers) {
    struct go_func found[8];
    size_t n = pclntab_funcs_named(&b->pcln, name, found, 8);
    int skipped = 0;
    bool have = false;
    for (size_t i = 0; i < n; i++) {
        if (go_binary_is_abi_wrapper(b, &found[i])) {
            skipped++;
            continue;
        }
        /* Of several non-wrappers (never seen), keep the largest: the real body, not a stub. */
        if (!have || found[i].end - found[i].entry > fn->end - fn->entry)
            *fn = found[i];
        have = true;
    }
    if (wrappers)
        *wrappers = skipped;
    return have;
}
