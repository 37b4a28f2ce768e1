// Log lines must read like Go's slog output, and the Prometheus text writer must escape labels correctly.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "test_support.h"

using namespace gmon_test;

extern "C" {
#include "log_writer.h"
#include "prom_text.h"
#include "utf8.h"
}

namespace {

std::string duration(uint64_t ns) {
    char buf[64];
    format_go_duration(ns, buf, sizeof(buf));
    return buf;
}

TEST(GoDuration, MatchesTimeDurationString) {
    EXPECT_EQ(duration(0), "0s");
    EXPECT_EQ(duration(999), "999ns");
    EXPECT_EQ(duration(1500), "1.5µs");
    EXPECT_EQ(duration(100200000), "100.2ms");
    EXPECT_EQ(duration(100948433), "100.948433ms");
    EXPECT_EQ(duration(1000000000), "1s");
    EXPECT_EQ(duration(1500000000), "1.5s");
    EXPECT_EQ(duration(61000000000ULL), "1m1s");
    EXPECT_EQ(duration(3661500000000ULL), "1h1m1.5s");
    EXPECT_EQ(duration(3600000000000ULL), "1h0m0s");
    EXPECT_EQ(duration(100000), "100µs");
    EXPECT_EQ(duration(1000001), "1.000001ms");
    EXPECT_EQ(duration(59999999999ULL), "59.999999999s");
    EXPECT_EQ(duration(9223372036854775807ULL), "2562047h47m16.854775807s"); // time.Duration's largest
    char small[4];
    format_go_duration(1500, small, sizeof(small));
    EXPECT_STREQ(small, "1.5") << "cut to the buffer, NUL-terminated";
}

// Numbers in log lines and JSON are written two digits at a time: the same text as printf's, at every
// length, into a text_buf too.
TEST(TextBuf, DecimalIsPrintfs) {
    std::vector<uint64_t> values = {0, UINT64_MAX, UINT64_MAX - 1};
    for (uint64_t p = 1; p <= UINT64_MAX / 10; p *= 10)
        for (uint64_t v : {p - 1, p, p + 1, p * 10 - 1, p * 5 + 7})
            values.push_back(v);
    struct text_buf b = {};
    std::string all;
    for (uint64_t v : values) {
        char out[21] = {};
        std::string want = std::to_string(v);
        EXPECT_EQ(decimal_text(out, v), want.size()) << v;
        EXPECT_EQ(std::string(out), want);
    }
    for (int round = 0; round < 20; round++) // past the buffer's first 4 KiB: it grows under the numbers
        for (uint64_t v : values) {
            text_buf_uint(&b, v);
            all += std::to_string(v);
        }
    ASSERT_GT(all.size(), 4096u);
    EXPECT_EQ(std::string(b.data, b.len), all);
    text_buf_free(&b);
}

// Captures one record written through a log_writer.
template <typename F> std::string record(enum log_format format, enum log_level min, F body) {
    char *buf = nullptr;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct log_writer w;
    log_writer_init(&w, out, format, min);
    body(&w);
    log_writer_close(&w);
    fclose(out);
    std::string s(buf, len);
    free(buf);
    return s;
}

const int64_t WALL = 1700000000123456789LL; // 2023-11-14T22:13:20.123456789Z

TEST(LogWriter, LogfmtQuotesOnlyWhatSlogQuotes) {
    setenv("TZ", "UTC", 1);
    std::string line = record(LOG_LOGFMT, LOG_INFO, [](log_writer *w) {
        log_begin(w, LOG_INFO, WALL, "goroutine is created");
        log_uint(w, "goroutine_id", 22);
        log_str(w, "function", "net/http.(*conn).serve");
        log_str(w, "spaced", "a b");
        log_str(w, "equals", "k=v");
        log_str(w, "quote", "say \"hi\"");
        log_str(w, "empty", "");
        log_duration(w, "lifetime", 1500000);
        const char *stack[] = {"main.f", "main.main"};
        log_str_list(w, "stack", stack, 2);
        log_end(w);
    });
    EXPECT_EQ(line, "time=2023-11-14T22:13:20.123Z level=INFO msg=\"goroutine is created\" goroutine_id=22 "
                    "function=net/http.(*conn).serve spaced=\"a b\" equals=\"k=v\" quote=\"say \\\"hi\\\"\" "
                    "empty=\"\" lifetime=1.5ms stack.0=main.f stack.1=main.main\n");
}

// Beyond ASCII, slog quotes a value for a byte that is not UTF-8 or a rune Go does not print (needsQuoting),
// and strconv.Quote escapes those as \x, \u or \U; a printable rune such as the µ of a duration is kept as it
// is, unquoted. DEL does not make slog quote (it is in its safeSet), but strconv.Quote escapes it. U+FFFD
// makes slog quote (it is utf8.RuneError), and strconv.Quote keeps it (it is printable). An unassigned code
// point is not printable.
TEST(LogWriter, LogfmtQuotesRunesAsSlog) {
    setenv("TZ", "UTC", 1);
    std::string line = record(LOG_LOGFMT, LOG_INFO, [](log_writer *w) {
        log_begin(w, LOG_INFO, WALL, "m");
        log_duration(w, "lifetime", 1500);
        log_str(w, "path", "/srv/café/main.go");
        log_str(w, "nbsp", "a\u00a0b");
        log_str(w, "bad",
                "a\xff"
                "b");
        log_str(w, "bell",
                "a\ab\x01"
                "c\x7f");
        log_str(w, "del",
                "a\x7f"
                "b");
        log_str(w, "private", "\U000F0000");
        log_str(w, "sep", "a\u2028b");
        log_str(w, "replacement", "a\ufffdb");
        log_str(w, "object", "a\ufffcb\u034f");
        log_str(w, "unassigned",
                "a\xcd\xb8"
                "b"); /* U+0378 */
        log_end(w);
    });
    EXPECT_EQ(line,
              "time=2023-11-14T22:13:20.123Z level=INFO msg=m lifetime=1.5µs path=/srv/café/main.go "
              "nbsp=\"a\\u00a0b\" bad=\"a\\xffb\" bell=\"a\\ab\\x01c\\x7f\" del=a\x7f"
              "b "
              "private=\"\\U000f0000\" sep=\"a\\u2028b\" replacement=\"a\ufffdb\" object=a\ufffcb\u034f "
              "unassigned=\"a\\u0378b\"\n");
}

// Which code points gmon prints as they are, against Go's own strconv.IsPrint (the printable fixture, built
// by Go 1.19, whose tables are Unicode 13.0.0; gmon's are 15.0.0, like go1.21's to go1.27's). Every code
// point Go 1.19 prints, gmon prints; the others gmon prints are exactly the letters, marks, numbers,
// punctuation and symbols Unicode 14.0 and 15.0 assigned (UnicodeData.txt and DerivedAge.txt of 15.0.0 count
// 5,318). An unassigned code point is quoted, as slog quotes it.
TEST(LogWriter, PrintableRunesAreGosOwn) {
    auto go = run(fixture("printable-plain"));
    ASSERT_EQ(go.status, 0) << go.err;
    std::istringstream in(go.out);
    std::string version;
    ASSERT_TRUE(std::getline(in, version));
    EXPECT_EQ(version, "13.0.0");
    std::vector<bool> go_printable(0x110000, false);
    unsigned long low, high;
    int ranges = 0;
    while (in >> std::hex >> low >> high) {
        ASSERT_LE(low, high);
        ASSERT_LT(high, 0x110000u);
        for (unsigned long r = low; r <= high; r++)
            go_printable[r] = true;
        ranges++;
    }
    ASSERT_GT(ranges, 600) << go.out.substr(0, 200);
    int missing = 0, added = 0;
    for (int32_t r = 0x100; r < 0x110000; r++) {
        bool ours = utf8_printable(r);
        if (go_printable[r] && !ours && missing++ < 5)
            ADD_FAILURE() << std::hex << "U+" << r << ": Go prints it, gmon escapes it";
        added += ours && !go_printable[r];
    }
    EXPECT_EQ(missing, 0);
    EXPECT_EQ(added, 5318) << "code points printable since Unicode 14.0";
    EXPECT_TRUE(utf8_printable(0x1fae8)) << "U+1FAE8 SHAKING FACE, Unicode 15.0";
    EXPECT_FALSE(utf8_printable(0x0378)) << "unassigned";
    EXPECT_FALSE(utf8_printable(0x10ffff)) << "a noncharacter";
    EXPECT_FALSE(utf8_printable(0x00ad)) << "soft hyphen, a format character";
    EXPECT_TRUE(utf8_printable(0x00e9));
}

TEST(LogWriter, JsonLinesAsSlogJsonHandler) {
    setenv("TZ", "UTC", 1);
    std::string line = record(LOG_JSON, LOG_INFO, [](log_writer *w) {
        log_begin(w, LOG_WARN, WALL, "events lost");
        log_uint(w, "count", 3);
        log_duration(w, "lifetime", 1500000);
        const char *stack[] = {"main.f"};
        log_str_list(w, "stack", stack, 1);
        log_end(w);
    });
    EXPECT_EQ(line, "{\"time\":\"2023-11-14T22:13:20.123456789Z\",\"level\":\"WARN\",\"msg\":\"events lost\","
                    "\"count\":3,\"lifetime\":1500000,\"stack\":[\"main.f\"]}\n");
}

// Go's encoding/json and slog's JSONHandler replace a byte that is not UTF-8 with U+FFFD (an overlong form
// and a surrogate are not UTF-8) and escape U+2028 and U+2029.
TEST(LogWriter, JsonEscapesRunesAsGo) {
    setenv("TZ", "UTC", 1);
    std::string line = record(LOG_JSON, LOG_INFO, [](log_writer *w) {
        log_begin(w, LOG_INFO, WALL, "m");
        log_str(w, "s", "é\xff\xc0\xaf\xed\xa0\x80\u2028\u2029z");
        log_str(w, "c",
                "a\rb\x7f"
                "c\x01<&>");
        log_end(w);
    });
    EXPECT_EQ(line, "{\"time\":\"2023-11-14T22:13:20.123456789Z\",\"level\":\"INFO\",\"msg\":\"m\","
                    "\"s\":\"é\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\ufffd\\u2028\\u2029z\","
                    "\"c\":\"a\\rb\x7f"
                    "c\\u0001<&>\"}\n");
}

// slog's JSONHandler writes the time as time.RFC3339Nano: trailing zeros of the fraction dropped, and the
// point too when nothing is left.
TEST(LogWriter, JsonTimeDropsTrailingZeros) {
    setenv("TZ", "UTC", 1);
    auto time_of = [](int64_t wall) {
        std::string line = record(LOG_JSON, LOG_INFO, [wall](log_writer *w) {
            log_begin(w, LOG_INFO, wall, "m");
            log_end(w);
        });
        return line.substr(0, line.find(",\"level\""));
    };
    EXPECT_EQ(time_of(1700000000120000000LL), "{\"time\":\"2023-11-14T22:13:20.12Z\"");
    EXPECT_EQ(time_of(1700000000000000000LL), "{\"time\":\"2023-11-14T22:13:20Z\"");
    EXPECT_EQ(time_of(1700000000000000001LL), "{\"time\":\"2023-11-14T22:13:20.000000001Z\"");
}

TEST(LogWriter, RecordsBelowTheLevelAreDropped) {
    std::string out = record(LOG_LOGFMT, LOG_WARN, [](log_writer *w) {
        log_begin(w, LOG_INFO, WALL, "goroutine is created");
        log_uint(w, "goroutine_id", 22);
        log_end(w);
    });
    EXPECT_EQ(out, "");
}

// Records ended while held are written on release, in order, and nothing before: the lifecycle monitor builds
// lines under the lock it shares with the metrics server and writes them after unlocking.
TEST(LogWriter, HeldRecordsAreWrittenOnReleaseInOrder) {
    char *buf = nullptr;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct log_writer w;
    log_writer_init(&w, out, LOG_JSON, LOG_INFO);
    log_begin(&w, LOG_INFO, WALL, "before");
    log_end(&w);
    log_hold(&w);
    for (int i = 0; i < 3; i++) {
        log_begin(&w, LOG_INFO, WALL, "held");
        log_int(&w, "i", i);
        log_end(&w);
    }
    log_begin(&w, LOG_DEBUG, WALL, "below the level");
    log_end(&w);
    fflush(out);
    std::string before_release(buf, len);
    log_release(&w);
    log_begin(&w, LOG_INFO, WALL, "after");
    log_end(&w);
    log_writer_close(&w);
    fclose(out);
    std::string all(buf);
    free(buf);
    const std::string prefix = "{\"time\":\"2023-11-14T22:13:20.123456789Z\",\"level\":\"INFO\",\"msg\":";
    EXPECT_EQ(before_release, prefix + "\"before\"}\n");
    EXPECT_EQ(all, prefix + "\"before\"}\n" + prefix + "\"held\",\"i\":0}\n" + prefix +
                       "\"held\",\"i\":1}\n" + prefix + "\"held\",\"i\":2}\n" + prefix + "\"after\"}\n");
}

// A batch: holds nest (the event loop holds around a poll, each event under the lock again), the last release
// writes, and a long batch is written once it passes the given size, still held.
TEST(LogWriter, NestedHoldsWriteAtTheLastReleaseOrWhenOverTheSize) {
    char *buf = nullptr;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct log_writer w;
    log_writer_init(&w, out, LOG_LOGFMT, LOG_INFO);
    auto written = [&] {
        fflush(out);
        return std::string(buf, len);
    };
    log_hold(&w);
    log_hold(&w);
    log_begin(&w, LOG_INFO, WALL, "one");
    log_end(&w);
    log_release(&w);
    EXPECT_EQ(written(), "");
    log_write_if_over(&w, 1000);
    EXPECT_EQ(written(), "");
    log_begin(&w, LOG_INFO, WALL, "two");
    log_end(&w);
    log_write_if_over(&w, 90); // two records of 49 bytes
    const std::string line = "time=2023-11-14T22:13:20.123Z level=INFO msg=";
    EXPECT_EQ(written(), line + "one\n" + line + "two\n");
    log_begin(&w, LOG_INFO, WALL, "three");
    log_end(&w);
    EXPECT_EQ(written(), line + "one\n" + line + "two\n");
    log_release(&w);
    EXPECT_EQ(written(), line + "one\n" + line + "two\n" + line + "three\n");
    log_writer_close(&w);
    fclose(out);
    free(buf);
}

// The date and time of day are formatted once per second: records of the next second, and of an earlier one,
// still carry their own.
TEST(LogWriter, EachRecordHasItsOwnSecond) {
    char *buf = nullptr;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    struct log_writer w;
    log_writer_init(&w, out, LOG_LOGFMT, LOG_INFO);
    for (int64_t at : std::vector<int64_t>{WALL, WALL + 400000000, WALL + 1000000000, WALL - 3600000000000}) {
        log_begin(&w, LOG_INFO, at, "m");
        log_end(&w);
    }
    log_writer_close(&w);
    fclose(out);
    EXPECT_EQ(std::string(buf), "time=2023-11-14T22:13:20.123Z level=INFO msg=m\n"
                                "time=2023-11-14T22:13:20.523Z level=INFO msg=m\n"
                                "time=2023-11-14T22:13:21.123Z level=INFO msg=m\n"
                                "time=2023-11-14T21:13:20.123Z level=INFO msg=m\n");
    free(buf);
}

// The time of a millisecond and the level and message of the last few pairs are formatted once and copied:
// every record still carries its own millisecond, level and message, when six pairs take turns (more than
// are kept), one message's buffer is rewritten between records, and a message needs quoting or is too long to
// keep.
TEST(LogWriter, TimesAndMessagesFormattedOnceStillReadTheirOwn) {
    setenv("TZ", "UTC", 1);
    const std::string long_msg(100, 'x');
    for (enum log_format format : {LOG_LOGFMT, LOG_JSON}) {
        SCOPED_TRACE(format == LOG_JSON ? "json" : "logfmt");
        std::string out = record(format, LOG_DEBUG, [&](log_writer *w) {
            char reused[32];
            const int64_t at[] = {WALL, WALL + 1000, WALL + 999999, WALL + 1000000, WALL};
            for (int i = 0; i < 12; i++) {
                snprintf(reused, sizeof(reused), "step %d", i % 3);
                const char *msgs[] = {"goroutine exited", "goroutine is created", reused, long_msg.c_str()};
                log_begin(w, (enum log_level)(i / 4 % 2), at[i % 5], msgs[i % 4]); // each at two levels
                log_uint(w, "i", (uint64_t)i);
                log_end(w);
            }
        });
        auto ls = std::vector<std::string>();
        for (size_t from = 0, nl; (nl = out.find('\n', from)) != std::string::npos; from = nl + 1)
            ls.push_back(out.substr(from, nl - from));
        ASSERT_EQ(ls.size(), 12u) << out;
        const char *ms[] = {"20.123", "20.123", "20.124", "20.124", "20.123"};
        for (int i = 0; i < 12; i++) {
            const char *level = i / 4 % 2 ? "INFO" : "DEBUG";
            std::string reused = "step " + std::to_string(i % 3);
            const std::string msgs[] = {"goroutine exited", "goroutine is created", reused, long_msg};
            std::string msg = msgs[i % 4];
            std::string want;
            if (format == LOG_LOGFMT) {
                bool quoted = msg.find(' ') != std::string::npos;
                want = std::string("time=2023-11-14T22:13:") + ms[i % 5] + "Z level=" + level +
                       " msg=" + (quoted ? "\"" + msg + "\"" : msg) + " i=" + std::to_string(i);
            } else {
                const char *ns[] = {"20.123456789", "20.123457789", "20.124456788", "20.124456789",
                                    "20.123456789"};
                want = std::string("{\"time\":\"2023-11-14T22:13:") + ns[i % 5] + "Z\",\"level\":\"" + level +
                       "\",\"msg\":\"" + msg + "\",\"i\":" + std::to_string(i) + "}";
            }
            EXPECT_EQ(ls[i], want) << i;
        }
    }
}

// Records far larger than the buffer's first 4 KiB (it grows), held together, with fragments and every kind
// of attribute: the same bytes as records written one by one would be.
TEST(LogWriter, LargeRecordsAndFragmentsComeOutWhole) {
    setenv("TZ", "UTC", 1);
    std::string big(10000, 'x');
    big[5000] = ' '; // quoted in logfmt
    for (auto format : {LOG_LOGFMT, LOG_JSON}) {
        auto one = [&](log_writer *w, int i) {
            log_begin(w, LOG_INFO, WALL, "big");
            log_int(w, "n", -i);
            log_str(w, "value", big.c_str());
            log_fixed(w, "f", 1.25, 2);
            const char *names[] = {"a", "b"};
            const uint64_t counts[] = {1, 2};
            log_uint_group(w, "g", names, counts, 2);
            log_end(w);
        };
        std::string single = record(format, LOG_INFO, [&](log_writer *w) { one(w, 1); });
        std::string held = record(format, LOG_INFO, [&](log_writer *w) {
            log_hold(w);
            for (int i = 0; i < 3; i++)
                one(w, 1);
            log_release(w);
        });
        EXPECT_EQ(held, single + single + single);
        EXPECT_GT(single.size(), 10000u);
        EXPECT_NE(single.find(format == LOG_JSON ? "\"n\":-1" : " n=-1 "), std::string::npos) << single;
        std::string with_fragment = record(format, LOG_INFO, [&](log_writer *w) {
            log_begin(w, LOG_INFO, WALL, "big");
            log_int(w, "n", -1);
            log_fragment_begin(w);
            log_str(w, "value", big.c_str());
            log_fixed(w, "f", 1.25, 2);
            struct log_fragment f;
            log_fragment_end(w, &f);
            log_fragment_append(w, &f);
            const char *names[] = {"a", "b"};
            const uint64_t counts[] = {1, 2};
            log_uint_group(w, "g", names, counts, 2);
            log_end(w);
            free(f.text);
        });
        EXPECT_EQ(with_fragment, single);
    }
}

TEST(LogWriter, LevelAndFormatNames) {
    enum log_level l;
    enum log_format f;
    EXPECT_TRUE(log_level_parse("debug", &l) && l == LOG_DEBUG);
    EXPECT_TRUE(log_level_parse("WARN", &l) && l == LOG_WARN);
    EXPECT_FALSE(log_level_parse("TRACE", &l));
    EXPECT_TRUE(log_format_parse("json", &f) && f == LOG_JSON);
    EXPECT_FALSE(log_format_parse("xml", &f));
}

TEST(PromText, EscapesLabelValuesAndFormatsValues) {
    char *buf = nullptr;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    prom_family(out, "m_total", "counter", "Help.");
    struct prom_sample s;
    prom_sample_begin(&s, out, "m_total");
    prom_label(&s, "a", "x\"y\\z\nw");
    prom_label(&s, "le", "+Inf");
    prom_sample_end(&s, 3);
    prom_sample_begin(&s, out, "g");
    prom_sample_end(&s, 0.25);
    fclose(out);
    EXPECT_EQ(std::string(buf, len), "# HELP m_total Help.\n# TYPE m_total counter\n"
                                     "m_total{a=\"x\\\"y\\\\z\\nw\",le=\"+Inf\"} 3\ng 0.25\n");
    free(buf);
}

} // namespace
