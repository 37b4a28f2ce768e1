/* Loading a shared library with dlopen when a command first needs it, not when gmon starts: a library linked
 * into gmon is mapped and relocated, with everything it pulls in, by every gmon run, also by the snapshot
 * commands that never call it. libbcc (tracing), libcurl (--container) and libmicrohttpd (/metrics) are
 * loaded this way. */
#ifndef GMON_LIBRARY_LOADER_H
#define GMON_LIBRARY_LOADER_H
#include <stddef.h>

#include "gmon_error.h"

/* A function to look up, and where its address goes (POSIX lets a dlsym result be stored into a function
 * pointer through a void * view of it). */
struct library_function {
    const char *name;
    void **pointer;
};

/* Opens soname (RTLD_NOW | RTLD_LOCAL) and fills every pointer. Returns the handle, or NULL with the reason
 * when the library or one of the functions is missing, leaving nothing loaded; `needed_for` ends the first
 * sentence of that reason ("which live tracing needs (Debian: apt-get install libbpfcc)"). */
void *library_load(const char *soname, const struct library_function *functions, size_t n,
                   const char *needed_for, struct gmon_error *err);

#endif
