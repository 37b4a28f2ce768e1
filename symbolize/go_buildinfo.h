/* What the Go linker records about a build: the toolchain version, the main package and module, and the build
 * settings (`go version -m`). Read from .go.buildinfo in the 1.17 pointer format or the 1.18+ inline format.
 */
#ifndef GMON_GO_BUILDINFO_H
#define GMON_GO_BUILDINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "elf_image.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { GO_BUILDINFO_MAX_SETTINGS = 64 };

struct go_build_setting {
    char key[64];
    char value[256];
};

struct go_buildinfo {
    bool found;          /* a .go.buildinfo blob was found */
    bool inline_format;  /* 1.18+ varint strings (flags bit 1) */
    char version[128];   /* runtime.buildVersion as recorded */
    char main_path[256]; /* "path" line: the main package */
    char mod_path[256];  /* "mod" line, field 1 */
    char mod_version[128];
    struct go_build_setting settings[GO_BUILDINFO_MAX_SETTINGS];
    size_t nsettings;
    size_t settings_not_kept; /* build lines past GO_BUILDINFO_MAX_SETTINGS: counted so gmon can say so */
};

/* Reads the build info blob. Returns 0 with found=false when the binary has none, -1 when it has a damaged
 * one. */
int go_buildinfo_read(const struct elf_image *img, struct go_buildinfo *bi, struct gmon_error *err);

/* Parses modinfo text (with or without its 16-byte sentinels) into bi's path/mod/settings fields. */
void go_buildinfo_parse_modinfo(const char *mod, size_t len, struct go_buildinfo *bi);

/* The value of a build setting such as "CGO_ENABLED", or NULL. */
const char *go_buildinfo_setting(const struct go_buildinfo *bi, const char *key);

/* The runtime.buildVersion string when there is no build info blob: from .symtab when present, otherwise the
 * first {ptr,len} string header in writable data that points at a "go1.N..." string. Returns false if none.
 */
bool go_buildversion_find(const struct elf_image *img, char *out, size_t outlen, bool *from_symtab);

#ifdef __cplusplus
}
#endif

#endif
