#include "x86_calls.h"

#include <stdbool.h>
#include <string.h>

#include <Zydis/Zydis.h>

#include "kernel_release.h"

/* -1: not known yet (uname is read at the first need). */
static int long_nops_emulated = -1;

void x86_assume_kernel_release(int major, int minor) {
    long_nops_emulated = major < 0 ? -1 : release_at_least(major, minor, 6, 16);
}

static bool kernel_emulates_long_nops(void) {
    if (long_nops_emulated < 0) {
        int major = 0, minor = 0;
        kernel_release(&major, &minor);
        x86_assume_kernel_release(major, minor);
    }
    return long_nops_emulated == 1;
}

/* The multi-byte NOPs of the kernel's x86_nops table (arch/x86/include/asm/nops.h, BYTES_NOP2..8), which
 * its uprobes emulate from 6.16 (arch/x86/kernel/uprobes.c); indexed by length. */
static const uint8_t KERNEL_NOPS[9][8] = {
    [2] = {0x66, 0x90},
    [3] = {0x0f, 0x1f, 0x00},
    [4] = {0x0f, 0x1f, 0x40, 0x00},
    [5] = {0x0f, 0x1f, 0x44, 0x00, 0x00},
    [6] = {0x66, 0x0f, 0x1f, 0x44, 0x00, 0x00},
    [7] = {0x0f, 0x1f, 0x80, 0x00, 0x00, 0x00, 0x00},
    [8] = {0x0f, 0x1f, 0x84, 0x00, 0x00, 0x00, 0x00, 0x00},
};

/* Whether the kernel steps over the NOP at code (of length len) rather than single-stepping it. */
static bool cheap_nop(const uint8_t *code, size_t len) {
    if (code[0] == 0x90 && len == 1)
        return true;
    if (len == 2 && code[0] == 0x66 && code[1] == 0x90)
        return true;
    return len <= 8 && kernel_emulates_long_nops() && memcmp(code, KERNEL_NOPS[len], len) == 0;
}

enum { CALL_REL32 = 0xE8 };

size_t x86_find_calls(const uint8_t *code, size_t len, uint64_t addr, uint64_t target, uint64_t *out,
                      size_t max) {
    ZydisDecoder dec;
    ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    size_t found = 0, off = 0;
    while (off < len) {
        ZydisDecodedInstruction insn;
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, code + off, len - off, &insn)))
            break;
        uint64_t next = addr + off + insn.length;
        if (insn.mnemonic == ZYDIS_MNEMONIC_CALL && insn.opcode == CALL_REL32 &&
            insn.raw.imm[0].is_relative && next + (uint64_t)insn.raw.imm[0].value.s == target) {
            if (found < max)
                out[found] = addr + off;
            found++;
        }
        off += insn.length;
    }
    return found;
}

/* A jump whose target is not in the instruction: through a register or memory (a jump table). */
static bool is_indirect_jump(const ZydisDecodedInstruction *insn) {
    return insn->meta.category == ZYDIS_CATEGORY_UNCOND_BR && !insn->raw.imm[0].is_relative;
}

/* A jump or call whose target is in the instruction (relative to its end). */
static bool is_relative_branch(const ZydisDecodedInstruction *insn) {
    bool branch = insn->meta.category == ZYDIS_CATEGORY_COND_BR ||
                  insn->meta.category == ZYDIS_CATEGORY_UNCOND_BR ||
                  insn->meta.category == ZYDIS_CATEGORY_CALL;
    return branch && insn->raw.imm[0].is_relative;
}

/* The lowest address after `at` that a relative branch of the function lands on (UINT64_MAX: none); 0 when
 * the function has an indirect jump or does not decode (no claim about where its branches land). */
static uint64_t first_landing_after(const uint8_t *code, size_t len, uint64_t addr, uint64_t at) {
    ZydisDecoder dec;
    ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    uint64_t first = UINT64_MAX;
    for (size_t off = 0; off < len;) {
        ZydisDecodedInstruction insn;
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, code + off, len - off, &insn)))
            return 0;
        if (is_indirect_jump(&insn))
            return 0;
        if (is_relative_branch(&insn)) {
            uint64_t target = addr + off + insn.length + (uint64_t)insn.raw.imm[0].value.s;
            if (target > at && target < first)
                first = target;
        }
        off += insn.length;
    }
    return first;
}

