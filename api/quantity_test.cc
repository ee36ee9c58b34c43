
#include "api/quantity.h"

#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kestrel::api {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

struct ValidCase {
  std::string text;
  int64_t value;
  int64_t milli_value;
  std::string canonical;
};

class ParseValidTest : public testing::TestWithParam<ValidCase> {};

TEST_P(ParseValidTest, ValueMilliValueAndString) {
  const ValidCase& c = GetParam();
  absl::StatusOr<Quantity> q = Quantity::Parse(c.text);
  ASSERT_TRUE(q.ok()) << c.text << ": " << q.status();
  EXPECT_EQ(q->Value(), c.value) << c.text;
  EXPECT_EQ(q->MilliValue(), c.milli_value) << c.text;
  EXPECT_EQ(q->ToString(), c.canonical) << c.text;
}

INSTANTIATE_TEST_SUITE_P(
    Quantities, ParseValidTest,
    testing::Values(
        // Plain numbers.
        ValidCase{"0", 0, 0, "0"}, ValidCase{"-0", 0, 0, "0"},
        ValidCase{"1", 1, 1000, "1"}, ValidCase{"+1", 1, 1000, "1"},
        ValidCase{"-1", -1, -1000, "-1"}, ValidCase{"007", 7, 7000, "7"},
        ValidCase{"1.", 1, 1000, "1"}, ValidCase{".5", 1, 500, "500m"},
        ValidCase{"0.1", 1, 100, "100m"}, ValidCase{"1.5", 2, 1500, "1500m"},
        ValidCase{"0.0001", 1, 1, "100u"},
        ValidCase{"-0.1", -1, -100, "-100m"},
        // Decimal SI suffixes.
        ValidCase{"100m", 1, 100, "100m"}, ValidCase{"1000m", 1, 1000, "1"},
        ValidCase{"1500m", 2, 1500, "1500m"}, ValidCase{"5n", 1, 1, "5n"},
        ValidCase{"250u", 1, 1, "250u"}, ValidCase{"1k", 1000, 1000000, "1000"},
        ValidCase{"1M", 1000000, 1000000000, "1000000"},
        ValidCase{"2G", 2000000000, 2000000000000, "2000000000"},
        ValidCase{"1T", 1000000000000, 1000000000000000, "1000000000000"},
        ValidCase{"1P", 1000000000000000, 1000000000000000000,
                  "1000000000000000"},
        ValidCase{"1E", 1000000000000000000, kMax, "1000000000000000000"},
        ValidCase{"1.G", 1000000000, 1000000000000, "1000000000"},
        // Binary SI suffixes.
        ValidCase{"1Ki", 1024, 1024000, "1024"},
        ValidCase{"1Mi", 1048576, 1048576000, "1048576"},
        ValidCase{"1.5Gi", 1610612736, 1610612736000, "1610612736"},
        ValidCase{"0.5Ki", 512, 512000, "512"},
        ValidCase{"0.3Ki", 308, 307200, "307200m"},
        ValidCase{"1Ti", 1099511627776, 1099511627776000, "1099511627776"},
        ValidCase{"1Pi", 1125899906842624, 1125899906842624000,
                  "1125899906842624"},
        ValidCase{"1Ei", 1152921504606846976, kMax, "1152921504606846976"},
        // Binary quantities are capped at MaxInt64 units, as upstream does.
        ValidCase{"16Ei", kMax, kMax, "9223372036854775807"},
        // Decimal exponents.
        ValidCase{"1e3", 1000, 1000000, "1000"},
        ValidCase{"1E3", 1000, 1000000, "1000"},
        ValidCase{"1e+3", 1000, 1000000, "1000"},
        ValidCase{"12E-3", 1, 12, "12m"}, ValidCase{"1e-9", 1, 1, "1n"},
        ValidCase{"1e-10", 1, 1, "1n"},  // Rounded up to the smallest unit.
        ValidCase{"1.5e2", 150, 150000, "150"},
        // Upstream narrows the exponent with int32(): 2^32 wraps to 0.
        ValidCase{"1e4294967296", 1, 1000, "1"},
        // Saturation instead of overflow.
        ValidCase{"9223372036854775807", kMax, kMax, "9223372036854775807"},
        ValidCase{"9223372036854775808", kMax, kMax, "9223372036854775808"},
        ValidCase{"-9223372036854775808", kMin, kMin, "-9223372036854775808"},
        ValidCase{"1e30", kMax, kMax, "10000000000000000000000000000"},
        ValidCase{"-1e30", kMin, kMin, "-10000000000000000000000000000"},
        ValidCase{"99999999999999999999999999999999999999999999", kMax, kMax,
                  "10000000000000000000000000000"},
        // Long fractions stay exact: the ninth decimal decides the rounding.
        ValidCase{"0.000000001000000000000000000000000000000000000", 1, 1,
                  "1n"},
        ValidCase{"0.000000001000000000000000000000000000000000001", 1, 1,
                  "2n"}));

struct InvalidCase {
  std::string text;
  absl::string_view message;
};

