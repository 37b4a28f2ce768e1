#include "library_loader.h"

#include <dlfcn.h>

void *library_load(const char *soname, const struct library_function *functions, size_t n,
                   const char *needed_for, struct gmon_error *err) {
    void *lib = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        gmon_fail(err, "cannot load %s, %s: %s", soname, needed_for, dlerror());
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        if (!(*functions[i].pointer = dlsym(lib, functions[i].name))) {
            gmon_fail(err, "this %s has no %s, which gmon calls: %s", soname, functions[i].name, dlerror());
            dlclose(lib);
            return NULL;
        }
    }
    return lib;
}
