/* Go release strings as the linker writes them into runtime.buildVersion: "go1.19", "go1.21.0",
 * "go1.21rc2", "go1.22.1 X:loopvar", "devel go1.23-abcdef Tue ...". */
#ifndef GMON_GO_VERSION_H
#define GMON_GO_VERSION_H

#include <stdbool.h>

#include "gmon_error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct go_version {
    int major;             /* 1 */
    int minor;             /* 19 */
    int patch;             /* 8; 0 when absent */
    int rc;                /* 2 for go1.21rc2, 0 otherwise */
    int beta;              /* 1 for go1.22beta1, 0 otherwise */
    bool devel;            /* a development toolchain: minor is the release it leads to */
    char experiments[128]; /* the text after " X:", e.g. "loopvar,noregabi" */
};

/* Parses a version string. Returns -1 with a message when it is not a Go version. */
int go_version_parse(const char *s, struct go_version *v, struct gmon_error *err);

/* Parses what a user may type for --go-version: "1.21", "go1.21", "1.21.3". */
int go_version_parse_user(const char *s, struct go_version *v, struct gmon_error *err);

/* True when the experiment list names exp (e.g. "noregabi"). */
bool go_version_has_experiment(const struct go_version *v, const char *exp);

/* Orders two versions by (major, minor, patch). */
int go_version_compare(const struct go_version *a, int major, int minor, int patch);

#ifdef __cplusplus
}
#endif

#endif
