/* Finds the RET instructions of a function by decoding its machine code from the entry with Zydis. Return
 * values of Go functions are read by uprobes placed on these instructions, never by uretprobes (which crash
 * Go programs when the goroutine stack moves). A byte scan for 0xC3 would also hit immediates and
 * displacements. */
#ifndef GMON_X86_RETS_H
#define GMON_X86_RETS_H

#include <stddef.h>
#include <stdint.h>

#include "gmon_error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Decodes code[0..len) (the function at address addr) instruction by instruction and stores the address of
 * every RET in rets (up to max). Sets *count to the number found (it may exceed max: then the list is cut).
 * Trailing int3 padding is fine; an undecodable byte sequence is an error. */
int x86_find_rets(const uint8_t *code, size_t len, uint64_t addr, uint64_t *rets, size_t max, size_t *count,
                  struct gmon_error *err);

/* True when the instruction at code is a RET (near or far, with or without immediate). */
int x86_is_ret(const uint8_t *code, size_t len);

#ifdef __cplusplus
}
#endif

#endif
