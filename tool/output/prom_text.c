#include "prom_text.h"

#include <math.h>

void prom_family(FILE *out, const char *name, const char *type, const char *help) {
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

void prom_sample_begin(struct prom_sample *s, FILE *out, const char *name) {
    s->out = out;
    s->has_labels = false;
    fputs(name, out);
}

/* Label values escape backslash, double quote and newline; everything else is literal UTF-8. */
static void write_label_value(FILE *out, const char *v) {
    for (; *v; v++) {
        if (*v == '\\')
            fputs("\\\\", out);
        else if (*v == '"')
            fputs("\\\"", out);
        else if (*v == '\n')
            fputs("\\n", out);
        else
            fputc(*v, out);
    }
}

void prom_label(struct prom_sample *s, const char *name, const char *value) {
    fputc(s->has_labels ? ',' : '{', s->out);
    s->has_labels = true;
    fprintf(s->out, "%s=\"", name);
    write_label_value(s->out, value);
    fputc('"', s->out);
}

void prom_sample_end(struct prom_sample *s, double value) {
    if (s->has_labels)
        fputc('}', s->out);
    if (isinf(value))
        fputs(value > 0 ? " +Inf\n" : " -Inf\n", s->out);
    else if (isnan(value))
        fputs(" NaN\n", s->out);
    else if (value == (double)(long long)value && fabs(value) < 1e15)
        fprintf(s->out, " %lld\n", (long long)value);
    else
        fprintf(s->out, " %.17g\n", value);
}
