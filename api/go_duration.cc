#include "api/go_duration.h"

#include <cstdint>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace kestrel::api {
namespace {

constexpr uint64_t kMaxMagnitude = uint64_t{1} << 63;  // |math.MinInt64|

// Go's time.quote: like %q, but every byte outside printable ASCII becomes
// \xNN (time does not depend on strconv).
std::string TimeQuote(absl::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c >= 0x80 || c < ' ') {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
      continue;
    }
    if (c == '"' || c == '\\') out += '\\';
    out += static_cast<char>(c);
  }
  return out + "\"";
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Go's leadingInt: the digits at the front of `s` (consumed); false on
// overflow past 1<<63.
bool LeadingInt(absl::string_view& s, uint64_t& x) {
  x = 0;
  size_t i = 0;
  for (; i < s.size() && IsDigit(s[i]); ++i) {
    if (x > kMaxMagnitude / 10) return false;
    x = x * 10 + static_cast<uint64_t>(s[i] - '0');
    if (x > kMaxMagnitude) return false;
  }
  s.remove_prefix(i);
  return true;
}

// Go's leadingFraction: the digits at the front of `s` (consumed) as
// x / scale; digits past what fits are read and ignored.
void LeadingFraction(absl::string_view& s, uint64_t& x, double& scale) {
  x = 0;
  scale = 1;
  bool overflow = false;
  size_t i = 0;
  for (; i < s.size() && IsDigit(s[i]); ++i) {
    if (overflow) continue;
    if (x > (kMaxMagnitude - 1) / 10) {
      overflow = true;
      continue;
    }
    const uint64_t y = x * 10 + static_cast<uint64_t>(s[i] - '0');
    if (y > kMaxMagnitude) {
      overflow = true;
      continue;
    }
    x = y;
    scale *= 10;
  }
  s.remove_prefix(i);
}

// Nanoseconds per unit, as time.unitMap; 0 for an unknown unit.
uint64_t UnitNanos(absl::string_view unit) {
  static constexpr std::pair<const char*, uint64_t> kUnits[] = {
      {"ns", 1},
      {"us", 1000},
      {"\xC2\xB5s", 1000},  // U+00B5 micro sign
      {"\xCE\xBCs", 1000},  // U+03BC Greek small letter mu
      {"ms", 1000 * 1000},
      {"s", 1000 * 1000 * 1000},
      {"m", uint64_t{60} * 1000 * 1000 * 1000},
      {"h", uint64_t{3600} * 1000 * 1000 * 1000},
  };
  for (const auto& [name, nanos] : kUnits) {
    if (unit == name) return nanos;
  }
  return 0;
}

// Go's fmtFrac: writes the `prec` fractional digits of v (trailing zeros
// and a bare '.' omitted) in front of `out`; returns v without them.
uint64_t PrependFraction(std::string& out, uint64_t v, int prec) {
  std::string digits;
  bool print = false;
  for (int i = 0; i < prec; ++i) {
    const uint64_t digit = v % 10;
    print = print || digit != 0;
    if (print) digits.insert(digits.begin(), static_cast<char>('0' + digit));
    v /= 10;
  }
  if (print) out.insert(0, absl::StrCat(".", digits));
  return v;
}

}  // namespace

absl::StatusOr<absl::Duration> ParseGoDuration(absl::string_view text) {
  const auto invalid = [text] {
    return absl::InvalidArgumentError(absl::StrCat("time: invalid duration ", TimeQuote(text)));
  };
  absl::string_view s = text;
  bool neg = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return absl::ZeroDuration();
  if (s.empty()) return invalid();
  uint64_t total = 0;
  while (!s.empty()) {
    if (!(s[0] == '.' || IsDigit(s[0]))) return invalid();
    const size_t before_int = s.size();
    uint64_t v = 0;
    if (!LeadingInt(s, v)) return invalid();
    const bool pre = s.size() != before_int;
    uint64_t f = 0;
    double scale = 1;
    bool post = false;
    if (!s.empty() && s[0] == '.') {
      s.remove_prefix(1);
      const size_t before_frac = s.size();
      LeadingFraction(s, f, scale);
      post = s.size() != before_frac;
    }
    if (!pre && !post) return invalid();  // ".s", "-.s"

    size_t i = 0;
    while (i < s.size() && s[i] != '.' && !IsDigit(s[i])) ++i;
    if (i == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("time: missing unit in duration ", TimeQuote(text)));
    }
    const absl::string_view unit_name = s.substr(0, i);
    s.remove_prefix(i);
    const uint64_t unit = UnitNanos(unit_name);
    if (unit == 0) {
      return absl::InvalidArgumentError(absl::StrCat("time: unknown unit ", TimeQuote(unit_name),
                                                     " in duration ", TimeQuote(text)));
    }
    if (v > kMaxMagnitude / unit) return invalid();
    v *= unit;
    if (f > 0) {
      // As Go: float64 keeps fractions of an hour exact to the nanosecond.
      v += static_cast<uint64_t>(static_cast<double>(f) * (static_cast<double>(unit) / scale));
      if (v > kMaxMagnitude) return invalid();
    }
    total += v;
    if (total > kMaxMagnitude) return invalid();
  }
  if (neg) {
    // -(1<<63) is representable; anything smaller was rejected above.
    return total == kMaxMagnitude ? absl::Nanoseconds(INT64_MIN)
                                  : -absl::Nanoseconds(static_cast<int64_t>(total));
  }
  if (total > kMaxMagnitude - 1) return invalid();
  return absl::Nanoseconds(static_cast<int64_t>(total));
}

std::string FormatGoDuration(absl::Duration d) {
  const int64_t nanos = absl::ToInt64Nanoseconds(d);  // saturates
  const bool neg = nanos < 0;
  uint64_t u = neg ? uint64_t{0} - static_cast<uint64_t>(nanos) : static_cast<uint64_t>(nanos);
  std::string out;
  if (u == 0) return "0s";
  if (u < 1000 * 1000 * 1000) {
    // Below a second Go switches to ns, µs or ms with a fraction.
    int prec = 0;
    if (u < 1000) {
      out = "ns";
    } else if (u < 1000 * 1000) {
      prec = 3;
      out = "\xC2\xB5s";
    } else {
      prec = 6;
      out = "ms";
    }
    u = PrependFraction(out, u, prec);
    out.insert(0, absl::StrCat(u));
  } else {
    out = "s";
    u = PrependFraction(out, u, 9);
    out.insert(0, absl::StrCat(u % 60));
    u /= 60;
    if (u > 0) {
      out.insert(0, absl::StrCat(u % 60, "m"));
      u /= 60;
      if (u > 0) out.insert(0, absl::StrCat(u, "h"));
    }
  }
  return neg ? absl::StrCat("-", out) : out;
}

}  // namespace kestrel::api
