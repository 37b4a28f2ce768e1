#include "privileges.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "kernel_release.h"

enum { MAX_KEPT = 3 };

/* Before Linux 5.19, kernel.unprivileged_bpf_disabled (Debian's default: 2) made every bpf() command need
 * CAP_BPF or CAP_SYS_ADMIN, reading and deleting map entries included; 5.19 checks it only where programs
 * and maps are created. */
static bool map_access_needs_a_capability(void) {
    int major, minor, disabled = 0;
    if (!kernel_release(&major, &minor))
        return true;
    if (release_at_least(major, minor, 5, 19))
        return false;
    FILE *f = fopen("/proc/sys/kernel/unprivileged_bpf_disabled", "r");
    if (f) {
        if (fscanf(f, "%d", &disabled) != 1)
            disabled = 1;
        fclose(f);
    }
    return disabled != 0;
}

static bool permitted(cap_value_t cap) {
    cap_t now = cap_get_proc();
    cap_flag_value_t v = CAP_CLEAR;
    if (now) {
        cap_get_flag(now, cap, CAP_PERMITTED, &v);
        cap_free(now);
    }
    return v == CAP_SET;
}

/* What gmon still needs once attached, among what it has: CAP_SYS_PTRACE for /proc/PID/maps, exe and mem,
 * and on older kernels the capability that reading BPF maps takes (CAP_BPF from 5.8, CAP_SYS_ADMIN before).
 */
static int capabilities_to_keep(cap_value_t keep[MAX_KEPT]) {
    int n = 0;
    if (permitted(CAP_SYS_PTRACE))
        keep[n++] = CAP_SYS_PTRACE;
    if (map_access_needs_a_capability()) {
        cap_value_t bpf = CAP_IS_SUPPORTED(CAP_BPF) ? CAP_BPF : CAP_SYS_ADMIN;
        if (permitted(bpf))
            keep[n++] = bpf;
    }
    return n;
}

/* Sets the calling thread's capabilities to exactly keep[0..n) (effective and permitted). */
static int set_thread_capabilities(const cap_value_t *keep, int n, struct gmon_error *err) {
    cap_t caps = cap_init(); /* all clear */
    if (!caps)
        return gmon_fail(err, "cannot drop capabilities: %s", strerror(errno));
    int rc = 0;
    if (n > 0 && (cap_set_flag(caps, CAP_EFFECTIVE, n, keep, CAP_SET) != 0 ||
                  cap_set_flag(caps, CAP_PERMITTED, n, keep, CAP_SET) != 0))
        rc = -1;
    if (rc == 0 && cap_set_proc(caps) != 0)
        rc = -1;
    int saved = errno;
    cap_free(caps);
    return rc == 0 ? 0 : gmon_fail(err, "cannot drop capabilities: %s", strerror(saved));
}

/* no_new_privs, like capabilities, belongs to a thread: an exec could not give back what was dropped. */
static int forbid_new_privileges(struct gmon_error *err) {
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return gmon_fail(err, "cannot set no_new_privs: %s", strerror(errno));
    return 0;
}

int privileges_keep_only_what_tracing_needs(struct gmon_error *err) {
    cap_value_t keep[MAX_KEPT];
    if (set_thread_capabilities(keep, capabilities_to_keep(keep), err) != 0)
        return -1;
    return forbid_new_privileges(err);
}
