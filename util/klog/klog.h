// File: klog.h
//
// Log lines in klog's text format, as kube-scheduler writes them to stderr:
//
//   I1206 12:00:00.000000    1234 scheduler.cc:123] "Successfully bound pod" pod="default/p" evaluatedNodes=3
//
// The header is klog's: the severity letter (I, W, E), month and day, the
// time with microseconds, the process id right-aligned in 7 columns, the
// file's base name and line, "] ". Structured lines (InfoS, ErrorS) quote
// the message and the string values as Go's %q does (strconv.Quote), print
// numbers and booleans bare, put ErrorS's error first as err="...", and
// write a value that spans lines as klog does (key=<, each line after a tab,
// then " >"). Info() writes its text as is.
//
// Verbosity is klog's -v: KLOG_V(2).InfoS(...) writes only when the level
// is 2 or more (default 0).
//
// Example:
//   KLOG.InfoS("Starting Kubernetes Scheduler", {{"version", "v1.32"}});
//   KLOG_V(2).InfoS("Attempting to schedule pod", {{"pod", "default/p"}, {"attempts", 1}});
//   KLOG.ErrorS(status, "Error scheduling pod", {{"pod", "default/p"}});
//
// Thread-safe: each line is formatted apart and written to the sink in one
// write, under a lock, so lines of different threads never interleave.

#ifndef KESTREL_UTIL_KLOG_KLOG_H_
#define KESTREL_UTIL_KLOG_KLOG_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kestrel::klog {

enum class Severity { kInfo, kWarning, kError };

// One key and its value. Strings (and absl::Status, as its message) are
// quoted; integers, floating point numbers and booleans are printed bare, as
// Go's %+v prints them.
class KV {
 public:
  KV(absl::string_view key, absl::string_view value);
  KV(absl::string_view key, const char* value) : KV(key, absl::string_view(value)) {}
  KV(absl::string_view key, const std::string& value) : KV(key, absl::string_view(value)) {}
  KV(absl::string_view key, const absl::Status& error);
  KV(absl::string_view key, bool value);
  KV(absl::string_view key, int value) : KV(key, std::to_string(value), false) {}
  KV(absl::string_view key, long value) : KV(key, std::to_string(value), false) {}
  KV(absl::string_view key, long long value) : KV(key, std::to_string(value), false) {}
  KV(absl::string_view key, unsigned value) : KV(key, std::to_string(value), false) {}
  KV(absl::string_view key, unsigned long value) : KV(key, std::to_string(value), false) {}
  KV(absl::string_view key, unsigned long long value)
      : KV(key, std::to_string(value), false) {}
  KV(absl::string_view key, double value);
  KV(absl::string_view key, absl::Duration value);  // Go's Duration.String(), quoted

  // Appends " key=value" as klog's KVListFormat does.
  void AppendTo(std::string& out) const;

 private:
  KV(absl::string_view key, std::string value, bool quoted)
      : key_(key), value_(std::move(value)), quoted_(quoted) {}

  absl::string_view key_;
  std::string value_;  // quoted strings are kept raw and quoted when written
  bool quoted_;
};

// GoQuote()
//
// `s` quoted as Go's strconv.Quote (and %q) does: \a \b \f \n \r \t \v \\ \"
// escaped, other control characters and invalid UTF-8 bytes as \xNN,
// non-printable code points as \uNNNN, printable UTF-8 kept as it is.
std::string GoQuote(absl::string_view s);

// FormatHeader()
//
// "I1206 12:00:00.000000    1234 file.cc:123] " for a line at `time` in
// `zone`, of process `pid`, from `file` (its base name is used) at `line`.
std::string FormatHeader(Severity severity, absl::Time time, absl::TimeZone zone, int pid,
                         absl::string_view file, int line);

struct LoggerOptions {
  // Where whole lines go (each ends in '\n'); null: stderr, one write(2).
  std::function<void(absl::string_view line)> sink;
  // The time of a line; null: absl::Now().
  std::function<absl::Time()> clock;
  // klog prints local time.
  absl::TimeZone zone = absl::LocalTimeZone();
  // 0: getpid().
  int pid = 0;
  // -v.
  int verbosity = 0;
};

class Logger;

// Where a line is logged from: what KLOG and KLOG_V(n) give. Cheap to copy;
// does nothing when `enabled()` is false (a V level above the logger's).
class Site {
 public:
  Site(Logger* logger, const char* file, int line, bool enabled)
      : logger_(logger), file_(file), line_(line), enabled_(enabled) {}

  bool enabled() const { return enabled_; }

  // klog.InfoS / WarningS-like / ErrorS: a quoted message and key/values.
  // ErrorS puts `error` first as err="<message>" unless it is OK.
  void InfoS(absl::string_view msg, std::initializer_list<KV> kvs = {}) const;
  void WarningS(absl::string_view msg, std::initializer_list<KV> kvs = {}) const;
  void ErrorS(const absl::Status& error, absl::string_view msg,
              std::initializer_list<KV> kvs = {}) const;

  // klog.Info / Warning / Error: the text as is.
  void Info(absl::string_view text) const;
  void Warning(absl::string_view text) const;
  void Error(absl::string_view text) const;

 private:
  void Structured(Severity severity, const absl::Status* error, absl::string_view msg,
                  std::initializer_list<KV> kvs) const;

  Logger* logger_;
  const char* file_;
  int line_;
  bool enabled_;
};

class Logger {
 public:
  explicit Logger(LoggerOptions options = {});

  // The process's logger, which KLOG and KLOG_V use; never destroyed.
  static Logger& Global();

  void set_verbosity(int v) { verbosity_.store(v, std::memory_order_relaxed); }
  int verbosity() const { return verbosity_.load(std::memory_order_relaxed); }

  // A site for a line from `file`:`line`, enabled when `level` <= -v.
  Site At(const char* file, int line, int level = 0) {
    return Site(this, file, line, level <= verbosity());
  }

  // Writes `body` (no newline) after the header, and a newline.
  void Write(Severity severity, absl::string_view file, int line, absl::string_view body);

 private:
  LoggerOptions options_;
  int pid_;
  std::atomic<int> verbosity_;
  std::mutex mu_;  // serialises the sink
};

}  // namespace kestrel::klog

// KLOG.InfoS(...) and KLOG_V(n).InfoS(...) on the global logger, with this
// file and line in the header.
#define KLOG (::kestrel::klog::Logger::Global().At(__FILE__, __LINE__))
#define KLOG_V(level) (::kestrel::klog::Logger::Global().At(__FILE__, __LINE__, (level)))

#endif  // KESTREL_UTIL_KLOG_KLOG_H_
