#include "privileges.h"

#include <errno.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

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

int privileges_keep_only_ptrace(struct gmon_error *err) {
    const cap_value_t keep[] = {CAP_SYS_PTRACE};
    if (set_thread_capabilities(keep, 1, err) != 0)
        return -1;
    return forbid_new_privileges(err);
}

int privileges_drop_all_in_thread(struct gmon_error *err) {
    if (set_thread_capabilities(NULL, 0, err) != 0)
        return -1;
    return forbid_new_privileges(err);
}
