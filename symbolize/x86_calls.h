/* Finds the direct CALL instructions of a function that call a given function, by decoding its machine code
 * with Zydis. A uprobe on a CALL costs a fraction of one on most other instructions: the kernel emulates a
 * CALL (it pushes the return address and jumps) where it must single-step the others out of line, a second
 * trap (arch/x86/kernel/uprobes.c: branch_setup_xol_ops). On the development VM: 3-6 us against 21-30 us. */
#ifndef GMON_X86_CALLS_H
#define GMON_X86_CALLS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Stores in out (up to max, in code order) the addresses of the CALL rel32 instructions in code[0..len) (the
 * function at link-time address addr) whose target is target. Returns how many there are (it may exceed
 * max). Decoding stops at the first undecodable byte. */
size_t x86_find_calls(const uint8_t *code, size_t len, uint64_t addr, uint64_t target, uint64_t *out,
                      size_t max);

/* The cheapest place for a probe that sees the registers and stack of the instruction at `at`: the NOP right
 * before it when there is one and no branch of the function lands on `at` (so the NOP runs exactly when `at`
 * does; any indirect jump, as a switch's jump table, rules it out) and the kernel steps over that NOP (see
 * x86_assume_kernel_release), else `at`. Go's compiler leaves NOPs
 * before calls (inlining marks); the kernel steps over a NOP without emulating anything, and since Linux 6.17
 * replaces a 5-byte one with a call that needs no trap at all (3.5 us against 13 us for the CALL here). */
uint64_t x86_cheapest_probe_point(const uint8_t *code, size_t len, uint64_t addr, uint64_t at);

/* Which NOPs the running kernel steps over without single-stepping them: 0x90 (and 66 90) on every kernel
 * with uprobes; from Linux 6.16, also the multi-byte NOPs of its own table (0F 1F ..., up to 8 bytes, the
 * forms Go's assembler emits). Read from uname once; the cost model of the two functions above and below
 * follows it. x86_assume_kernel_release overrides it (tests); a negative major reads uname again. */
void x86_assume_kernel_release(int major, int minor);

/* The cheapest place for a probe that reads what Go's register ABI passes in at `at` (the integer argument
 * registers RAX, RBX, RCX, RDI, RSI, R8-R11, and the goroutine in R14) and nothing else: the cheapest
 * instruction of the straight run that starts at `at` and ends with its first jump or call, up to the first
 * one that writes one of those registers (included: a probe runs before its instruction), where no branch of
 * the function lands (so it runs exactly once each time `at` does). A NOP the kernel steps over costs least,
 * then a jump or a call (emulated), then anything else (single-stepped, or on recent kernels emulated too,
 * as PUSH is, but no cheaper than a jump): `at` itself unless something cheaper comes. The stack
 * pointer may have moved by then: not for a probe that reads the stack. Any indirect jump in the function,
 * or bytes that do not decode, give `at`. */
uint64_t x86_cheapest_point_with_arguments(const uint8_t *code, size_t len, uint64_t addr, uint64_t at);

#ifdef __cplusplus
}
#endif

#endif
