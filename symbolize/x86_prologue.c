#include "x86_prologue.h"

#include <Zydis/Zydis.h>

/* g.stackguard0 sits right after g.stack{lo,hi} in every Go release. */
enum { STACKGUARD0_OFFSET = 16, PROLOGUE_MAX_INSNS = 4 };

static bool reads_stackguard0(const ZydisDecodedInstruction *insn, const ZydisDecodedOperand *ops) {
    if (insn->mnemonic != ZYDIS_MNEMONIC_CMP)
        return false;
    for (int i = 0; i < insn->operand_count_visible; i++)
        if (ops[i].type == ZYDIS_OPERAND_TYPE_MEMORY && ops[i].mem.base == ZYDIS_REGISTER_R14 &&
            ops[i].mem.index == ZYDIS_REGISTER_NONE && ops[i].mem.disp.value == STACKGUARD0_OFFSET)
            return true;
    return false;
}

static bool is_unsigned_below_jump(ZydisMnemonic m) {
    return m == ZYDIS_MNEMONIC_JBE || m == ZYDIS_MNEMONIC_JB;
}

bool x86_skip_split_check(const uint8_t *code, size_t len, size_t *body) {
    ZydisDecoder dec;
    ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    *body = 0;
    size_t off = 0;
    bool compared = false;
    for (int n = 0; n < PROLOGUE_MAX_INSNS && off < len; n++) {
        ZydisDecodedInstruction insn;
        ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, code + off, len - off, &insn, ops)))
            return false;
        off += insn.length;
        if (compared) {
            if (!is_unsigned_below_jump(insn.mnemonic))
                return false;
            *body = off;
            return true;
        }
        compared = reads_stackguard0(&insn, ops);
    }
    return false;
}
