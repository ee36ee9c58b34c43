#include "api/go_duration.h"

#include <cstdint>
#include <string>

#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kestrel::api {
namespace {

// Go's own parseDurationTests (src/time/time_test.go).
TEST(ParseGoDurationTest, AcceptsWhatGoAccepts) {
  const absl::Duration kMin = absl::Minutes(1);
  struct Case {
    std::string in;
    absl::Duration want;
  };
  const Case cases[] = {
      {"0", absl::ZeroDuration()},
      {"5s", absl::Seconds(5)},
      {"30s", absl::Seconds(30)},
      {"1478s", absl::Seconds(1478)},
      {"-5s", -absl::Seconds(5)},
      {"+5s", absl::Seconds(5)},
      {"-0", absl::ZeroDuration()},
      {"+0", absl::ZeroDuration()},
      {"5.0s", absl::Seconds(5)},
      {"5.6s", absl::Milliseconds(5600)},
      {"5.s", absl::Seconds(5)},
      {".5s", absl::Milliseconds(500)},
      {"1.004s", absl::Milliseconds(1004)},
      {"100.00100s", absl::Milliseconds(100001)},
      {"10ns", absl::Nanoseconds(10)},
      {"11us", absl::Microseconds(11)},
      {"12\xC2\xB5s", absl::Microseconds(12)},
      {"12\xCE\xBCs", absl::Microseconds(12)},
      {"13ms", absl::Milliseconds(13)},
      {"15m", absl::Minutes(15)},
      {"16h", absl::Hours(16)},
      {"3h30m", absl::Hours(3) + absl::Minutes(30)},
      {"10.5s4m", 4 * kMin + absl::Milliseconds(10500)},
      {"-2m3.4s", -(2 * kMin + absl::Milliseconds(3400))},
      {"1h2m3s4ms5us6ns", absl::Hours(1) + 2 * kMin + absl::Seconds(3) + absl::Milliseconds(4) +
                              absl::Microseconds(5) + absl::Nanoseconds(6)},
      {"39h9m14.425s", absl::Hours(39) + 9 * kMin + absl::Milliseconds(14425)},
      {"52763797000ns", absl::Nanoseconds(52763797000)},
      {"0.3333333333333333333h", 20 * kMin},
      {"9007199254740993ns", absl::Nanoseconds((int64_t{1} << 53) + 1)},
      {"9223372036854775807ns", absl::Nanoseconds(INT64_MAX)},
      {"9223372036854775.807us", absl::Nanoseconds(INT64_MAX)},
      {"9223372036s854ms775us807ns", absl::Nanoseconds(INT64_MAX)},
      {"-9223372036854775808ns", absl::Nanoseconds(INT64_MIN)},
      {"-9223372036854775.808us", absl::Nanoseconds(INT64_MIN)},
      {"-2562047h47m16.854775808s", absl::Nanoseconds(INT64_MIN)},
      {"0.100000000000000000000h", 6 * kMin},
      {"0.830103483285477580700h", 49 * kMin + absl::Seconds(48) + absl::Nanoseconds(372539827)},
  };
  for (const Case& c : cases) {
    absl::StatusOr<absl::Duration> got = ParseGoDuration(c.in);
    ASSERT_TRUE(got.ok()) << c.in << ": " << got.status();
    EXPECT_EQ(*got, c.want) << c.in;
  }
}

TEST(ParseGoDurationTest, RejectsWithGoMessages) {
  const struct {
    std::string in;
    std::string message;
  } cases[] = {
      {"", R"(time: invalid duration "")"},
      {"3", R"(time: missing unit in duration "3")"},
      {"15", R"(time: missing unit in duration "15")"},
      {"-", R"(time: invalid duration "-")"},
      {"s", R"(time: invalid duration "s")"},
      {".", R"(time: invalid duration ".")"},
      {"-.", R"(time: invalid duration "-.")"},
      {".s", R"(time: invalid duration ".s")"},
      {"+.s", R"(time: invalid duration "+.s")"},
      {"1d", R"(time: unknown unit "d" in duration "1d")"},
      {"1.5sec", R"(time: unknown unit "sec" in duration "1.5sec")"},
      {"inf", R"(time: invalid duration "inf")"},
      {"\x85\x85", R"(time: invalid duration "\x85\x85")"},
      {std::string("\xff") + "ff", R"(time: invalid duration "\xffff")"},
      {std::string("hello \xff") + "ff world", R"(time: invalid duration "hello \xffff world")"},
      {"9223372036854775808ns", R"(time: invalid duration "9223372036854775808ns")"},
      {"9223372036854775.808us", R"(time: invalid duration "9223372036854775.808us")"},
      {"9223372036854ms775us808ns", R"(time: invalid duration "9223372036854ms775us808ns")"},
      {"-9223372036854775809ns", R"(time: invalid duration "-9223372036854775809ns")"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<absl::Duration> got = ParseGoDuration(c.in);
    ASSERT_FALSE(got.ok()) << c.in << " parsed as " << *got;
    EXPECT_EQ(got.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(got.status().message(), c.message);
  }
}

// Go's durationTests for Duration.String().
TEST(FormatGoDurationTest, PrintsAsGo) {
  const struct {
    absl::Duration d;
    std::string want;
  } cases[] = {
      {absl::ZeroDuration(), "0s"},
      {absl::Nanoseconds(1), "1ns"},
      {absl::Nanoseconds(1100), "1.1\xC2\xB5s"},
      {absl::Microseconds(2200), "2.2ms"},
      {absl::Milliseconds(3300), "3.3s"},
      {absl::Minutes(4) + absl::Seconds(5), "4m5s"},
      {absl::Minutes(4) + absl::Milliseconds(5001), "4m5.001s"},
      {absl::Hours(5) + absl::Minutes(6) + absl::Milliseconds(7001), "5h6m7.001s"},
      {absl::Minutes(8) + absl::Nanoseconds(1), "8m0.000000001s"},
      {absl::Seconds(15), "15s"},
      {absl::Hours(1), "1h0m0s"},
      {-absl::Seconds(1), "-1s"},
      {absl::Nanoseconds(INT64_MAX), "2562047h47m16.854775807s"},
      {absl::Nanoseconds(INT64_MIN), "-2562047h47m16.854775808s"},
  };
  for (const auto& c : cases) EXPECT_EQ(FormatGoDuration(c.d), c.want);
}

}  // namespace
}  // namespace kestrel::api
