#include "kernel_release.h"

#include <stdio.h>
#include <sys/utsname.h>

bool kernel_release(int *major, int *minor) {
    struct utsname u;
    int a, b;
    if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &a, &b) != 2)
        return false;
    *major = a;
    *minor = b;
    return true;
}
