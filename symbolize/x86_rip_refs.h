/* The data addresses a function's code refers to through RIP-relative operands (mov X(%rip), lea X(%rip),
 * ...): how gmon finds runtime globals such as runtime.allgs in stripped binaries, from the code that uses
 * them (runtime/proc.go: allgadd, procresize). Decoded with Zydis. */
#ifndef GMON_X86_RIP_REFS_H
#define GMON_X86_RIP_REFS_H
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Fills out (up to max, in code order) with the absolute targets of the RIP-relative memory operands of the
 * code at addr (link-time). Returns how many were found; decoding stops at the first undecodable byte. */
size_t x86_rip_refs(const uint8_t *code, size_t len, uint64_t addr, uint64_t *out, size_t max);

#ifdef __cplusplus
}
#endif

#endif
