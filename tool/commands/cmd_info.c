/* `gmon info`: everything gmon learns from a Go binary before it touches the process. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "layout_select.h"
#include "probe_plan.h"
#include "runtime_state_layout.h"
#include "cli.h"
#include "commands.h"
#include "container_lookup.h"
#include "json_writer.h"
#include "option_help.h"
#include "target.h"

static const char USAGE[] =
    "Usage: gmon info (--path BIN | --pid PID | --container NAME) [--json] [--go-version auto|1.NN]\n"
    "                 [--state-layout]\n"
    "\n"
    "Reads a Go binary (or the binary of a running process) and prints what gmon knows about it: the Go "
    "version\n"
    "and where it was found, main package and module, build settings, the .gopclntab family, function "
    "count,\n"
    "PIE/cgo/stripped/DWARF, the text base, the runtime struct layout chosen for that Go release (and "
    "whether\n"
    "the binary's DWARF confirmed it), and the probe plan: the file offset of each probed runtime function "
    "and\n"
    "of each of its RET instructions. Works on stripped binaries. Needs no privilege for --path.\n"
    "\n"
    "  --path BIN          the Go executable\n"
    "  --pid PID           a running Go process (its binary is read through /proc/PID/exe, so processes in\n"
    "                      containers work); with --path too, both must be the same "
    "file\n" HELP_SNAPSHOT_CONTAINER "  --json              one JSON object instead of text\n" HELP_GO_VERSION
    "  --state-layout      print only where the scheduler, GC and heap figures of summary, top and heap are\n"
    "                      in this release's runtime structures (offset, size, structure), from DWARF or\n"
    "                      gmon's table, as rows of that table "
    "(symbolize/runtime_state_table.inc)\n" HELP_HELP "\n" HELP_EXIT_STATUS
    "Reference: man gmon-info (docs/info.md).\n"
    "\n"
    "Examples:\n"
    "  gmon info --path ./app                      version, layout and probe plan of a binary\n"
    "  gmon info --pid 4242 --json                 the same for a running process, as JSON\n"
    "  gmon info --path ./app --state-layout       where summary, top and heap find their figures\n";

struct info {
    struct target t;
    struct layout_choice layout;
    struct probe_plan plan;
    char plan_problem[256];
};

static const char *yes_no(bool b) {
    return b ? "yes" : "no";
}

static const char *linking(const struct go_binary *b) {
    return elf_image_externally_linked(&b->elf) ? "external" : "internal";
}

static bool is_cgo(const struct go_binary *b) {
    const char *cgo = go_buildinfo_setting(&b->buildinfo, "CGO_ENABLED");
    return elf_image_links_libc(&b->elf) || elf_image_externally_linked(&b->elf) ||
           (cgo && strcmp(cgo, "1") == 0);
}

static void print_layout_text(const struct layout_choice *c) {
    const struct runtime_layout *l = c->layout;
    if (!l) {
        printf("layout:         none: %s\n", c->problem);
        return;
    }
    printf("layout:         table row go1.%d-1.%d", l->first_minor, l->last_minor);
    if (c->dwarf.has_dwarf)
        printf(", confirmed by DWARF (%d fields)\n", c->dwarf.compared);
    else
        printf(", no DWARF to confirm it\n");
    if (!c->register_abi)
        printf("                built with GOEXPERIMENT=noregabi: no register arguments, live tracing "
               "unavailable\n");
    printf(
        "  g.goid %d  g.atomicstatus %d  g.waitreason %d  g.parentGoid %d  g.gopc %d  g.startpc %d  g.m %d\n",
        l->g.goid, l->g.atomicstatus, l->g.waitreason, l->g.parent_goid, l->g.gopc, l->g.startpc, l->g.m);
    printf("  g.sched.sp %d  g.sched.pc %d  g.sched.bp %d  g.labels %d  m.g0 %d  m.procid %d  m.curg %d  m.p "
           "%d  "
           "p.id %d\n",
           l->g.sched_sp, l->g.sched_pc, l->g.sched_bp, l->g.labels, l->m.g0, l->m.procid, l->m.curg, l->m.p,
           l->p.id);
}

static void print_args_text(const struct runtime_layout *l, const char *function) {
    if (!l)
        return;
    bool any = false;
    for (size_t i = 0; i < l->nargs; i++) {
        if (strcmp(l->args[i].function, function) != 0)
            continue;
        printf("%s%s=%s", any ? " " : "      args: ", l->args[i].arg,
               x86_reg_name(l->args[i].reg, l->args[i].bytes));
        any = true;
    }
    if (any)
        putchar('\n');
}

static void print_plan_text(const struct info *in) {
    printf("probe plan:     (file offsets, where uprobes attach)\n");
    if (in->plan_problem[0])
        printf("  unavailable: %s\n", in->plan_problem);
    for (size_t i = 0; i < in->plan.nsites; i++) {
        const struct probe_site *s = &in->plan.sites[i];
        if (!s->found) {
            printf("  %-32s %s\n", s->function, s->problem);
            continue;
        }
        printf("  %-32s entry 0x%" PRIx64 " (vaddr 0x%" PRIx64 ", %" PRIu64 " bytes)", s->function,
               s->entry_offset, s->entry, s->size);
        if (s->wrappers)
            printf(", %d ABI wrapper skipped", s->wrappers);
        if (s->body_offset != s->entry_offset)
            printf("\n      after split check: 0x%" PRIx64, s->body_offset);
        if (s->args_offset != s->body_offset)
            printf("\n      cheaper point with the arguments in their registers: 0x%" PRIx64, s->args_offset);
        printf("\n      rets:");
        for (size_t r = 0; r < s->nrets && r < PROBE_MAX_RETS; r++)
            printf(" 0x%" PRIx64, s->ret_offsets[r]);
        if (s->nrets > PROBE_MAX_RETS)
            printf(" ... (%zu in all)", s->nrets);
        printf("%s\n", s->nrets == 0 ? " none" : "");
        if (s->callee) {
            printf("      probe points for its calls of %s (the call, or the NOP right before it):",
                   s->callee);
            for (size_t c = 0; c < s->ncalls && c < PROBE_MAX_CALLS; c++)
                printf(" 0x%" PRIx64, s->call_offsets[c]);
            printf("%s\n", s->ncalls == 0 ? " none" : "");
        }
        print_args_text(in->layout.layout, s->function);
    }
}

static void print_text(const struct info *in) {
    const struct go_binary *b = &in->t.bin;
    const struct go_buildinfo *bi = &b->buildinfo;
    printf("binary:         %s\n", in->t.pid ? in->t.proc.exe : b->elf.path);
    if (in->t.pid) {
        char process[128];
        printf("process:        %s", target_process_text(&in->t, process, sizeof(process)));
        printf("%s%s\n", in->t.proc.other_mount_ns ? ", another mount namespace" : "",
               in->t.proc.exe_deleted ? ", binary deleted on disk" : "");
        printf("host path:      %s\n", in->t.proc.host_path);
        printf("load bias:      0x%" PRIx64 "\n", in->t.load_bias);
    }
    printf("go version:     %s (from %s)\n", b->version_string, go_version_source_name(b->version_source));
    if (b->buildinfo_problem[0])
        printf("build info:     damaged: %s\n", b->buildinfo_problem);
    printf("main package:   %s\n", bi->main_path[0] ? bi->main_path : "(unknown)");
    /* Words joined by single spaces, whichever are there: no trailing blank. */
    printf("module:         %s", bi->mod_path[0] ? bi->mod_path : "(unknown)");
    if (bi->mod_version[0])
        printf(" %s", bi->mod_version);
    if (b->module_inferred)
        printf(" (inferred from source file names: the binary has no build info)");
    printf("\n");
    printf("build settings:");
    for (size_t i = 0; i < bi->nsettings; i++)
        printf(" %s=%s", bi->settings[i].key, bi->settings[i].value);
    if (bi->settings_not_kept)
        printf(" (and %zu more not kept: gmon keeps the first %d)", bi->settings_not_kept,
               GO_BUILDINFO_MAX_SETTINGS);
    printf("%s\n", bi->nsettings ? "" : " (none recorded)");
    printf("pclntab:        %s (magic 0x%08x) in %s at 0x%" PRIx64 ", %" PRIu64 " functions, %" PRIu64
           " files\n",
           pclntab_family_name(b->pcln.magic), b->pcln.magic, b->pclntab_where, b->pcln.vaddr, b->pcln.nfunc,
           b->pcln.nfiles);
    printf("text:           0x%" PRIx64, b->pcln.text_start);
    if (b->md.found)
        printf("-0x%" PRIx64 " (moduledata at 0x%" PRIx64 ", %s)", b->md.etext, b->md.vaddr, b->md.how);
    printf("\n");
    printf("elf:            %s, PIE %s, cgo %s, %s linking, stripped %s, DWARF %s\n",
           b->elf.type == 2 ? "EXEC" : "DYN", yes_no(elf_image_is_pie(&b->elf)), yes_no(is_cgo(b)),
           linking(b), yes_no(b->stripped), yes_no(b->has_dwarf));
    print_layout_text(&in->layout);
    print_plan_text(in);
}

