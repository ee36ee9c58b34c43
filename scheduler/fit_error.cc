#include "scheduler/fit_error.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace kestrel::scheduler {

std::string FitErrorMessage(size_t num_all_nodes, const Diagnosis& diagnosis) {
  std::string msg = absl::StrCat("0/", num_all_nodes, " nodes are available:");
  if (!diagnosis.pre_filter_msg.empty()) {
    absl::StrAppend(&msg, " ", diagnosis.pre_filter_msg, ".");
  } else {
    // Keys point into the statuses, which outlive the histogram.
    absl::flat_hash_map<absl::string_view, int> histogram;
    for (const framework::NodeStatus& ns : diagnosis.node_statuses) {
      for (const std::string& reason : ns.status.reasons()) ++histogram[reason];
    }
    std::vector<std::string> parts;
    parts.reserve(histogram.size());
    for (const auto& [reason, count] : histogram) {
      parts.push_back(absl::StrCat(count, " ", reason));
    }
    // Sorted as strings, count included, as upstream does ("10 x" < "2 y").
    std::sort(parts.begin(), parts.end());
    if (!parts.empty()) absl::StrAppend(&msg, " ", absl::StrJoin(parts, ", "), ".");
  }
  if (!diagnosis.post_filter_msg.empty()) {
    absl::StrAppend(&msg, " ", diagnosis.post_filter_msg, ".");
  }
  return msg;
}

}  // namespace kestrel::scheduler
