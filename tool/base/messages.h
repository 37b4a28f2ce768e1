/* What every part of gmon may say to its user, with no other dependency: the exit statuses of the commands
 * and the one-line error format. Readers include this, never the command line's cli.h. */
#ifndef GMON_MESSAGES_H
#define GMON_MESSAGES_H

enum {
    GMON_EXIT_OK = 0,
    GMON_EXIT_FAILED = 1,    /* something went wrong while running */
    GMON_EXIT_BAD_INPUT = 2, /* bad arguments, or a target gmon cannot work on */
};

/* Prints "gmon[ CMD]: message" on stderr as one line. */
void cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* GMON_VERSION_STRING is defined by the build from the project's VERSION in CMakeLists.txt, its one place. */
#ifndef GMON_VERSION_STRING
#error "GMON_VERSION_STRING comes from CMakeLists.txt (project VERSION)"
#endif

#endif
