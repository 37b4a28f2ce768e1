/* libFuzzer target: one line of /proc/PID/maps (as a process could make its mapped file names say anything).
 */
#include <string.h>

#include "proc_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char line[4096 + 1];
    size_t n = size < sizeof(line) - 1 ? size : sizeof(line) - 1;
    memcpy(line, data, n);
    line[n] = '\0';
    struct maps_entry e;
    if (proc_maps_parse_line(line, &e) && (e.end < e.start || !e.path))
        __builtin_trap(); /* a parsed entry must be well formed */
    return 0;
}
