/* libbcc is loaded with dlopen when a live-tracing command needs it, not when gmon starts, and in two halves:
 * the tracing process loads libbcc_bpf.so.0 (maps, program loading, uprobes, buffers: a few MB), and only the
 * short-lived compiler child (bpf_compiler.c) loads libbcc.so.0, which carries LLVM and clang (over 100 MB,
 * ~0.1 s to map and relocate). bcc_library.c defines each libbcc function gmon calls, with the prototype of
 * libbcc's own headers, as a forwarder to the loaded library (every one looked up when it is loaded); the
 * rest of probes/ calls libbcc's C API as usual. */
#ifndef GMON_BCC_LIBRARY_H
#define GMON_BCC_LIBRARY_H
#include <stdbool.h>
#include <stddef.h>

#include "gmon_error.h"

/* Loads libbcc_bpf.so.0 once and looks up every function the tracing process calls. Tracing commands call it
 * first (bpf_preflight does), so that a missing library or function is a clear error, not a failure deep in
 * a call. Returns 0, or -1 with the reason. */
int bcc_library_load(struct gmon_error *err);
/* Loads libbcc.so.0, the compiler, once (in the compiler child only). */
int bcc_compiler_load(struct gmon_error *err);
/* True once libbcc_bpf is in the process. */
bool bcc_library_loaded(void);
/* The directory libbcc_bpf.so.0 was loaded from (where libbcc.so.0 is too): 0, or -1 before it is loaded. */
int bcc_library_directory(char *out, size_t size);

#endif
