/* gmon top --pid PID: a refreshing view of a running Go program's goroutines grouped by function (start
 * function, or go statement with --pc caller), busiest first, under the summary header. Keys on a terminal:
 * q quits, s switches the sort (count / function), p pauses. When stdout is not a terminal it prints one
 * plain table per refresh. No eBPF: each refresh is a goroutine_snapshot. */
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "commands.h"
#include "goroutine_snapshot.h"
#include "option_help.h"
#include "snapshot_options.h"
#include "table_text.h"
#include "trace_loop.h"

static const char USAGE[] =
    "Usage: gmon top (--pid PID | --container NAME) [--bin BIN] [--refresh SECS]\n"
    "                [--pc start|caller|current] [--count N]\n"
    "\n"
    "A refreshing view of the goroutines of a running Go program (Go 1.17-1.27, stripped or not), grouped "
    "by\n"
    "function, busiest first, under the summary header (GOMAXPROCS, goroutines by status, threads, uptime).\n"
    "Read from the process's memory: no eBPF, and the target is never stopped.\n"
    "Keys on a terminal: q quit, s sort by count or by function, p pause / resume. When stdout is not a\n"
    "terminal, prints one plain table per refresh until Ctrl-C or --count.\n"
    "\n" HELP_SNAPSHOT_PID HELP_SNAPSHOT_CONTAINER HELP_BIN
    "  --refresh SECS      seconds between refreshes (default 2)\n"
    "  --pc WHICH          group by start function (start, default), go statement (caller) or where the\n"
    "                      goroutines are now (current: first function outside the runtime, file:line)\n"
    "  --count N           stop after N refreshes\n" HELP_HELP "\n" HELP_EXIT_STATUS
    "Reference: man gmon-top (docs/top.md).\n"
    "\n"
    "Examples:\n"
    "  gmon top --pid 4242                         refreshing every 2 seconds; q quits\n"
    "  gmon top --pid 4242 --pc caller --count 1   once, grouped by go statement\n";

/* Goroutines that share a function. */
struct group {
    char where[512];
    uint64_t count, by_status[STATUSES];
};

struct top {
    struct snapshot_options opt;
    struct goroutine_snapshot snap;
    struct group *groups;
    size_t ngroups, cap;
    bool tty, by_name, paused;
    struct termios saved;
};

static struct group *group_of(struct top *t, const char *where) {
    for (size_t i = 0; i < t->ngroups; i++)
        if (strcmp(t->groups[i].where, where) == 0)
            return &t->groups[i];
    if (t->ngroups == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        struct group *grown = realloc(t->groups, cap * sizeof(*grown));
        if (!grown)
            return NULL;
        t->groups = grown;
        t->cap = cap;
    }
    struct group *g = &t->groups[t->ngroups++];
    memset(g, 0, sizeof(*g));
    snprintf(g->where, sizeof(g->where), "%s", where);
    return g;
}

static int by_count(const void *a, const void *b) {
    const struct group *x = a, *y = b;
    return x->count != y->count ? (x->count < y->count ? 1 : -1) : strcmp(x->where, y->where);
}

static int by_name(const void *a, const void *b) {
    return strcmp(((const struct group *)a)->where, ((const struct group *)b)->where);
}

static void group_goroutines(struct top *t) {
    t->ngroups = 0;
    for (size_t i = 0; i < t->snap.n; i++) {
        const struct goroutine *g = &t->snap.gs[i];
        struct group *grp = group_of(t, snapshot_location(&t->snap, g, t->opt.pc));
        if (grp) {
            grp->count++;
            grp->by_status[g->status]++;
        }
    }
    if (t->ngroups > 1) /* none: groups may be NULL, which qsort must not be given */
        qsort(t->groups, t->ngroups, sizeof(*t->groups), t->by_name ? by_name : by_count);
}

/* Rows that fit the terminal (all of them off a terminal). */
static size_t rows_to_show(const struct top *t) {
    if (!t->tty)
        return t->ngroups;
    const char *lines = getenv("LINES");
    long n = lines ? strtol(lines, NULL, 10) : 0;
    if (n <= 0)
        n = 40;
    return n > 12 && (size_t)(n - 12) < t->ngroups ? (size_t)(n - 12) : t->ngroups;
}

static void draw(struct top *t) {
    if (t->tty)
        fputs("\033[H\033[2J", stdout); /* home, clear */
    char when[32];
    clock_text(wall_ns(), when, sizeof(when));
    printf("gmon top - %s - pid %d - sorted by %s%s\n", when, t->opt.pid, t->by_name ? "function" : "count",
           t->paused ? " - PAUSED" : "");
    snapshot_print_header(&t->snap, stdout);
    printf("\n%7s %8s %8s %8s %8s  %s\n", "COUNT", "RUNNING", "RUNNABLE", "WAITING", "SYSCALL",
           t->opt.pc == PC_START    ? "FUNCTION"
           : t->opt.pc == PC_CALLER ? "GO STATEMENT"
                                    : "NOW AT");
    size_t shown = rows_to_show(t);
    for (size_t i = 0; i < shown; i++) {
        const struct group *g = &t->groups[i];
        printf("%7" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 " %8" PRIu64 "  %s\n", g->count,
               g->by_status[GOROUTINE_RUNNING], g->by_status[GOROUTINE_RUNNABLE],
               g->by_status[GOROUTINE_WAITING], g->by_status[GOROUTINE_SYSCALL], g->where);
    }
    if (shown < t->ngroups)
        printf("... %zu more functions\n", t->ngroups - shown);
    if (t->tty)
        printf("\nq quit   s sort (count/function)   p pause\n");
    else
        printf("\n");
    fflush(stdout);
}

