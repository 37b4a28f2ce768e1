/* The --help lines of the options several commands share, written once so that an option is described the
 * same way everywhere. Each command's usage text strings these together with its own lines. Layout: the
 * option at column 3, its text at column 23, continuation lines indented to column 23, 110 columns at most.
 */
#ifndef GMON_OPTION_HELP_H
#define GMON_OPTION_HELP_H

/* The live-tracing commands (the lifecycle monitor, gc, gr, gr seq, sched, gm). */
#define HELP_TRACE_PATH                                                                                      \
    "  --path BIN          trace every process running BIN, including ones started later\n"
#define HELP_TRACE_PID                                                                                       \
    "  --pid PID           trace one process (its binary is found through /proc/PID/exe; in a container,\n"  \
    "                      give its host PID)\n"
#define HELP_TRACE_CONTAINER                                                                                 \
    "  --container NAME    trace the main process of a Docker container (name or ID; asks the engine)\n"
#define HELP_TRACE_TARGET HELP_TRACE_PATH HELP_TRACE_PID HELP_TRACE_CONTAINER
#define HELP_GO_VERSION                                                                                      \
    "  --go-version V      'auto' (default: read from the binary) or a release like 1.21 for binaries "      \
    "whose\n"                                                                                                \
    "                      build info is damaged; refused when the binary's code contradicts it\n"
#define HELP_DURATION                                                                                        \
    "  --duration SECS     stop SECS seconds after the probes are attached (attaching takes 0.5-3 s)\n"
#define HELP_INTERVAL "  --interval SECS     print every SECS seconds (default 5); 0 prints only at the end\n"
#define HELP_PERF_BUFFER                                                                                     \
    "  --perf-buffer       send events through a perf buffer even if the kernel has a ring buffer\n"
#define HELP_RING_BUFFER                                                                                     \
    "  --ring-buffer       send events through the kernel's ring buffer rather than gmon's per-CPU rings\n"

/* The snapshot commands (summary, top, heap, var), which read a process's memory. */
#define HELP_PPROF_OUTPUT                                                                                    \
    "  -o, --output FILE   write the profile to FILE; - for stdout (default: stdout when it is not a\n"      \
    "                      terminal, else KIND-PID-TIME.pb.gz in the current directory)\n"
#define HELP_SNAPSHOT_PID "  --pid PID           the process (in a container too: its host PID)\n"
#define HELP_SNAPSHOT_CONTAINER                                                                              \
    "  --container NAME    the main process of a Docker container, by name or ID (asks the engine)\n"
#define HELP_BIN                                                                                             \
    "  --bin BIN           an unstripped build of the same program (same source and Go, without -s -w): "    \
    "its\n"                                                                                                  \
    "                      symbols and DWARF stand in for the target's (gmon checks that the addresses "     \
    "match)\n"
#define HELP_FREEZE                                                                                          \
    "  --freeze            stop the process (SIGSTOP) while reading it, for a consistent view; it is "       \
    "resumed\n"                                                                                              \
    "                      whatever happens to gmon, except SIGKILL (then: kill -CONT PID)\n"

#define HELP_HELP "  --help              this text\n"

/* The closing lines of every command's usage. */
#define HELP_EXIT_STATUS                                                                                     \
    "Options take one or two dashes (-pid or --pid). Exit status: 0 ok, 1 failure while running, 2 bad\n"    \
    "input (no such process, not a Go program, unsupported release, bad option).\n"

#endif
