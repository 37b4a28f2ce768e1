/* libcurl, loaded with dlopen the first time gmon needs HTTP as a client (--container asks the Docker
 * engine), not when gmon starts: linking it would map a dozen libraries (TLS, Kerberos, LDAP, SSH) into every
 * gmon run, ~8 ms and 4 MB that the snapshot commands would pay for nothing. */
#ifndef GMON_CURL_LIBRARY_H
#define GMON_CURL_LIBRARY_H

#include <curl/curl.h>

#include "gmon_error.h"

/* The libcurl functions gmon calls, by their libcurl names without the curl_ prefix. */
struct curl_library {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *curl, CURLoption option, ...);
    CURLcode (*easy_perform)(CURL *curl);
    CURLcode (*easy_getinfo)(CURL *curl, CURLINFO info, ...);
    void (*easy_cleanup)(CURL *curl);
    const char *(*easy_strerror)(CURLcode code);
};

/* Loads libcurl.so.4 once (later calls return the same table) and initialises it. Returns NULL with the
 * reason when the library or one of its functions is missing. Not thread-safe: call it from the main thread
 * while parsing options. */
const struct curl_library *curl_library_load(struct gmon_error *err);

#endif
