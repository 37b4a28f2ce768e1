#include "dwarf_layout.h"

#include "dwarf_fields.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* The g/m/p fields the version table holds, as DWARF member paths (nested ones: "sched.pc" is g.sched's
 * gobuf.pc), in the order of struct g_offsets, then m_offsets, then p_offsets. */
static const struct {
    const char *type, *path;
} FIELDS[] = {
    {"runtime.g", "stack.lo"},     {"runtime.g", "stack.hi"},  {"runtime.g", "m"},
    {"runtime.g", "sched.sp"},     {"runtime.g", "sched.pc"},  {"runtime.g", "sched.bp"},
    {"runtime.g", "atomicstatus"}, {"runtime.g", "goid"},      {"runtime.g", "waitreason"},
    {"runtime.g", "parentGoid"},   {"runtime.g", "gopc"},      {"runtime.g", "startpc"},
    {"runtime.g", "labels"},       {"runtime.g", "waitsince"}, {"runtime.m", "g0"},
    {"runtime.m", "procid"},       {"runtime.m", "curg"},      {"runtime.m", "p"},
    {"runtime.p", "id"},           {"runtime.g", "syscallsp"}, {"runtime.g", "syscallpc"},
    {"runtime.g", "lockedm"},      {"runtime.g", ""}, /* the size of g: whether DWARF has runtime.g at all */
};
enum { NFIELDS = sizeof(FIELDS) / sizeof(FIELDS[0]) };

bool dwarf_layout_read(const char *path, struct g_offsets *g, struct m_offsets *m, struct p_offsets *p) {
    struct dwarf_field_query q[NFIELDS];
    for (size_t i = 0; i < NFIELDS; i++)
        q[i] = (struct dwarf_field_query){FIELDS[i].type, FIELDS[i].path, -1, -1};
    if (!dwarf_fields_resolve(path, q, NFIELDS) || q[NFIELDS - 1].offset < 0)
        return false; /* runtime.g is the one that matters */
    /* In FIELDS order (initializers are not sequenced, so no running index). */
    *g = (struct g_offsets){.stack_lo = q[0].offset,
                            .stack_hi = q[1].offset,
                            .m = q[2].offset,
                            .sched_sp = q[3].offset,
                            .sched_pc = q[4].offset,
                            .sched_bp = q[5].offset,
                            .atomicstatus = q[6].offset,
                            .goid = q[7].offset,
                            .waitreason = q[8].offset,
                            .parent_goid = q[9].offset,
                            .gopc = q[10].offset,
                            .startpc = q[11].offset,
                            .labels = q[12].offset,
                            .waitsince = q[13].offset,
                            .syscallsp = q[19].offset,
                            .syscallpc = q[20].offset,
                            .lockedm = q[21].offset};
    *m = (struct m_offsets){
        .g0 = q[14].offset, .procid = q[15].offset, .curg = q[16].offset, .p = q[17].offset};
    *p = (struct p_offsets){.id = q[18].offset};
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
    compare(v, "g.syscallsp", l->g.syscallsp, g.syscallsp);
    compare(v, "g.syscallpc", l->g.syscallpc, g.syscallpc);
    compare(v, "g.lockedm", l->g.lockedm, g.lockedm);
    compare(v, "m.g0", l->m.g0, m.g0);
    compare(v, "m.procid", l->m.procid, m.procid);
    compare(v, "m.curg", l->m.curg, m.curg);
    compare(v, "m.p", l->m.p, m.p);
    compare(v, "p.id", l->p.id, p.id);
    return 0;
}

bool dwarf_struct_members(const char *path, const char *type, const char *const *members, int *offsets,
                          size_t n) {
    struct dwarf_field_query q[n + 1];
    for (size_t i = 0; i < n; i++)
        q[i] = (struct dwarf_field_query){type, members[i], -1, -1};
    q[n] = (struct dwarf_field_query){type, "", -1, -1}; /* the type's size: whether it exists */
    bool has = dwarf_fields_resolve(path, q, n + 1);
    for (size_t i = 0; i < n; i++)
        offsets[i] = q[i].offset;
    return has && q[n].offset >= 0;
}
