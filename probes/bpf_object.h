/* A BPF program as libbcc compiled it, as plain data: each function's instructions, with every reference to a
 * map written as the map's index in the object's map list instead of a file descriptor, the maps to create,
 * the license and the kernel version. The compiler child (bpf_compiler.c) writes one, the cache
 * (bpf_cache.c) keeps it, bpf_program.c creates its maps and loads its functions: the tracing process never
 * maps LLVM. The serialized form is read back from a file, so bpf_object_parse checks every count, size and
 * map reference against the bytes it was given. */
#ifndef GMON_BPF_OBJECT_H
#define GMON_BPF_OBJECT_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gmon_error.h"

/* One eBPF instruction, as the kernel's struct bpf_insn lays it out (8 bytes). */
struct bpf_object_insn {
    uint8_t code;
    uint8_t regs; /* dst_reg in the low 4 bits, src_reg in the high 4 */
    int16_t off;
    int32_t imm;
};

struct bpf_object_map {
    char name[32];
    uint32_t type, key_size, value_size, max_entries, flags;
};

struct bpf_object_function {
    char name[64];
    struct bpf_object_insn *insns;
    uint32_t ninsns;
};

struct bpf_object {
    char license[32];
    uint32_t kern_version;
    struct bpf_object_map *maps;
    uint32_t nmaps;
    struct bpf_object_function *functions;
    uint32_t nfunctions;
};

/* Bounds that no gmon program comes near; a parsed object beyond them is refused as damaged. */
enum { BPF_OBJECT_MAX_MAPS = 64, BPF_OBJECT_MAX_FUNCTIONS = 64, BPF_OBJECT_MAX_INSNS = 1000000 };

/* The opcode of a 64-bit immediate load (BPF_LD | BPF_IMM | BPF_DW), two instructions long; with source
 * register BPF_PSEUDO_MAP_FD (1) its immediate is a map's file descriptor when loaded, its index here. */
enum { BPF_OBJECT_LD_IMM64 = 0x18, BPF_OBJECT_PSEUDO_MAP_FD = 1 };

/* The serialized object in a malloc'd buffer (*out, *size); 0, or -1 when out of memory. */
int bpf_object_serialize(const struct bpf_object *o, uint8_t **out, size_t *size);
/* Reads a serialized object, checking it whole (counts, lengths, names, every map reference); 0, or -1 with
 * what is wrong. o is filled only on success; free it with bpf_object_free. */
int bpf_object_parse(struct bpf_object *o, const uint8_t *data, size_t size, struct gmon_error *err);
/* Checks the map references of a function's instructions: each 64-bit load with a map source names a map of
 * the object, no other pseudo source is used, no load is cut in half. 0, or -1 with the reason. */
int bpf_object_check_function(const struct bpf_object *o, const struct bpf_object_function *f,
                              struct gmon_error *err);
/* Rewrites the immediate of every map reference in insns (a 64-bit load with source BPF_PSEUDO_MAP_FD) to
 * map(ctx, immediate): file descriptors to map indices when the object is made, indices back to this
 * process's descriptors when it is loaded. Stops at the first reference map answers -1 for: false, with that
 * reference's immediate in *refused. */
bool bpf_object_rewrite_map_refs(struct bpf_object_insn *insns, uint32_t n,
                                 int32_t (*map)(void *ctx, int32_t imm), void *ctx, int32_t *refused);
/* The function or map of that name, or NULL. */
const struct bpf_object_function *bpf_object_function(const struct bpf_object *o, const char *name);
int bpf_object_map_index(const struct bpf_object *o, const char *name);
void bpf_object_free(struct bpf_object *o);

#endif
