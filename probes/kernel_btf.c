#include "kernel_btf.h"

#include <linux/btf.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "library_loader.h"

struct btf; /* libbpf's */

/* libbpf (libbpf.so.1, which libbcc_bpf links): the four functions that find a type and read its members. */
static struct {
    struct btf *(*load_vmlinux_btf)(void);
    int32_t (*find_by_name_kind)(const struct btf *btf, const char *name, uint32_t kind);
    const struct btf_type *(*type_by_id)(const struct btf *btf, uint32_t id);
    const char *(*name_by_offset)(const struct btf *btf, uint32_t offset);
} libbpf;
static void *library;
static struct btf *vmlinux; /* kept: offsets are looked up a few times per run */

static const struct library_function FUNCTIONS[] = {
    {"btf__load_vmlinux_btf", (void **)&libbpf.load_vmlinux_btf},
    {"btf__find_by_name_kind", (void **)&libbpf.find_by_name_kind},
    {"btf__type_by_id", (void **)&libbpf.type_by_id},
    {"btf__name_by_offset", (void **)&libbpf.name_by_offset},
};

static bool load(struct gmon_error *err) {
    if (!library)
        library = library_load("libbpf.so.1", FUNCTIONS, sizeof(FUNCTIONS) / sizeof(FUNCTIONS[0]),
                               "which reading the kernel's BTF needs (Debian: apt-get install libbpf1)", err);
    if (library && !vmlinux && !(vmlinux = libbpf.load_vmlinux_btf()))
        gmon_fail(err, "the kernel has no BTF (/sys/kernel/btf/vmlinux: CONFIG_DEBUG_INFO_BTF)");
    return vmlinux != NULL;
}

/* The type behind typedefs and qualifiers. */
static const struct btf_type *resolved(uint32_t id) {
    const struct btf_type *t = libbpf.type_by_id(vmlinux, id);
    for (int hops = 0; t && hops < 16; hops++) {
        int kind = BTF_INFO_KIND(t->info);
        if (kind != BTF_KIND_TYPEDEF && kind != BTF_KIND_CONST && kind != BTF_KIND_VOLATILE &&
            kind != BTF_KIND_RESTRICT && kind != BTF_KIND_TYPE_TAG)
            return t;
        t = libbpf.type_by_id(vmlinux, t->type);
    }
    return NULL;
}

/* The member called name of struct or union t, also inside its anonymous structs and unions (mm_struct keeps
 * its fields in one): into *bits its offset, into *type its type; false when none. */
static bool member(const struct btf_type *t, const char *name, long *bits, uint32_t *type, int depth) {
    int kind = BTF_INFO_KIND(t->info);
    if (depth > 8 || (kind != BTF_KIND_STRUCT && kind != BTF_KIND_UNION))
        return false;
    const struct btf_member *m = (const struct btf_member *)(t + 1);
    for (uint32_t i = 0; i < BTF_INFO_VLEN(t->info); i++) {
        long at = BTF_INFO_KFLAG(t->info) ? BTF_MEMBER_BIT_OFFSET(m[i].offset) : m[i].offset;
        const char *n = libbpf.name_by_offset(vmlinux, m[i].name_off);
        if (n && strcmp(n, name) == 0) {
            *bits = at;
            *type = m[i].type;
            return true;
        }
        const struct btf_type *inner = (!n || !n[0]) ? resolved(m[i].type) : NULL;
        if (inner && member(inner, name, bits, type, depth + 1)) {
            *bits += at;
            return true;
        }
    }
    return false;
}

long kernel_btf_offset(const char *type, const char *path, struct gmon_error *err) {
    if (!load(err))
        return -1;
    int32_t id = libbpf.find_by_name_kind(vmlinux, type, BTF_KIND_STRUCT);
    const struct btf_type *t = id > 0 ? libbpf.type_by_id(vmlinux, (uint32_t)id) : NULL;
    if (!t)
        return gmon_fail(err, "the kernel's BTF has no struct %s", type);
    long total = 0;
    char name[64];
    for (const char *p = path; *p;) {
        size_t len = strcspn(p, ".");
        if (len >= sizeof(name))
            return gmon_fail(err, "member name too long in %s", path);
        memcpy(name, p, len);
        name[len] = 0;
        long bits;
        uint32_t member_type;
        if (!t || !member(t, name, &bits, &member_type, 0))
            return gmon_fail(err, "the kernel's struct %s has no member %s", type, path);
        if (bits % 8)
            return gmon_fail(err, "%s.%s is a bitfield", type, path);
        total += bits / 8;
        t = resolved(member_type);
        p += len + (p[len] == '.');
    }
    return total;
}
