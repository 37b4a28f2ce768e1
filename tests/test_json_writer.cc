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

TEST(JsonWriter, EscapesControlQuotesAndInvalidUtf8) {
    auto s = render([](struct json_writer *w) { json_string(w, "a\"b\\c\n\x01\xff\xc3\xa9"); });
    EXPECT_EQ(s, "\"a\\\"b\\\\c\\n\\u0001\\ufffd\xc3\xa9\"");
}

} // namespace
