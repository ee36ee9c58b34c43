#include "sim/progress.h"

#include <unistd.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kestrel::sim {
namespace {

// What a phase counts.
absl::string_view UnitOf(absl::string_view phase) {
  if (phase == "loading") return "objects";
  if (phase == "expanding") return "workloads";
  return "pods";
}

}  // namespace

ProgressLine::ProgressLine(std::ostream* out, Options options)
    : out_(out), options_(std::move(options)) {}

bool ProgressLine::StderrIsTerminal() { return isatty(STDERR_FILENO) == 1; }

std::string ProgressLine::Format(absl::string_view phase, size_t done, size_t total,
                                 absl::Duration elapsed) {
  const double seconds = absl::ToDoubleSeconds(elapsed);
  const double rate = seconds > 0 ? done / seconds : 0;
  std::string out = absl::StrCat(phase, ": ", done);
  if (total > 0) {
    absl::StrAppend(&out, "/", total, " ", UnitOf(phase),
                    absl::StrFormat(" (%d%%)", static_cast<int>(100.0 * done / total)));
  } else {
    absl::StrAppend(&out, " ", UnitOf(phase));
  }
  absl::StrAppend(&out, absl::StrFormat(", %.0f/s", rate));
  if (total > 0 && rate > 0 && done < total) {
    const int64_t eta = static_cast<int64_t>(std::ceil((total - done) / rate));
    absl::StrAppend(&out, ", ETA ", absl::FormatDuration(absl::Seconds(eta)));
  }
  return out;
}

void ProgressLine::Update(absl::string_view phase, size_t done, size_t total) {
  if (!options_.enabled) return;
  const absl::Time now = options_.now();
  if (phase != phase_) {
    phase_ = std::string(phase);
    phase_start_ = now;
  }
  if (now - phase_start_ <= options_.delay) return;
  if (now - last_draw_ < options_.interval && !(total > 0 && done == total)) return;
  last_draw_ = now;
  *out_ << "\r" << Format(phase_, done, total, now - phase_start_) << "\x1b[K" << std::flush;
  drawn_ = true;
}

void ProgressLine::Finish() {
  if (!drawn_) return;
  *out_ << "\r\x1b[K" << std::flush;
  drawn_ = false;
}

}  // namespace kestrel::sim