static void json_layout(struct json_writer *w, const struct layout_choice *c) {
    const struct runtime_layout *l = c->layout;
    json_key(w, "layout");
    if (!l) {
        json_begin_object(w);
        json_key(w, "problem");
        json_string(w, c->problem);
        json_end_object(w);
        return;
    }
    json_begin_object(w);
    json_key(w, "row");
    char row[32];
    snprintf(row, sizeof(row), "go1.%d-1.%d", l->first_minor, l->last_minor);
    json_string(w, row);
    json_key(w, "dwarf_confirmed");
    json_bool(w, c->dwarf.has_dwarf && c->dwarf.mismatches == 0);
    json_key(w, "dwarf_fields_compared");
    json_int(w, c->dwarf.compared);
    json_key(w, "register_abi");
    json_bool(w, c->register_abi);
    const struct {
        const char *name;
        int value;
    } fields[] = {{"g.goid", l->g.goid},
                  {"g.atomicstatus", l->g.atomicstatus},
                  {"g.waitreason", l->g.waitreason},
                  {"g.parentGoid", l->g.parent_goid},
                  {"g.gopc", l->g.gopc},
                  {"g.startpc", l->g.startpc},
                  {"g.m", l->g.m},
                  {"g.sched.sp", l->g.sched_sp},
                  {"g.sched.pc", l->g.sched_pc},
                  {"g.sched.bp", l->g.sched_bp},
                  {"g.labels", l->g.labels},
                  {"g.waitsince", l->g.waitsince},
                  {"g.syscallsp", l->g.syscallsp},
                  {"g.syscallpc", l->g.syscallpc},
                  {"g.lockedm", l->g.lockedm},
                  {"m.g0", l->m.g0},
                  {"m.procid", l->m.procid},
                  {"m.curg", l->m.curg},
                  {"m.p", l->m.p},
                  {"p.id", l->p.id}};
    json_key(w, "offsets");
    json_begin_object(w);
    for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
        json_key(w, fields[i].name);
        json_int(w, fields[i].value);
    }
    json_end_object(w);
    json_end_object(w);
}

