/* libFuzzer target: a string as the log writers take one from a binary or the target's memory (a function
 * name, a file path, a label): any bytes. A logfmt record stays one line with no control byte; a JSON record
 * stays one line that json-c parses, with the string among its values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_input.h"
#include "json_parses.h"
#include "log_writer.h"

/* One record holding s, in format; the caller frees it. */
static char *record(enum log_format format, const char *s, size_t *len) {
    char *text = NULL;
    FILE *out = open_memstream(&text, len);
    if (!out)
        abort();
    struct log_writer w;
    log_writer_init(&w, out, format, LOG_INFO);
    log_begin(&w, LOG_INFO, 1700000000123456789LL, s);
    log_str(&w, "s", s);
    const char *list[] = {s, "main.main"};
    log_str_list(&w, "stack", list, 2);
    log_end(&w);
    log_writer_close(&w);
    fclose(out);
    return text;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char *s = fuzz_input_string(data, size);
    size_t len;
    char *line = record(LOG_LOGFMT, s, &len);
    if (len == 0 || line[len - 1] != '\n')
        abort();
    for (size_t i = 0; i + 1 < len; i++)
        if ((unsigned char)line[i] < 0x20)
            abort(); /* a control byte (a newline above all) reached the line unescaped */
    free(line);
    line = record(LOG_JSON, s, &len);
    if (len == 0 || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
        abort();
    if (!json_parses_with_key(line, "s"))
        abort();
    free(line);
    free(s);
    return 0;
}
