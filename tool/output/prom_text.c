#include "prom_text.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* A decimal: digits d1 d2 ... dn meaning d1.d2...dn x 10^exp. */
struct decimal {
    char digits[24];
    int exp;
};

/* From printf's "%.*e" form: [-]d[.ddd]e(+|-)XX. */
static void decimal_of(const char *e_form, struct decimal *d) {
    const char *p = e_form + (e_form[0] == '-');
    size_t n = 0;
    for (; *p && *p != 'e' && n < sizeof(d->digits) - 1; p++)
        if (*p != '.')
            d->digits[n++] = *p;
    d->digits[n] = '\0';
    d->exp = *p == 'e' ? atoi(p + 1) : 0;
}

static bool reads_back(const struct decimal *d, double v) {
    char text[48];
    snprintf(text, sizeof(text), "%s%c.%se%d", v < 0 ? "-" : "", d->digits[0], d->digits + 1, d->exp);
    return strtod(text, NULL) == v;
}

/* d with its last digit moved by step (+1 or -1), as many digits; false when that would change their count.
 */
static bool moved(const struct decimal *d, int step, struct decimal *out) {
    size_t n = strlen(d->digits);
    unsigned long long m = strtoull(d->digits, NULL, 10) + (unsigned long long)(long long)step;
    snprintf(out->digits, sizeof(out->digits), "%llu", m);
    out->exp = d->exp;
    return strlen(out->digits) == n;
}

/* The shortest decimal digits that read back as v (v finite, not 0), in *d, trailing zeros dropped. Tries 1
 * to 17 significant digits, each correctly rounded, and its neighbours: at a power of two the interval that
 * reads back as v is twice as wide above v as below, so the nearest candidate may miss it where the next one
 * up does not (strconv's shortest finds that one). */
static void shortest_digits(double v, struct decimal *d) {
    for (int precision = 1; precision <= 17; precision++) {
        char text[48];
        snprintf(text, sizeof(text), "%.*e", precision - 1, v);
        decimal_of(text, d);
        struct decimal other;
        if (reads_back(d, v) || precision == 17)
            break;
        if ((moved(d, +1, &other) && reads_back(&other, v)) ||
            (moved(d, -1, &other) && reads_back(&other, v))) {
            *d = other;
            break;
        }
    }
    size_t n = strlen(d->digits);
    while (n > 1 && d->digits[n - 1] == '0')
        d->digits[--n] = '\0';
}

void prom_format_go_float(double value, char *buf) {
    if (isnan(value) || isinf(value) || value == 0 || value == 1 || value == -1) {
        strcpy(buf, isnan(value)   ? "NaN"
                    : isinf(value) ? (value > 0 ? "+Inf" : "-Inf")
                    : value == 0   ? "0"
                    : value == 1   ? "1"
                                   : "-1");
        return;
    }
    struct decimal d;
    shortest_digits(value, &d);
    const char *digits = d.digits;
    int exp = d.exp, nd = (int)strlen(digits);
    char *out = buf;
    if (value < 0)
        *out++ = '-';
    if (exp < -4 || exp >= 6) { /* strconv %e: d[.ddd]e±XX, two exponent digits at least */
        *out++ = digits[0];
        if (nd > 1)
            out += sprintf(out, ".%s", digits + 1);
        sprintf(out, "e%c%02d", exp < 0 ? '-' : '+', abs(exp));
        return;
    }
    if (exp < 0) { /* 0.000ddd */
        out += sprintf(out, "0.");
        for (int i = -1; i > exp; i--)
            *out++ = '0';
        strcpy(out, digits);
        return;
    }
    for (int i = 0; i <= exp; i++) /* the integer part, zeros past the digits */
        *out++ = i < nd ? digits[i] : '0';
    if (nd > exp + 1)
        out += sprintf(out, ".%s", digits + exp + 1);
    *out = '\0';
}

void prom_sample_end_go(struct prom_sample *s, double value) {
    char buf[PROM_GO_FLOAT_MAX];
    prom_format_go_float(value, buf);
    if (s->has_labels)
        fputc('}', s->out);
    fprintf(s->out, " %s\n", buf);
}
