#include "freeze.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "proc_threads.h"

static volatile sig_atomic_t frozen_pid; /* 0: nothing to resume */

void thaw_process(void) {
    int pid = frozen_pid;
    frozen_pid = 0;
    if (pid > 0)
        kill(pid, SIGCONT);
}

static void thaw_and_reraise(int sig) {
    thaw_process();
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install_thaw_handlers(void) {
    static const int SIGNALS[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGBUS, SIGABRT, SIGFPE};
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = thaw_and_reraise;
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < sizeof(SIGNALS) / sizeof(SIGNALS[0]); i++)
        sigaction(SIGNALS[i], &sa, NULL);
    static bool registered;
    if (!registered)
        atexit(thaw_process);
    registered = true;
}

static bool all_threads_stopped(int pid) {
    struct proc_threads t;
    return proc_threads_read(pid, &t) && t.by_state['T' - 'A'] == t.total;
}

/* A test hook: GMON_TEST_FREEZE_HOLD_MS keeps the process frozen that long, so that the tests can interrupt
 * gmon while it holds a process stopped. */
static void hold_for_tests(void) {
    const char *ms = getenv("GMON_TEST_FREEZE_HOLD_MS");
    if (!ms)
        return;
    long v = strtol(ms, NULL, 10);
    struct timespec ts = {v / 1000, (v % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int freeze_process(int pid, struct gmon_error *err) {
    if (all_threads_stopped(pid))
        return 0; /* stopped by someone else: theirs to resume */
    install_thaw_handlers();
    frozen_pid = pid;
    if (kill(pid, SIGSTOP) != 0) {
        frozen_pid = 0;
        return gmon_fail(err, "process %d: cannot stop it", pid);
    }
    for (int i = 0; i < 200 && !all_threads_stopped(pid); i++) {
        struct timespec ts = {0, 10 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (!all_threads_stopped(pid)) {
        thaw_process();
        return gmon_fail(err, "process %d: its threads did not all stop within 2 s", pid);
    }
    hold_for_tests();
    return 0;
}
