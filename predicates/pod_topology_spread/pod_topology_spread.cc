#include "predicates/pod_topology_spread/pod_topology_spread.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "predicates/taint_toleration/taint_toleration.h"
#include "scheduler/cache/affinity_index.h"
#include "scheduler/cache/snapshot.h"

namespace kestrel::predicates {
namespace {

using cache::AffinityIndex;
using framework::Status;
using model::InclusionPolicy;
using model::UnsatisfiableAction;

// A domain as the counts know it: the dense domain id of the snapshot's
// topology (>= 0), or, for a label value no snapshot node has (a node that
// AddPod/RemovePod bring from outside the snapshot), kExtraBase + value id.
// kNoDomain is no domain at all (an unused critical path).
using DomainKey = int64_t;
constexpr DomainKey kNoDomain = -1;
constexpr DomainKey kExtraBase = int64_t{1} << 32;

constexpr int64_t kMaxInt32 = std::numeric_limits<int32_t>::max();

// Upstream criticalPaths: the two domains with the fewest matching pods.
// Slot 0 always holds the minimum; slot 1 holds a count >= it. Kept exact as
// long as updates touch one domain per copy, which is how preemption uses
// AddPod/RemovePod (each candidate node on its own copy of the state).
struct CriticalPaths {
  struct Path {
    DomainKey domain = kNoDomain;
    int64_t num = kMaxInt32;
  };
  Path p[2];

  void Update(DomainKey domain, int64_t num) {
    int i = -1;
    if (p[0].domain == domain) {
      i = 0;
    } else if (p[1].domain == domain) {
      i = 1;
    }
    if (i >= 0) {
      p[i].num = num;
      if (p[0].num > p[1].num) std::swap(p[0], p[1]);
    } else if (num < p[0].num) {
      p[1] = p[0];
      p[0] = {domain, num};
    } else if (num < p[1].num) {
      p[1] = {domain, num};
    }
  }
};

// One DoNotSchedule constraint with the counts PreFilter found.
struct FilterConstraint {
  model::TopologySpreadConstraint spec;
  bool self_match = false;  // the incoming pod matches its own selector
  const AffinityIndex::Topology* topology = nullptr;
  // Per domain of `topology`: matching pods on eligible nodes, and whether
  // the domain is eligible at all (upstream: has an entry in
  // TpValueToMatchNum, even with zero pods).
  std::vector<int32_t> counts;
  std::vector<uint8_t> eligible;
  int64_t num_eligible = 0;
};

// What AddPod/RemovePod changed on one copy of the state, per constraint.
struct Overlay {
  std::vector<std::pair<DomainKey, int64_t>> changed;  // domain -> count
  int64_t num_eligible = 0;
  CriticalPaths paths;
};

class PreFilterState : public framework::StateData {
 public:
  // Written once by PreFilter and shared by every copy.
  std::shared_ptr<const std::vector<FilterConstraint>> constraints;
  std::vector<Overlay> overlays;  // one per constraint

  std::unique_ptr<framework::StateData> Clone() const override {
    return std::make_unique<PreFilterState>(*this);
  }

  // The count AddPod/RemovePod left in domain `d` of constraint i, if any.
  bool FindChange(size_t i, DomainKey d, int64_t* count) const {
    for (const auto& [key, n] : overlays[i].changed) {
      if (key == d) {
        *count = n;
        return true;
      }
    }
    return false;
  }

  // Matching pods in domain `d` of constraint i; 0 for a domain without an
  // eligible node, as upstream's map lookup gives.
  int64_t Count(size_t i, DomainKey d) const {
    int64_t n;
    if (FindChange(i, d, &n)) return n;
    const FilterConstraint& c = (*constraints)[i];
    if (d >= 0 && d < static_cast<DomainKey>(c.counts.size())) return c.counts[d];
    return 0;
  }

  bool Eligible(size_t i, DomainKey d) const {
    int64_t n;
    if (FindChange(i, d, &n)) return true;
    const FilterConstraint& c = (*constraints)[i];
    return d >= 0 && d < static_cast<DomainKey>(c.eligible.size()) && c.eligible[d] != 0;
  }

  // Upstream preFilterState.minMatchNum.
  int64_t MinMatch(size_t i) const {
    const Overlay& o = overlays[i];
    if (o.num_eligible < (*constraints)[i].spec.min_domains) return 0;
    return o.paths.p[0].num;
  }

