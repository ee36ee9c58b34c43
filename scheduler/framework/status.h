// File: status.h
//
// Status is the result of running a plugin at an extension point, as upstream's
// framework.Status: a code, the reasons (shown to users in FitError messages),
// and the plugin that failed. Success is cheap: no allocation. The reasons
// are shared between copies, so a status copied to every node that gave it
// (a diagnosis of thousands of nodes) costs a reference each; a plugin that
// rejects many nodes for the same reason can return copies of one status.
//
// The codes keep apart what preemption may fix (kUnschedulable) from what it
// cannot (kUnschedulableAndUnresolvable), and both from real errors.

#ifndef KESTREL_SCHEDULER_FRAMEWORK_STATUS_H_
#define KESTREL_SCHEDULER_FRAMEWORK_STATUS_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"

namespace kestrel::framework {

enum class Code {
  kSuccess,
  kError,
  kUnschedulable,
  kUnschedulableAndUnresolvable,
  kWait,
  kSkip,
  kPending,
};

absl::string_view CodeName(Code code);

class Status {
 public:
  // Success.
  Status() = default;
  Status(Code code, std::vector<std::string> reasons)
      : code_(code),
        reasons_(reasons.empty()
                     ? nullptr
                     : std::make_shared<const std::vector<std::string>>(std::move(reasons))) {}
  Status(Code code, std::string reason)
      : code_(code),
        reasons_(std::make_shared<const std::vector<std::string>>(
            std::vector<std::string>{std::move(reason)})) {}

  static Status Success() { return Status(); }
  static Status Skip() { return Status(Code::kSkip, std::vector<std::string>{}); }
  static Status Error(std::string reason) { return Status(Code::kError, std::move(reason)); }
  static Status Unschedulable(std::string reason) {
    return Status(Code::kUnschedulable, std::move(reason));
  }
  static Status Unresolvable(std::string reason) {
    return Status(Code::kUnschedulableAndUnresolvable, std::move(reason));
  }

  Code code() const { return code_; }
  bool ok() const { return code_ == Code::kSuccess; }
  bool IsSkip() const { return code_ == Code::kSkip; }
  // Unschedulable or UnschedulableAndUnresolvable.
  bool IsRejected() const {
    return code_ == Code::kUnschedulable ||
           code_ == Code::kUnschedulableAndUnresolvable;
  }
  const std::vector<std::string>& reasons() const {
    return reasons_ != nullptr ? *reasons_ : NoReasons();
  }
  // Whether `o` is a copy of this status: the same code and plugin, and the
  // very same reasons. A cheap test that lets a histogram count runs of
  // copies at once.
  bool IsCopyOf(const Status& o) const {
    return reasons_ == o.reasons_ && code_ == o.code_ && plugin_ == o.plugin_;
  }
  // The reasons' identity, as a key: equal for copies.
  const void* reasons_identity() const { return reasons_.get(); }
  // The reasons joined with ", " (upstream Status.Message).
  std::string Message() const;

  // The plugin that produced this status; set by the framework. It views
  // the plugin's Name(), which lives as long as the plugin does.
  absl::string_view plugin() const { return plugin_; }
  Status& WithPlugin(absl::string_view plugin) & {
    plugin_ = plugin;
    return *this;
  }
  // On a temporary or std::move(s): the reasons move instead of copying.
  Status WithPlugin(absl::string_view plugin) && {
    plugin_ = plugin;
    return std::move(*this);
  }

 private:
  static const std::vector<std::string>& NoReasons();

  Code code_ = Code::kSuccess;
  std::shared_ptr<const std::vector<std::string>> reasons_;  // null: none
  absl::string_view plugin_;
};

// SharedStatus<code, reason>()
//
// One status of `code` with the single fixed `reason` (a constant with
// static storage), made once and returned by every call: a plugin that
// rejects thousands of nodes for the same reason hands out copies that
// share it instead of allocating each.
//
//   return SharedStatus<Code::kUnschedulableAndUnresolvable, kErrReason>();
template <Code kCode, const char* kReason>
const Status& SharedStatus() {
  static const Status* const status = new Status(kCode, std::string(kReason));
  return *status;
}

}  // namespace kestrel::framework

#endif  // KESTREL_SCHEDULER_FRAMEWORK_STATUS_H_
