#include "traced_program.h"

#include <stdio.h>
#include <string.h>

#include "bpf_program.h"
#include "messages.h"
#include "trace_loop.h"

const char *traced_program_name(const struct traced_program *p) {
    return p->target.pid ? p->target.proc.exe : p->target.path;
}

const char *traced_program_attach_path(const struct traced_program *p) {
    return p->target.pid ? p->target.proc.open_path : p->target.path;
}

int traced_program_attach_pid(const struct traced_program *p) {
    return p->target.pid ? p->target.pid : -1;
}

int traced_program_open(struct traced_program *p, const char *path, int pid, const char *go_version,
                        struct gmon_error *err) {
    memset(p, 0, sizeof(*p));
    if (target_open(&p->target, path, pid, go_version, err) != 0)
        return -1;
    if (layout_select(&p->target.bin, &p->layout, err) != 0)
        return gmon_fail_context(err, "%s", traced_program_name(p));
    if (!p->layout.layout)
        return gmon_fail(err, "%s: %s", traced_program_name(p), p->layout.problem);
    if (!p->layout.register_abi)
        return gmon_fail(err,
                         "%s was built with GOEXPERIMENT=noregabi: gmon's probes read the register ABI "
                         "(R14, RAX), so live tracing cannot work on it ('gmon info' still can)",
                         traced_program_name(p));
    if (probe_plan_build(&p->target.bin, &p->plan, err) != 0)
        return gmon_fail_context(err, "%s", traced_program_name(p));
    return 0;
}

void traced_program_close(struct traced_program *p) {
    target_close(&p->target);
}

int traced_program_start(struct traced_program *p, const char *cmd, const char *path, int pid,
                         const char *go_version) {
    struct gmon_error err;
    if (traced_program_open(p, path, pid, go_version, &err) == 0 && bpf_preflight(&err) == 0)
        return 0;
    cli_error(cmd, "%s", err.msg);
    return -1;
}

const char *traced_program_banner(const struct traced_program *p, size_t nprobes, double ms, char *buf,
                                  size_t size) {
    char process[128], how[800];
    snprintf(buf, size, "gmon: probes attached to %s%s%s: %s, %zu uprobe%s, in %.0f ms (%s)",
             traced_program_name(p), p->target.pid ? ", " : "",
             target_process_text(&p->target, process, sizeof(process)), p->target.bin.version_string, nprobes,
             nprobes == 1 ? "" : "s", ms, bpf_compile_summary(how, sizeof(how)));
    return buf;
}

void traced_program_report_attached(const struct traced_program *p, size_t nprobes, int64_t started_ns) {
    char banner[4400];
    traced_program_banner(p, nprobes, (double)(monotonic_ns() - started_ns) / 1e6, banner, sizeof(banner));
    fprintf(stderr, "%s; Ctrl-C stops\n", banner);
}
