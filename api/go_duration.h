// File: go_duration.h
//
// Go's time.Duration text form, which Kubernetes configuration files use for
// metav1.Duration fields ("15s", "1m30s", "1.5h", "500ms"): parsing exactly
// as time.ParseDuration does, with its error messages, and printing as
// Duration.String() does (which upstream's field errors show).
//
// absl::ParseDuration reads nearly the same syntax, but also accepts "inf",
// rejects "µs", and says nothing about what was wrong; configuration errors
// should read as kube-scheduler's.
//
// Example:
//   absl::StatusOr<absl::Duration> d = api::ParseGoDuration("1m30s");  // 90s
//   api::FormatGoDuration(*d);                                          // "1m30s"
//   api::ParseGoDuration("15");  // time: missing unit in duration "15"

#ifndef KESTREL_API_GO_DURATION_H_
#define KESTREL_API_GO_DURATION_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace kestrel::api {

// ParseGoDuration()
//
// time.ParseDuration: a possibly signed sequence of decimal numbers, each
// with an optional fraction and a unit (ns, us, µs, ms, s, m, h); "0" alone
// needs no unit. InvalidArgument with Go's message ("time: invalid duration
// \"x\"", "time: missing unit in duration \"15\"", "time: unknown unit \"d\"
// in duration \"1d\"") otherwise, including past Go's int64 nanoseconds.
absl::StatusOr<absl::Duration> ParseGoDuration(absl::string_view text);

// FormatGoDuration()
//
// Duration.String(): "0s", "1.5µs", "500ms", "15s", "1m30s", "1h0m0s".
// Durations beyond Go's range are clamped to it.
std::string FormatGoDuration(absl::Duration d);

}  // namespace kestrel::api

#endif  // KESTREL_API_GO_DURATION_H_
