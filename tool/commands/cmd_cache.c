/* gmon cache: where the compiled BPF programs are kept, how many, and clearing them. */
#include <stdio.h>
#include <string.h>

#include "bpf_cache.h"
#include "cli.h"
#include "commands.h"

static const char USAGE[] =
    "Usage: gmon cache [clear]\n"
    "\n"
    "The tracing commands (lifecycle, gc, gr, gm, sched --blocked, pprof creation|live|cpu, --collect) "
    "compile\n"
    "their BPF program with libbcc, in a child process, the first time; the program is then kept in a cache\n"
    "and the next run with the same program (same source and -D flags, same kernel, same libbcc) attaches\n"
    "without compiling. The cache is the user's own directory: $GMON_CACHE_DIR, else\n"
    "$XDG_CACHE_HOME/gmon/bpf, else $HOME/.cache/gmon/bpf. gmon uses it only when it belongs to the user "
    "and\n"
    "no one else can read or write it; an entry that does not match its key or checksum is compiled again.\n"
    "At most 64 programs are kept, the least recently used removed first.\n"
    "\n"
    "Reference: man gmon-cache (docs/cache.md).\n"
    "\n"
    "Examples:\n"
    "  gmon cache          the cache's directory, its programs and their size\n"
    "  gmon cache clear    removes every program (the next tracing command compiles again)\n";

static int show(void) {
    struct bpf_cache c;
    if (!bpf_cache_open(&c, false)) {
        printf("BPF program cache: not in use: %s\n", c.why_off);
        return GMON_EXIT_OK;
    }
    size_t entries;
    uint64_t bytes;
    bpf_cache_usage(&c, &entries, &bytes);
    printf("BPF program cache: %s: %zu program%s, %.1f KiB\n", c.path, entries, entries == 1 ? "" : "s",
           (double)bytes / 1024);
    bpf_cache_close(&c);
    return GMON_EXIT_OK;
}

static int clear(void) {
    struct bpf_cache c;
    if (!bpf_cache_open(&c, false)) {
        printf("BPF program cache: nothing to clear: %s\n", c.why_off);
        return GMON_EXIT_OK;
    }
    struct gmon_error err = {0};
    long removed = bpf_cache_clear(&c, &err);
    if (removed < 0) {
        cli_error("cache", "%s", err.msg);
        bpf_cache_close(&c);
        return GMON_EXIT_FAILED;
    }
    printf("BPF program cache: %s: removed %ld program%s\n", c.path, removed, removed == 1 ? "" : "s");
    bpf_cache_close(&c);
    return GMON_EXIT_OK;
}

int cmd_cache(int argc, char *argv[]) {
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    if (cli_wants_option_list(argc, argv))
        return GMON_EXIT_OK; /* no long options */
    if (cli_wants_command_list(argc, argv)) {
        puts("clear");
        return GMON_EXIT_OK;
    }
    if (argc == 1)
        return show();
    if (argc == 2 && strcmp(argv[1], "clear") == 0)
        return clear();
    /* the first argument that is not the one expected: "clear" is, in the first place */
    const char *unexpected = strcmp(argv[1], "clear") == 0 ? argv[2] : argv[1];
    cli_error("cache", "unexpected argument \"%s\" (gmon cache [clear]; see 'gmon cache --help')",
              unexpected);
    return GMON_EXIT_BAD_INPUT;
}
