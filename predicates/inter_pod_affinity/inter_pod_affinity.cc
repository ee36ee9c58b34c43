#include "predicates/inter_pod_affinity/inter_pod_affinity.h"

#include <memory>
#include <utility>

#include "scheduler/cache/snapshot.h"

namespace kestrel::predicates {
namespace {

using cache::AffinityIndex;
using framework::Code;
using framework::Status;

constexpr char kStateKey[] = "PreFilterInterPodAffinity";

template <typename Entry>
Entry* FindKey(std::vector<Entry>& entries, model::Id key) {
  for (Entry& e : entries) {
    if (e.topology->key == key) return &e;
  }
  return nullptr;
}

// Verdicts, in the order upstream checks them.
enum Verdict : uint8_t { kFits, kAffinity, kAntiAffinity, kExistingAntiAffinity };

}  // namespace

struct InterPodAffinityFilter::State : framework::StateData {
  // Required affinity, per distinct topology key of the pod's terms: the
  // pods matching all the terms, per domain.
  std::vector<KeyCounts> affinity;
  bool self_match = false;  // the pod matches all its own affinity terms
  // Required anti-affinity, per distinct key: the pods matching any of the
  // pod's terms with that key, per domain.
  std::vector<KeyCounts> anti;
  // Existing pods' required anti-affinity terms that match the pod, per key.
  std::vector<ExistingKeyCounts> existing;
  // The same for pods that AddPod/RemovePod count (nominated pods) whose
  // terms have a topology key the index has no domains for: nothing
  // registered it, and the extensions may not (they run beside each other
  // in preemption's dry runs). Counted per (key, value) of the node the pod
  // was added on, as upstream's topologyToMatchedTermCount does; a node
  // with that value for the key is forbidden while the count is positive.
  struct PairCount {
    model::Id key;
    model::Id value;
    int64_t count;
  };
  std::vector<PairCount> existing_by_value;

  void CountByValue(model::Id key, model::Id value, int sign) {
    for (PairCount& p : existing_by_value) {
      if (p.key == key && p.value == value) {
        p.count += sign;
        return;
      }
    }
    existing_by_value.push_back({key, value, sign});
  }

  std::unique_ptr<framework::StateData> Clone() const override {
    return std::make_unique<State>(*this);
  }

  bool AffinityCountsEmpty() const {
    for (const KeyCounts& k : affinity) {
      if (k.total != 0) return false;
    }
    return true;
  }

