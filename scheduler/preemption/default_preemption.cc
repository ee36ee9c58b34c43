#include "scheduler/preemption/default_preemption.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "scheduler/cache/snapshot.h"
#include "scheduler/fit_error.h"
#include "scheduler/framework/nominator.h"
#include "scheduler/framework/parallel.h"

namespace kestrel::preemption {
namespace {

using framework::Code;
using framework::CycleState;
using framework::NodeInfo;
using framework::NodeStatus;
using framework::Status;

// The fewest nodes dry-run per parallel round, per thread: enough to keep
// every worker busy for a while.
constexpr size_t kMinBlockPerThread = 2;

// What the hooks of one dry run call into; the hooks capture only a pointer
// to it, which std::function stores without allocating. The filters read
// `state`: the cycle's own when no PreFilter extension can change it (then
// `writable` is null), else a clone the extensions write (`writable`).
struct HookTarget {
  const framework::Framework* fw;
  const CycleState* state;
  CycleState* writable;
  const model::Pod* pod;
};

VictimHooks HooksFor(const HookTarget* t) {
  VictimHooks hooks;
  if (t->writable != nullptr) {
    hooks.add_pod = [t](const model::PodPtr& p, const NodeInfo& node) {
      return t->fw->RunPreFilterExtensionAddPod(*t->writable, *t->pod, p, node);
    };
    hooks.remove_pod = [t](const model::PodPtr& p, const NodeInfo& node) {
      return t->fw->RunPreFilterExtensionRemovePod(*t->writable, *t->pod, *p, node);
    };
  }
  hooks.filter = [t](const NodeInfo& node) {
    return t->fw->RunFilterPluginsWithNominatedPods(*t->state, *t->pod, node);
  };
  return hooks;
}

}  // namespace

DryRunResult DryRunPreemption(const framework::Framework& fw, const CycleState& state,
                              const model::Pod& pod, framework::NodeInfoList nodes,
                              absl::Span<const model::PdbPtr> pdbs, const DryRunOptions& options,
                              absl::Time now) {
  DryRunResult out;
  const size_t n = nodes.size();
  if (n == 0) return out;
  std::vector<Candidate> non_violating, violating;
  std::vector<VictimSelection> results;
  out.statuses.reserve(n);
  const bool extensions = fw.HasPreFilterExtensions(state);
  auto check = [&](size_t i, VictimSelection* r) {
    const NodeInfo& node = *nodes[(options.offset + i) % n];
    CycleState copy = extensions ? state.Clone() : CycleState();
    const HookTarget target = extensions ? HookTarget{&fw, &copy, &copy, &pod}
                                         : HookTarget{&fw, &state, nullptr, &pod};
    VictimHooks hooks = HooksFor(&target);
    hooks.eligible = options.eligible;
    hooks.any_priority = options.any_priority;
    *r = SelectVictimsOnNode(pod, node, pdbs, hooks, now);
  };
  const size_t threads = state.parallelizer == nullptr ? 1 : state.parallelizer->threads();
  const size_t min_block = kMinBlockPerThread * threads;
  const size_t wanted = static_cast<size_t>(std::max(options.num_candidates, 1));
  bool done = false;
  for (size_t begin = 0, count = 0; begin < n && !done; begin += count) {
    // As many nodes as candidates are still wanted (a node is at most one),
    // so little is dry-run past the point where the search stops.
    const size_t found = non_violating.size() + violating.size();
    count = std::min(std::max(found < wanted ? wanted - found : 0, min_block), n - begin);
    if (results.size() < count) results.resize(count);
    if (state.parallelizer != nullptr && count > 1) {
      state.parallelizer->For(count, [&](size_t b, size_t e) {
        for (size_t i = b; i < e; ++i) check(begin + i, &results[i]);
      }, /*min_parallel=*/1);
    } else {
      for (size_t i = 0; i < count; ++i) check(begin + i, &results[i]);
    }
    for (size_t i = 0; i < count && !done; ++i) {
      const NodeInfo* node = nodes[(options.offset + begin + i) % n];
      VictimSelection& r = results[i];
      if (r.status.ok() && !r.victims.pods.empty()) {
        Candidate c{node->node()->name, std::move(r.victims)};
        (c.victims.num_pdb_violations == 0 ? non_violating : violating).push_back(std::move(c));
        const size_t found = non_violating.size() + violating.size();
        if (!non_violating.empty() && found >= static_cast<size_t>(options.num_candidates)) {
          done = true;
        }
        continue;
      }
      if (r.status.ok()) {
        r.status = Status::Error(
            absl::StrCat("expected at least one victim pod on node \"", node->node()->name, "\""));
      }
      if (r.status.code() == Code::kError && out.error.ok()) out.error = r.status;
      out.statuses.push_back({node, std::move(r.status)});
    }
  }
  out.candidates = std::move(non_violating);
  for (Candidate& c : violating) out.candidates.push_back(std::move(c));
  return out;
}

absl::StatusOr<std::unique_ptr<DefaultPreemption>> DefaultPreemption::Create(
    const ::kestrel::config::DefaultPreemptionArgs& args, const framework::Handle& handle) {
  absl::StatusOr<PreemptionArgs> compiled = CompilePreemptionArgs(args);
  if (!compiled.ok()) return compiled.status();
  if (handle.framework == nullptr) {
    return absl::FailedPreconditionError("the handle has no framework");
  }
  return std::unique_ptr<DefaultPreemption>(new DefaultPreemption(*compiled, handle));
}

Status DefaultPreemption::PostFilter(CycleState& state, const model::Pod& pod,
                                     const framework::NodeToStatus& filtered,
                                     framework::PostFilterResult* result) {
  Status s = Preempt(state, pod, filtered, result);
  if (s.ok() || s.Message().empty()) return s;
  return Status(s.code(), absl::StrCat("preemption: ", s.Message()));
}

Status DefaultPreemption::Preempt(CycleState& state, const model::Pod& pod,
                                  const framework::NodeToStatus& filtered,
                                  framework::PostFilterResult* result) {
  if (state.snapshot == nullptr) return Status::Error("preemption needs the cycle's snapshot");
  const cache::Snapshot& snapshot = *state.snapshot;
  const framework::Framework& fw = *handle_.framework;
  const absl::Time now = absl::Now();

  // 1) Is the pod allowed to preempt? The nominated node's status is its
  // own, or the absent nodes' when the cycle left it out (upstream's
  // NodeToStatus.Get).
  const NodeInfo* nominated = nullptr;
  Code nominated_status = Code::kSuccess;
  if (!pod.nominated_node_name.empty()) {
    nominated = snapshot.Get(pod.nominated_node_name);
    if (nominated != nullptr) {
      if (const Status* s = filtered.Find(nominated, snapshot.RowOf(nominated)); s != nullptr) {
        nominated_status = s->code();
      } else if (filtered.absent_nodes() > 0) {
        nominated_status = filtered.absent_status().code();
      }
    }
  }
  if (Status s = PodEligibleToPreemptOthers(pod, nominated, nominated_status); !s.ok()) {
    return s;
  }

  // 2) Candidates: the nodes whose status is Unschedulable, where removing
  // pods might help (upstream's NodesForStatusCode); UnschedulableAndUnresolvable
  // ones are not. The counts answer "none" without visiting the nodes.
  std::vector<const NodeInfo*> potential;
  if (filtered.Count(Code::kUnschedulable) > 0) {
    filtered.ForEach([&](const NodeInfo* node, const Status& s) {
      if (s.code() == Code::kUnschedulable) potential.push_back(node);
    });
  }
  if (filtered.absent_nodes() > 0 && filtered.absent_status().code() == Code::kUnschedulable) {
    // The nodes not evaluated, in the snapshot's order: every node when
    // PreFilter rejected the pod.
    absl::flat_hash_set<const NodeInfo*> evaluated;
    filtered.ForEach([&](const NodeInfo* node, const Status&) { evaluated.insert(node); });
    for (const NodeInfo* node : snapshot.nodes()) {
      if (!evaluated.contains(node)) potential.push_back(node);
    }
  }
  std::vector<model::PdbPtr> pdbs;
  if (handle_.pdbs != nullptr) pdbs = handle_.pdbs->ListPdbs();
  DryRunResult dry;
  if (!potential.empty()) {
    DryRunOptions options;
    options.offset = std::uniform_int_distribution<size_t>(0, potential.size() - 1)(rng_);
    options.num_candidates =
        NumCandidatesToFind(static_cast<int32_t>(potential.size()), args_);
    dry = DryRunPreemption(fw, state, pod, potential, pdbs, options, now);
  }
  if (!dry.error.ok() && dry.candidates.empty()) return dry.error;
  if (dry.candidates.empty()) {
    // The nodes tried, each with its status; every other node counts as
    // not helped, out of all nodes, as upstream's absent nodes do.
    scheduler::Diagnosis fit;
    for (NodeStatus& ns : dry.statuses) fit.node_to_status.Add(ns.node, std::move(ns.status));
    const size_t tried = fit.node_to_status.num_evaluated();
    const size_t num_nodes = std::max(snapshot.num_nodes(), tried);
    fit.node_to_status.SetAbsent(
        num_nodes - tried,
        framework::SharedStatus<Code::kUnschedulableAndUnresolvable, kPreemptionNotHelpful>());
    // Clears a nomination the pod may have had.
    result->mode = framework::NominatingMode::kOverride;
    result->nominated_node_name.clear();
    return Status::Unschedulable(FitErrorMessage(num_nodes, fit));
  }

  // 3) The best candidate.
  const Candidate* best = PickOneNodeForPreemption(dry.candidates, now);
  if (best == nullptr || best->node_name.empty()) {
    return Status::Unschedulable("no candidate node for preemption");
  }

  // 4) Make room: delete the victims, and take the node back from
  // lower-priority pods nominated to it.
  if (handle_.deleter == nullptr) return Status::Error("preemption has no way to delete pods");
  for (const model::PodPtr& victim : best->victims.pods) {
    absl::Status s = handle_.deleter->DeletePod(*victim, pod);
    if (!s.ok()) {
      return Status::Error(absl::StrCat("deleting victim ", victim->Key(), ": ", s.message()));
    }
  }
  if (handle_.nominator != nullptr) {
    std::vector<model::PodPtr> lower;
    for (const model::PodPtr& p : handle_.nominator->PodsOn(best->node_name)) {
      if (p->priority < pod.priority) lower.push_back(p);
    }
    for (const model::PodPtr& p : lower) handle_.nominator->Delete(*p);
  }
  result->mode = framework::NominatingMode::kOverride;
  result->nominated_node_name = best->node_name;
  result->victims = best->victims.pods;
  return Status();
}

}  // namespace kestrel::preemption
