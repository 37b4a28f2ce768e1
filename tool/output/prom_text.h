/* Prometheus text exposition format 0.0.4: family headers, samples with escaped label values, float values.
 */
#ifndef GMON_PROM_TEXT_H
#define GMON_PROM_TEXT_H
#include <stdbool.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct prom_sample {
    FILE *out;
    bool has_labels;
};

void prom_family(FILE *out, const char *name, const char *type, const char *help);
void prom_sample_begin(struct prom_sample *s, FILE *out, const char *name);
void prom_label(struct prom_sample *s, const char *name, const char *value);
/* Writes the value (+Inf, NaN and integers exactly) and ends the line. */
void prom_sample_end(struct prom_sample *s, double value);

enum { PROM_GO_FLOAT_MAX = 32 };
/* value as client_golang writes it (prometheus/common expfmt writeFloat): "0", "1", "-1", NaN, +Inf, -Inf,
 * else Go's strconv.FormatFloat(value, 'g', -1, 64): the fewest digits that read back as value, exponent
 * form when the decimal exponent is below -4 or at least 6 ("1.234567e+06", "1e-05", "999999.5"). buf holds
 * PROM_GO_FLOAT_MAX bytes. */
void prom_format_go_float(double value, char *buf);
/* prom_sample_end, the value written by prom_format_go_float: series that must read as client_golang's. */
void prom_sample_end_go(struct prom_sample *s, double value);

#ifdef __cplusplus
}
#endif

#endif
