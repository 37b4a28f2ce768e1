#include "curl_library.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stddef.h>

static struct curl_library api;
static bool loaded;

/* POSIX lets a dlsym result be stored into a function pointer through a void * view of it. */
static const struct {
    const char *name;
    size_t offset;
} FUNCTIONS[] = {
    {"curl_global_init", offsetof(struct curl_library, global_init)},
    {"curl_easy_init", offsetof(struct curl_library, easy_init)},
    {"curl_easy_setopt", offsetof(struct curl_library, easy_setopt)},
    {"curl_easy_perform", offsetof(struct curl_library, easy_perform)},
    {"curl_easy_getinfo", offsetof(struct curl_library, easy_getinfo)},
    {"curl_easy_cleanup", offsetof(struct curl_library, easy_cleanup)},
    {"curl_easy_strerror", offsetof(struct curl_library, easy_strerror)},
};

const struct curl_library *curl_library_load(struct gmon_error *err) {
    if (loaded)
        return &api;
    /* Kept loaded until gmon exits: libcurl's global state must outlive every handle. */
    void *lib = dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        gmon_fail(err, "cannot load libcurl, which --container needs (Debian: apt-get install libcurl4): %s",
                  dlerror());
        return NULL;
    }
    for (size_t i = 0; i < sizeof(FUNCTIONS) / sizeof(FUNCTIONS[0]); i++) {
        void *f = dlsym(lib, FUNCTIONS[i].name);
        if (!f) {
            gmon_fail(err, "this libcurl has no %s: %s", FUNCTIONS[i].name, dlerror());
            dlclose(lib);
            return NULL;
        }
        *(void **)((char *)&api + FUNCTIONS[i].offset) = f;
    }
    /* Plain HTTP only: no TLS or Win32 sockets to set up. */
    if (api.global_init(CURL_GLOBAL_NOTHING) != CURLE_OK) {
        gmon_fail(err, "libcurl could not start");
        dlclose(lib);
        return NULL;
    }
    loaded = true;
    return &api;
}