  // `domain(topology)` gives the node's domain for a topology, -1 if none;
  // `value(key)` its label value for a key, kNoId if none.
  template <typename DomainFn, typename ValueFn>
  Verdict Evaluate(DomainFn domain, ValueFn value) const {
    if (!affinity.empty()) {
      bool pods_exist = true;
      for (const KeyCounts& k : affinity) {
        const int32_t d = domain(*k.topology);
        if (d < 0) return kAffinity;  // every topology key must be on the node
        if (k.counts.get()[d] <= 0) pods_exist = false;
      }
      // The first pod of a group that has affinity to itself.
      if (!pods_exist && !(AffinityCountsEmpty() && self_match)) return kAffinity;
    }
    for (const KeyCounts& k : anti) {
      const int32_t d = domain(*k.topology);
      if (d >= 0 && k.counts.get()[d] > 0) return kAntiAffinity;
    }
    for (const ExistingKeyCounts& k : existing) {
      const int32_t d = domain(*k.topology);
      if (d >= 0 && k.counts.get()[d] > 0) return kExistingAntiAffinity;
    }
    for (const PairCount& p : existing_by_value) {
      if (p.count > 0 && value(p.key) == p.value) return kExistingAntiAffinity;
    }
    return kFits;
  }
};

Status InterPodAffinityFilter::PreFilter(framework::CycleState& cycle, const model::Pod& pod,
                                         framework::NodeInfoList nodes) {
  if (cycle.mutable_index() == nullptr) {
    return Status::Error("InterPodAffinity: no snapshot in cycle");
  }
  AffinityIndex& index = *cycle.mutable_index();
  auto state = std::make_unique<State>();

  // Existing pods' anti-affinity toward this pod (symmetry).
  const model::Labels& ns_labels = index.NamespaceLabelsOrEmpty(pod.ns_id);
  for (const AffinityIndex::ExistingTerm& e : index.existing(AffinityIndex::kRequiredAntiAffinity)) {
    if (e.carriers <= 0 || !e.term.Matches(pod.ns_id, pod.labels, &ns_labels)) continue;
    const AffinityIndex::Topology& topo = index.GetTopology(e.term.topology_key);
    if (ExistingKeyCounts* k = FindKey(state->existing, topo.key)) {
      std::vector<int64_t>& sum = k->counts.mutate();
      for (size_t d = 0; d < sum.size(); ++d) sum[d] += e.by_domain[d];
    } else {
      state->existing.push_back({&topo, CountsRef<int64_t>(&e.by_domain)});
    }
  }

  // The pod's own required affinity: one selection, all terms ANDed.
  if (!pod.required_affinity.empty()) {
    std::vector<AffinityIndex::Clause> clauses;
    for (const model::AffinityTerm& t : pod.required_affinity) {
      clauses.push_back(AffinityIndex::ClauseOf(t));
    }
    const AffinityIndex::SelectionId sel = index.Select(clauses, /*skip_terminating=*/false);
    for (const model::AffinityTerm& t : pod.required_affinity) {
      if (FindKey(state->affinity, t.topology_key) != nullptr) continue;
      KeyCounts k{&index.GetTopology(t.topology_key), CountsRef<int32_t>(), 0};
      k.counts = CountsRef<int32_t>(&index.DomainCounts(sel, t.topology_key, &k.total));
      state->affinity.push_back(std::move(k));
    }
    state->self_match = index.Matches(clauses, false, pod);
  }

  // The pod's own required anti-affinity: one selection per term.
  for (const model::AffinityTerm& t : pod.required_anti_affinity) {
    const AffinityIndex::SelectionId sel =
        index.Select({AffinityIndex::ClauseOf(t)}, /*skip_terminating=*/false);
    const std::vector<int32_t>& counts = index.DomainCounts(sel, t.topology_key);
    if (KeyCounts* k = FindKey(state->anti, t.topology_key)) {
      std::vector<int32_t>& sum = k->counts.mutate();
      for (size_t d = 0; d < sum.size(); ++d) sum[d] += counts[d];
    } else {
      state->anti.push_back({&index.GetTopology(t.topology_key), CountsRef<int32_t>(&counts), 0});
    }
  }

  if (state->existing.empty() && pod.required_affinity.empty() &&
      pod.required_anti_affinity.empty()) {
    return Status::Skip();
  }
  cycle.Write(kStateKey, std::move(state));
  return Status();
}

Status InterPodAffinityFilter::UpdateWithPod(framework::CycleState& cycle,
                                             const model::Pod& incoming,
                                             const model::Pod& other,
                                             const framework::NodeInfo& node, int sign) const {
  State* state = cycle.Read<State>(kStateKey);
  if (state == nullptr) return Status();  // PreFilter skipped: nothing to update
  if (node.node() == nullptr || cycle.snapshot == nullptr) {
    return Status::Error("InterPodAffinity: node or snapshot not found");
  }
  // Read only: this may run beside other dry runs (see State::existing_by_value).
  const AffinityIndex& index = cycle.snapshot->index();
  const model::Node& n = *node.node();

  // The other pod's anti-affinity toward the incoming one.
  const model::Labels& incoming_ns = index.NamespaceLabelsOrEmpty(incoming.ns_id);
  for (const model::AffinityTerm& t : other.required_anti_affinity) {
    if (!t.Matches(incoming.ns_id, incoming.labels, &incoming_ns)) continue;
    const AffinityIndex::Topology* topo = index.FindTopology(t.topology_key);
    if (topo == nullptr) {
      // Upstream counts nodes that have the key only.
      const model::Id value = n.labels.Get(t.topology_key);
      if (value != model::kNoId) state->CountByValue(t.topology_key, value, sign);
      continue;
    }
    const int32_t d = topo->DomainOf(n);
    if (d < 0) continue;
    ExistingKeyCounts* k = FindKey(state->existing, topo->key);
    if (k == nullptr) {
      state->existing.push_back(
          {topo, CountsRef<int64_t>(std::vector<int64_t>(topo->num_domains(), 0))});
      k = &state->existing.back();
    }
    k->counts.mutate()[d] += sign;
  }

  // The incoming pod's terms matching the other pod.
  const model::Labels* other_ns = index.NamespaceLabelsOf(other.ns_id);
  bool matches_all = !incoming.required_affinity.empty();
  for (const model::AffinityTerm& t : incoming.required_affinity) {
    matches_all = matches_all && t.Matches(other.ns_id, other.labels, other_ns);
  }
  if (matches_all) {
    for (KeyCounts& k : state->affinity) {
      const int32_t d = k.topology->DomainOf(n);
      if (d < 0) continue;
      k.counts.mutate()[d] += sign;
      k.total += sign;
    }
  }
  for (const model::AffinityTerm& t : incoming.required_anti_affinity) {
    if (!t.Matches(other.ns_id, other.labels, other_ns)) continue;
    KeyCounts* k = FindKey(state->anti, t.topology_key);
    const int32_t d = k->topology->DomainOf(n);
    if (d >= 0) k->counts.mutate()[d] += sign;
  }
  return Status();
}

Status InterPodAffinityFilter::AddPod(framework::CycleState& state,
                                      const model::Pod& pod_to_schedule,
                                      const model::PodPtr& pod_to_add,
                                      const framework::NodeInfo& node) const {
  return UpdateWithPod(state, pod_to_schedule, *pod_to_add, node, +1);
}

Status InterPodAffinityFilter::RemovePod(framework::CycleState& state,
                                         const model::Pod& pod_to_schedule,
                                         const model::Pod& pod_to_remove,
                                         const framework::NodeInfo& node) const {
  return UpdateWithPod(state, pod_to_schedule, pod_to_remove, node, -1);
}

Status InterPodAffinityFilter::Filter(const framework::CycleState& cycle, const model::Pod& pod,
                                      const framework::NodeInfo& node) const {
  if (node.node() == nullptr) return Status::Error("node not found");
  const State* state = cycle.Read<State>(kStateKey);
  if (state == nullptr) {
    return Status::Error("error reading \"PreFilterInterPodAffinity\" from cycleState");
  }
  const model::Node& n = *node.node();
  switch (state->Evaluate([&](const AffinityIndex::Topology& t) { return t.DomainOf(n); },
                          [&](model::Id key) { return n.labels.Get(key); })) {
    case kFits:
      return Status();
    case kAffinity:
      return framework::SharedStatus<framework::Code::kUnschedulableAndUnresolvable, kErrReasonAffinityRulesNotMatch>();
    case kAntiAffinity:
      return framework::SharedStatus<framework::Code::kUnschedulable, kErrReasonAntiAffinityRulesNotMatch>();
    case kExistingAntiAffinity:
      return framework::SharedStatus<framework::Code::kUnschedulable, kErrReasonExistingAntiAffinityRulesNotMatch>();
  }
  return Status();
}

bool InterPodAffinityFilter::FiltersRows(const framework::CycleState& cycle,
                                         const model::Pod&) const {
  // Without PreFilter's state, Filter reports the error node by node.
  return cycle.Read<State>(kStateKey) != nullptr;
}

void InterPodAffinityFilter::FilterRows(const framework::CycleState& cycle,
                                        const model::Pod& pod,
                                        const framework::NodeTable& table, size_t begin,
                                        size_t end, uint8_t* passed) const {
  const State* state = cycle.Read<State>(kStateKey);
  for (size_t r = begin; r < end; ++r) {
    if (!passed[r]) continue;
    auto domain = [r](const AffinityIndex::Topology& t) { return t.domain_of_row[r]; };
    auto value = [&](model::Id key) {
      const model::Node* n = table.infos[r]->node();
      return n == nullptr ? model::kNoId : n->labels.Get(key);
    };
    if (state->Evaluate(domain, value) != kFits) passed[r] = 0;
  }
}

}  // namespace kestrel::predicates
