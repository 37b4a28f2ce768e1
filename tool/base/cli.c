#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, cmd ? "gmon %s: " : "gmon: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static bool parse_u64(const char *text, uint64_t *out) {
    if (!text || !*text || text[0] == '-' || text[0] == '+')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

bool cli_parse_uint(const char *cmd, const char *option, const char *text, uint64_t min, uint64_t max,
                    uint64_t *out) {
    uint64_t v;
    if (!parse_u64(text, &v) || v < min || v > max) {
        cli_error(cmd, "%s: \"%s\" is not a number from %llu to %llu", option, text, (unsigned long long)min,
                  (unsigned long long)max);
        return false;
    }
    *out = v;
    return true;
}

bool cli_parse_pid(const char *cmd, const char *text, int *pid) {
    uint64_t v;
    if (!parse_u64(text, &v) || v == 0 || v > 4194304) {
        cli_error(cmd, "--pid: \"%s\" is not a process ID", text);
        return false;
    }
    *pid = (int)v;
    return true;
}

int cli_bad_option(const char *cmd, char *const argv[], int optind_now) {
    const char *arg = optind_now > 0 ? argv[optind_now - 1] : "?";
    cli_error(cmd, "unknown option or missing value: %s (see 'gmon%s%s --help')", arg, cmd ? " " : "",
              cmd ? cmd : "");
    return GMON_EXIT_BAD_INPUT;
}

/* True when one of the arguments before "--" is one of names (NULL-terminated). */
static bool has_flag(int argc, char *const argv[], const char *const names[]) {
    for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
        for (const char *const *n = names; *n; n++)
            if (strcmp(argv[i], *n) == 0)
                return true;
    return false;
}

bool cli_wants_help(int argc, char *const argv[]) {
    static const char *const NAMES[] = {"-h", "-help", "--help", NULL};
    return has_flag(argc, argv, NAMES);
}

bool cli_wants_version(int argc, char *const argv[]) {
    static const char *const NAMES[] = {"-version", "--version", NULL};
    return has_flag(argc, argv, NAMES);
}

bool cli_wants_option_list(int argc, char *const argv[]) {
    static const char *const NAMES[] = {"--list-options", NULL};
    return has_flag(argc, argv, NAMES);
}

bool cli_wants_command_list(int argc, char *const argv[]) {
    return argc == 2 && strcmp(argv[1], "--list-commands") == 0;
}

int cli_exit_after_parse(int parsed) {
    return parsed > 0 ? GMON_EXIT_OK : GMON_EXIT_BAD_INPUT;
}
