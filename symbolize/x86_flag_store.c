#include "x86_flag_store.h"

#include <Zydis/Zydis.h>
#include <stdbool.h>

enum { WINDOW = 6 };

struct decoded {
    ZydisDecodedInstruction insn;
    ZydisDecodedOperand ops[ZYDIS_MAX_OPERAND_COUNT];
    uint64_t next; /* address of the next instruction */
};

/* The RIP-relative target of operand op, or 0. */
static uint64_t rip_target(const struct decoded *d, const ZydisDecodedOperand *op) {
    if (op->type != ZYDIS_OPERAND_TYPE_MEMORY || op->mem.base != ZYDIS_REGISTER_RIP ||
        !op->mem.disp.has_displacement)
        return 0;
    return d->next + (uint64_t)op->mem.disp.value;
}

/* A byte-sized read of a RIP-relative address (cmp $0, movzx, test): its address, or 0. */
static uint64_t byte_read(const struct decoded *d) {
    for (int i = 0; i < d->insn.operand_count_visible; i++) {
        const ZydisDecodedOperand *op = &d->ops[i];
        if (op->size == 8 && (op->actions & ZYDIS_OPERAND_ACTION_READ) &&
            !(op->actions & ZYDIS_OPERAND_ACTION_WRITE))
            return rip_target(d, op);
    }
    return 0;
}

/* An 8-byte mov to a RIP-relative address: its address, or 0. */
static uint64_t qword_store(const struct decoded *d) {
    if (d->insn.mnemonic != ZYDIS_MNEMONIC_MOV || d->insn.operand_count_visible < 1)
        return 0;
    const ZydisDecodedOperand *dst = &d->ops[0];
    return dst->size == 64 && (dst->actions & ZYDIS_OPERAND_ACTION_WRITE) ? rip_target(d, dst) : 0;
}

static uint64_t immediate(const struct decoded *d) {
    uint64_t best = 0;
    for (int i = 0; i < d->insn.operand_count_visible; i++)
        if (d->ops[i].type == ZYDIS_OPERAND_TYPE_IMMEDIATE && d->ops[i].imm.value.u > best)
            best = d->ops[i].imm.value.u;
    return best;
}

static bool decode(ZydisDecoder *dec, const uint8_t *code, size_t len, size_t off, uint64_t addr,
                   struct decoded *d) {
    if (off >= len || !ZYAN_SUCCESS(ZydisDecoderDecodeFull(dec, code + off, len - off, &d->insn, d->ops)))
        return false;
    d->next = addr + off + d->insn.length;
    return true;
}

size_t x86_flag_stores(const uint8_t *code, size_t len, uint64_t addr, struct x86_flag_store *out,
                       size_t max) {
    ZydisDecoder dec;
    ZydisDecoderInit(&dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
    size_t n = 0, off = 0;
    struct decoded d;
    while (n < max && decode(&dec, code, len, off, addr, &d)) {
        off += d.insn.length;
        uint64_t flag = byte_read(&d);
        if (!flag)
            continue;
        uint64_t imm = 0;
        size_t at = off;
        struct decoded e;
        for (int k = 0; k < WINDOW && decode(&dec, code, len, at, addr, &e); k++) {
            at += e.insn.length;
            uint64_t setting = qword_store(&e);
            if (setting) {
                out[n++] = (struct x86_flag_store){flag, setting, imm};
                break;
            }
            if (immediate(&e) > imm)
                imm = immediate(&e);
        }
    }
    return n;
}
