#ifndef GMON_FUZZ_JSON_PARSES_H
#define GMON_FUZZ_JSON_PARSES_H
#include <stdbool.h>

/* Whether json-c parses text as a JSON object that has key. */
bool json_parses_with_key(const char *text, const char *key);

#endif
