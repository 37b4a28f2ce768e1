/* Finds where a Go function's body starts, after its stack-split check. An entry uprobe on a function that
 * runs on a goroutine stack fires twice when the check fails: the function calls morestack and then jumps
 * back to its own entry (runtime/asm_amd64.s, morestack, and runtime/stack.go, newstack; stack growth and
 * preemption requests both take that path). A uprobe on the first instruction after the check's conditional
 * jump fires once per call. */
#ifndef GMON_X86_PROLOGUE_H
#define GMON_X86_PROLOGUE_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#ifdef __cplusplus
extern "C" {
#endif
/* Looks for Go's split check at the start of code[0..len): a CMP against 16(R14) (g.stackguard0), possibly
 * after a LEA of the frame bottom, followed by JBE/JB. Sets *body to the offset of the instruction after that
 * jump and returns true; returns false (and *body = 0) for functions without the check (nosplit). */
bool x86_skip_split_check(const uint8_t *code, size_t len, size_t *body);
#ifdef __cplusplus
}
#endif
#endif
