/* libFuzzer target: the DWARF reading behind layout checks (libdw on an ELF with damaged .debug_* sections):
 * runtime.g/m/p member offsets, and the members of any named struct. */
#include "dwarf_layout.h"
#include "fuzz_input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static const char *const MEMBERS[] = {"goid", "atomicstatus", "sched", "m", NULL};
    int fd;
    char path[64];
    struct g_offsets g;
    struct m_offsets m;
    struct p_offsets p;
    int offsets[4];
    fuzz_input_file(data, size, &fd, path);
    dwarf_layout_read(path, &g, &m, &p);
    dwarf_struct_members(path, "runtime.g", MEMBERS, offsets, 4);
    close(fd);
    return 0;
}
