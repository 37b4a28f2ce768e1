#include "cli.h"

#include <errno.h>
#include <getopt.h>
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

/* " (see 'gmon CMD --help')" for cmd, or gmon's own. */
static const char *see_help(const char *cmd, char *out, size_t size) {
    snprintf(out, size, " (see 'gmon%s%s --help')", cmd ? " " : "", cmd ? cmd : "");
    return out;
}

int cli_bad_option(const char *cmd, char *const argv[], int optind_now) {
    const char *arg = optind_now > 0 ? argv[optind_now - 1] : "?";
    char see[160];
    cli_error(cmd, "%s is not an option of gmon%s%s%s", arg, cmd ? " " : "", cmd ? cmd : "",
              see_help(cmd, see, sizeof(see)));
    return GMON_EXIT_BAD_INPUT;
}

/* The long option whose value is val, or NULL. */
static const struct option *option_with_value(const struct option *opts, int val) {
    for (const struct option *o = opts; o->name; o++)
        if (o->val == val && !o->flag)
            return o;
    return NULL;
}

/* How many long options start with the name in arg ("-na" or "--na=x": "na"), and the first two of them. */
static int options_named_by(const struct option *opts, const char *arg, const char *found[2]) {
    arg += arg[0] == '-';
    arg += arg[0] == '-';
    size_t len = strcspn(arg, "=");
    int n = 0;
    for (const struct option *o = opts; o->name; o++) {
        if (strncmp(o->name, arg, len) != 0)
            continue;
        if (strlen(o->name) == len)
            return 1;
        if (n < 2)
            found[n] = o->name;
        n++;
    }
    return n;
}

/* The line for what getopt rejected: argv[optind - 1], with optopt the value of the option it names, if any.
 */
static void say_rejected(const char *cmd, char *const argv[], const struct option *opts) {
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    char see[160];
    see_help(cmd, see, sizeof(see));
    const struct option *known = optopt ? option_with_value(opts, optopt) : NULL;
    const char *found[2] = {NULL, NULL};
    int named = optopt ? 0 : options_named_by(opts, arg, found);
    if (known && known->has_arg == required_argument)
        cli_error(cmd, "--%s needs a value%s", known->name, see);
    else if (known && known->has_arg == no_argument)
        cli_error(cmd, "--%s takes no value%s", known->name, see);
    else if (named > 1)
        cli_error(cmd, "%s is ambiguous: --%s, --%s%s%s", arg, found[0], found[1], named > 2 ? " …" : "",
                  see);
    else
        cli_bad_option(cmd, argv, optind);
}

/* The options given so far in this parse (their values): one given again is a mistake, whichever would win.
 */
static struct {
    int vals[64];
    size_t n;
} given;

/* Whether option c was given before in this parse; it is noted as given. */
static bool given_before(int c) {
    for (size_t i = 0; i < given.n; i++)
        if (given.vals[i] == c)
            return true;
    if (given.n < sizeof(given.vals) / sizeof(given.vals[0]))
        given.vals[given.n++] = c;
    return false;
}

int cli_next_option(const char *cmd, int argc, char *argv[], const char *shortopts, const struct option *opts,
                    int repeatable) {
    if (optind == 0) /* a new parse */
        given.n = 0;
    int index = -1;
    int c = getopt_long_only(argc, argv, shortopts, opts, &index);
    if (c == '?' || c == ':') {
        say_rejected(cmd, argv, opts);
        return '?';
    }
    const char *problem = c == -1                              ? NULL
                          : optarg && !optarg[0]               ? ": the value is empty"
                          : c != repeatable && given_before(c) ? " is given twice: give it once"
                                                               : NULL;
    if (!problem)
        return c;
    /* the option as the user knows it: its long name (-o for a one-letter one), or its letter */
    const struct option *o = index >= 0 ? &opts[index] : option_with_value(opts, c);
    char name[64];
    if (o)
        snprintf(name, sizeof(name), "%s%s", o->name[1] ? "--" : "-", o->name);
    else
        snprintf(name, sizeof(name), "-%c", c);
    cli_error(cmd, "%s%s", name, problem);
    return '?';
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
