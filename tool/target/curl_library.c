#include "curl_library.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>

#include "library_loader.h"

static struct curl_library api;
static bool loaded;

static const struct library_function FUNCTIONS[] = {
    {"curl_global_init", (void **)&api.global_init},     {"curl_easy_init", (void **)&api.easy_init},
    {"curl_easy_setopt", (void **)&api.easy_setopt},     {"curl_easy_perform", (void **)&api.easy_perform},
    {"curl_easy_getinfo", (void **)&api.easy_getinfo},   {"curl_easy_cleanup", (void **)&api.easy_cleanup},
    {"curl_easy_strerror", (void **)&api.easy_strerror},
};

const struct curl_library *curl_library_load(struct gmon_error *err) {
    if (loaded)
        return &api;
    /* Kept loaded until gmon exits: libcurl's global state must outlive every handle. */
    void *lib = library_load("libcurl.so.4", FUNCTIONS, sizeof(FUNCTIONS) / sizeof(FUNCTIONS[0]),
                             "which --container needs (Debian: apt-get install libcurl4)", err);
    if (!lib)
        return NULL;
    /* Plain HTTP only: no TLS or Win32 sockets to set up. */
    if (api.global_init(CURL_GLOBAL_NOTHING) != CURLE_OK) {
        gmon_fail(err, "libcurl could not start");
        dlclose(lib);
        return NULL;
    }
    loaded = true;
    return &api;
}
