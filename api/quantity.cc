// Port of the parsing half of k8s.io/apimachinery/pkg/api/resource. The
// grammar and the error cases mirror parseQuantityString() and
// suffixHandler.interpret(); the number is then held as a magnitude in
// nano-units, which is exactly what upstream keeps after rounding to Nano.

#include "api/quantity.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace kestrel::api {
namespace {

using uint128 = unsigned __int128;

// Saturation point for the nano-unit magnitude: 10^37 nanos is far beyond
// int64 whole units, and ten times it still fits in 128 bits.
constexpr int kMaxNanoDigits = 37;
constexpr uint128 Pow10(int n) { return n == 0 ? 1 : 10 * Pow10(n - 1); }
constexpr uint128 kMaxNanos = Pow10(kMaxNanoDigits);
constexpr uint128 kNanosPerUnit = Pow10(9);
constexpr uint128 kNanosPerMilli = Pow10(6);
constexpr uint128 kInt64Max = std::numeric_limits<int64_t>::max();

// The pieces of "-1.5Gi": negative, num "1", denom "5", suffix "Gi".
struct Parts {
  bool negative = false;
  absl::string_view num;
  absl::string_view denom;
  absl::string_view suffix;
};

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

size_t SkipDigits(absl::string_view s, size_t pos) {
  while (pos < s.size() && IsDigit(s[pos])) ++pos;
  return pos;
}

// Mirrors upstream parseQuantityString(): sign, digits, optional '.' and
// digits, then suffix letters, an optional sign and digits. Anything left
// over is a format error.
absl::StatusOr<Parts> Split(absl::string_view s) {
  Parts parts;
  size_t pos = 0;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    parts.negative = s[0] == '-';
    ++pos;
  }
  size_t end = SkipDigits(s, pos);
  parts.num = s.substr(pos, end - pos);
  pos = end;
  if (pos < s.size() && s[pos] == '.') {
    end = SkipDigits(s, pos + 1);
    parts.denom = s.substr(pos + 1, end - pos - 1);
    pos = end;
  }
  const size_t suffix_start = pos;
  constexpr absl::string_view kSuffixLetters = "eEinumkKMGTP";
  while (pos < s.size() && kSuffixLetters.find(s[pos]) != absl::string_view::npos) {
    ++pos;
  }
  if (pos < s.size() && (s[pos] == '-' || s[pos] == '+')) ++pos;
  pos = SkipDigits(s, pos);
  if (pos != s.size()) return absl::InvalidArgumentError(kQuantityFormatError);
  parts.suffix = s.substr(suffix_start);
  return parts;
}

struct Suffix {
  int base;  // 10 or 2
  int32_t exponent;
  Quantity::Format format;
};

// Mirrors upstream suffixHandler.interpret(): the fixed SI and binary
// suffixes, else "e"/"E" followed by a signed integer.
bool InterpretSuffix(absl::string_view s, Suffix* out) {
  static constexpr struct {
    absl::string_view name;
    Suffix suffix;
  } kFixed[] = {
      {"", {10, 0, Quantity::Format::kDecimalSI}},
      {"n", {10, -9, Quantity::Format::kDecimalSI}},
      {"u", {10, -6, Quantity::Format::kDecimalSI}},
      {"m", {10, -3, Quantity::Format::kDecimalSI}},
      {"k", {10, 3, Quantity::Format::kDecimalSI}},
      {"M", {10, 6, Quantity::Format::kDecimalSI}},
      {"G", {10, 9, Quantity::Format::kDecimalSI}},
      {"T", {10, 12, Quantity::Format::kDecimalSI}},
      {"P", {10, 15, Quantity::Format::kDecimalSI}},
      {"E", {10, 18, Quantity::Format::kDecimalSI}},
      {"Ki", {2, 10, Quantity::Format::kBinarySI}},
      {"Mi", {2, 20, Quantity::Format::kBinarySI}},
      {"Gi", {2, 30, Quantity::Format::kBinarySI}},
      {"Ti", {2, 40, Quantity::Format::kBinarySI}},
      {"Pi", {2, 50, Quantity::Format::kBinarySI}},
      {"Ei", {2, 60, Quantity::Format::kBinarySI}},
  };
  for (const auto& fixed : kFixed) {
    if (fixed.name == s) {
      *out = fixed.suffix;
      return true;
    }
  }
  if (s.size() < 2 || (s[0] != 'e' && s[0] != 'E')) return false;
  // Go's strconv.ParseInt(s, 10, 64): optional sign, digits, int64 range.
  absl::string_view digits = s.substr(1);
  if (digits[0] == '+' || digits[0] == '-') digits.remove_prefix(1);
  if (digits.empty() || SkipDigits(digits, 0) != digits.size()) return false;
  int64_t exponent;
  if (!absl::SimpleAtoi(s.substr(1), &exponent)) return false;
  // Upstream narrows with int32(parsed); keep its wrap-around so that we
  // agree with the API server on every string it accepts.
  *out = {10, static_cast<int32_t>(static_cast<uint32_t>(exponent)),
          Quantity::Format::kDecimalExponent};
  return true;
}

// Multiplies a decimal digit string by 2^exponent, exactly.
std::string ShiftLeftDecimal(std::string digits, int exponent) {
  for (; exponent > 0; exponent -= 10) {
    const int step = std::min(exponent, 10);
    uint64_t carry = 0;
    for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
      const uint64_t v = (static_cast<uint64_t>(*it - '0') << step) + carry;
      *it = static_cast<char>('0' + v % 10);
      carry = v / 10;
    }
    for (; carry > 0; carry /= 10) {
      digits.insert(digits.begin(), static_cast<char>('0' + carry % 10));
    }
  }
  return digits;
}

