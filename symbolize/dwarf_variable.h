/* The type of a Go global variable from DWARF (libdw): enough to print its value. Go names globals
 * "package.Name" (main.Counter, runtime.ncpu); named types (type X int) are typedefs of their underlying
 * type. */
#ifndef GMON_DWARF_VARIABLE_H
#define GMON_DWARF_VARIABLE_H
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum go_var_kind {
    GO_VAR_INT,
    GO_VAR_UINT,
    GO_VAR_BOOL,
    GO_VAR_FLOAT,
    GO_VAR_STRING,
    GO_VAR_POINTER,
    GO_VAR_OTHER
};

struct go_var_type {
    enum go_var_kind kind;
    uint64_t size;  /* bytes */
    char name[128]; /* the Go type as DWARF names it: "int", "string", "*main.config", "main.Mode" */
};

/* Finds the variable's type. Returns false when the file has no DWARF or no such variable. */
bool dwarf_variable_type(const char *path, const char *name, struct go_var_type *out);
/* "int", "uint", "bool", "float", "string", "pointer", "other". */
const char *go_var_kind_name(enum go_var_kind kind);

#ifdef __cplusplus
}
#endif

#endif
