#include "go_buildinfo.h"

#include <elf.h>
#include <stdio.h>
#include <string.h>

#include "go_version.h"

static const char BUILDINFO_MAGIC[14] = "\xff Go buildinf:";
enum { BUILDINFO_HEADER = 32, MAX_STRING = 1 << 20 };

/* The blob: the .go.buildinfo section, or (section headers gone) a 16-aligned magic in the first writable,
 * non-executable PT_LOAD, as the Go linker places it there. */
static const uint8_t *find_blob(const struct elf_image *img, size_t *avail) {
    const struct elf_section *sec = elf_image_section(img, ".go.buildinfo");
    const uint8_t *p = elf_image_section_data(img, sec);
    if (p && sec->size >= BUILDINFO_HEADER && memcmp(p, BUILDINFO_MAGIC, sizeof(BUILDINFO_MAGIC)) == 0) {
        *avail = sec->size;
        return p;
    }
    for (size_t i = 0; i < img->nloads; i++) {
        const struct elf_segment *s = &img->loads[i];
        if (!(s->flags & PF_W) || (s->flags & PF_X))
            continue;
        const uint8_t *base = img->data + s->offset;
        for (uint64_t off = 0; off + BUILDINFO_HEADER <= s->filesz; off += 16) {
            if (memcmp(base + off, BUILDINFO_MAGIC, sizeof(BUILDINFO_MAGIC)) == 0) {
                *avail = s->filesz - off;
                return base + off;
            }
        }
        break; /* only the first writable segment holds it */
    }
    return NULL;
}

/* LEB128 unsigned varint; returns bytes consumed, 0 on truncation or overflow. */
static size_t read_uvarint(const uint8_t *p, size_t avail, uint64_t *out) {
    uint64_t v = 0;
    for (size_t i = 0; i < avail && i < 10; i++) {
        v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
        if (!(p[i] & 0x80)) {
            *out = v;
            return i + 1;
        }
    }
    return 0;
}

static int read_inline_string(const uint8_t **p, size_t *avail, const uint8_t **s, size_t *len) {
    uint64_t n;
    size_t used = read_uvarint(*p, *avail, &n);
    if (used == 0 || n > *avail - used || n > MAX_STRING)
        return -1;
    *s = *p + used;
    *len = (size_t)n;
    *p += used + n;
    *avail -= used + n;
    return 0;
}

/* 1.17 format: the header holds the addresses of Go string headers {ptr, len}. */
static int read_pointer_string(const struct elf_image *img, uint64_t header_addr, const uint8_t **s,
                               size_t *len) {
    const uint8_t *hdr = elf_image_at_vaddr(img, header_addr, 16);
    if (!hdr)
        return -1;
    uint64_t ptr = le64(hdr), n = le64(hdr + 8);
    if (n == 0) {
        *s = (const uint8_t *)"";
        *len = 0;
        return 0;
    }
    if (n > MAX_STRING || !(*s = elf_image_at_vaddr(img, ptr, (size_t)n)))
        return -1;
    *len = (size_t)n;
    return 0;
}

