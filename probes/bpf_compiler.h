/* Compiling a BPF program with libbcc in a short-lived child process: gmon itself, run again as
 * `gmon __bpf-compile -D...` with the source on its standard input, loads libbcc.so.0 (LLVM and clang),
 * compiles, writes the program as a serialized bpf_object on its standard output and exits. The tracing
 * process never maps LLVM, so its memory stays small (about 100 MB of LLVM's code and heap go away with the
 * child), and what the child wrote is what the cache keeps. */
#ifndef GMON_BPF_COMPILER_H
#define GMON_BPF_COMPILER_H
#include <stddef.h>
#include <stdint.h>

#include "gmon_error.h"

/* The hidden command's name (tool/commands/main.c dispatches it to bpf_compiler_main). */
#define BPF_COMPILER_COMMAND "__bpf-compile"

/* Runs the compiler child on source with the given -D flags (argv-style, n of them); on success the
 * serialized object is in *out (malloc'd, *size bytes). Compiler diagnostics reach stderr from the child.
 * 0, or -1 with the reason. */
int bpf_compile_in_child(const char *source, const char *const *defines, size_t n, uint8_t **out,
                         size_t *size, struct gmon_error *err);

/* The child: argv[1..] are -D flags, the source is on stdin. Writes one status byte (0: an object follows,
 * 1: an error message follows) and then the object or the message, on stdout. Returns the exit status. */
int bpf_compiler_main(int argc, char *argv[]);

#endif
