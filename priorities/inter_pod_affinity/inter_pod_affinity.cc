#include "priorities/inter_pod_affinity/inter_pod_affinity.h"

#include <limits>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "scheduler/cache/snapshot.h"

namespace kestrel::priorities {
namespace {

using cache::AffinityIndex;
using framework::Status;

constexpr char kStateKey[] = "PreScoreInterPodAffinity";

// Upstream preScoreState.topologyScore, with dense domains: per topology
// key, the score of each domain.
struct ScoreState : framework::StateData {
  std::vector<std::pair<const AffinityIndex::Topology*, std::vector<int64_t>>> by_key;

  std::unique_ptr<framework::StateData> Clone() const override {
    return std::make_unique<ScoreState>(*this);
  }

  std::vector<int64_t>& For(const AffinityIndex::Topology& topology) {
    for (auto& [t, scores] : by_key) {
      if (t == &topology) return scores;
    }
    by_key.emplace_back(&topology, std::vector<int64_t>(topology.num_domains(), 0));
    return by_key.back().second;
  }

  template <typename DomainFn>
  int64_t ScoreOf(DomainFn domain) const {
    int64_t score = 0;
    for (const auto& [t, scores] : by_key) {
      const int32_t d = domain(*t);
      if (d >= 0) score += scores[d];
    }
    return score;
  }
};

}  // namespace

absl::StatusOr<std::unique_ptr<InterPodAffinity>> InterPodAffinity::Create(
    const config::InterPodAffinityArgs& args) {
  const int32_t weight = args.has_hardpodaffinityweight() ? args.hardpodaffinityweight()
                                                          : kDefaultHardPodAffinityWeight;
  if (weight < 0 || weight > 100) {
    return absl::InvalidArgumentError(absl::StrCat(
        "hardPodAffinityWeight: Invalid value: ", weight, ": not in valid range [0-100]"));
  }
  return std::unique_ptr<InterPodAffinity>(
      new InterPodAffinity(weight, args.ignorepreferredtermsofexistingpods()));
}

Status InterPodAffinity::PreScore(framework::CycleState& cycle, const model::Pod& pod,
                                  framework::NodeInfoList feasible) {
  if (feasible.empty()) return Status();
  if (cycle.mutable_index() == nullptr) {
    return Status::Error("InterPodAffinity: no snapshot in cycle");
  }
  const bool has_constraints = !pod.preferred_affinity.empty() ||
                               !pod.preferred_anti_affinity.empty();
  if (ignore_preferred_terms_of_existing_pods_ && !has_constraints) return Status::Skip();

  AffinityIndex& index = *cycle.mutable_index();
  auto state = std::make_unique<ScoreState>();
  bool any = false;  // upstream: topologyScore is not empty

  // The pod's preferred terms over the existing pods that match them.
  auto incoming = [&](const model::WeightedAffinityTerm& w, int64_t sign) {
    const AffinityIndex::SelectionId sel =
        index.Select({AffinityIndex::ClauseOf(w.term)}, /*skip_terminating=*/false);
    int64_t total = 0;
    const std::vector<int32_t>& counts = index.DomainCounts(sel, w.term.topology_key, &total);
    if (total == 0) return;
    any = true;
    std::vector<int64_t>& scores = state->For(index.GetTopology(w.term.topology_key));
    const int64_t weight = sign * w.weight;
    for (size_t d = 0; d < scores.size(); ++d) scores[d] += weight * counts[d];
  };
  for (const auto& w : pod.preferred_affinity) incoming(w, +1);
  for (const auto& w : pod.preferred_anti_affinity) incoming(w, -1);

  // Existing pods' terms that match the pod (symmetry). by_domain already
  // holds carriers (required) or summed weights (preferred).
  const model::Labels& ns_labels = index.NamespaceLabelsOrEmpty(pod.ns_id);
  auto existing = [&](AffinityIndex::TermKind kind, int64_t multiplier) {
    for (const AffinityIndex::ExistingTerm& e : index.existing(kind)) {
      if (e.carriers <= 0 || !e.term.Matches(pod.ns_id, pod.labels, &ns_labels)) continue;
      any = true;
      std::vector<int64_t>& scores = state->For(index.GetTopology(e.term.topology_key));
      for (size_t d = 0; d < scores.size(); ++d) scores[d] += multiplier * e.by_domain[d];
    }
  };
  if (hard_pod_affinity_weight_ > 0) {
    existing(AffinityIndex::kRequiredAffinity, hard_pod_affinity_weight_);
  }
  existing(AffinityIndex::kPreferredAffinity, +1);
  existing(AffinityIndex::kPreferredAntiAffinity, -1);

  if (!any) return Status::Skip();
  cycle.Write(kStateKey, std::move(state));
  return Status();
}

absl::StatusOr<int64_t> InterPodAffinity::Score(const framework::CycleState& cycle,
                                                const model::Pod& pod,
                                                const framework::NodeInfo& node) const {
  const ScoreState* state = cycle.Read<ScoreState>(kStateKey);
  if (state == nullptr) {
    return absl::InternalError("error reading \"PreScoreInterPodAffinity\" from cycleState");
  }
  if (node.node() == nullptr) return absl::InternalError("node not found");
  const model::Node& n = *node.node();
  return state->ScoreOf([&](const AffinityIndex::Topology& t) { return t.DomainOf(n); });
}

bool InterPodAffinity::ScoresRows(const framework::CycleState& cycle, const model::Pod&) const {
  return cycle.Read<ScoreState>(kStateKey) != nullptr;
}

void InterPodAffinity::ScoreRows(const framework::CycleState& cycle, const model::Pod& pod,
                                 const framework::NodeTable& table,
                                 absl::Span<const uint32_t> rows, int64_t* out) const {
  const ScoreState* state = cycle.Read<ScoreState>(kStateKey);
  for (size_t i = 0; i < rows.size(); ++i) {
    const uint32_t r = rows[i];
    out[i] = state->ScoreOf([r](const AffinityIndex::Topology& t) { return t.domain_of_row[r]; });
  }
}

Status InterPodAffinity::NormalizeScore(const framework::CycleState& cycle, const model::Pod& pod,
                                        absl::Span<framework::NodeScore> scores) const {
  if (cycle.Read<ScoreState>(kStateKey) == nullptr) return Status();
  int64_t min = std::numeric_limits<int64_t>::max();
  int64_t max = std::numeric_limits<int64_t>::min();
  for (const framework::NodeScore& s : scores) {
    if (s.score > max) max = s.score;
    if (s.score < min) min = s.score;
  }
  const int64_t diff = max - min;
  for (framework::NodeScore& s : scores) {
    double f = 0;
    if (diff > 0) {
      f = static_cast<double>(framework::kMaxNodeScore) *
          (static_cast<double>(s.score - min) / static_cast<double>(diff));
    }
    s.score = static_cast<int64_t>(f);
  }
  return Status();
}

}  // namespace kestrel::priorities
