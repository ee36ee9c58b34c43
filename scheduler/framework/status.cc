#include "scheduler/framework/status.h"

#include "absl/strings/str_join.h"

namespace kestrel::framework {

absl::string_view CodeName(Code code) {
  switch (code) {
    case Code::kSuccess: return "Success";
    case Code::kError: return "Error";
    case Code::kUnschedulable: return "Unschedulable";
    case Code::kUnschedulableAndUnresolvable: return "UnschedulableAndUnresolvable";
    case Code::kWait: return "Wait";
    case Code::kSkip: return "Skip";
    case Code::kPending: return "Pending";
  }
  return "Unknown";
}

std::string Status::Message() const { return absl::StrJoin(reasons(), ", "); }

const std::vector<std::string>& Status::NoReasons() {
  static const auto* const kNone = new std::vector<std::string>();
  return *kNone;
}

}  // namespace kestrel::framework
