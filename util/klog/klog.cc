#include "util/klog/klog.h"

#include <unistd.h>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kestrel::klog {
namespace {

// Decodes one UTF-8 sequence at s[i]; returns its length and sets `rune`,
// or 0 for an invalid sequence (Go's utf8.DecodeRuneInString: overlong
// forms, surrogates and values past U+10FFFF are invalid).
int DecodeRune(absl::string_view s, size_t i, uint32_t& rune) {
  const auto c = static_cast<unsigned char>(s[i]);
  int n = 0;
  uint32_t min = 0;
  if (c < 0x80) {
    rune = c;
    return 1;
  } else if ((c & 0xE0) == 0xC0) {
    n = 2, rune = c & 0x1F, min = 0x80;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, rune = c & 0x0F, min = 0x800;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, rune = c & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (int k = 1; k < n; ++k) {
    const auto cc = static_cast<unsigned char>(s[i + k]);
    if ((cc & 0xC0) != 0x80) return 0;
    rune = (rune << 6) | (cc & 0x3F);
  }
  if (rune < min || rune > 0x10FFFF || (rune >= 0xD800 && rune <= 0xDFFF)) return 0;
  return n;
}

// Go's strconv.IsPrint for the code points a log line meets: C0 and C1
// controls, DEL, and the invisible format characters are not printable.
// (Go's full tables also exclude unassigned code points; those pass here.)
bool IsPrint(uint32_t r) {
  if (r < 0x20 || r == 0x7F) return false;
  if (r >= 0x80 && r < 0xA0) return false;
  switch (r) {
    case 0xAD:                            // soft hyphen
    case 0x061C:                          // Arabic letter mark
    case 0x180E:                          // Mongolian vowel separator
    case 0x2028:                          // line separator
    case 0x2029:                          // paragraph separator
    case 0xFEFF:                          // zero-width no-break space
      return false;
  }
  if (r >= 0x200B && r <= 0x200F) return false;  // zero-width spaces and marks
  if (r >= 0x202A && r <= 0x202E) return false;  // bidi embeddings
  if (r >= 0x2060 && r <= 0x206F) return false;  // word joiner, invisible operators
  if (r >= 0xFFF9 && r <= 0xFFFB) return false;  // interlinear annotations
  if (r >= 0xE000 && r <= 0xF8FF) return false;  // private use
  if (r == 0xFFFE || r == 0xFFFF) return false;
  if (r >= 0xE0000 && r <= 0xE007F) return false;  // tag characters
  if (r >= 0xF0000) return false;                  // supplementary private use
  return true;
}

// Go's Duration.String(): "1h2m3.5s", "1.5ms", "0s".
std::string GoDuration(absl::Duration d) {
  const int64_t ns = absl::ToInt64Nanoseconds(d);
  const bool negative = ns < 0;
  uint64_t u = negative ? -static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  std::string out;
  // A whole part and a fraction of `digits` digits, trailing zeros dropped.
  auto fraction = [](uint64_t v, int digits) {
    uint64_t scale = 1;
    for (int i = 0; i < digits; ++i) scale *= 10;
    std::string s = std::to_string(v / scale);
    if (uint64_t frac = v % scale; frac != 0) {
      std::string f = absl::StrFormat("%0*d", digits, frac);
      while (!f.empty() && f.back() == '0') f.pop_back();
      absl::StrAppend(&s, ".", f);
    }
    return s;
  };
  if (u < 1000000000) {
    if (u == 0) return "0s";
    if (u < 1000) {
      out = absl::StrCat(u, "ns");
    } else if (u < 1000000) {
      out = absl::StrCat(fraction(u, 3), "\xC2\xB5s");  // µs
    } else {
      out = absl::StrCat(fraction(u, 6), "ms");
    }
  } else {
    const uint64_t seconds = u / 1000000000;
    const std::string s = absl::StrCat(fraction(u % 60000000000, 9), "s");
    const uint64_t minutes = seconds / 60 % 60;
    const uint64_t hours = seconds / 3600;
    if (hours > 0) {
      out = absl::StrCat(hours, "h", minutes, "m", s);
    } else if (minutes > 0) {
      out = absl::StrCat(minutes, "m", s);
    } else {
      out = s;
    }
  }
  return negative ? absl::StrCat("-", out) : out;
}

// Go's %v for a float64 (strconv's 'g' with the shortest precision): the
// shortest digits that read back, in %e form when the exponent is below -4
// or at least 6 ("1e+06", "1e-05"), else in %f form ("123456", "0.0001").
std::string GoFloat(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::scientific);
  std::string sci(buf, end);
  const size_t e = sci.find('e');
  const int exponent = std::atoi(sci.c_str() + e + 1);
  if (exponent < -4 || exponent >= 6) {
    // Go writes at least two exponent digits, as C does.
    return sci;
  }
  auto [fend, fec] = std::to_chars(buf, buf + sizeof(buf), v, std::chars_format::fixed);
  return std::string(buf, fend);
}

void AppendStringValue(std::string& out, absl::string_view v, bool quote) {
  if (v.find('\n') == absl::string_view::npos) {
    out.push_back('=');
    if (quote) {
      out += GoQuote(v);
    } else {
      out.append(v.data(), v.size());
    }
    return;
  }
  // klog's multi-line form: each line after a tab, the end marker after a
  // space on its own line.
  out += "=<\n";
  size_t start = 0;
  while (start < v.size()) {
    const size_t nl = v.find('\n', start);
    out.push_back('\t');
    if (nl == absl::string_view::npos) {
      out.append(v.data() + start, v.size() - start);
      out.push_back('\n');
      break;
    }
    out.append(v.data() + start, nl + 1 - start);
    start = nl + 1;
  }
  out += " >";
}

void WriteStderr(absl::string_view line) {
  size_t done = 0;
  while (done < line.size()) {
    const ssize_t n = ::write(2, line.data() + done, line.size() - done);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace

std::string GoQuote(absl::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    uint32_t rune = 0;
    const int n = DecodeRune(s, i, rune);
    if (n == 0) {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(s[i]));
      ++i;
      continue;
    }
    switch (rune) {
      case '\a': out += "\\a"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\v': out += "\\v"; break;
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default:
        if (IsPrint(rune)) {
          out.append(s.data() + i, n);
        } else if (rune < 0x80) {
          absl::StrAppendFormat(&out, "\\x%02x", rune);
        } else if (rune < 0x10000) {
          absl::StrAppendFormat(&out, "\\u%04x", rune);
        } else {
          absl::StrAppendFormat(&out, "\\U%08x", rune);
        }
    }
    i += n;
  }
  out.push_back('"');
  return out;
}

KV::KV(absl::string_view key, absl::string_view value)
    : key_(key), value_(value), quoted_(true) {}
KV::KV(absl::string_view key, const absl::Status& error)
    : key_(key),
      value_(error.ok() ? "<nil>" : std::string(error.message())),
      quoted_(!error.ok()) {}
KV::KV(absl::string_view key, bool value)
    : key_(key), value_(value ? "true" : "false"), quoted_(false) {}
KV::KV(absl::string_view key, double value) : key_(key), value_(GoFloat(value)), quoted_(false) {}
KV::KV(absl::string_view key, absl::Duration value)
    : key_(key), value_(GoDuration(value)), quoted_(true) {}

void KV::AppendTo(std::string& out) const {
  out.push_back(' ');
  out.append(key_.data(), key_.size());
  AppendStringValue(out, value_, quoted_);
}

std::string FormatHeader(Severity severity, absl::Time time, absl::TimeZone zone, int pid,
                         absl::string_view file, int line) {
  const char letter = severity == Severity::kInfo ? 'I' : severity == Severity::kWarning ? 'W'
                                                                                         : 'E';
  const size_t slash = file.rfind('/');
  if (slash != absl::string_view::npos) file.remove_prefix(slash + 1);
  // klog: Lmmdd hh:mm:ss.uuuuuu, the pid in 7 columns, file:line.
  return absl::StrCat(std::string(1, letter), absl::FormatTime("%m%d %H:%M:%E6S", time, zone),
                      absl::StrFormat(" %7d ", pid), file, ":", line, "] ");
}

void Site::InfoS(absl::string_view msg, std::initializer_list<KV> kvs) const {
  if (enabled_) Structured(Severity::kInfo, nullptr, msg, kvs);
}
void Site::WarningS(absl::string_view msg, std::initializer_list<KV> kvs) const {
  if (enabled_) Structured(Severity::kWarning, nullptr, msg, kvs);
}
void Site::ErrorS(const absl::Status& error, absl::string_view msg,
                  std::initializer_list<KV> kvs) const {
  // klog writes errors whatever -v says; a V site's ErrorS still honours
  // its level, as logr's V(n).Error does.
  if (enabled_) Structured(Severity::kError, &error, msg, kvs);
}
void Site::Info(absl::string_view text) const {
  if (enabled_) logger_->Write(Severity::kInfo, file_, line_, text);
}
void Site::Warning(absl::string_view text) const {
  if (enabled_) logger_->Write(Severity::kWarning, file_, line_, text);
}
void Site::Error(absl::string_view text) const {
  if (enabled_) logger_->Write(Severity::kError, file_, line_, text);
}

void Site::Structured(Severity severity, const absl::Status* error, absl::string_view msg,
                      std::initializer_list<KV> kvs) const {
  // The message is always quoted, even across lines (klog's printS).
  std::string body = GoQuote(msg);
  if (error != nullptr && !error->ok()) KV("err", *error).AppendTo(body);
  for (const KV& kv : kvs) kv.AppendTo(body);
  logger_->Write(severity, file_, line_, body);
}

Logger::Logger(LoggerOptions options)
    : options_(std::move(options)),
      pid_(options_.pid != 0 ? options_.pid : static_cast<int>(getpid())),
      verbosity_(options_.verbosity) {}

Logger& Logger::Global() {
  static Logger* logger = new Logger();
  return *logger;
}

void Logger::Write(Severity severity, absl::string_view file, int line, absl::string_view body) {
  const absl::Time now = options_.clock ? options_.clock() : absl::Now();
  std::string out = FormatHeader(severity, now, options_.zone, pid_, file, line);
  out.append(body.data(), body.size());
  if (out.empty() || out.back() != '\n') out.push_back('\n');
  std::lock_guard<std::mutex> lock(mu_);
  if (options_.sink) {
    options_.sink(out);
  } else {
    WriteStderr(out);
  }
}

}  // namespace kestrel::klog