/* key: [values as hex strings]. */
static void json_hex_array(struct json_writer *w, const char *key, const uint64_t *values, size_t n) {
    json_key(w, key);
    json_begin_array(w);
    for (size_t i = 0; i < n; i++)
        json_hex(w, values[i]);
    json_end_array(w);
}

static void json_site_args(struct json_writer *w, const struct runtime_layout *l, const char *function) {
    json_key(w, "args");
    json_begin_object(w);
    for (size_t i = 0; l && i < l->nargs; i++) {
        if (strcmp(l->args[i].function, function) != 0)
            continue;
        json_key(w, l->args[i].arg);
        json_string(w, x86_reg_name(l->args[i].reg, l->args[i].bytes));
    }
    json_end_object(w);
}

static void json_plan(struct json_writer *w, const struct info *in) {
    json_key(w, "probe_plan");
    json_begin_array(w);
    for (size_t i = 0; i < in->plan.nsites; i++) {
        const struct probe_site *s = &in->plan.sites[i];
        json_begin_object(w);
        json_key(w, "function");
        json_string(w, s->function);
        json_key(w, "found");
        json_bool(w, s->found);
        if (s->found) {
            json_key(w, "entry_vaddr");
            json_hex(w, s->entry);
            json_key(w, "entry_offset");
            json_hex(w, s->entry_offset);
            json_key(w, "body_offset");
            json_hex(w, s->body_offset);
            json_key(w, "args_offset");
            json_hex(w, s->args_offset);
            json_key(w, "size");
            json_uint(w, s->size);
            json_key(w, "abi_wrappers_skipped");
            json_int(w, s->wrappers);
            json_hex_array(w, "ret_offsets", s->ret_offsets,
                           s->nrets < PROBE_MAX_RETS ? s->nrets : PROBE_MAX_RETS);
            json_key(w, "ret_count");
            json_uint(w, s->nrets);
            if (s->callee) {
                json_key(w, "callee");
                json_string(w, s->callee);
                json_hex_array(w, "call_probe_offsets", s->call_offsets,
                               s->ncalls < PROBE_MAX_CALLS ? s->ncalls : PROBE_MAX_CALLS);
            }
            json_site_args(w, in->layout.layout, s->function);
        } else {
            json_key(w, "problem");
            json_string(w, s->problem);
        }
        json_end_object(w);
    }
    json_end_array(w);
}