/* The instruction right before `at` when it is a NOP the kernel steps over, else 0. */
static uint64_t cheap_nop_before(const uint8_t *code, size_t len, uint64_t addr, uint64_t at) {
    ZydisDecoder dec;
    ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    uint64_t prev = 0;
    bool prev_is_nop = false;
    for (size_t off = 0; off < len && addr + off <= at;) {
        ZydisDecodedInstruction insn;
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, code + off, len - off, &insn)))
            return 0;
        if (addr + off == at)
            return prev_is_nop ? prev : 0;
        prev = addr + off;
        prev_is_nop = insn.mnemonic == ZYDIS_MNEMONIC_NOP && cheap_nop(code + off, insn.length);
        off += insn.length;
    }
    return 0;
}

uint64_t x86_cheapest_probe_point(const uint8_t *code, size_t len, uint64_t addr, uint64_t at) {
    uint64_t nop = cheap_nop_before(code, len, addr, at);
    /* The NOP runs exactly when `at` does unless a branch lands on `at` (one that lands on the NOP runs
     * both); first_landing_after's 0 (an indirect jump, bytes not understood) keeps `at` too. */
    return nop && first_landing_after(code, len, addr, nop) > at ? nop : at;
}

/* How much a uprobe on insn (at code) costs, smaller is cheaper (measured with tracefs uprobes on the
 * development VM, Linux 6.18, per hit: 3.5 us on a 5-byte NOP, which 6.17 turns into a call without a trap,
 * 6.5 on a shorter one, 6.8-13 on a jump or call, 21-30 on the single-stepped rest). */
static int probe_cost(const ZydisDecodedInstruction *insn, const uint8_t *code) {
    if (insn->mnemonic == ZYDIS_MNEMONIC_NOP && cheap_nop(code, insn->length))
        return insn->length == 5 ? 0 : 1;
    return is_relative_branch(insn) ? 2 : 3;
}

static bool is_control_flow(const ZydisDecodedInstruction *insn) {
    switch (insn->meta.category) {
    case ZYDIS_CATEGORY_COND_BR:
    case ZYDIS_CATEGORY_UNCOND_BR:
    case ZYDIS_CATEGORY_CALL:
    case ZYDIS_CATEGORY_RET:
    case ZYDIS_CATEGORY_INTERRUPT:
    case ZYDIS_CATEGORY_SYSCALL:
    case ZYDIS_CATEGORY_SYSTEM:
        return true;
    default:
        return false;
    }
}

/* Whether insn writes a register Go's ABI passes arguments in (or R14, the goroutine). */
static bool writes_argument_register(const ZydisDecodedInstruction *insn, const ZydisDecodedOperand *ops) {
    static const ZydisRegister ARGS[] = {
        ZYDIS_REGISTER_RAX, ZYDIS_REGISTER_RBX, ZYDIS_REGISTER_RCX, ZYDIS_REGISTER_RDI, ZYDIS_REGISTER_RSI,
        ZYDIS_REGISTER_R8,  ZYDIS_REGISTER_R9,  ZYDIS_REGISTER_R10, ZYDIS_REGISTER_R11, ZYDIS_REGISTER_R14};
    for (uint8_t i = 0; i < insn->operand_count; i++) {
        if (ops[i].type != ZYDIS_OPERAND_TYPE_REGISTER || !(ops[i].actions & ZYDIS_OPERAND_ACTION_MASK_WRITE))
            continue;
        ZydisRegister r = ZydisRegisterGetLargestEnclosing(ZYDIS_MACHINE_MODE_LONG_64, ops[i].reg.value);
        for (size_t k = 0; k < sizeof(ARGS) / sizeof(ARGS[0]); k++)
            if (r == ARGS[k])
                return true;
    }
    return false;
}

uint64_t x86_cheapest_point_with_arguments(const uint8_t *code, size_t len, uint64_t addr, uint64_t at) {
    uint64_t landing = first_landing_after(code, len, addr, at);
    if (landing == 0 || at < addr || at >= addr + len)
        return at;
    ZydisDecoder dec;
    ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    uint64_t best = at;
    int best_cost = 4;
    for (size_t off = (size_t)(at - addr); off < len;) {
        ZydisDecodedInstruction insn;
        ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
        uint64_t here = addr + off;
        if (here >= landing || !ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, code + off, len - off, &insn, ops)))
            break;
        int cost = probe_cost(&insn, code + off);
        if (cost < best_cost) {
            best = here;
            best_cost = cost;
        }
        if (is_control_flow(&insn) || writes_argument_register(&insn, ops))
            break;
        off += insn.length;
    }
    return best;
}
