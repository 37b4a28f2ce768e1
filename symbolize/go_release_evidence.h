/* Which Go releases a binary can have been built by, from what is in it rather than what it says: the
 * pclntab's format, and runtime functions that exist only from (or only up to) some release. Used to check a
 * --go-version given for a binary whose build info is damaged: a release its code contradicts is refused. */
#ifndef GMON_GO_RELEASE_EVIDENCE_H
#define GMON_GO_RELEASE_EVIDENCE_H

#include "pclntab.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { GO_MINOR_UNBOUNDED = 1000 };

/* The Go 1.x releases [min_minor, max_minor] the binary's code fits (max GO_MINOR_UNBOUNDED: no upper bound),
 * with the function that set each bound ("" for the pclntab format alone). */
struct go_release_evidence {
    int min_minor, max_minor;
    char min_because[96], max_because[96];
};

void go_release_evidence_read(const struct pclntab *t, struct go_release_evidence *out);

#ifdef __cplusplus
}
#endif

#endif
