// Numbers in the Prometheus text format as client_golang writes them (prometheus/common expfmt writeFloat:
// strconv.FormatFloat(v, 'g', -1, 64) after 0, 1, -1, NaN and the infinities): the oracle is Go itself, which
// formats the same values (chosen edge cases and 20,000 drawn over every exponent) in a program the test
// runs.
#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <sstream>

#include "prom_text.h"
#include "test_support.h"

using namespace gmon_test;

namespace {

const char GO_PROGRAM[] = R"(package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"strconv"
)

// writeFloat of github.com/prometheus/common/expfmt (text_create.go), to stdout.
func main() {
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		bits, err := strconv.ParseUint(in.Text(), 16, 64)
		if err != nil {
			panic(err)
		}
		f := math.Float64frombits(bits)
		switch {
		case f == 1:
			fmt.Fprintln(out, "1")
		case f == 0:
			fmt.Fprintln(out, "0")
		case f == -1:
			fmt.Fprintln(out, "-1")
		case math.IsNaN(f):
			fmt.Fprintln(out, "NaN")
		case math.IsInf(f, +1):
			fmt.Fprintln(out, "+Inf")
		case math.IsInf(f, -1):
			fmt.Fprintln(out, "-Inf")
		default:
			fmt.Fprintln(out, strconv.FormatFloat(f, 'g', -1, 64))
		}
	}
}
)";

uint64_t bits_of(double v) {
    uint64_t b;
    memcpy(&b, &v, 8);
    return b;
}

} // namespace

TEST(PromText, FloatsAreWrittenAsClientGolangWritesThem) {
    std::vector<double> values = {0,
                                  -0.0,
                                  1,
                                  -1,
                                  NAN,
                                  INFINITY,
                                  -INFINITY,
                                  123456,
                                  1e6,
                                  1234567,
                                  999999.5,
                                  999999,
                                  0.1,
                                  0.0001,
                                  1e-05,
                                  0.3,
                                  1.0 / 3,
                                  2.0 / 3,
                                  100000,
                                  1e21,
                                  1e20,
                                  5e-324,
                                  1.7976931348623157e308,
                                  -0.5,
                                  1.5,
                                  0.001,
                                  4.9e-4,
                                  12.5,
                                  1024,
                                  1e15,
                                  1e16,
                                  std::ldexp(1, 53),
                                  std::ldexp(1, 63),
                                  std::ldexp(1, 64),
                                  std::ldexp(1, -1022),
                                  123456789012.0,
                                  9007199254740993.0,
                                  3.0e-5,
                                  0.000123456789};
    std::mt19937_64 rng(20261205);
    for (int i = 0; i < 5000; i++) {
        uint64_t b = rng();
        double v;
        memcpy(&v, &b, 8); // any bit pattern: every exponent
        values.push_back(v);
        values.push_back(double(rng() >> (rng() % 64)));                        // integers of every size
        values.push_back(double(rng() % 100000000) / std::pow(10, rng() % 12)); // decimals
        values.push_back(std::ldexp(1, int(rng() % 2000) - 1000));              // powers of two
    }
    std::string dir = scratch_dir() + "/prom-float";
    run("mkdir -p " + dir);
    write_file(dir + "/main.go", GO_PROGRAM);
    std::ostringstream in;
    for (double v : values)
        in << std::hex << bits_of(v) << "\n";
    write_file(dir + "/in.txt", in.str());
    auto go = run("sh -c 'cd " + dir + " && GO111MODULE=off GOFLAGS= GOCACHE=" + dir + "/gocache " +
                      GO_EXECUTABLE + " run main.go < in.txt'",
                  120);
    ASSERT_EQ(go.status, 0) << go.err;
    auto expected = lines(go.out);
    ASSERT_GE(expected.size(), values.size());
    size_t differ = 0;
    for (size_t i = 0; i < values.size(); i++) {
        char mine[PROM_GO_FLOAT_MAX];
        prom_format_go_float(values[i], mine);
        if (expected[i] != mine && differ++ < 20)
            ADD_FAILURE() << "bits " << std::hex << bits_of(values[i]) << ": Go writes " << expected[i]
                          << ", gmon " << mine;
    }
    EXPECT_EQ(differ, 0u) << "of " << values.size();
}
