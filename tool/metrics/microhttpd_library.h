/* libmicrohttpd, loaded with dlopen when a command starts a /metrics server, not when gmon starts: linked, it
 * maps GnuTLS and eight more libraries into every gmon run, ~5 ms of each snapshot command's start. */
#ifndef GMON_MICROHTTPD_LIBRARY_H
#define GMON_MICROHTTPD_LIBRARY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "gmon_error.h"

/* The libmicrohttpd functions gmon calls, by their names without the MHD_ prefix. */
struct microhttpd_library {
    struct MHD_Daemon *(*start_daemon)(unsigned int flags, uint16_t port, MHD_AcceptPolicyCallback apc,
                                       void *apc_cls, MHD_AccessHandlerCallback dh, void *dh_cls, ...);
    void (*stop_daemon)(struct MHD_Daemon *daemon);
    struct MHD_Response *(*create_response_from_buffer)(size_t size, void *buffer,
                                                        enum MHD_ResponseMemoryMode mode);
    enum MHD_Result (*add_response_header)(struct MHD_Response *response, const char *header,
                                           const char *content);
    enum MHD_Result (*queue_response)(struct MHD_Connection *connection, unsigned int status_code,
                                      struct MHD_Response *response);
    void (*destroy_response)(struct MHD_Response *response);
};

/* Loads libmicrohttpd.so.12 once (later calls return the same table). Returns NULL with the reason when the
 * library or one of its functions is missing. Not thread-safe: call it before the server's threads exist. */
const struct microhttpd_library *microhttpd_library_load(struct gmon_error *err);

#endif
