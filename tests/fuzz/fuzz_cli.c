/* libFuzzer target: the command-line parsers every command goes through (the snapshot commands' and the
 * tracing commands' shared options, numbers, PIDs, formats), on argument vectors made of the input's
 * NUL-separated pieces. --container is pointed at a socket that does not exist, so it fails without I/O. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "snapshot_options.h"
#include "trace_options.h"

enum { MAX_ARGS = 24 };

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    setenv("DOCKER_HOST", "unix:///nonexistent/gmon-fuzz.sock", 1);
    return 0;
}

/* A command's own options: accepts --level with a value, like the lifecycle monitor's. */
static int own_option(int c, const char *arg, void *ctx) {
    (void)ctx;
    if (c != 'L')
        return 0;
    enum log_format f;
    return arg && (strcmp(arg, "INFO") == 0 || log_format_parse(arg, &f)) ? 1 : -1;
}

/* The input split at NULs into argv[1..], argv[0] being the program; the copy is NUL-terminated. */
static int split_args(const uint8_t *data, size_t size, char *copy, char **argv) {
    memcpy(copy, data, size);
    copy[size] = '\0';
    int argc = 0;
    argv[argc++] = "gmon";
    for (size_t at = 0; at <= size && argc < MAX_ARGS; at += strlen(copy + at) + 1)
        argv[argc++] = copy + at;
    argv[argc] = NULL;
    return argc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const unsigned MASKS[] = {
        SNAP_BIN | SNAP_JSON | SNAP_FREEZE, SNAP_BIN | SNAP_PC | SNAP_JSON | SNAP_FREEZE | SNAP_NO_COLOR,
        SNAP_BIN | SNAP_PC | SNAP_REFRESH | SNAP_COUNT, SNAP_NAME | SNAP_BIN | SNAP_JSON | SNAP_FREEZE};
    static const struct option TRACE_OPTS[] = {
        TRACE_LONG_OPTIONS, {"level", required_argument, NULL, 'L'}, {NULL, 0, NULL, 0}};
    char *copy = malloc(size + 1), *argv[MAX_ARGS + 1];
    if (!copy)
        return 0;
    for (size_t i = 0; i < sizeof(MASKS) / sizeof(MASKS[0]); i++) {
        struct snapshot_options o;
        int argc = split_args(data, size, copy, argv);
        if (snapshot_parse_options("fuzz", MASKS[i], argc, argv, &o) == 0 && o.pid <= 0)
            __builtin_trap(); /* accepted options always name a process */
    }
    struct trace_options t;
    int argc = split_args(data, size, copy, argv);
    if (trace_options_getopt("fuzz", argc, argv, TRACE_OPTS, "", &t, own_option, NULL) == 0 && !t.path &&
        t.pid <= 0)
        __builtin_trap(); /* accepted options always name a target */
    free(copy);
    return 0;
}
