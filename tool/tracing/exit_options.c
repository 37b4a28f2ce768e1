#include "exit_options.h"

#include <getopt.h>
#include <string.h>

#include "cli.h"
#include "proc_target.h"

void exit_options_init(struct exit_options *e) {
    *e = (struct exit_options){.scan_ms = 10};
}

int exit_options_parse(const char *cmd, int c, const char *arg, struct exit_options *e) {
    switch (c) {
    case EXIT_OPT_MODE:
        if (strcmp(arg, "probe") == 0 || strcmp(arg, "poll") == 0) {
            e->poll = strcmp(arg, "poll") == 0;
            return 1;
        }
        cli_error(cmd, "--exits must be probe or poll, not \"%s\"", arg);
        return -1;
    case EXIT_OPT_SCAN_MS:
        e->scan_ms_given = true;
        return cli_parse_uint(cmd, "--exit-scan-ms", arg, 1, 1000, &e->scan_ms) ? 1 : -1;
    default:
        return 0;
    }
}

int exit_options_finish(const char *cmd, const struct exit_options *e) {
    if (e->scan_ms_given && !e->poll) {
        cli_error(cmd, "--exit-scan-ms applies to --exits poll only");
        return -1;
    }
    return 0;
}

int exit_options_scan_ms(const struct exit_options *e) {
    return e->poll ? (int)e->scan_ms : 0;
}

int exit_options_check_target(const char *cmd, const struct exit_options *e, int pid) {
    struct gmon_error err;
    if (!e->poll || pid <= 0 || proc_check_memory_access(pid, &err) == 0)
        return 0;
    cli_error(cmd, "%s", err.msg);
    return -1;
}