static void copy_field(char *dst, size_t dstlen, const char *src, size_t n) {
    if (n >= dstlen)
        n = dstlen - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void parse_line(const char *line, size_t n, struct go_buildinfo *bi) {
    const char *tab = memchr(line, '\t', n);
    if (!tab)
        return;
    size_t klen = (size_t)(tab - line);
    const char *rest = tab + 1;
    size_t rlen = n - klen - 1;
    if (klen == 4 && memcmp(line, "path", 4) == 0) {
        copy_field(bi->main_path, sizeof(bi->main_path), rest, rlen);
    } else if (klen == 3 && memcmp(line, "mod", 3) == 0) {
        const char *t2 = memchr(rest, '\t', rlen);
        size_t plen = t2 ? (size_t)(t2 - rest) : rlen;
        copy_field(bi->mod_path, sizeof(bi->mod_path), rest, plen);
        if (t2) {
            const char *ver = t2 + 1;
            const char *t3 = memchr(ver, '\t', rlen - plen - 1);
            copy_field(bi->mod_version, sizeof(bi->mod_version), ver,
                       t3 ? (size_t)(t3 - ver) : rlen - plen - 1);
        }
    } else if (klen == 5 && memcmp(line, "build", 5) == 0) {
        const char *eq = memchr(rest, '=', rlen);
        if (!eq)
            return;
        if (bi->nsettings == GO_BUILDINFO_MAX_SETTINGS) {
            bi->settings_not_kept++;
            return;
        }
        struct go_build_setting *s = &bi->settings[bi->nsettings++];
        copy_field(s->key, sizeof(s->key), rest, (size_t)(eq - rest));
        copy_field(s->value, sizeof(s->value), eq + 1, rlen - (size_t)(eq - rest) - 1);
    }
}

void go_buildinfo_parse_modinfo(const char *mod, size_t len, struct go_buildinfo *bi) {
    /* The linker wraps modinfo in two 16-byte sentinels; the text itself ends with a newline. */
    if (len >= 33 && mod[len - 17] == '\n') {
        mod += 16;
        len -= 32;
    }
    while (len > 0) {
        const char *nl = memchr(mod, '\n', len);
        size_t n = nl ? (size_t)(nl - mod) : len;
        parse_line(mod, n, bi);
        if (!nl)
            break;
        len -= n + 1;
        mod = nl + 1;
    }
}

int go_buildinfo_read(const struct elf_image *img, struct go_buildinfo *bi, struct gmon_error *err) {
    memset(bi, 0, sizeof(*bi));
    size_t avail;
    const uint8_t *blob = find_blob(img, &avail);
    if (!blob)
        return 0;
    bi->found = true;
    uint8_t ptrsize = blob[14], flags = blob[15];
    if (ptrsize != 8 || (flags & 1))
        return gmon_fail(
            err, "Go build info has pointer size %u and flags 0x%x; only 64-bit little-endian is supported",
            ptrsize, flags);
    const uint8_t *vers, *mod;
    size_t vlen, mlen;
    if (flags & 2) {
        bi->inline_format = true;
        const uint8_t *p = blob + BUILDINFO_HEADER;
        size_t left = avail - BUILDINFO_HEADER;
        if (read_inline_string(&p, &left, &vers, &vlen) != 0 ||
            read_inline_string(&p, &left, &mod, &mlen) != 0)
            return gmon_fail(err, "Go build info is truncated or corrupted");
    } else {
        if (read_pointer_string(img, le64(blob + 16), &vers, &vlen) != 0 ||
            read_pointer_string(img, le64(blob + 24), &mod, &mlen) != 0)
            return gmon_fail(err, "Go build info (1.17 format) points outside the file");
    }
    if (vlen == 0 || vlen >= sizeof(bi->version))
        return gmon_fail(err, "Go build info has an invalid version string (length %zu)", vlen);
    copy_field(bi->version, sizeof(bi->version), (const char *)vers, vlen);
    go_buildinfo_parse_modinfo((const char *)mod, mlen, bi);
    return 0;
}

const char *go_buildinfo_setting(const struct go_buildinfo *bi, const char *key) {
    for (size_t i = 0; i < bi->nsettings; i++)
        if (strcmp(bi->settings[i].key, key) == 0)
            return bi->settings[i].value;
    return NULL;
}

/* Copies the string a {ptr,len} header points at when it is a plausible Go version. */
static bool version_at(const struct elf_image *img, uint64_t ptr, uint64_t len, char *out, size_t outlen) {
    if (len < 4 || len >= outlen || len > 100)
        return false;
    const uint8_t *s = elf_image_at_vaddr(img, ptr, (size_t)len);
    if (!s || (memcmp(s, "go1.", 4) != 0 && memcmp(s, "devel go1.", 10) != 0))
        return false;
    char buf[128];
    memcpy(buf, s, (size_t)len);
    buf[len] = '\0';
    struct go_version v;
    if (go_version_parse(buf, &v, NULL) != 0)
        return false;
    memcpy(out, buf, (size_t)len + 1);
    return true;
}

bool go_buildversion_find(const struct elf_image *img, char *out, size_t outlen, bool *from_symtab) {
    uint64_t addr, size;
    *from_symtab = false;
    if (elf_image_find_symbol(img, "runtime.buildVersion", &addr, &size)) {
        const uint8_t *hdr = elf_image_at_vaddr(img, addr, 16);
        if (hdr && version_at(img, le64(hdr), le64(hdr + 8), out, outlen)) {
            *from_symtab = true;
            return true;
        }
    }
    /* Stripped and without build info: the string header lives in writable data (.data), its bytes in rodata.
     */
    for (size_t i = 0; i < img->nloads; i++) {
        const struct elf_segment *s = &img->loads[i];
        if (!(s->flags & PF_W))
            continue;
        const uint8_t *base = img->data + s->offset;
        for (uint64_t off = 0; off + 16 <= s->filesz; off += 8) {
            uint64_t len = le64(base + off + 8);
            if (len < 4 || len > 100)
                continue;
            if (version_at(img, le64(base + off), len, out, outlen))
                return true;
        }
    }
    return false;
}
