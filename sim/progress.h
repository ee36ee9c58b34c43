// File: progress.h
//
// A progress line for long runs of `kestrel simulate`: one line on stderr,
// rewritten in place ("\r" ... erase to end of line), while a phase
// (loading, expanding, scheduling) runs: items done of total, the rate,
// and an ETA when the total is known:
//
//   scheduling: 4200/10000 pods (42%), 3500/s, ETA 2s
//
// It is drawn only when stderr is a terminal and only once a phase has
// run for more than a second, so pipes, files and tests see nothing, and
// short runs stay quiet; it is redrawn at most ten times a second, and
// erased when the run ends.
//
// Example:
//   ProgressLine::Options options;
//   options.enabled = ProgressLine::StderrIsTerminal();
//   ProgressLine progress(&std::cerr, options);
//   options.progress = [&](size_t done, size_t total) {
//     progress.Update("scheduling", done, total);
//   };
//   ...
//   progress.Finish();
//
// Threading: thread-compatible; call it from the thread that runs the
// phases.

#ifndef KESTREL_SIM_PROGRESS_H_
#define KESTREL_SIM_PROGRESS_H_

#include <cstddef>
#include <functional>
#include <ostream>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"

namespace kestrel::sim {

class ProgressLine {
 public:
  struct Options {
    // Draw at all (stderr is a terminal).
    bool enabled = false;
    // A phase is shown once it has run this long.
    absl::Duration delay = absl::Seconds(1);
    // The line is redrawn at most this often.
    absl::Duration interval = absl::Milliseconds(100);
    // The clock; tests inject their own.
    std::function<absl::Time()> now = [] { return absl::Now(); };
  };

  ProgressLine(std::ostream* out, Options options);
  ~ProgressLine() { Finish(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Update()
  //
  // `done` items of `total` (0: unknown) in `phase`; a new phase restarts
  // the one-second delay.
  void Update(absl::string_view phase, size_t done, size_t total);

  // Finish()
  //
  // Erases the line if one was drawn.
  void Finish();

  // The line's text for `done` of `total` after `elapsed`.
  static std::string Format(absl::string_view phase, size_t done, size_t total,
                            absl::Duration elapsed);

  static bool StderrIsTerminal();

 private:
  std::ostream* out_;
  Options options_;
  std::string phase_;
  absl::Time phase_start_;
  absl::Time last_draw_ = absl::InfinitePast();
  bool drawn_ = false;
};

}  // namespace kestrel::sim

#endif  // KESTREL_SIM_PROGRESS_H_
