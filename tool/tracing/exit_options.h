/* --exits probe|poll and --exit-scan-ms: how the commands that trace goroutine lifecycles (the monitor, gr,
 * gr seq, pprof creation|live) see goroutines end. Spelled, checked and described once here, so that every
 * one of them takes them alike. */
#ifndef GMON_EXIT_OPTIONS_H
#define GMON_EXIT_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

struct exit_options {
    bool poll;          /* --exits poll: no goexit1 probe, exits read from the target's memory */
    bool scan_ms_given; /* --exit-scan-ms was given (refused without --exits poll) */
    uint64_t scan_ms;   /* how often the tracked goroutines are read */
};

enum { EXIT_OPT_MODE = 950, EXIT_OPT_SCAN_MS };

#define EXIT_LONG_OPTIONS                                                                                    \
    {"exits", required_argument, NULL, EXIT_OPT_MODE}, {                                                     \
        "exit-scan-ms", required_argument, NULL, EXIT_OPT_SCAN_MS                                            \
    }

/* The --help lines of both options, under an "Exits:" heading. */
#define HELP_EXITS                                                                                           \
    "Exits:\n"                                                                                               \
    "  --exits MODE        how goroutine exits are seen: probe (default: a uprobe in runtime.goexit1, "      \
    "exact)\n"                                                                                               \
    "                      or poll (gmon reads the tracked goroutines' runtime.g from the target's memory\n" \
    "                      every --exit-scan-ms: one trap per goroutine instead of two, lifetimes within\n"  \
    "                      half the time between two scans; goroutines created before gmon attached, or\n"   \
    "                      ending just before their process, are not seen exiting)\n"                        \
    "  --exit-scan-ms N    with --exits poll: how often, 1-1000 (default 10; less often when a scan takes\n" \
    "                      longer: gmon scans at most half the time)\n"

void exit_options_init(struct exit_options *e);
/* Applies getopt's result c when it is one of the two options: 1 when it was, 0 when not, -1 after printing
 * why its value is bad. */
int exit_options_parse(const char *cmd, int c, const char *arg, struct exit_options *e);
/* After the getopt loop: refuses --exit-scan-ms without --exits poll. Returns 0 or -1 (printed). */
int exit_options_finish(const char *cmd, const struct exit_options *e);
/* What lifecycle_options.exit_scan_ms takes: 0 for the exit probe, else the scan interval. */
int exit_options_scan_ms(const struct exit_options *e);
/* With --exits poll and one process (pid > 0): 0 when gmon may read its memory, else -1 after printing why
 * as cmd's error (checked before attaching, rather than warning once the scans fail). 0 otherwise. */
int exit_options_check_target(const char *cmd, const struct exit_options *e, int pid);

#endif
