#include "microhttpd_library.h"

#include "library_loader.h"

static struct microhttpd_library api;
static void *library; /* kept until gmon exits: a server may run until then */

static const struct library_function FUNCTIONS[] = {
    {"MHD_start_daemon", (void **)&api.start_daemon},
    {"MHD_stop_daemon", (void **)&api.stop_daemon},
    {"MHD_create_response_from_buffer", (void **)&api.create_response_from_buffer},
    {"MHD_add_response_header", (void **)&api.add_response_header},
    {"MHD_queue_response", (void **)&api.queue_response},
    {"MHD_destroy_response", (void **)&api.destroy_response},
};

const struct microhttpd_library *microhttpd_library_load(struct gmon_error *err) {
    if (!library)
        library =
            library_load("libmicrohttpd.so.12", FUNCTIONS, sizeof(FUNCTIONS) / sizeof(FUNCTIONS[0]),
                         "which the /metrics server needs (Debian: apt-get install libmicrohttpd12)", err);
    return library ? &api : NULL;
}
