#include "scheduler/fit_error.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace kestrel::scheduler {

std::string PreFilterExcludedReason(const std::vector<absl::string_view>& plugins) {
  return absl::StrCat("node(s) didn't satisfy plugin(s) [", absl::StrJoin(plugins, " "), "]");
}

std::vector<ReasonCount> FitReasons(const Diagnosis& diagnosis) {
  // Keys point into the statuses, which outlive the histogram.
  absl::flat_hash_map<std::pair<absl::string_view, absl::string_view>, int> histogram;
  // Copies of one status (as a pod that fits nowhere gets from most nodes)
  // count at once; absent nodes with theirs.
  auto count = [&](const framework::Status& s, size_t nodes) {
    for (const std::string& reason : s.reasons()) {
      histogram[{s.plugin(), reason}] += static_cast<int>(nodes);
    }
  };
  diagnosis.node_to_status.ForEachCount(count);
  std::vector<ReasonCount> out;
  out.reserve(histogram.size());
  for (const auto& [key, nodes] : histogram) {
    out.push_back({std::string(key.first), std::string(key.second), nodes});
  }
  std::sort(out.begin(), out.end(), [](const ReasonCount& a, const ReasonCount& b) {
    return a.plugin != b.plugin ? a.plugin < b.plugin : a.reason < b.reason;
  });
  return out;
}

std::string FitErrorMessage(size_t num_all_nodes, const Diagnosis& diagnosis) {
  return FitErrorMessage(num_all_nodes, diagnosis, FitReasons(diagnosis));
}

std::string FitErrorMessage(size_t num_all_nodes, const Diagnosis& diagnosis,
                            const std::vector<ReasonCount>& reasons) {
  std::string msg = absl::StrCat("0/", num_all_nodes, " nodes are available:");
  if (!diagnosis.pre_filter_msg.empty()) {
    absl::StrAppend(&msg, " ", diagnosis.pre_filter_msg, ".");
  } else {
    // Upstream counts reasons whatever plugin gave them.
    absl::flat_hash_map<absl::string_view, int> histogram;
    for (const ReasonCount& r : reasons) histogram[r.reason] += r.nodes;
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
