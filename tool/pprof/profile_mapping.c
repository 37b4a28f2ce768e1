#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc_target.h"
#include "profile_builder.h"

uint64_t profile_process_mapping(struct profile_builder *b, int pid) {
    char path[64], exe[4096] = {0}, line[8192];
    snprintf(path, sizeof(path), "/proc/%d/exe", pid);
    if (readlink(path, exe, sizeof(exe) - 1) <= 0)
        return 0;
    snprintf(path, sizeof(path), "/proc/%d/maps", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    uint64_t id = 0;
    struct maps_entry e;
    while (!id && fgets(line, sizeof(line), f))
        if (proc_maps_parse_line(line, &e) && e.perms[2] == 'x' && strcmp(e.path, exe) == 0)
            id = profile_add_mapping(b, e.start, e.end, e.offset, exe, NULL);
    fclose(f);
    return id;
}