static void json_process(struct json_writer *w, const struct target *t) {
    json_key(w, "process");
    if (!t->pid) {
        json_null(w);
        return;
    }
    json_begin_object(w);
    target_json_process(w, t);
    json_key(w, "exe");
    json_string(w, t->proc.exe);
    json_key(w, "host_path");
    json_string(w, t->proc.host_path);
    json_key(w, "other_mount_namespace");
    json_bool(w, t->proc.other_mount_ns);
    json_key(w, "exe_deleted");
    json_bool(w, t->proc.exe_deleted);
    json_key(w, "load_bias");
    json_hex(w, t->load_bias);
    json_end_object(w);
}

static void json_buildinfo(struct json_writer *w, const struct go_binary *b) {
    const struct go_buildinfo *bi = &b->buildinfo;
    json_key(w, "main_package");
    json_string(w, bi->main_path);
    json_key(w, "module");
    json_string(w, bi->mod_path);
    json_key(w, "module_version");
    json_string(w, bi->mod_version);
    json_key(w, "module_inferred");
    json_bool(w, b->module_inferred);
    json_key(w, "build_settings");
    json_begin_object(w);
    for (size_t i = 0; i < bi->nsettings; i++) {
        json_key(w, bi->settings[i].key);
        json_string(w, bi->settings[i].value);
    }
    json_end_object(w);
    json_key(w, "build_settings_not_kept");
    json_int(w, (int64_t)bi->settings_not_kept);
}

static void print_json(const struct info *in) {
    const struct go_binary *b = &in->t.bin;
    struct json_writer w;
    json_init(&w, stdout);
    json_begin_object(&w);
    json_key(&w, "binary");
    json_string(&w, in->t.pid ? in->t.proc.exe : b->elf.path);
    json_process(&w, &in->t);
    json_key(&w, "go_version");
    json_string(&w, b->version_string);
    json_key(&w, "go_version_source");
    json_string(&w, go_version_source_name(b->version_source));
    json_key(&w, "go_version_exact");
    json_bool(&w, b->version_exact);
    json_buildinfo(&w, b);
    json_key(&w, "pclntab");
    json_begin_object(&w);
    json_key(&w, "family");
    json_string(&w, pclntab_family_name(b->pcln.magic));
    json_key(&w, "magic");
    json_hex(&w, b->pcln.magic);
    json_key(&w, "where");
    json_string(&w, b->pclntab_where);
    json_key(&w, "vaddr");
    json_hex(&w, b->pcln.vaddr);
    json_key(&w, "functions");
    json_uint(&w, b->pcln.nfunc);
    json_key(&w, "files");
    json_uint(&w, b->pcln.nfiles);
    json_end_object(&w);
    json_key(&w, "text_start");
    json_hex(&w, b->pcln.text_start);
    json_key(&w, "moduledata");
    if (b->md.found) {
        json_begin_object(&w);
        json_key(&w, "vaddr");
        json_hex(&w, b->md.vaddr);
        json_key(&w, "how");
        json_string(&w, b->md.how);
        json_key(&w, "etext");
        json_hex(&w, b->md.etext);
        json_end_object(&w);
    } else {
        json_null(&w);
    }
    json_key(&w, "pie");
    json_bool(&w, elf_image_is_pie(&b->elf));
    json_key(&w, "cgo");
    json_bool(&w, is_cgo(b));
    json_key(&w, "linking");
    json_string(&w, linking(b));
    json_key(&w, "stripped");
    json_bool(&w, b->stripped);
    json_key(&w, "dwarf");
    json_bool(&w, b->has_dwarf);
    json_layout(&w, &in->layout);
    json_plan(&w, in);
    json_end_object(&w);
}

