#include "container_lookup.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proc_target.h"
#include "cli.h"
#include "curl_library.h"

#define DEFAULT_ENGINE "unix:///var/run/docker.sock"
#define MAX_REPLY      (8u << 20) /* an inspect reply is a few KiB; a bigger one is not the engine talking */

/* Where the engine listens, read as the docker CLI reads DOCKER_HOST. */
struct engine {
    char socket[256]; /* unix socket path, "" for tcp */
    char url[300];    /* the API's base URL: the host part is ignored over a unix socket */
};

struct reply {
    char *data;
    size_t len;
    bool too_long;
};

static int engine_from_env(struct engine *e, struct container_info *out, struct gmon_error *err) {
    const char *host = getenv("DOCKER_HOST");
    if (!host || !*host)
        host = DEFAULT_ENGINE;
    memset(e, 0, sizeof(*e));
    if (strncmp(host, "unix://", 7) == 0 && host[7]) {
        snprintf(e->socket, sizeof(e->socket), "%s", host + 7);
        snprintf(e->url, sizeof(e->url), "http://localhost");
        snprintf(out->engine, sizeof(out->engine), "%s", e->socket);
        return 0;
    }
    if (strncmp(host, "tcp://", 6) == 0 && host[6]) {
        /* The docker CLI's default port when DOCKER_HOST names none. */
        snprintf(e->url, sizeof(e->url), "http://%s%s", host + 6, strchr(host + 6, ':') ? "" : ":2375");
        snprintf(out->engine, sizeof(out->engine), "%s", host);
        return 0;
    }
    return gmon_fail(
        err, "DOCKER_HOST=%s: gmon reaches a container engine by unix://PATH or tcp://HOST[:PORT] (no TLS)",
        host);
}

/* Docker's names are [a-zA-Z0-9][a-zA-Z0-9_.-]*; IDs and their prefixes are hex. Checked before the name
 * goes into a URL. */
static int check_name(const char *name, struct gmon_error *err) {
    size_t n = strlen(name);
    bool ok = n > 0 && n < 200 && isalnum((unsigned char)name[0]);
    for (size_t i = 0; ok && i < n; i++)
        ok = isalnum((unsigned char)name[i]) || strchr("_.-", name[i]);
    return ok ? 0 : gmon_fail(err, "\"%s\" is not a container name or ID", name);
}

/* A unix socket that is not there or not ours is the usual case of "no engine": say what to do about it. */
static int check_socket(const char *path, struct gmon_error *err) {
    if (access(path, R_OK | W_OK) == 0)
        return 0;
    if (errno == EACCES)
        return gmon_fail(err, "permission denied on %s (the Docker engine's socket): run gmon as root", path);
    return gmon_fail(err,
                     "no container engine: %s does not exist. Start one (dockerd), set DOCKER_HOST to its "
                     "socket, or, with gmon in a container, mount it: -v %s:%s",
                     path, path, path);
}

static size_t append_reply(char *data, size_t size, size_t n, void *ctx) {
    struct reply *r = ctx;
    size_t len = size * n;
    if (r->len + len > MAX_REPLY) {
        r->too_long = true;
        return 0;
    }
    char *grown = realloc(r->data, r->len + len + 1);
    if (!grown)
        return 0;
    memcpy(grown + r->len, data, len);
    r->data = grown;
    r->len += len;
    r->data[r->len] = '\0';
    return len;
}

/* GET url over the engine's transport; *status is the HTTP status. */
static int http_get(const struct engine *e, const char *url, struct reply *r, long *status,
                    struct gmon_error *err) {
    const struct curl_library *curl = curl_library_load(err);
    CURL *h = curl ? curl->easy_init() : NULL;
    if (!h)
        return curl ? gmon_fail(err, "libcurl could not start") : -1;
    char curl_error[CURL_ERROR_SIZE] = "";
    /* Every option must take: without the socket path the request would go out over TCP. No proxy from the
     * environment either: the engine is local, or named by DOCKER_HOST itself. */
    CURLcode rc = curl->easy_setopt(h, CURLOPT_URL, url);
    if (rc == CURLE_OK && e->socket[0])
        rc = curl->easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, e->socket);
    if (rc == CURLE_OK)
        rc = curl->easy_setopt(h, CURLOPT_PROXY, "");
    if (rc == CURLE_OK)
        rc = curl->easy_setopt(h, CURLOPT_TIMEOUT, 10L);
    if (rc == CURLE_OK)
        rc = curl->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    if (rc == CURLE_OK)
        rc = curl->easy_setopt(h, CURLOPT_ERRORBUFFER, curl_error);
    if (rc == CURLE_OK)
        rc = curl->easy_setopt(h, CURLOPT_WRITEFUNCTION, append_reply);
    if (rc == CURLE_OK)
        rc = curl->easy_setopt(h, CURLOPT_WRITEDATA, r);
    if (rc != CURLE_OK) {
        curl->easy_cleanup(h);
        return gmon_fail(err, "libcurl refused an option: %s", curl->easy_strerror(rc));
    }
    rc = curl->easy_perform(h);
    curl->easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    long os_errno = 0;
    curl->easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
    curl->easy_cleanup(h);
    const char *why = curl_error[0] ? curl_error : curl->easy_strerror(rc);
    /* Over a unix socket, curl's text names the URL's host and port ("localhost port 80"), which are not
     * where it connected: the system's error is what tells (no such socket, refused). */
    if (e->socket[0] && os_errno)
        why = strerror((int)os_errno);
    if (rc == CURLE_OK)
        return 0;
    if (r->too_long)
        return gmon_fail(err, "the engine's reply is over %u bytes", MAX_REPLY);
    if (rc == CURLE_COULDNT_CONNECT)
        return gmon_fail(err, "no container engine answers (%s): is dockerd running?", why);
    return gmon_fail(err, "asking the container engine: %s", why);
}

