#include "dwarf_layout.h"

#include "dwarf_find.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* Raw member offsets of the structures we need, -1 until seen. */
struct raw_offsets {
    int g_stack, g_m, g_sched, g_status, g_goid, g_waitreason, g_parent, g_gopc, g_startpc, g_labels,
        g_waitsince;
    int stack_lo, stack_hi, gobuf_sp, gobuf_pc, gobuf_bp;
    int m_g0, m_procid, m_curg, m_p;
    int p_id;
    int types_seen;
};

struct member_map {
    const char *name;
    size_t field; /* offsetof in struct raw_offsets */
};

#define F(x) offsetof(struct raw_offsets, x)
static const struct member_map G_MEMBERS[] = {{"stack", F(g_stack)},         {"m", F(g_m)},
                                              {"sched", F(g_sched)},         {"atomicstatus", F(g_status)},
                                              {"goid", F(g_goid)},           {"waitreason", F(g_waitreason)},
                                              {"parentGoid", F(g_parent)},   {"gopc", F(g_gopc)},
                                              {"startpc", F(g_startpc)},     {"labels", F(g_labels)},
                                              {"waitsince", F(g_waitsince)}, {NULL, 0}};
static const struct member_map STACK_MEMBERS[] = {{"lo", F(stack_lo)}, {"hi", F(stack_hi)}, {NULL, 0}};
static const struct member_map GOBUF_MEMBERS[] = {
    {"sp", F(gobuf_sp)}, {"pc", F(gobuf_pc)}, {"bp", F(gobuf_bp)}, {NULL, 0}};
static const struct member_map M_MEMBERS[] = {
    {"g0", F(m_g0)}, {"procid", F(m_procid)}, {"curg", F(m_curg)}, {"p", F(m_p)}, {NULL, 0}};
static const struct member_map P_MEMBERS[] = {{"id", F(p_id)}, {NULL, 0}};
#undef F

static const struct {
    const char *type;
    const struct member_map *members;
} WANTED[] = {
    {"runtime.g", G_MEMBERS}, {"runtime.stack", STACK_MEMBERS}, {"runtime.gobuf", GOBUF_MEMBERS},
    {"runtime.m", M_MEMBERS}, {"runtime.p", P_MEMBERS},
};
enum { NWANTED = sizeof(WANTED) / sizeof(WANTED[0]) };

static void read_members(Dwarf_Die *st, const struct member_map *map, struct raw_offsets *raw) {
    Dwarf_Die child;
    if (dwarf_child(st, &child) != 0)
        return;
    do {
        if (dwarf_tag(&child) != DW_TAG_member)
            continue;
        const char *name = dwarf_diename(&child);
        Dwarf_Attribute attr;
        Dwarf_Word off;
        if (!name || !dwarf_attr(&child, DW_AT_data_member_location, &attr) ||
            dwarf_formudata(&attr, &off) != 0)
            continue;
        for (const struct member_map *m = map; m->name; m++)
            if (strcmp(m->name, name) == 0)
                *(int *)((char *)raw + m->field) = (int)off;
    } while (dwarf_siblingof(&child, &child) == 0);
}

static void scan_cu(Dwarf_Die *cu, struct raw_offsets *raw, unsigned *seen) {
    Dwarf_Die die;
    if (dwarf_child(cu, &die) != 0)
        return;
    do {
        if (dwarf_tag(&die) != DW_TAG_structure_type)
            continue;
        const char *name = dwarf_diename(&die);
        if (!name || strncmp(name, "runtime.", 8) != 0)
            continue;
        for (int i = 0; i < NWANTED; i++) {
            if (!(*seen & (1u << i)) && strcmp(name, WANTED[i].type) == 0) {
                read_members(&die, WANTED[i].members, raw);
                *seen |= 1u << i;
            }
        }
    } while (*seen != (1u << NWANTED) - 1 && dwarf_siblingof(&die, &die) == 0);
}

static bool read_raw(const char *path, struct raw_offsets *raw) {
    memset(raw, 0xff, sizeof(*raw)); /* every field -1 */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    Dwarf *dbg = dwarf_begin(fd, DWARF_C_READ);
    unsigned seen = 0;
    if (dbg) {
        Dwarf_Off off = 0, next;
        size_t hsize;
        while (seen != (1u << NWANTED) - 1 && dwarf_nextcu(dbg, off, &next, &hsize, NULL, NULL, NULL) == 0) {
            Dwarf_Die cu;
            if (dwarf_offdie(dbg, off + hsize, &cu))
                scan_cu(&cu, raw, &seen);
            off = next;
        }
        dwarf_end(dbg);
    }
    close(fd);
    return (seen & 1u) != 0; /* runtime.g is the one that matters */
}

static int sum(int a, int b) {
    return a < 0 || b < 0 ? -1 : a + b;
}

