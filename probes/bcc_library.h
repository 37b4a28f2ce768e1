/* libbcc (and the LLVM and clang it carries, over 100 MB) is loaded with dlopen when the first live-tracing
 * command needs it, not when gmon starts: the snapshot commands (summary, top, heap, var) and info never pay
 * the ~0.1 s it takes to map and relocate it. bcc_library.c defines each libbcc function gmon calls, with the
 * prototype of libbcc's own headers, as a forwarder to the loaded library (every one looked up when it is
 * loaded); the rest of probes/ calls libbcc's C API as usual. */
#ifndef GMON_BCC_LIBRARY_H
#define GMON_BCC_LIBRARY_H
#include <stdbool.h>

#include "gmon_error.h"

/* Loads libbcc.so.0 once and looks up every function gmon calls. Tracing commands call it first
 * (bpf_preflight does), so that a missing library or function is a clear error, not a failure deep in a call.
 * Returns 0, or -1 with the reason. */
int bcc_library_load(struct gmon_error *err);
/* True once libbcc is in the process (for tests: the snapshot commands must never load it). */
bool bcc_library_loaded(void);

#endif
