/* json-c's parser for fuzz_text_writers, apart: json-c's json_bool type and gmon's json_bool writer share a
 * name, so the two headers cannot meet in one file. */
#include <json-c/json.h>
#include <stdbool.h>

#include "json_parses.h"

bool json_parses_with_key(const char *text, const char *key) {
    json_object *parsed = json_tokener_parse(text);
    bool ok = parsed && json_object_object_get_ex(parsed, key, NULL);
    json_object_put(parsed);
    return ok;
}
