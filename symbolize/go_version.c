#include "go_version.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads a decimal number of at most 4 digits; Go has no release numbers beyond that. */
static const char *read_number(const char *p, int *out) {
    if (!isdigit((unsigned char)*p))
        return NULL;
    int n = 0, digits = 0;
    while (isdigit((unsigned char)*p)) {
        if (++digits > 4)
            return NULL;
        n = n * 10 + (*p++ - '0');
    }
    *out = n;
    return p;
}

static const char *read_release(const char *p, struct go_version *v) {
    if (strncmp(p, "go", 2) != 0)
        return NULL;
    p = read_number(p + 2, &v->major);
    if (!p || *p != '.')
        return NULL;
    p = read_number(p + 1, &v->minor);
    if (!p)
        return NULL;
    if (*p == '.') {
        p = read_number(p + 1, &v->patch);
    } else if (strncmp(p, "rc", 2) == 0) {
        p = read_number(p + 2, &v->rc);
    } else if (strncmp(p, "beta", 4) == 0) {
        p = read_number(p + 4, &v->beta);
    }
    return p;
}

static void read_experiments(const char *p, struct go_version *v) {
    const char *x = strstr(p, " X:");
    if (x)
        snprintf(v->experiments, sizeof(v->experiments), "%s", x + 3);
}

int go_version_parse(const char *s, struct go_version *v, struct gmon_error *err) {
    memset(v, 0, sizeof(*v));
    const char *p = s;
    if (strncmp(s, "devel ", 6) == 0) {
        v->devel = true;
        p = s + 6;
        /* "devel go1.23-abcdef ..." names the coming release; old "devel +abcdef" strings do not. */
        if (strncmp(p, "go", 2) != 0)
            return gmon_fail(err, "development Go version \"%.40s\" names no release", s);
    }
    const char *end = read_release(p, v);
    if (!end || v->major != 1)
        return gmon_fail(err, "\"%.40s\" is not a Go version string", s);
    if (!v->devel && *end != '\0' && *end != ' ')
        return gmon_fail(err, "\"%.40s\" is not a Go version string", s);
    read_experiments(end, v);
    return 0;
}

int go_version_parse_user(const char *s, struct go_version *v, struct gmon_error *err) {
    char buf[64];
    if (strncmp(s, "go", 2) == 0)
        snprintf(buf, sizeof(buf), "%s", s);
    else
        snprintf(buf, sizeof(buf), "go%s", s);
    if (go_version_parse(buf, v, NULL) != 0 || v->devel || v->experiments[0])
        return gmon_fail(err, "invalid Go version \"%s\" (expected e.g. 1.21 or 1.21.3)", s);
    return 0;
}

bool go_version_has_experiment(const struct go_version *v, const char *exp) {
    size_t n = strlen(exp);
    for (const char *p = v->experiments; (p = strstr(p, exp)) != NULL; p += n) {
        bool starts = p == v->experiments || p[-1] == ',';
        bool ends = p[n] == '\0' || p[n] == ',' || p[n] == ' ';
        if (starts && ends)
            return true;
    }
    return false;
}

int go_version_compare(const struct go_version *a, int major, int minor, int patch) {
    if (a->major != major)
        return a->major < major ? -1 : 1;
    if (a->minor != minor)
        return a->minor < minor ? -1 : 1;
    if (a->patch != patch)
        return a->patch < patch ? -1 : 1;
    return 0;
}