bool dwarf_layout_read(const char *path, struct g_offsets *g, struct m_offsets *m, struct p_offsets *p) {
    struct raw_offsets r;
    if (!read_raw(path, &r))
        return false;
    *g = (struct g_offsets){
        .stack_lo = sum(r.g_stack, r.stack_lo),
        .stack_hi = sum(r.g_stack, r.stack_hi),
        .m = r.g_m,
        .sched_sp = sum(r.g_sched, r.gobuf_sp),
        .sched_pc = sum(r.g_sched, r.gobuf_pc),
        .sched_bp = sum(r.g_sched, r.gobuf_bp),
        .atomicstatus = r.g_status,
        .goid = r.g_goid,
        .waitreason = r.g_waitreason,
        .parent_goid = r.g_parent,
        .gopc = r.g_gopc,
        .startpc = r.g_startpc,
        .labels = r.g_labels,
        .waitsince = r.g_waitsince,
    };
    *m = (struct m_offsets){.g0 = r.m_g0, .procid = r.m_procid, .curg = r.m_curg, .p = r.m_p};
    *p = (struct p_offsets){.id = r.p_id};
    return true;
}

static void compare(struct layout_verdict *v, const char *field, int table, int dwarf) {
    if (v->nchecks >= LAYOUT_MAX_CHECKS)
        return;
    v->checks[v->nchecks++] = (struct layout_check){field, table, dwarf};
    if (table >= 0 && dwarf >= 0)
        v->compared++;
    if (table != dwarf)
        v->mismatches++;
}

int dwarf_layout_check(const char *path, const struct runtime_layout *l, struct layout_verdict *v,
                       struct gmon_error *err) {
    memset(v, 0, sizeof(*v));
    if (access(path, R_OK) != 0)
        return gmon_fail(err, "cannot read %s: %s", path, strerror(errno));
    struct g_offsets g;
    struct m_offsets m;
    struct p_offsets p;
    if (!dwarf_layout_read(path, &g, &m, &p))
        return 0;
    v->has_dwarf = true;
    compare(v, "g.stack.lo", l->g.stack_lo, g.stack_lo);
    compare(v, "g.stack.hi", l->g.stack_hi, g.stack_hi);
    compare(v, "g.m", l->g.m, g.m);
    compare(v, "g.sched.sp", l->g.sched_sp, g.sched_sp);
    compare(v, "g.sched.pc", l->g.sched_pc, g.sched_pc);
    compare(v, "g.sched.bp", l->g.sched_bp, g.sched_bp);
    compare(v, "g.atomicstatus", l->g.atomicstatus, g.atomicstatus);
    compare(v, "g.goid", l->g.goid, g.goid);
    compare(v, "g.waitreason", l->g.waitreason, g.waitreason);
    compare(v, "g.parentGoid", l->g.parent_goid, g.parent_goid);
    compare(v, "g.gopc", l->g.gopc, g.gopc);
    compare(v, "g.startpc", l->g.startpc, g.startpc);
    compare(v, "g.labels", l->g.labels, g.labels);
    compare(v, "g.waitsince", l->g.waitsince, g.waitsince);
    compare(v, "m.g0", l->m.g0, m.g0);
    compare(v, "m.procid", l->m.procid, m.procid);
    compare(v, "m.curg", l->m.curg, m.curg);
    compare(v, "m.p", l->m.p, m.p);
    compare(v, "p.id", l->p.id, p.id);
    return 0;
}

static bool member_offset(Dwarf_Die *member, const char **name, int *offset) {
    Dwarf_Attribute attr;
    Dwarf_Word off;
    *name = dwarf_diename(member);
    if (dwarf_tag(member) != DW_TAG_member || !*name ||
        !dwarf_attr(member, DW_AT_data_member_location, &attr) || dwarf_formudata(&attr, &off) != 0)
        return false;
    *offset = (int)off;
    return true;
}

/* Fills offsets from the members of struct die. */
static void named_members(Dwarf_Die *die, const char *const *members, int *offsets, size_t n) {
    Dwarf_Die child;
    if (dwarf_child(die, &child) != 0)
        return;
    do {
        const char *name;
        int off;
        if (!member_offset(&child, &name, &off))
            continue;
        for (size_t i = 0; i < n; i++)
            if (strcmp(members[i], name) == 0)
                offsets[i] = off;
    } while (dwarf_siblingof(&child, &child) == 0);
}

struct wanted_members {
    const char *const *members;
    int *offsets;
    size_t n;
};

static void fill_members(Dwarf_Die *die, void *ctx) {
    struct wanted_members *w = ctx;
    named_members(die, w->members, w->offsets, w->n);
}

bool dwarf_struct_members(const char *path, const char *type, const char *const *members, int *offsets,
                          size_t n) {
    for (size_t i = 0; i < n; i++)
        offsets[i] = -1;
    struct wanted_members w = {members, offsets, n};
    return dwarf_find_named(path, DW_TAG_structure_type, type, fill_members, &w);
}