// Returns ceil(digits * 10^shift), saturating at kMaxNanos.
uint128 CeilScaled(absl::string_view digits, int64_t shift) {
  const size_t first = digits.find_first_not_of('0');
  if (first == absl::string_view::npos) return 0;
  digits.remove_prefix(first);
  const int64_t int_len = static_cast<int64_t>(digits.size()) + shift;
  if (int_len > kMaxNanoDigits) return kMaxNanos;
  if (int_len <= 0) return 1;  // A non-zero fraction rounds up to one.
  uint128 value = 0;
  for (int64_t i = 0; i < int_len; ++i) {
    const int digit = i < static_cast<int64_t>(digits.size()) ? digits[i] - '0' : 0;
    value = value * 10 + digit;
  }
  const absl::string_view fraction =
      int_len < static_cast<int64_t>(digits.size()) ? digits.substr(int_len) : "";
  if (fraction.find_first_not_of('0') != absl::string_view::npos) ++value;
  return std::min(value, kMaxNanos);
}

std::string Uint128ToString(uint128 v) {
  std::string out;
  do {
    out.push_back(static_cast<char>('0' + static_cast<int>(v % 10)));
    v /= 10;
  } while (v > 0);
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace

absl::StatusOr<Quantity> Quantity::Parse(absl::string_view text) {
  if (text.empty()) return absl::InvalidArgumentError(kQuantityFormatError);
  absl::StatusOr<Parts> parts = Split(text);
  if (!parts.ok()) return parts.status();
  Suffix suffix;
  if (!InterpretSuffix(parts->suffix, &suffix)) {
    return absl::InvalidArgumentError(kQuantitySuffixError);
  }
  if (parts->num.empty() && parts->denom.empty()) {
    return absl::InvalidArgumentError(kQuantityNumericError);
  }

  std::string digits = absl::StrCat(parts->num, parts->denom);
  int64_t exp10 = -static_cast<int64_t>(parts->denom.size());
  if (suffix.base == 10) {
    exp10 += suffix.exponent;
  } else {
    digits = ShiftLeftDecimal(std::move(digits), suffix.exponent);
  }

  Quantity q;
  q.format_ = suffix.format;
  q.nanos_ = CeilScaled(digits, exp10 + 9);
  if (q.format_ == Format::kBinarySI) {
    // Upstream caps binary quantities at MaxInt64 units, and reports those
    // below one unit as decimal.
    q.nanos_ = std::min(q.nanos_, kInt64Max * kNanosPerUnit);
    if (q.nanos_ < kNanosPerUnit) q.format_ = Format::kDecimalSI;
  }
  q.negative_ = parts->negative && q.nanos_ != 0;
  return q;
}

int64_t Quantity::ScaledValue(uint128 divisor) const {
  const uint128 magnitude = (nanos_ + divisor - 1) / divisor;  // Away from 0.
  if (negative_) {
    if (magnitude > kInt64Max) return std::numeric_limits<int64_t>::min();
    return -static_cast<int64_t>(magnitude);
  }
  if (magnitude > kInt64Max) return std::numeric_limits<int64_t>::max();
  return static_cast<int64_t>(magnitude);
}

int64_t Quantity::Value() const { return ScaledValue(kNanosPerUnit); }

int64_t Quantity::MilliValue() const { return ScaledValue(kNanosPerMilli); }

std::string Quantity::ToString() const {
  static constexpr struct {
    uint128 nanos;
    absl::string_view suffix;
  } kUnits[] = {{Pow10(9), ""}, {Pow10(6), "m"}, {Pow10(3), "u"}, {1, "n"}};
  for (const auto& unit : kUnits) {
    if (nanos_ % unit.nanos == 0) {
      return absl::StrCat(negative_ ? "-" : "",
                          Uint128ToString(nanos_ / unit.nanos), unit.suffix);
    }
  }
  return "0";  // Unreachable: every value is a multiple of 1n.
}

// Upstream Quantity.CanonicalizeBytes: decimal forms take the largest
// exponent that is a multiple of 3 and keeps the mantissa whole; binary forms
// divide out factors of 1024.
std::string Quantity::String() const {
  if (nanos_ == 0) return "0";
  const absl::string_view sign = negative_ ? "-" : "";
  if (format_ == Format::kBinarySI && nanos_ >= 1024 * kNanosPerUnit &&
      nanos_ % kNanosPerUnit == 0) {
    static constexpr absl::string_view kBinary[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    uint128 units = nanos_ / kNanosPerUnit;
    size_t power = 0;
    while (power + 1 < sizeof(kBinary) / sizeof(kBinary[0]) && units % 1024 == 0) {
      units /= 1024;
      ++power;
    }
    return absl::StrCat(sign, Uint128ToString(units), kBinary[power]);
  }
  // The value is nanos_ * 10^-9; raise the exponent in steps of 3 while the
  // mantissa stays whole.
  int exponent = -9;
  uint128 mantissa = nanos_;
  while (mantissa % 1000 == 0 && (format_ == Format::kDecimalExponent || exponent < 18)) {
    mantissa /= 1000;
    exponent += 3;
  }
  if (format_ == Format::kDecimalExponent) {
    return absl::StrCat(sign, Uint128ToString(mantissa),
                        exponent == 0 ? "" : absl::StrCat("e", exponent));
  }
  static constexpr absl::string_view kDecimal[] = {"n", "u", "m", "", "k", "M", "G", "T", "P", "E"};
  return absl::StrCat(sign, Uint128ToString(mantissa), kDecimal[(exponent + 9) / 3]);
}

}  // namespace kestrel::api
