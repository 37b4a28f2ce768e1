/* libFuzzer target: the Docker engine's answer to GET /containers/NAME/json as --container reads it (json-c,
 * then State.Pid, Id, Name, State.Status, Config.Image into fixed buffers). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "container_lookup.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *body = fuzz_input_string(data, size);
    struct container_info c;
    struct gmon_error err;
    memset(&c, 0, sizeof(c));
    if (container_parse_inspect(body, &c, &err) == 0 &&
        (strnlen(c.id, sizeof(c.id)) == sizeof(c.id) || strnlen(c.name, sizeof(c.name)) == sizeof(c.name)))
        __builtin_trap(); /* every field stays a terminated string */
    free(body);
    return 0;
}
