#include "sim/explain.h"

#include <algorithm>
#include <map>
#include <optional>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "scheduler/fit_error.h"

namespace kestrel::sim {
namespace {

EffectiveRequests RequestsOf(const model::Pod& pod, const model::Interner& names) {
  EffectiveRequests r;
  r.milli_cpu = pod.requests.milli_cpu;
  r.memory = pod.requests.memory;
  r.ephemeral_storage = pod.requests.ephemeral_storage;
  for (const auto& [id, value] : pod.requests.scalar) {
    r.scalar.emplace_back(std::string(names.Name(id)), value);
  }
  // By name, not by interning order, so the output does not depend on the
  // order objects were read in.
  std::sort(r.scalar.begin(), r.scalar.end());
  r.non_zero_milli_cpu = pod.non_zero_milli_cpu;
  r.non_zero_memory = pod.non_zero_memory;
  return r;
}

// Most common first, then by text; the first kMaxReasons kept.
void SetReasons(std::vector<std::pair<std::string, int>> counts, ExplainSummary::Filter* f) {
  std::sort(counts.begin(), counts.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  for (size_t k = 0; k < counts.size(); ++k) {
    if (k < ExplainSummary::kMaxReasons) {
      f->reasons.push_back(std::move(counts[k]));
    } else {
      f->other += counts[k].second;
    }
  }
}

int BestTies(const std::vector<int64_t>& totals) {
  if (totals.empty()) return 0;
  const int64_t best = *std::max_element(totals.begin(), totals.end());
  return static_cast<int>(std::count(totals.begin(), totals.end(), best));
}

// Indices of `totals`, best first, ties in index order, at most `k`.
std::vector<size_t> TopIndices(const std::vector<int64_t>& totals, size_t k) {
  std::vector<size_t> order(totals.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  auto better = [&](size_t a, size_t b) {
    return totals[a] != totals[b] ? totals[a] > totals[b] : a < b;
  };
  k = std::min(k, order.size());
  std::partial_sort(order.begin(), order.begin() + k, order.end(), better);
  order.resize(k);
  return order;
}

// Whether a PreFilterResult, if any, kept `node` (upstream filters only
// the nodes it names).
bool Narrowed(const framework::CycleState& state, const std::string& node) {
  return !state.pre_filter_nodes.has_value() ||
         std::binary_search(state.pre_filter_nodes->begin(), state.pre_filter_nodes->end(),
                            node);
}

// The reason the nodes a PreFilterResult left out count with (upstream's
// absent-node status), or "" when none narrowed.
std::string ExcludedReason(const framework::CycleState& state) {
  if (!state.pre_filter_nodes.has_value()) return "";
  return scheduler::PreFilterExcludedReason(state.pre_filter_plugins);
}

// The pod's profile, or an error naming its schedulerName.
absl::StatusOr<const framework::Framework*> ProfileOf(const scheduler::Scheduler& sched,
                                                      const model::Pod& pod) {
  const framework::Framework* fw = sched.ProfileFor(pod);
  if (fw == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "Pod ", pod.Key(), ": spec.schedulerName: no profile named \"", pod.scheduler_name, "\""));
  }
  return fw;
}

}  // namespace

absl::StatusOr<Explanation> ExplainPod(Host& host, const model::Pod& pod) {
  scheduler::Scheduler& sched = host.scheduler();
  absl::StatusOr<const framework::Framework*> profile = ProfileOf(sched, pod);
  if (!profile.ok()) return profile.status();
  const framework::Framework* fw = *profile;
  sched.UpdateSnapshot();
  framework::NodeInfoList nodes = sched.snapshot().nodes();

  Explanation out;
  out.pod = pod.Key();
  out.requests = RequestsOf(pod, *host.names());
  for (const framework::WeightedScorePlugin& p : fw->score_plugins()) {
    out.score_plugins.emplace_back(p.plugin->Name());
  }
  framework::CycleState state = sched.NewCycleState();
  framework::Status pre = sched.RunPreFilter(*fw, state, pod);
  if (pre.code() == framework::Code::kError) return absl::InternalError(pre.Message());
  if (!pre.ok()) out.pre_filter_rejection = {std::string(pre.plugin()), pre.Message()};

  std::vector<const framework::NodeInfo*> feasible;
  const std::string excluded = ExcludedReason(state);
  for (const framework::NodeInfo* n : nodes) {
    NodeExplanation e;
    e.node = n->node()->name;
    e.feasible = pre.ok();
    if (pre.ok() && !Narrowed(state, e.node)) {
      e.feasible = false;
      e.excluded = excluded;
    }
    // Every enabled filter plugin is listed, whether or not it ran.
    for (const framework::FilterPlugin* f : fw->filter_plugins()) {
      if (!e.excluded.empty()) {
        e.filters.emplace_back(f->Name(),
                               fw->ShouldSkipFilter(state, f->Name()) ? kSkipped : kNotRun);
        continue;
      }
      if (!pre.ok()) {
        // Upstream filters no node then; each carries the PreFilter's status.
        e.filters.emplace_back(f->Name(), f->Name() == pre.plugin() ? pre.Message() : kNotRun);
        continue;
      }
      if (fw->ShouldSkipFilter(state, f->Name())) {
        e.filters.emplace_back(f->Name(), kSkipped);
        continue;
      }
      framework::Status s = f->Filter(state, pod, *n);
      if (s.ok()) {
        e.filters.emplace_back(f->Name(), kPassed);
      } else {
        e.feasible = false;
        e.filters.emplace_back(f->Name(), s.Message());
      }
    }
    if (e.feasible) feasible.push_back(n);
    out.nodes.push_back(std::move(e));
  }

  if (!feasible.empty()) {
    framework::CycleState score_state = state.Clone();
    // PreScore registers in the index (a clone cannot): this is the
    // scheduling thread.
    score_state.set_mutable_index(state.mutable_index());
    framework::Status s = fw->RunPreScorePlugins(score_state, pod, feasible);
    scheduler::ScoreTable table;
    table.keep_per_plugin = true;
    if (s.ok()) s = sched.RunScorePlugins(*fw, score_state, pod, feasible, {}, &table);
    if (!s.ok()) out.score_error = s.Message();
    size_t f = 0;
    for (NodeExplanation& e : out.nodes) {
      if (!e.feasible || !s.ok()) continue;
      for (size_t p = 0; p < fw->score_plugins().size(); ++p) {
        const framework::ScorePlugin* plugin = fw->score_plugins()[p].plugin;
        // Skipped at PreScore: upstream does not run it, so it has no score.
        if (fw->ShouldSkipScore(score_state, plugin->Name())) {
          e.skipped_scores.emplace_back(plugin->Name());
          continue;
        }
        e.scores.emplace_back(plugin->Name(), table.by_plugin[p][f].score);
      }
      e.total = table.total[f];
      ++f;
    }
  }
  return out;
}

ExplainSummary Summarize(const Explanation& e, size_t top_nodes) {
  ExplainSummary r;
  r.pre_filter_rejection = e.pre_filter_rejection;
  r.score_plugins = e.score_plugins;
  r.score_error = e.score_error;
  // Filters, in the order of the first node (every node lists every plugin).
  std::vector<std::map<std::string, int>> verdicts;
  if (!e.pre_filter_rejection.has_value() && !e.nodes.empty()) {
    for (const auto& [plugin, verdict] : e.nodes.front().filters) {
      ExplainSummary::Filter f;
      f.plugin = plugin;
      f.skipped = verdict == kSkipped;
      r.filters.push_back(std::move(f));
    }
    verdicts.resize(r.filters.size());
  }
  std::vector<const NodeExplanation*> feasible;
  for (const NodeExplanation& n : e.nodes) {
    if (n.feasible) feasible.push_back(&n);
    if (!n.excluded.empty()) {
      ++r.excluded;
      r.excluded_reason = n.excluded;
      continue;
    }
    for (size_t i = 0; i < n.filters.size() && i < verdicts.size(); ++i) {
      const std::string& v = n.filters[i].second;
      if (v == kPassed || v == kSkipped || v == kNotRun) continue;
      ++r.filters[i].rejected;
      ++verdicts[i][v];
    }
  }
  r.feasible = static_cast<int>(feasible.size());
  for (size_t i = 0; i < verdicts.size(); ++i) {
    SetReasons({verdicts[i].begin(), verdicts[i].end()}, &r.filters[i]);
  }
  if (!e.score_error.empty()) return r;
  std::vector<int64_t> totals;
  for (const NodeExplanation* n : feasible) totals.push_back(n->total);
  r.best_ties = BestTies(totals);
  for (size_t i : TopIndices(totals, top_nodes)) {
    const NodeExplanation* n = feasible[i];
    ExplainSummary::Scored s;
    s.node = n->node;
    s.total = n->total;
    for (const std::string& plugin : e.score_plugins) {
      std::optional<int64_t> score;
      for (const auto& [name, v] : n->scores) {
        if (name == plugin) score = v;
      }
      s.scores.push_back(score);
    }
    r.top.push_back(std::move(s));
  }
  return r;
}


absl::StatusOr<ExplainSummary> SummarizePod(Host& host, const model::Pod& pod,
                                            size_t top_nodes) {
  scheduler::Scheduler& sched = host.scheduler();
  absl::StatusOr<const framework::Framework*> profile = ProfileOf(sched, pod);
  if (!profile.ok()) return profile.status();
  const framework::Framework* fw = *profile;
  sched.UpdateSnapshot();
  const cache::Snapshot& snapshot = sched.snapshot();
  framework::NodeInfoList nodes = snapshot.nodes();

  ExplainSummary out;
  for (const framework::WeightedScorePlugin& p : fw->score_plugins()) {
    out.score_plugins.emplace_back(p.plugin->Name());
  }
  framework::CycleState state = sched.NewCycleState();
  framework::Status pre = sched.RunPreFilter(*fw, state, pod);
  if (pre.code() == framework::Code::kError) return absl::InternalError(pre.Message());
  if (!pre.ok()) {
    out.pre_filter_rejection = {std::string(pre.plugin()), pre.Message()};
    return out;
  }
  if (nodes.empty()) return out;

  // Every plugin on every node, as ExplainPod: feasible[r] stays 1 only
  // where all pass. Row r of the table is nodes[r]. Nodes a PreFilterResult
  // left out are not filtered.
  std::vector<uint8_t> feasible(nodes.size(), 1);
  if (state.pre_filter_nodes.has_value()) {
    out.excluded_reason = ExcludedReason(state);
    for (size_t r = 0; r < nodes.size(); ++r) {
      if (Narrowed(state, nodes[r]->node()->name)) continue;
      feasible[r] = 0;
      ++out.excluded;
    }
  }
  std::vector<uint8_t> passed(nodes.size());
  for (const framework::FilterPlugin* f : fw->filter_plugins()) {
    ExplainSummary::Filter& summary = out.filters.emplace_back();
    summary.plugin = std::string(f->Name());
    if (fw->ShouldSkipFilter(state, f->Name())) {
      summary.skipped = true;
      continue;
    }
    const bool by_rows = f->FiltersRows(state, pod);
    if (by_rows) {
      std::fill(passed.begin(), passed.end(), 1);
      f->FilterRows(state, pod, snapshot.table(), 0, nodes.size(), passed.data());
    }
    absl::flat_hash_map<std::string, int> reasons;
    for (size_t r = 0; r < nodes.size(); ++r) {
      if (by_rows && passed[r]) continue;
      if (out.excluded > 0 && !Narrowed(state, nodes[r]->node()->name)) continue;
      framework::Status s = f->Filter(state, pod, *nodes[r]);
      if (s.ok()) continue;
      feasible[r] = 0;
      ++summary.rejected;
      ++reasons[s.Message()];
    }
    SetReasons({reasons.begin(), reasons.end()}, &summary);
  }

  std::vector<const framework::NodeInfo*> fit;
  std::vector<uint32_t> rows;
  for (size_t r = 0; r < nodes.size(); ++r) {
    if (!feasible[r]) continue;
    fit.push_back(nodes[r]);
    rows.push_back(static_cast<uint32_t>(r));
  }
  out.feasible = static_cast<int>(fit.size());
  if (fit.empty()) return out;
  framework::CycleState score_state = state.Clone();
  // PreScore registers in the index (a clone cannot): this is the
  // scheduling thread.
  score_state.set_mutable_index(state.mutable_index());
  score_state.feasible_rows = rows;
  framework::Status s = fw->RunPreScorePlugins(score_state, pod, fit);
  scheduler::ScoreTable table;
  table.keep_per_plugin = true;
  if (s.ok()) s = sched.RunScorePlugins(*fw, score_state, pod, fit, rows, &table);
  if (!s.ok()) {
    out.score_error = s.Message();
    return out;
  }
  std::vector<bool> skipped;
  for (const framework::WeightedScorePlugin& p : fw->score_plugins()) {
    skipped.push_back(fw->ShouldSkipScore(score_state, p.plugin->Name()));
  }
  out.best_ties = BestTies(table.total);
  for (size_t i : TopIndices(table.total, top_nodes)) {
    ExplainSummary::Scored& scored = out.top.emplace_back();
    scored.node = fit[i]->node()->name;
    scored.total = table.total[i];
    for (size_t p = 0; p < skipped.size(); ++p) {
      scored.scores.push_back(skipped[p] ? std::nullopt
                                         : std::optional<int64_t>(table.by_plugin[p][i].score));
    }
  }
  return out;
}

bool ExplainSummary::operator==(const ExplainSummary& o) const {
  auto filter_eq = [](const Filter& a, const Filter& b) {
    return a.plugin == b.plugin && a.skipped == b.skipped && a.rejected == b.rejected &&
           a.reasons == b.reasons && a.other == b.other;
  };
  auto scored_eq = [](const Scored& a, const Scored& b) {
    return a.node == b.node && a.total == b.total && a.scores == b.scores;
  };
  const bool pre_eq =
      pre_filter_rejection.has_value() == o.pre_filter_rejection.has_value() &&
      (!pre_filter_rejection.has_value() ||
       (pre_filter_rejection->plugin == o.pre_filter_rejection->plugin &&
        pre_filter_rejection->message == o.pre_filter_rejection->message));
  return pre_eq && feasible == o.feasible && best_ties == o.best_ties &&
         excluded == o.excluded && excluded_reason == o.excluded_reason &&
         score_plugins == o.score_plugins &&
         score_error == o.score_error &&
         std::equal(filters.begin(), filters.end(), o.filters.begin(), o.filters.end(),
                    filter_eq) &&
         std::equal(top.begin(), top.end(), o.top.begin(), o.top.end(), scored_eq);
}

absl::StatusOr<Explanation> Explain(const Cluster& cluster,
                                    const config::KubeSchedulerConfiguration& config,
                                    const std::string& pod_key, const SimOptions& options) {
  model::PodPtr pod;
  for (const model::PodPtr& p : cluster.pending_pods) {
    if (p->Key() == pod_key) pod = p;
  }
  if (pod == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("--pod: no unbound pod \"", pod_key, "\" in the cluster"));
  }
  auto host = Host::Create(cluster, config, options);
  if (!host.ok()) return host.status();
  return ExplainAndSelect(**host, *pod);
}

absl::StatusOr<Explanation> ExplainAndSelect(Host& host, const model::Pod& pod) {
  auto out = ExplainPod(host, pod);
  if (!out.ok()) return out.status();
  // The selection itself: the scheduler's own algorithm, same seed.
  scheduler::Scheduler& sched = host.scheduler();
  framework::CycleState cycle = sched.NewCycleState();
  scheduler::Diagnosis diagnosis;
  scheduler::ScheduleResult r = sched.SchedulePod(*sched.ProfileFor(pod), cycle, pod, &diagnosis);
  // An error in the cycle (e.g. at PreScore) leaves the pod unscheduled with
  // that error as upstream's SchedulerError message.
  out->selected = r.node;
  out->message = r.message;
  return out;
}

}  // namespace kestrel::sim