  void Set(size_t i, DomainKey d, int64_t count) {
    Overlay& o = overlays[i];
    for (auto& [key, n] : o.changed) {
      if (key == d) {
        n = count;
        return;
      }
    }
    o.changed.emplace_back(d, count);
  }
};

Status MissingState() {
  return Status::Error(absl::StrCat("reading \"", PodTopologySpreadFilter::kPreFilterStateKey,
                                    "\" from cycleState: not found"));
}

// The domain of `node` for a constraint over `topology`; the node must have
// the key (its value id is `value`).
DomainKey DomainOf(const AffinityIndex::Topology& topology, model::Id value) {
  auto it = topology.domain_of_value.find(value);
  return it != topology.domain_of_value.end() ? it->second : kExtraBase + value;
}

bool HasAllKeys(const model::Node& node, const std::vector<FilterConstraint>& constraints) {
  for (const FilterConstraint& c : constraints) {
    if (!node.labels.Has(c.spec.topology_key)) return false;
  }
  return true;
}

}  // namespace

bool PodTopologySpreadFilter::ToleratesDoNotScheduleTaints(const model::Pod& pod,
                                                           const model::Node& node) {
  // The taints TaintToleration filters on: NoSchedule and NoExecute.
  return FindUntoleratedTaint(node.taints, pod.tolerations) == nullptr;
}

bool PodTopologySpreadFilter::NodeInclusion::Matches(const model::TopologySpreadConstraint& c) {
  if (c.node_affinity_policy == InclusionPolicy::kHonor) {
    if (affinity_ < 0) affinity_ = model::MatchesRequiredNodeAffinity(pod_, node_);
    if (affinity_ == 0) return false;
  }
  if (c.node_taints_policy == InclusionPolicy::kHonor) {
    if (taints_ < 0) taints_ = !has_hard_taints_ || ToleratesDoNotScheduleTaints(pod_, node_);
    if (taints_ == 0) return false;
  }
  return true;
}

PodTopologySpreadFilter::PodTopologySpreadFilter(const config::PodTopologySpreadArgs& args,
                                                 model::Interner& names) {
  for (const char* key :
       {"statefulset.kubernetes.io/pod-name", "apps.kubernetes.io/pod-index",
        "controller-revision-hash"}) {
    per_pod_label_keys_.push_back(names.Intern(key));
  }
  if (args.defaultingtype() == "System") {
    system_defaulted_ = true;
    // Upstream systemDefaultConstraints, in its order (scores add up in it).
    model::TopologySpreadConstraint hostname;
    hostname.max_skew = 3;
    hostname.topology_key = names.Intern(kLabelHostname);
    hostname.when_unsatisfiable = UnsatisfiableAction::kScheduleAnyway;
    model::TopologySpreadConstraint zone = hostname;
    zone.max_skew = 5;
    zone.topology_key = names.Intern(kLabelTopologyZone);
    defaults_ = {hostname, zone};
    return;
  }
  for (const auto& c : args.defaultconstraints()) {
    model::TopologySpreadConstraint d;
    d.max_skew = c.maxskew();
    d.topology_key = names.Intern(c.topologykey());
    d.when_unsatisfiable = c.whenunsatisfiable() == "DoNotSchedule"
                               ? UnsatisfiableAction::kDoNotSchedule
                               : UnsatisfiableAction::kScheduleAnyway;
    d.min_domains = c.has_mindomains() ? c.mindomains() : 1;
    // Upstream compares with Honor: a set policy other than Honor ignores.
    d.node_affinity_policy =
        !c.has_nodeaffinitypolicy() || c.nodeaffinitypolicy() == "Honor"
            ? InclusionPolicy::kHonor
            : InclusionPolicy::kIgnore;
    d.node_taints_policy = c.has_nodetaintspolicy() && c.nodetaintspolicy() == "Honor"
                               ? InclusionPolicy::kHonor
                               : InclusionPolicy::kIgnore;
    defaults_.push_back(std::move(d));
  }
}

model::LabelSelector PodTopologySpreadFilter::DefaultSelector(const model::Pod& pod) const {
  model::LabelSelector selector = model::LabelSelector::Everything();
  const model::OwnerRef* controller = nullptr;
  for (const model::OwnerRef& o : pod.owners) {
    if (o.controller) {
      controller = &o;
      break;
    }
  }
  if (controller == nullptr ||
      (controller->kind != "ReplicationController" && controller->kind != "ReplicaSet" &&
       controller->kind != "StatefulSet")) {
    return selector;
  }
  // Labels are sorted by key: the requirements come out in the order the
  // compiler gives equal selectors, so equal pods share one index selection.
  for (const model::Label& l : pod.labels.items()) {
    if (std::find(per_pod_label_keys_.begin(), per_pod_label_keys_.end(), l.key) !=
        per_pod_label_keys_.end()) {
      continue;
    }
    model::Requirement r;
    r.key = l.key;
    r.op = model::SelectorOp::kIn;
    r.values = {l.value};
    selector.requirements.push_back(std::move(r));
  }
  return selector;
}

std::vector<model::TopologySpreadConstraint> PodTopologySpreadFilter::Constraints(
    const model::Pod& pod, UnsatisfiableAction action) const {
  std::vector<model::TopologySpreadConstraint> out;
  if (!pod.spread_constraints.empty()) {
    for (const model::TopologySpreadConstraint& c : pod.spread_constraints) {
      if (c.when_unsatisfiable == action) out.push_back(c);
    }
    return out;
  }
  for (const model::TopologySpreadConstraint& c : defaults_) {
    if (c.when_unsatisfiable == action) out.push_back(c);
  }
  if (out.empty()) return out;
  model::LabelSelector selector = DefaultSelector(pod);
  if (selector.empty()) return {};
  for (model::TopologySpreadConstraint& c : out) c.selector = selector;
  return out;
}

Status PodTopologySpreadFilter::PreFilter(framework::CycleState& state, const model::Pod& pod,
                                          framework::NodeInfoList /*nodes*/) {
  std::vector<model::TopologySpreadConstraint> specs =
      Constraints(pod, UnsatisfiableAction::kDoNotSchedule);
  if (specs.empty()) return Status::Skip();
  if (state.snapshot == nullptr || state.mutable_index() == nullptr) {
    return Status::Error("PodTopologySpread: no snapshot in the cycle state");
  }
  const cache::Snapshot& snapshot = *state.snapshot;
  AffinityIndex& index = *state.mutable_index();
  const framework::NodeInfoList rows = snapshot.nodes();
  const framework::NodeTable& table = snapshot.table();

  auto constraints = std::make_shared<std::vector<FilterConstraint>>(specs.size());
  std::vector<AffinityIndex::SelectionId> selections;
  for (size_t i = 0; i < specs.size(); ++i) {
    FilterConstraint& c = (*constraints)[i];
    c.spec = std::move(specs[i]);
    c.self_match = c.spec.selector.Matches(pod.labels);
    c.topology = &index.GetTopology(c.spec.topology_key);
    c.counts.assign(c.topology->num_domains(), 0);
    c.eligible.assign(c.topology->num_domains(), 0);
    selections.push_back(
        index.Select({AffinityIndex::ClauseOf(c.spec, pod.ns_id)}, /*skip_terminating=*/true));
  }
  // Registration is done: the references below stay valid.
  std::vector<const std::vector<int32_t>*> row_counts;
  for (AffinityIndex::SelectionId s : selections) row_counts.push_back(&index.RowCounts(s));

  const RowInclusion inclusion(pod, *constraints, index, table, rows.size());
  // The common shape, one constraint and no node constraints on the pod:
  // a tight loop over the rows.
  const bool single = constraints->size() == 1 && inclusion.taints_only();
  for (size_t r = 0; single && r < rows.size(); ++r) {
    FilterConstraint& c = (*constraints)[0];
    const int32_t d = c.topology->domain_of_row[r];
    if (d < 0) continue;
    if (inclusion.honor_taints() && !inclusion.Tolerated(r, *rows[r]->node())) continue;
    c.counts[d] += (*row_counts[0])[r];
    if (!c.eligible[d]) {
      c.eligible[d] = 1;
      ++c.num_eligible;
    }
  }
  for (size_t r = 0; !single && r < rows.size(); ++r) {
    // Upstream nodeLabelsMatchSpreadConstraints: a node counts only when it
    // has every topology key of every constraint.
    bool all_keys = true;
    for (const FilterConstraint& c : *constraints) {
      if (c.topology->domain_of_row[r] < 0) {
        all_keys = false;
        break;
      }
    }
    if (!all_keys) continue;
    NodeInclusion row = inclusion.Row(r, *rows[r]->node());
    for (size_t i = 0; i < constraints->size(); ++i) {
      FilterConstraint& c = (*constraints)[i];
      if (!inclusion.all() && !row.Matches(c.spec)) continue;
      const int32_t d = c.topology->domain_of_row[r];
      c.counts[d] += (*row_counts[i])[r];
      if (!c.eligible[d]) {
        c.eligible[d] = 1;
        ++c.num_eligible;
      }
    }
  }

  auto s = std::make_unique<PreFilterState>();
  s->overlays.resize(constraints->size());
  for (size_t i = 0; i < constraints->size(); ++i) {
    const FilterConstraint& c = (*constraints)[i];
    Overlay& o = s->overlays[i];
    o.num_eligible = c.num_eligible;
    for (size_t d = 0; d < c.counts.size(); ++d) {
      if (c.eligible[d]) o.paths.Update(static_cast<DomainKey>(d), c.counts[d]);
    }
  }
  s->constraints = std::move(constraints);
  state.Write(kPreFilterStateKey, std::move(s));
  return Status();
}

Status PodTopologySpreadFilter::AddPod(framework::CycleState& state,
                                       const model::Pod& pod_to_schedule,
                                       const model::PodPtr& pod_to_add,
                                       const framework::NodeInfo& node) const {
  return UpdateWithPod(state, pod_to_schedule, *pod_to_add, node, +1);
}

Status PodTopologySpreadFilter::RemovePod(framework::CycleState& state,
                                          const model::Pod& pod_to_schedule,
                                          const model::Pod& pod_to_remove,
                                          const framework::NodeInfo& node) const {
  return UpdateWithPod(state, pod_to_schedule, pod_to_remove, node, -1);
}

// Upstream updateWithPod. Like upstream, it does not skip terminating pods.
Status PodTopologySpreadFilter::UpdateWithPod(framework::CycleState& state,
                                              const model::Pod& preemptor,
                                              const model::Pod& pod,
                                              const framework::NodeInfo& info,
                                              int delta) const {
  PreFilterState* s = state.Read<PreFilterState>(kPreFilterStateKey);
  if (s == nullptr) return MissingState();
  const model::Node* node = info.node();
  if (pod.ns_id != preemptor.ns_id || node == nullptr) return Status();
  const std::vector<FilterConstraint>& constraints = *s->constraints;
  if (!HasAllKeys(*node, constraints)) return Status();
  NodeInclusion inclusion(preemptor, *node);
  for (size_t i = 0; i < constraints.size(); ++i) {
    const FilterConstraint& c = constraints[i];
    if (!c.spec.selector.Matches(pod.labels)) continue;
    if (!inclusion.Matches(c.spec)) continue;
    const DomainKey d = DomainOf(*c.topology, node->labels.Get(c.spec.topology_key));
    if (!s->Eligible(i, d)) ++s->overlays[i].num_eligible;
    const int64_t count = s->Count(i, d) + delta;
    s->Set(i, d, count);
    s->overlays[i].paths.Update(d, count);
  }
  return Status();
}

Status PodTopologySpreadFilter::Filter(const framework::CycleState& state,
                                       const model::Pod& /*pod*/,
                                       const framework::NodeInfo& info) const {
  const model::Node* node = info.node();
  if (node == nullptr) return Status::Error("node not found");
  const PreFilterState* s = state.Read<PreFilterState>(kPreFilterStateKey);
  if (s == nullptr) return MissingState();
  const std::vector<FilterConstraint>& constraints = *s->constraints;
  for (size_t i = 0; i < constraints.size(); ++i) {
    const FilterConstraint& c = constraints[i];
    const model::Id value = node->labels.Get(c.spec.topology_key);
    if (value == model::kNoId) {
      return framework::SharedStatus<framework::Code::kUnschedulableAndUnresolvable, kErrReasonNodeLabelNotMatch>();
    }
    const int64_t skew =
        s->Count(i, DomainOf(*c.topology, value)) + (c.self_match ? 1 : 0) - s->MinMatch(i);
    if (skew > c.spec.max_skew) return framework::SharedStatus<framework::Code::kUnschedulable, kErrReasonConstraintsNotMatch>();
  }
  return Status();
}

bool PodTopologySpreadFilter::FiltersRows(const framework::CycleState& state,
                                          const model::Pod& /*pod*/) const {
  return state.Read<PreFilterState>(kPreFilterStateKey) != nullptr;
}

void PodTopologySpreadFilter::FilterRows(const framework::CycleState& state,
                                         const model::Pod& /*pod*/,
                                         const framework::NodeTable& /*table*/, size_t begin,
                                         size_t end, uint8_t* passed) const {
  const PreFilterState* s = state.Read<PreFilterState>(kPreFilterStateKey);
  if (s == nullptr) return;
  const std::vector<FilterConstraint>& constraints = *s->constraints;
  for (size_t i = 0; i < constraints.size(); ++i) {
    const FilterConstraint& c = constraints[i];
    const std::vector<int32_t>& domain_of_row = c.topology->domain_of_row;
    // A row fails when its count exceeds maxSkew - self + minimum.
    const int64_t limit = c.spec.max_skew - (c.self_match ? 1 : 0) + s->MinMatch(i);
    const bool plain = s->overlays[i].changed.empty();
    for (size_t r = begin; r < end; ++r) {
      if (!passed[r]) continue;
      const int32_t d = domain_of_row[r];
      if (d < 0) {
        passed[r] = 0;
        continue;
      }
      const int64_t count =
          plain && static_cast<size_t>(d) < c.counts.size() ? c.counts[d] : s->Count(i, d);
      if (count > limit) passed[r] = 0;
    }
  }
}

}  // namespace kestrel::predicates
