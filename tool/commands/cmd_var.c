/* gmon var --pid PID --name NAME [--bin BIN]: the type and value of a global variable of a running Go
 * program, read from its memory without stopping it. The variable is found in the ELF symbol table and typed
 * with DWARF: the target's own, or those of --bin, an unstripped build of the same program for stripped
 * targets. */
#include <elf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "dwarf_variable.h"
#include "freeze.h"
#include "json_writer.h"
#include "option_help.h"
#include "snapshot_options.h"
#include "target.h"

static const char USAGE[] =
    "Usage: gmon var (--pid PID | --container NAME) --name NAME [--bin BIN] [--freeze] [--json]\n"
    "\n"
    "Prints the type and current value of a global variable of a running Go program (Go 1.17-1.27), read\n"
    "from its memory without stopping it: integers, unsigned integers, bools, floats, strings, and pointers\n"
    "(their address); other types as raw bytes. NAME is the variable's Go name with its package path, e.g.\n"
    "runtime.ncpu, main.Counter, net/http.DefaultMaxHeaderBytes. The variable is located through the ELF\n"
    "symbol table and typed through DWARF; for a stripped target give --bin.\n"
    "\n" HELP_SNAPSHOT_PID HELP_SNAPSHOT_CONTAINER "  --name NAME         the variable\n" HELP_BIN
    "  --json              one JSON object: name, type, kind, address, size, value\n" HELP_FREEZE HELP_HELP
    "\n" HELP_EXIT_STATUS "Reference: man gmon-var (docs/var.md).\n"
    "\n"
    "Examples:\n"
    "  gmon var --pid 4242 --name main.Counter\n"
    "  gmon var --pid 4242 --name runtime.ncpu --json\n"
    "  gmon var --pid 4242 --name main.Config --bin ./app.debug   a stripped target\n";

struct variable {
    char name[256];
    uint64_t link_addr, addr, size;
    struct go_var_type type;
    bool typed;
    uint8_t bytes[64]; /* the first bytes of its value */
    char *text;        /* a string's contents */
};

static int locate(const struct go_binary *symbols, const char *symbols_path, const char *name,
                  struct variable *v, struct gmon_error *err) {
    if (!elf_image_section(&symbols->elf, ".symtab"))
        return gmon_fail(err,
                         "%s has no symbol table (stripped): give --bin with an unstripped build of the same "
                         "program",
                         symbols_path);
    unsigned char type;
    if (!elf_image_find_typed_symbol(&symbols->elf, name, &v->link_addr, &v->size, &type))
        return gmon_fail(err,
                         "%s: no global variable named %s (names carry their package path: main.X, "
                         "runtime.ncpu)",
                         symbols_path, name);
    /* Go's linker gives its variables STT_OBJECT (and TLS to runtime.tlsg); functions are STT_FUNC, and
     * markers such as runtime.text have no type. */
    if (type != STT_OBJECT)
        return gmon_fail(err, "%s: %s is %s, not a global variable", symbols_path, name,
                         type == STT_FUNC ? "a function" : "a linker symbol");
    snprintf(v->name, sizeof(v->name), "%s", name);
    v->typed = dwarf_variable_type(symbols->elf.path, name, &v->type);
    return 0;
}

static int read_value(const struct target *t, struct variable *v, struct gmon_error *err) {
    v->addr = v->link_addr + t->load_bias;
    size_t n = v->size < sizeof(v->bytes) ? (size_t)v->size : sizeof(v->bytes);
    if (!proc_read(t->pid, v->addr, v->bytes, n))
        return gmon_fail(err, "process %d: cannot read %s at %#" PRIx64, t->pid, v->name, v->addr);
    if (!v->typed || v->type.kind != GO_VAR_STRING || n < 16)
        return 0;
    uint64_t data, len;
    memcpy(&data, v->bytes, 8);
    memcpy(&len, v->bytes + 8, 8);
    if (len > 1 << 20)
        return gmon_fail(err, "process %d: %s has an implausible length %" PRIu64 " (being written?)", t->pid,
                         v->name, len);
    v->text = calloc(1, len + 1);
    if (!v->text || !proc_read(t->pid, data, v->text, len))
        return gmon_fail(err, "process %d: cannot read the %" PRIu64 " bytes of %s", t->pid, len, v->name);
    return 0;
}

static int64_t signed_value(const uint8_t *b, uint64_t size) {
    switch (size) {
    case 1:
        return (int8_t)b[0];
    case 2: {
        int16_t x;
        memcpy(&x, b, 2);
        return x;
    }
    case 4: {
        int32_t x;
        memcpy(&x, b, 4);
        return x;
    }
    default: {
        int64_t x;
        memcpy(&x, b, 8);
        return x;
    }
    }
}

static uint64_t unsigned_value(const uint8_t *b, uint64_t size) {
    uint64_t x = 0;
    memcpy(&x, b, size < 8 ? (size_t)size : 8);
    return x;
}