static const char *json_text(json_object *obj, const char *key) {
    json_object *v;
    return json_object_object_get_ex(obj, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : "";
}

/* The engine's own words on an error: {"message": "No such container: web"}. */
static void engine_message(const char *body, char *out, size_t size) {
    json_object *root = body ? json_tokener_parse(body) : NULL;
    snprintf(out, size, "%s", root ? json_text(root, "message") : "");
    json_object_put(root);
}

int container_parse_inspect(const char *body, struct container_info *out, struct gmon_error *err) {
    json_object *root = body ? json_tokener_parse(body) : NULL, *state, *config, *pid;
    if (!root || !json_object_object_get_ex(root, "State", &state) ||
        !json_object_object_get_ex(state, "Pid", &pid)) {
        json_object_put(root);
        return gmon_fail(err, "the engine's reply has no State.Pid: is it a Docker-compatible engine?");
    }
    out->pid = json_object_get_int(pid);
    snprintf(out->id, sizeof(out->id), "%s", json_text(root, "Id"));
    const char *name = json_text(root, "Name");
    snprintf(out->name, sizeof(out->name), "%s", name[0] == '/' ? name + 1 : name);
    snprintf(out->status, sizeof(out->status), "%s", json_text(state, "Status"));
    if (json_object_object_get_ex(root, "Config", &config))
        snprintf(out->image, sizeof(out->image), "%s", json_text(config, "Image"));
    json_object_put(root);
    return 0;
}

static int ask_engine(const char *name, struct container_info *out, struct gmon_error *err) {
    struct engine e;
    if (engine_from_env(&e, out, err) != 0 || (e.socket[0] && check_socket(e.socket, err) != 0))
        return -1;
    char url[600];
    snprintf(url, sizeof(url), "%s/containers/%s/json", e.url, name);
    struct reply r = {0};
    long status = 0;
    int rc = http_get(&e, url, &r, &status, err);
    if (rc == 0 && status != 200) {
        char said[256];
        engine_message(r.data, said, sizeof(said));
        if (status == 404)
            rc = gmon_fail(err, "no container named or with ID \"%s\" (the engine says: %s)", name,
                           said[0] ? said : "not found");
        else
            rc = gmon_fail(err, "the engine answered HTTP %ld: %s", status, said[0] ? said : "no message");
    }
    if (rc == 0)
        rc = container_parse_inspect(r.data, out, err);
    free(r.data);
    return rc == 0 ? 0 : gmon_fail_context(err, "container engine at %s", out->engine);
}

/* The PID the engine gives is in the host's PID namespace: make sure gmon sees that very process. */
static int check_visible(const struct container_info *c, struct gmon_error *err) {
    char innermost[65];
    if (c->pid <= 0)
        return gmon_fail(err, "container %s (%.12s) is not running (status %s): start it, or give --pid",
                         c->name, c->id, c->status[0] ? c->status : "unknown");
    bool exists = proc_exists(c->pid);
    /* A cgroup without any container ID cannot be checked (an unusual cgroup layout): taken on trust. */
    if (exists && (proc_cgroup_mentions(c->pid, c->id) || !proc_container_id(c->pid, innermost)))
        return 0;
    return gmon_fail(err,
                     "container %s runs as host PID %d, which is %s from gmon's PID namespace%s: run gmon's "
                     "container with --pid=host",
                     c->name, c->pid, exists ? "another process" : "not visible",
                     exists ? "" : " (or has just exited)");
}

int container_lookup(const char *name_or_id, struct container_info *out, struct gmon_error *err) {
    memset(out, 0, sizeof(*out));
    if (check_name(name_or_id, err) != 0)
        return -1;
    return ask_engine(name_or_id, out, err) == 0 ? check_visible(out, err) : -1;
}

/* --container's job: *pid is the container's main process, or false after printing why not. */
static bool container_option_pid(const char *cmd, const char *name_or_id, int *pid) {
    struct container_info c;
    struct gmon_error err;
    if (container_lookup(name_or_id, &c, &err) != 0) {
        cli_error(cmd, "--container %s: %s", name_or_id, err.msg);
        return false;
    }
    *pid = c.pid;
    return true;
}

bool process_option(const char *cmd, bool is_container, const char *arg, int *pid, const char **container) {
    if (*container || (is_container && *pid)) {
        cli_error(cmd, "give one process: --pid or --container, once (see 'gmon %s --help')", cmd);
        return false;
    }
    if (!is_container)
        return cli_parse_pid(cmd, arg, pid);
    *container = arg;
    return container_option_pid(cmd, arg, pid);
}
