#include "table_text.h"

#include <stdio.h>
#include <time.h>

void clock_text(int64_t wall, char *out, size_t size) {
    time_t secs = (time_t)(wall / 1000000000LL);
    struct tm tm;
    localtime_r(&secs, &tm);
    char hms[16];
    strftime(hms, sizeof(hms), "%H:%M:%S", &tm);
    snprintf(out, size, "%s.%03d", hms, (int)(wall / 1000000LL % 1000));
}

void duration_text(int64_t ns, char *out, size_t size) {
    double v = ns > 0 ? (double)ns : 0;
    static const char *const units[] = {"ns", "µs", "ms", "s"};
    int u = 0;
    while (u < 3 && v >= 1000) {
        v /= 1000;
        u++;
    }
    snprintf(out, size, u == 0 || v >= 100 ? "%.0f%s" : v >= 10 ? "%.1f%s" : "%.2f%s", v, units[u]);
}

void bytes_text(uint64_t bytes, char *out, size_t size) {
    double v = (double)bytes;
    static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (u < 4 && v >= 1024) {
        v /= 1024;
        u++;
    }
    snprintf(out, size, u == 0 || v >= 100 ? "%.0f%s" : v >= 10 ? "%.1f%s" : "%.2f%s", v, units[u]);
}

void print_cell(const char *text, int width) {
    int columns = 0;
    for (const char *c = text; *c; c++)
        columns += ((unsigned char)*c & 0xC0) != 0x80;
    fputs(text, stdout);
    printf("%*s", width > columns ? width - columns + 1 : 1, "");
}