static struct termios *restore_on_exit;

static void restore_terminal(void) {
    if (restore_on_exit)
        tcsetattr(STDIN_FILENO, TCSANOW, restore_on_exit);
}

/* Keys arrive one by one, unechoed; the terminal is restored at exit (Ctrl-C included, through atexit). */
static void raw_keys(struct top *t) {
    if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &t->saved) != 0)
        return;
    struct termios raw = t->saved;
    raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
    raw.c_cc[VMIN] = 0;
    raw.c_cc[VTIME] = 0;
    restore_on_exit = &t->saved;
    atexit(restore_terminal);
    tcsetattr(STDIN_FILENO, TCSANOW, &raw);
}

/* Waits up to ms for a key; returns it, or 0. */
static int wait_key(int ms) {
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    if (!isatty(STDIN_FILENO)) {
        poll(NULL, 0, ms);
        return 0;
    }
    if (poll(&p, 1, ms) <= 0)
        return 0;
    char c;
    return read(STDIN_FILENO, &c, 1) == 1 ? c : 0;
}

/* The process ended: said, and top is done. */
static bool said_exited(const struct top *t) {
    if (!proc_memory_gone(t->opt.pid))
        return false;
    fprintf(stderr, "gmon top: process %d exited\n", t->opt.pid);
    return true;
}

/* 0, or 1 when the process exited (said), or -1 on an error (said). */
static int refresh(struct top *t) {
    struct gmon_error err;
    if (!t->paused) {
        if (snapshot_take(&t->snap, false, &err) != 0) {
            if (said_exited(t)) /* while it was read: what failed is that */
                return 1;
            cli_error("top", "%s", err.msg);
            return -1;
        }
        group_goroutines(t);
    }
    draw(t);
    return 0;
}

/* Returns false to quit. */
static bool handle_key(struct top *t, int key) {
    if (key == 'q' || key == 'Q')
        return false;
    if (key == 's' || key == 'S') {
        t->by_name = !t->by_name;
        if (t->ngroups > 1)
            qsort(t->groups, t->ngroups, sizeof(*t->groups), t->by_name ? by_name : by_count);
        draw(t);
    } else if (key == 'p' || key == 'P') {
        t->paused = !t->paused;
        draw(t);
    }
    return true;
}

static int run(struct top *t) {
    for (uint64_t n = 0; !trace_loop_stop_requested();) {
        int refreshed = refresh(t);
        if (refreshed != 0)
            return refreshed > 0 ? GMON_EXIT_OK : GMON_EXIT_BAD_INPUT;
        if (t->opt.count && ++n >= t->opt.count)
            break;
        for (int64_t until = monotonic_ns() + (int64_t)t->opt.refresh_s * 1000000000LL;
             monotonic_ns() < until && !trace_loop_stop_requested();) {
            int key = wait_key(100);
            if (key && !handle_key(t, key))
                return GMON_EXIT_OK;
        }
        if (said_exited(t))
            return GMON_EXIT_OK;
    }
    return GMON_EXIT_OK;
}

int cmd_top(int argc, char *argv[]) {
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    static struct top t;
    memset(&t, 0, sizeof(t));
    int parsed =
        snapshot_parse_options("top", SNAP_BIN | SNAP_PC | SNAP_REFRESH | SNAP_COUNT, argc, argv, &t.opt);
    if (parsed != 0)
        return cli_exit_after_parse(parsed);
    struct gmon_error err;
    if (snapshot_open(&t.snap, t.opt.pid, t.opt.bin, &err) != 0) {
        cli_error("top", "%s", err.msg);
        snapshot_close(&t.snap);
        return GMON_EXIT_BAD_INPUT;
    }
    t.snap.walk_stacks = t.opt.pc == PC_CURRENT;
    t.tty = isatty(STDOUT_FILENO);
    /* A terminal's stdout is line-buffered: each frame reached it a line at a time after the clear, and a
     * refresh flickered through a half-drawn table. Fully buffered, draw's fflush writes the frame at once.
     */
    static char frame_buffer[1 << 16];
    if (t.tty) {
        (void)setvbuf(stdout, frame_buffer, _IOFBF, sizeof(frame_buffer)); /* if refused: flicker, no loss */
        raw_keys(&t);
    }
    trace_loop_install_signals();
    int rc = run(&t);
    restore_terminal();
    snapshot_close(&t.snap);
    free(t.groups);
    return rc;
}
