#include "x86_rip_refs.h"

#include <Zydis/Zydis.h>

size_t x86_rip_refs(const uint8_t *code, size_t len, uint64_t addr, uint64_t *out, size_t max) {
    ZydisDecoder dec;
    ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    size_t n = 0, off = 0;
    while (off < len && n < max) {
        ZydisDecodedInstruction insn;
        ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeFull(&dec, code + off, len - off, &insn, ops)))
            break;
        for (int i = 0; i < insn.operand_count_visible && n < max; i++) {
            const ZydisDecodedOperand *op = &ops[i];
            if ((op->type == ZYDIS_OPERAND_TYPE_MEMORY) && op->mem.base == ZYDIS_REGISTER_RIP &&
                op->mem.disp.has_displacement)
                out[n++] = addr + off + insn.length + (uint64_t)op->mem.disp.value;
        }
        off += insn.length;
    }
    return n;
}
