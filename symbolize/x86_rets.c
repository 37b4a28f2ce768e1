#include "x86_rets.h"

#include <Zydis/Zydis.h>

static void init_decoder(ZydisDecoder *dec) {
    ZydisDecoderInit(dec, ZYDIS_MACHINE_MODE_LONG_64, ZYDIS_STACK_WIDTH_64);
}

static int is_ret_mnemonic(ZydisMnemonic m) {
    return m == ZYDIS_MNEMONIC_RET;
}

int x86_find_rets(const uint8_t *code, size_t len, uint64_t addr, uint64_t *rets, size_t max, size_t *count,
                  struct gmon_error *err) {
    ZydisDecoder dec;
    init_decoder(&dec);
    *count = 0;
    size_t off = 0;
    while (off < len) {
        ZydisDecodedInstruction insn;
        if (!ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, code + off, len - off, &insn)))
            return gmon_fail(err, "cannot decode the instruction at %#llx", (unsigned long long)(addr + off));
        if (is_ret_mnemonic(insn.mnemonic)) {
            if (*count < max)
                rets[*count] = addr + off;
            (*count)++;
        }
        off += insn.length;
    }
    return 0;
}

int x86_is_ret(const uint8_t *code, size_t len) {
    ZydisDecoder dec;
    init_decoder(&dec);
    ZydisDecodedInstruction insn;
    return ZYAN_SUCCESS(ZydisDecoderDecodeInstruction(&dec, NULL, code, len, &insn)) &&
           is_ret_mnemonic(insn.mnemonic);
}
