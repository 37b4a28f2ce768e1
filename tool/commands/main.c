/* gmon: a Go runtime monitor. Dispatches to the command named by the first argument. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "bpf_compiler.h"
#include "cli.h"
#include "commands.h"
#include "log_writer.h"

static const char USAGE[] =
    "Usage: gmon [COMMAND] [OPTIONS]\n"
    "\n"
    "gmon watches Go programs from outside: which code spawns goroutines, which never exit, what the GC and\n"
    "the allocator do. It works on Go 1.17 to 1.27 binaries, stripped or not, PIE or not, cgo or not.\n"
    "\n"
    "Commands:\n"
    "  lifecycle  (the default: 'gmon --pid PID' is 'gmon lifecycle --pid PID') trace goroutine creations "
    "and\n"
    "             exits live, with log lines and Prometheus metrics by creation site\n"
    "  gc         GC cycles (trigger, stop-the-world pauses, concurrent mark) and every other "
    "stop-the-world\n"
    "  gr         goroutine events live: creations and exits (-v: run-queue events too)\n"
    "  gr seq     goroutine lifetimes as a log2 histogram, per process or per creation site (alias: "
    "lifetime)\n"
    "  gm         allocations by Go size class, and the stacks that allocate most (--by site)\n"
    "  sched      scheduling latency (runnable -> running) and time blocked per wait reason\n"
    "  summary    the goroutines of a running program by status, wait reason and start (no eBPF, no stop)\n"
    "  top        a refreshing view of the goroutines grouped by function (no eBPF, no stop)\n"
    "  heap       the heap of a running program: pages, sweep, large objects, mcaches, spans by size class\n"
    "             (no eBPF, no stop)\n"
    "  stacks     every goroutine's whole stack, as Go's own dump prints it (no eBPF, no stop)\n"
    "  pprof      pprof goroutine|heap|allocs|block|mutex: the program's own profiles for go tool pprof,\n"
    "             as net/http/pprof serves them (no eBPF, no stop); pprof creation|live: goroutines by full\n"
    "             creation stack, and the ones that never exit (eBPF); pprof cpu: where the CPU goes,\n"
    "             sampled by perf events, with goroutine labels (eBPF)\n"
    "  exporter   Prometheus /metrics with client_golang's go_* and process_* series, read from the\n"
    "             program's memory at each scrape (no eBPF, no stop)\n"
    "  var        the type and value of a global variable of a running program (no eBPF, no stop)\n"
    "  info       what gmon reads from a Go binary: version, module, symbols, runtime layout, probe plan\n"
    "  cache      the compiled BPF programs kept between runs: where, how many; 'gmon cache clear'\n"
    "\n"
    "Run 'gmon COMMAND --help' for the options of a command. Options take one or two dashes.\n"
    "  --version   print gmon's version\n"
    "  --help      this text\n"
    "\n"
    "Reference: man gmon (docs/README.md), and man gmon-COMMAND for each command.\n"
    "\n"
    "Examples:\n"
    "  gmon --pid 4242                   goroutines created and exited, live, with /metrics on port 5500\n"
    "  gmon summary --pid 4242           every goroutine of process 4242 and where it waits\n"
    "  gmon gc --container web           GC cycles and pauses of the main process of container 'web'\n"
    "  gmon info --path ./app            what gmon reads from a binary\n";

struct command {
    const char *name;
    int (*run)(int argc, char *argv[]);
};

/* clang-format off: one command per line */
static const struct command COMMANDS[] = {
    {"info", cmd_info},
    {"lifecycle", cmd_lifecycle},
    {"gc", cmd_gc},
    {"gr", cmd_gr},
    {"lifetime", cmd_lifetime},
    {"sched", cmd_sched},
    {"gm", cmd_gm},
    {"var", cmd_var},
    {"summary", cmd_summary},
    {"top", cmd_top},
    {"heap", cmd_heap},
    {"stacks", cmd_stacks},
    {"pprof", cmd_pprof},
    {"exporter", cmd_exporter},
    {"cache", cmd_cache},
};
/* clang-format on */

/* Whether stdout is a pipe or socket whose reader has gone. A write that failed earlier left only stdio's
 * error flag, not its errno: the descriptor tells. */
static bool stdout_reader_gone(void) {
    struct pollfd out = {.fd = STDOUT_FILENO, .events = POLLOUT};
    return poll(&out, 1, 0) == 1 && (out.revents & POLLERR);
}

/* What a command printed to stdout and the kernel refused (a full disk, a closed descriptor) is output lost:
 * said, and the command fails, where stdio alone would let it exit 0. Log lines are written by the log
 * writer, which says so itself. A reader that closed the pipe (`| head`) took what it wanted: that is not an
 * error. A command that failed has said why. */
static int checked_stdout(int status) {
    errno = 0;
    bool written = fflush(stdout) == 0 && !ferror(stdout);
    int why = written ? log_writer_lost_errno() : errno;
    if ((written && !why) || why == EPIPE || (!why && stdout_reader_gone()))
        return status;
    if (status != GMON_EXIT_OK)
        return status;
    if (!written)
        cli_error(NULL, "cannot write standard output%s%s: what it printed is lost", why ? ": " : "",
                  why ? strerror(why) : "");
    return GMON_EXIT_FAILED;
}

static int run_command(int argc, char *argv[]) {
    if (argc < 2) {
        fputs(USAGE, stderr);
        return GMON_EXIT_BAD_INPUT;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    /* The compiler child of a tracing command (probes/bpf_compiler.h), not a command for users. */
    if (strcmp(cmd, BPF_COMPILER_COMMAND) == 0)
        return bpf_compiler_main(argc - 1, argv + 1);
    if (cli_wants_command_list(argc, argv)) { /* for shell completion: the table below */
        for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
            puts(COMMANDS[i].name);
        return GMON_EXIT_OK;
    }
    if (cli_wants_version(argc, argv)) {
        printf("gmon %s (linux/x86_64)\n", GMON_VERSION_STRING);
        return GMON_EXIT_OK;
    }
    /* Options first, as with the seed gmon ('gmon -path BIN'): the lifecycle monitor. */
    if (cmd[0] == '-')
        return cmd_lifecycle(argc, argv);
    for (size_t i = 0; i < sizeof(COMMANDS) / sizeof(COMMANDS[0]); i++)
        if (strcmp(cmd, COMMANDS[i].name) == 0)
            return COMMANDS[i].run(argc - 1, argv + 1);
    cli_error(NULL, "unknown command \"%s\" (see 'gmon --help')", cmd);
    return GMON_EXIT_BAD_INPUT;
}

int main(int argc, char *argv[]) {
    return checked_stdout(run_command(argc, argv));
}