/* The state layout as rows of runtime_state_table.inc, so that a binary with DWARF extends the table. */
static void print_state_layout(const struct target *t) {
    struct state_layout l;
    state_layout_select(t->bin.elf.path, &t->bin.version, &l);
    printf("/* %s, %s: state layout from %s */\n", t->bin.elf.path, t->bin.version_string,
           l.from[0] ? l.from : "nowhere (no DWARF, and the release is not in the table)");
    if (l.mismatches)
        printf("/* DWARF and the table disagree on %d fields, first %s */\n", l.mismatches, l.first_mismatch);
    for (int f = 0; f < STATE_FIELDS; f++) {
        if (state_has(&l, f))
            printf("[%s] = {%d, %d, %s}, /* %s */\n", state_field_id(f), l.f[f].offset, l.f[f].size,
                   state_base_id(l.f[f].base), state_field_name(f));
        else
            printf("/* %s: absent */\n", state_field_id(f));
    }
}

int cmd_info(int argc, char *argv[]) {
    static const struct option opts[] = {
        {"path", required_argument, NULL, 'p'},       {"pid", required_argument, NULL, 'P'},
        {"container", required_argument, NULL, 'C'},  {"json", no_argument, NULL, 'j'},
        {"go-version", required_argument, NULL, 'g'}, {"help", no_argument, NULL, 'h'},
        {"state-layout", no_argument, NULL, 's'},     {NULL, 0, NULL, 0}};
    const char *path = NULL, *go_version = "auto", *container = NULL;
    int pid = 0;
    bool json = false, state_layout = false;
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    if (cli_wants_option_list(argc, argv)) {
        for (const struct option *o = opts; o->name; o++)
            puts(o->name);
        return GMON_EXIT_OK;
    }
    opterr = 0;
    optind = 0;
    int c;
    while ((c = cli_next_option("info", argc, argv, "", opts, 0)) != -1) {
        switch (c) {
        case 'p':
            path = optarg;
            break;
        case 'P':
        case 'C':
            if (!process_option("info", c == 'C', optarg, &pid, &container))
                return GMON_EXIT_BAD_INPUT;
            break;
        case 'j':
            json = true;
            break;
        case 'g':
            go_version = optarg;
            break;
        case 's':
            state_layout = true;
            break;
        case '?':
            return GMON_EXIT_BAD_INPUT;
        default:
            return cli_bad_option("info", argv, optind);
        }
    }
    if (optind < argc) {
        cli_error("info", "unexpected argument \"%s\" (see 'gmon info --help')", argv[optind]);
        return GMON_EXIT_BAD_INPUT;
    }
    if (!path && !pid) {
        cli_error("info", "give --path BIN, --pid PID or --container NAME (see 'gmon info --help')");
        return GMON_EXIT_BAD_INPUT;
    }
    if (state_layout && json) {
        cli_error("info", "--state-layout prints rows of gmon's C table, not JSON: give one of them");
        return GMON_EXIT_BAD_INPUT;
    }
    static struct info in; /* large: keep it off the stack */
    memset(&in, 0, sizeof(in));
    struct gmon_error err;
    if (target_open(&in.t, path, pid, go_version, &err) != 0) {
        cli_error("info", "%s", err.msg);
        return GMON_EXIT_BAD_INPUT;
    }
    if (state_layout) {
        print_state_layout(&in.t);
        target_close(&in.t);
        return GMON_EXIT_OK;
    }
    if (layout_select(&in.t.bin, &in.layout, &err) != 0) {
        cli_error("info", "%s: %s", in.t.pid ? in.t.proc.exe : in.t.bin.elf.path, err.msg);
        target_close(&in.t);
        return GMON_EXIT_BAD_INPUT;
    }
    if (probe_plan_build(&in.t.bin, &in.plan, &err) != 0)
        snprintf(in.plan_problem, sizeof(in.plan_problem), "%s", err.msg);
    if (json)
        print_json(&in);
    else
        print_text(&in);
    target_close(&in.t);
    return GMON_EXIT_OK;
}