class ParseInvalidTest : public testing::TestWithParam<InvalidCase> {};

TEST_P(ParseInvalidTest, RejectsWithUpstreamMessage) {
  const InvalidCase& c = GetParam();
  absl::StatusOr<Quantity> q = Quantity::Parse(c.text);
  ASSERT_FALSE(q.ok()) << "'" << c.text << "' parsed as " << q->ToString();
  EXPECT_EQ(q.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(q.status().message(), c.message) << "'" << c.text << "'";
}

INSTANTIATE_TEST_SUITE_P(
    Quantities, ParseInvalidTest,
    testing::Values(
        InvalidCase{"", kQuantityFormatError},
        InvalidCase{"1.5.5", kQuantityFormatError},
        InvalidCase{"abc", kQuantityFormatError},
        InvalidCase{"1Kb", kQuantityFormatError},
        InvalidCase{"1 Ki", kQuantityFormatError},
        InvalidCase{" 1", kQuantityFormatError},
        InvalidCase{"1 ", kQuantityFormatError},
        InvalidCase{"1e3.5", kQuantityFormatError},
        InvalidCase{"--1", kQuantitySuffixError},
        InvalidCase{"1,000", kQuantityFormatError},
        InvalidCase{"0x10", kQuantityFormatError},
        InvalidCase{std::string("1\0", 2), kQuantityFormatError},
        InvalidCase{"1Mi3x", kQuantityFormatError},
        InvalidCase{"+-1", kQuantitySuffixError},
        InvalidCase{"1i", kQuantitySuffixError},
        InvalidCase{"1e", kQuantitySuffixError},
        InvalidCase{"1KI", kQuantityFormatError},
        InvalidCase{"1mi", kQuantitySuffixError},
        InvalidCase{"1Ee3", kQuantitySuffixError},
        InvalidCase{"1e-", kQuantitySuffixError},
        InvalidCase{"1Mi3", kQuantitySuffixError},
        InvalidCase{"1e99999999999999999999", kQuantitySuffixError},
        InvalidCase{"+", kQuantityNumericError},
        InvalidCase{"-", kQuantityNumericError},
        InvalidCase{".", kQuantityNumericError},
        InvalidCase{"Ki", kQuantityNumericError},
        InvalidCase{"m", kQuantityNumericError}));

// Upstream Quantity.String(), as the API server prints quantities in its
// validation messages (pkg/api/resource quantity.go CanonicalizeBytes).
TEST(QuantityTest, StringIsUpstreamCanonicalForm) {
  const struct {
    const char* text;
    const char* want;
  } cases[] = {
      {"0", "0"},          {"1", "1"},           {"-1", "-1"},         {"1000m", "1"},
      {"1500m", "1500m"},  {"0.1", "100m"},      {"-0.1", "-100m"},    {"5n", "5n"},
      {"1000", "1k"},      {"1k", "1k"},         {"1500", "1500"},     {"2G", "2G"},
      {"1E", "1E"},        {"1Ki", "1Ki"},       {"1024Mi", "1Gi"},    {"1.5Gi", "1536Mi"},
      {"100Mi", "100Mi"},  {"-1Gi", "-1Gi"},     {"0.5Ki", "512"},     {"1023", "1023"},
      {"0.3Ki", "307200m"}, {"1e3", "1e3"},      {"1.5e3", "1500"},    {"1e-3", "1e-3"},
      {"12E-3", "12e-3"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<Quantity> q = Quantity::Parse(c.text);
    ASSERT_TRUE(q.ok()) << c.text;
    EXPECT_EQ(q->String(), c.want) << c.text;
  }
}

TEST(QuantityTest, DefaultIsZero) {
  Quantity q;
  EXPECT_EQ(q.Value(), 0);
  EXPECT_EQ(q.MilliValue(), 0);
  EXPECT_EQ(q.ToString(), "0");
}

TEST(QuantityTest, EqualityComparesValueNotSpelling) {
  EXPECT_EQ(*Quantity::Parse("1k"), *Quantity::Parse("1000"));
  EXPECT_EQ(*Quantity::Parse("0.5"), *Quantity::Parse("500m"));
  EXPECT_NE(*Quantity::Parse("1Ki"), *Quantity::Parse("1k"));
  EXPECT_NE(*Quantity::Parse("1"), *Quantity::Parse("-1"));
}

TEST(QuantityTest, ReportsFormat) {
  EXPECT_EQ(Quantity::Parse("1Gi")->format(), Quantity::Format::kBinarySI);
  EXPECT_EQ(Quantity::Parse("1e3")->format(),
            Quantity::Format::kDecimalExponent);
  EXPECT_EQ(Quantity::Parse("100m")->format(), Quantity::Format::kDecimalSI);
  // Below one unit, upstream reports a binary quantity as decimal.
  EXPECT_EQ(Quantity::Parse("0.0001Ki")->format(),
            Quantity::Format::kDecimalSI);
}

}  // namespace
}  // namespace kestrel::api