static double float_value(const uint8_t *b, uint64_t size) {
    if (size == 4) {
        float f;
        memcpy(&f, b, 4);
        return f;
    }
    double d;
    memcpy(&d, b, 8);
    return d;
}

/* The value as text (JSON-ready when json: strings quoted by the caller). */
static void value_text(const struct variable *v, char *out, size_t size) {
    enum go_var_kind kind = v->typed ? v->type.kind : GO_VAR_OTHER;
    switch (kind) {
    case GO_VAR_INT:
        snprintf(out, size, "%" PRId64, signed_value(v->bytes, v->size));
        break;
    case GO_VAR_UINT:
        snprintf(out, size, "%" PRIu64, unsigned_value(v->bytes, v->size));
        break;
    case GO_VAR_BOOL:
        snprintf(out, size, "%s", v->bytes[0] ? "true" : "false");
        break;
    case GO_VAR_FLOAT:
        snprintf(out, size, "%.17g", float_value(v->bytes, v->size));
        break;
    case GO_VAR_POINTER:
        snprintf(out, size, "%#" PRIx64, unsigned_value(v->bytes, 8));
        break;
    default: {
        size_t n = v->size < sizeof(v->bytes) ? (size_t)v->size : sizeof(v->bytes), used = 0;
        for (size_t i = 0; i < n && used + 3 < size; i++)
            used += (size_t)snprintf(out + used, size - used, "%02x", v->bytes[i]);
        if (n < v->size && used + 4 < size)
            snprintf(out + used, size - used, "...");
        break;
    }
    }
}

static void print_text(const struct variable *v) {
    const char *type = v->typed ? v->type.name : "type unknown: no DWARF";
    printf("%s (%s, %" PRIu64 " bytes at %#" PRIx64 ") = ", v->name, type, v->size, v->addr);
    if (v->text) {
        json_write_escaped(stdout, v->text); /* a Go-style quoted string */
        printf("\n");
        return;
    }
    char value[256];
    value_text(v, value, sizeof(value));
    printf("%s\n", value);
}

static void print_json(const struct variable *v) {
    struct json_writer w;
    json_init(&w, stdout);
    json_begin_object(&w);
    json_key(&w, "name");
    json_string(&w, v->name);
    json_key(&w, "type");
    json_string(&w, v->typed ? v->type.name : "");
    json_key(&w, "kind");
    json_string(&w, go_var_kind_name(v->typed ? v->type.kind : GO_VAR_OTHER));
    json_key(&w, "address");
    json_hex(&w, v->addr);
    json_key(&w, "size");
    json_uint(&w, v->size);
    json_key(&w, "value");
    char value[256];
    value_text(v, value, sizeof(value));
    enum go_var_kind kind = v->typed ? v->type.kind : GO_VAR_OTHER;
    if (v->text)
        json_string(&w, v->text);
    else if (kind == GO_VAR_BOOL)
        json_bool(&w, v->bytes[0] != 0);
    else if (kind == GO_VAR_INT)
        json_int(&w, signed_value(v->bytes, v->size));
    else if (kind == GO_VAR_UINT)
        json_uint(&w, unsigned_value(v->bytes, v->size));
    else
        json_string(&w, value); /* floats keep every digit; pointers and raw bytes as hex */
    json_end_object(&w);
}

int cmd_var(int argc, char *argv[]) {
    if (cli_wants_help(argc, argv)) {
        fputs(USAGE, stdout);
        return GMON_EXIT_OK;
    }
    struct snapshot_options o;
    int parsed =
        snapshot_parse_options("var", SNAP_NAME | SNAP_BIN | SNAP_JSON | SNAP_FREEZE, argc, argv, &o);
    if (parsed != 0)
        return cli_exit_after_parse(parsed);
    static struct target t;
    static struct go_binary other;
    struct variable v = {0};
    struct gmon_error err;
    int rc = GMON_EXIT_BAD_INPUT;
    bool other_open = false;
    if (target_open(&t, NULL, o.pid, "auto", &err) != 0 || proc_check_memory_access(o.pid, &err) != 0)
        goto fail;
    const struct go_binary *symbols = &t.bin;
    const char *symbols_path = t.proc.exe;
    if (o.bin) {
        if (target_open_symbols(&t, o.bin, &other, &err) != 0)
            goto fail;
        other_open = true;
        symbols = &other;
        symbols_path = o.bin;
    }
    if (locate(symbols, symbols_path, o.name, &v, &err) != 0 ||
        (o.freeze && freeze_process(o.pid, &err) != 0))
        goto fail;
    int read = read_value(&t, &v, &err);
    thaw_process();
    if (read != 0)
        goto fail;
    if (o.json)
        print_json(&v);
    else
        print_text(&v);
    rc = GMON_EXIT_OK;
    goto done;
fail:
    thaw_process();
    cli_error("var", "%s", err.msg);
done:
    free(v.text);
    if (other_open)
        go_binary_close(&other);
    target_close(&t);
    return rc;
}
