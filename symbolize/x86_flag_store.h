/* The code pattern by which the Go runtime clears a setting when the linker set a flag: a byte read of flag F
 * (cmpb $0,F(%rip) or movzbl F(%rip)) followed, a few instructions on, by an 8-byte store to the setting S
 * (movq $0,S(%rip) or movq %reg,S(%rip)). runtime.MemProfileRate is found this way in stripped binaries:
 * runtime/proc.go schedinit (Go 1.20+): `if disableMemoryProfiling { MemProfileRate = 0 }`; runtime/mprof.go
 * (Go 1.17-1.19), the initializer of MemProfileRate in runtime.init. Decoded with Zydis. */
#ifndef GMON_X86_FLAG_STORE_H
#define GMON_X86_FLAG_STORE_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct x86_flag_store {
    uint64_t flag, setting; /* link-time addresses */
    uint64_t imm_between;   /* the largest immediate operand between the two (0x80000 in runtime.init) */
};

/* Fills out (up to max, in code order) with each byte read of a RIP-relative flag followed within six
 * instructions by an 8-byte store to a RIP-relative address. Returns how many were found. */
size_t x86_flag_stores(const uint8_t *code, size_t len, uint64_t addr, struct x86_flag_store *out,
                       size_t max);

#ifdef __cplusplus
}
#endif

#endif
