#include "scheduler/preemption/candidates.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kestrel::preemption {

framework::Status PodEligibleToPreemptOthers(const model::Pod& pod,
                                             const framework::NodeInfo* nominated,
                                             framework::Code nominated_status) {
  if (pod.preemption_policy == model::PreemptionPolicy::kNever) {
    return framework::Status::Unschedulable(kNotEligibleNever);
  }
  if (pod.nominated_node_name.empty() || nominated == nullptr) return framework::Status();
  // The filters reject the nominated node for good: preempting again is the
  // only way forward.
  if (nominated_status == framework::Code::kUnschedulableAndUnresolvable) {
    return framework::Status();
  }
  for (const model::PodPtr& p : nominated->pods()) {
    if (p->priority < pod.priority && p->terminating) {
      return framework::Status::Unschedulable(kNotEligibleTerminating);
    }
  }
  return framework::Status();
}

absl::StatusOr<PreemptionArgs> CompilePreemptionArgs(
    const ::kestrel::config::DefaultPreemptionArgs& args) {
  PreemptionArgs out;
  if (args.has_mincandidatenodespercentage()) {
    out.min_candidate_nodes_percentage = args.mincandidatenodespercentage();
  }
  if (args.has_mincandidatenodesabsolute()) {
    out.min_candidate_nodes_absolute = args.mincandidatenodesabsolute();
  }
  const int32_t pct = out.min_candidate_nodes_percentage;
  const int32_t abs = out.min_candidate_nodes_absolute;
  std::vector<std::string> errors;
  if (pct < 0 || pct > 100) {
    errors.push_back(absl::StrCat("minCandidateNodesPercentage: Invalid value: ", pct,
                                  ": not in valid range [0, 100]"));
  }
  if (abs < 0) {
    errors.push_back(absl::StrCat("minCandidateNodesAbsolute: Invalid value: ", abs,
                                  ": not in valid range [0, inf)"));
  }
  if (pct == 0 && abs == 0) {
    errors.push_back(
        "minCandidateNodesPercentage: Invalid value: 0: cannot be zero at the same time as "
        "minCandidateNodesAbsolute");
    errors.push_back(
        "minCandidateNodesAbsolute: Invalid value: 0: cannot be zero at the same time as "
        "minCandidateNodesPercentage");
  }
  // Upstream utilerrors.Aggregate: one error as is, several in brackets.
  if (errors.size() == 1) return absl::InvalidArgumentError(errors[0]);
  if (errors.size() > 1) {
    return absl::InvalidArgumentError(absl::StrCat("[", absl::StrJoin(errors, ", "), "]"));
  }
  return out;
}

int32_t NumCandidatesToFind(int32_t num_nodes, const PreemptionArgs& args) {
  int64_t n = int64_t{num_nodes} * args.min_candidate_nodes_percentage / 100;
  n = std::max<int64_t>(n, args.min_candidate_nodes_absolute);
  return static_cast<int32_t>(std::min<int64_t>(n, num_nodes));
}

absl::Time GetEarliestPodStartTime(const Victims& victims, absl::Time now) {
  if (victims.pods.empty()) return absl::InfinitePast();
  int32_t max_priority = victims.pods[0]->priority;
  absl::Time earliest = PodStartTime(*victims.pods[0], now);
  for (const model::PodPtr& p : victims.pods) {
    if (p->priority == max_priority) {
      earliest = std::min(earliest, PodStartTime(*p, now));
    } else if (p->priority > max_priority) {
      max_priority = p->priority;
      earliest = PodStartTime(*p, now);
    }
  }
  return earliest;
}

const Candidate* PickOneNodeForPreemption(absl::Span<const Candidate> candidates,
                                          absl::Time now) {
  if (candidates.empty()) return nullptr;
  // Each score: higher is better. Victims are sorted most important first.
  const std::vector<std::function<int64_t(const Candidate&)>> scores = {
      [](const Candidate& c) { return -c.victims.num_pdb_violations; },
      [](const Candidate& c) {
        return c.victims.pods.empty() ? int64_t{0} : -int64_t{c.victims.pods[0]->priority};
      },
      [](const Candidate& c) {
        int64_t sum = 0;
        for (const model::PodPtr& p : c.victims.pods) {
          // Shifted to >= 0, so that more pods of a negative priority never
          // sum lower than fewer of them.
          sum += int64_t{p->priority} + int64_t{std::numeric_limits<int32_t>::max()} + 1;
        }
        return -sum;
      },
      [](const Candidate& c) { return -static_cast<int64_t>(c.victims.pods.size()); },
      [now](const Candidate& c) {
        if (c.victims.pods.empty()) return std::numeric_limits<int64_t>::min();
        return absl::ToUnixNanos(GetEarliestPodStartTime(c.victims, now));
      },
  };
  std::vector<const Candidate*> remaining;
  for (const Candidate& c : candidates) remaining.push_back(&c);
  for (const auto& score : scores) {
    std::vector<const Candidate*> best;
    int64_t max_score = std::numeric_limits<int64_t>::min();
    for (const Candidate* c : remaining) {
      const int64_t s = score(*c);
      if (s > max_score) {
        max_score = s;
        best.clear();
      }
      if (s == max_score) best.push_back(c);
    }
    if (best.size() == 1) return best[0];
    remaining = std::move(best);
  }
  return remaining[0];
}

}  // namespace kestrel::preemption
