/* Prometheus text exposition format 0.0.4: family headers, samples with escaped label values, float values.
 */
#ifndef GMON_PROM_TEXT_H
#define GMON_PROM_TEXT_H
#include <stdbool.h>
#include <stdio.h>

struct prom_sample {
    FILE *out;
    bool has_labels;
};

void prom_family(FILE *out, const char *name, const char *type, const char *help);
void prom_sample_begin(struct prom_sample *s, FILE *out, const char *name);
void prom_label(struct prom_sample *s, const char *name, const char *value);
/* Writes the value (+Inf, NaN and integers exactly) and ends the line. */
void prom_sample_end(struct prom_sample *s, double value);

#endif
