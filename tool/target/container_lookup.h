/* --container NAME_OR_ID: asks the Docker engine (its HTTP API on a unix socket, or DOCKER_HOST) which host
 * process is the container's main process, so that people need not run `docker inspect` themselves.
 * Podman's Docker-compatible socket works too, through DOCKER_HOST. */
#ifndef GMON_CONTAINER_LOOKUP_H
#define GMON_CONTAINER_LOOKUP_H

#include <stdbool.h>

#include "gmon_error.h"

struct container_info {
    int pid;          /* the main process, in gmon's PID namespace (State.Pid) */
    char id[65];      /* full ID */
    char name[256];   /* without Docker's leading '/' */
    char status[32];  /* running, paused, exited, ... */
    char image[256];  /* Config.Image */
    char engine[300]; /* where the engine was asked: the socket's path or the tcp:// address */
};

/* Looks the container up and checks that gmon sees its main process: running, and in gmon's PID namespace
 * (gmon in a container needs --pid=host). Errors say what to do: start the engine, mount its socket, run the
 * container, share the host's PID namespace. */
int container_lookup(const char *name_or_id, struct container_info *out, struct gmon_error *err);

/* Reads the engine's answer to GET /containers/NAME/json (exposed for the fuzzer): the main process's PID,
 * the ID, name, status and image. Fails when the reply is not JSON or has no State.Pid. */
int container_parse_inspect(const char *body, struct container_info *out, struct gmon_error *err);

/* The process options of every command, --pid PID and --container NAME (is_container), one at a time as
 * getopt hands them over: sets *pid (for --container, to the container's main process) and *container (the
 * name, or left as it is for --pid). A second process option is refused, except a repeated --pid (the last
 * wins). Returns false after printing why (as "gmon CMD: ..."). */
bool process_option(const char *cmd, bool is_container, const char *arg, int *pid, const char **container);

#endif
