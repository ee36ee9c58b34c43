#include "scheduler/preemption/victims.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/status/status.h"

namespace kestrel::preemption {

absl::Time PodStartTime(const model::Pod& pod, absl::Time now) {
  return pod.start_time == absl::InfinitePast() ? now : pod.start_time;
}

bool MoreImportantPod(const model::Pod& a, const model::Pod& b, absl::Time now) {
  if (a.priority != b.priority) return a.priority > b.priority;
  return PodStartTime(a, now) < PodStartTime(b, now);
}

PdbSplit FilterPodsWithPdbViolation(const std::vector<model::PodPtr>& pods,
                                    absl::Span<const model::PdbPtr> pdbs) {
  std::vector<int32_t> allowed;
  allowed.reserve(pdbs.size());
  for (const model::PdbPtr& pdb : pdbs) allowed.push_back(pdb->disruptions_allowed);

  PdbSplit split;
  for (const model::PodPtr& pod : pods) {
    bool violated = false;
    for (size_t i = 0; i < pdbs.size(); ++i) {
      if (!pdbs[i]->Selects(*pod)) continue;
      // Already granted by the API server: counting it again would spend
      // the budget twice.
      if (pdbs[i]->AlreadyDisrupted(pod->name)) continue;
      if (--allowed[i] < 0) violated = true;
    }
    (violated ? split.violating : split.non_violating).push_back(pod);
  }
  return split;
}

namespace {

// Upstream status.AsError() then AsStatus(): a rejecting hook is an error here.
framework::Status AsError(const framework::Status& s) {
  return framework::Status::Error(s.Message());
}

}  // namespace

VictimSelection SelectVictimsOnNode(const model::Pod& preemptor, const framework::NodeInfo& node,
                                    absl::Span<const model::PdbPtr> pdbs,
                                    const VictimHooks& hooks, absl::Time now) {
  // The pods that may go, found on the node itself: a node without any is
  // done before it is copied (most nodes, when the preemptor fits nowhere).
  std::vector<model::PodPtr> potential;
  for (const model::PodPtr& p : node.pods()) {
    const bool lower = hooks.any_priority || p->priority < preemptor.priority;
    if (lower && (!hooks.eligible || hooks.eligible(*p))) {
      potential.push_back(p);
    }
  }
  if (potential.empty()) {
    return {framework::SharedStatus<framework::Code::kUnschedulableAndUnresolvable, kNoVictimsFound>(), {}};
  }
  framework::NodeInfo copy = node;
  VictimSelection out;

  auto remove_pod = [&](const model::PodPtr& p) -> framework::Status {
    absl::Status s = copy.RemovePod(*p);
    if (!s.ok()) return framework::Status::Error(std::string(s.message()));
    if (hooks.remove_pod) {
      framework::Status st = hooks.remove_pod(p, copy);
      if (!st.ok()) return AsError(st);
    }
    return framework::Status::Success();
  };
  auto add_pod = [&](const model::PodPtr& p) -> framework::Status {
    copy.AddPod(p);
    if (hooks.add_pod) {
      framework::Status st = hooks.add_pod(p, copy);
      if (!st.ok()) return AsError(st);
    }
    return framework::Status::Success();
  };

  for (const model::PodPtr& p : potential) {
    framework::Status s = remove_pod(p);
    if (!s.ok()) return {std::move(s), {}};
  }
  if (framework::Status s = hooks.filter(copy); !s.ok()) return {std::move(s), {}};

  // Stable: pods that tie keep the node's order, so the result does not
  // depend on the sort implementation.
  std::stable_sort(potential.begin(), potential.end(),
            [now](const model::PodPtr& a, const model::PodPtr& b) {
              return MoreImportantPod(*a, *b, now);
            });
  PdbSplit split = FilterPodsWithPdbViolation(potential, pdbs);

  std::vector<model::PodPtr>& victims = out.victims.pods;
  // Puts `p` back; keeps it evicted when the preemptor no longer fits.
  auto reprieve = [&](const model::PodPtr& p, bool* fits) -> framework::Status {
    if (framework::Status s = add_pod(p); !s.ok()) return s;
    *fits = hooks.filter(copy).ok();
    if (!*fits) {
      if (framework::Status s = remove_pod(p); !s.ok()) return s;
      victims.push_back(p);
    }
    return framework::Status::Success();
  };
  for (const model::PodPtr& p : split.violating) {
    bool fits = false;
    if (framework::Status s = reprieve(p, &fits); !s.ok()) return {std::move(s), {}};
    if (!fits) ++out.victims.num_pdb_violations;
  }
  for (const model::PodPtr& p : split.non_violating) {
    bool fits = false;
    if (framework::Status s = reprieve(p, &fits); !s.ok()) return {std::move(s), {}};
  }
  // Two runs of descending importance: merge them into one.
  if (!split.violating.empty() && !split.non_violating.empty()) {
    std::stable_sort(victims.begin(), victims.end(),
                     [now](const model::PodPtr& a, const model::PodPtr& b) {
                       return MoreImportantPod(*a, *b, now);
                     });
  }
  return out;
}

}  // namespace kestrel::preemption
