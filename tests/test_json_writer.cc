#include <cstdio>
#include <string>

#include <gtest/gtest.h>

extern "C" {
#include "json_writer.h"
}

namespace {

std::string render(void (*fill)(struct json_writer *)) {
    char *buf = nullptr;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct json_writer w;
    json_init(&w, f);
    fill(&w);
    fclose(f);
    std::string s(buf, len);
    free(buf);
    return s;
}

TEST(JsonWriter, NestingAndCommas) {
    auto s = render([](struct json_writer *w) {
        json_begin_object(w);
        json_key(w, "a");
        json_uint(w, 1);
        json_key(w, "list");
        json_begin_array(w);
        json_int(w, -2);
        json_bool(w, true);
        json_null(w);
        json_hex(w, 0x401000);
        json_end_array(w);
        json_key(w, "o");
        json_begin_object(w);
        json_end_object(w);
        json_end_object(w);
    });
    EXPECT_EQ(s, "{\"a\":1,\"list\":[-2,true,null,\"0x401000\"],\"o\":{}}\n");
}

// Keys take one call when they need no escaping and fit a 60-byte buffer; the others the general path. Both
// write the same JSON, commas included.
TEST(JsonWriter, KeysShortLongAndEscapedWriteTheSameJson) {
    static const std::string k60(60, 'k'), k61(61, 'm');
    auto s = render([](struct json_writer *w) {
        json_begin_object(w);
        json_key(w, "id");
        json_uint(w, 1);
        json_key(w, k60.c_str());
        json_uint(w, 2);
        json_key(w, k61.c_str());
        json_uint(w, 3);
        json_key(w, "a \"quoted\" key\n");
        json_begin_array(w);
        json_end_array(w);
        json_key(w, "");
        json_null(w);
        json_end_object(w);
    });
    EXPECT_EQ(s, "{\"id\":1,\"" + k60 + "\":2,\"" + k61 + "\":3,\"a \\\"quoted\\\" key\\n\":[],\"\":null}\n");
}

TEST(JsonWriter, EscapesControlQuotesAndInvalidUtf8) {
    auto s = render([](struct json_writer *w) { json_string(w, "a\"b\\c\n\x01\xff\xc3\xa9"); });
    EXPECT_EQ(s, "\"a\\\"b\\\\c\\n\\u0001\\ufffd\xc3\xa9\"");
}

// A string escaped once (json_quote) and written as it is (json_raw) reads as json_string writes it, in an
// array with its commas: what summary --json does with each distinct location.
TEST(JsonWriter, QuotedOnceWritesWhatJsonStringWrites) {
    static const char *const texts[] = {"main.worker (/src/a.go:12)",
                                        "quote \" and \\ back",
                                        "tab\tnew\nline",
                                        "\x01\x1f\x7f",
                                        "caf\xc3\xa9 \xe2\x82\xac",
                                        "bad \xff utf-8",
                                        ""};
    static std::string escaped, quoted;
    escaped = render([](struct json_writer *w) {
        json_begin_array(w);
        for (const char *t : texts)
            json_string(w, t);
        json_end_array(w);
    });
    quoted = render([](struct json_writer *w) {
        json_begin_array(w);
        for (const char *t : texts) {
            char *q = json_quote(t);
            ASSERT_NE(q, nullptr);
            json_raw(w, q);
            free(q);
        }
        json_end_array(w);
    });
    EXPECT_EQ(quoted, escaped);
    EXPECT_NE(escaped.find("\\ufffd"), std::string::npos) << escaped;
}

} // namespace
