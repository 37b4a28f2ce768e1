/* Which functions are the Go runtime's own code, by name: the one place gmon decides it (allocation sites,
 * where a goroutine is now, and any other view that looks for the first frame of the program's own code). */
#ifndef GMON_GO_RUNTIME_CODE_H
#define GMON_GO_RUNTIME_CODE_H
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* True for functions of package runtime and of the packages the runtime is split into: runtime/internal/...
 * (atomic, sys, math, syscall up to Go 1.22) and internal/runtime/... (where Go 1.23 moved those, and where
 * Go 1.24's maps and Go 1.26's gc live). Functions the runtime implements for other packages
 * under their names (reflect.unsafe_New, sync.runtime_Semacquire) are named after those packages, as Go's
 * own tracebacks and profiles show them, and are not counted as the runtime's. */
bool go_is_runtime_function(const char *name);

#ifdef __cplusplus
}
#endif

#endif
