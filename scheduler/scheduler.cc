#include "scheduler/scheduler.h"

#include <algorithm>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "model/template_key.h"
#include "scheduler/framework/nominator.h"

namespace kestrel::scheduler {
namespace {

using framework::Code;
using framework::CycleState;
using framework::Framework;
using framework::NodeInfo;
using framework::Status;

int ResolveThreads(int threads) {
  if (threads > 0) return threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

// Upstream minFeasibleNodesToFind and the adaptive percentage floor.
constexpr size_t kMinFeasibleNodesToFind = 100;
constexpr int32_t kMinFeasibleNodesPercentageToFind = 5;

// Weights a normalized score and adds it to `total`; false when the score is
// out of range (see RangeError).
inline bool Weigh(const framework::WeightedScorePlugin& plugin, framework::NodeScore* score,
                  int64_t* total) {
  if (score->score < framework::kMinNodeScore || score->score > framework::kMaxNodeScore) {
    return false;
  }
  score->score *= plugin.weight;
  *total += score->score;
  return true;
}

Status RangeError(const framework::WeightedScorePlugin& plugin, int64_t score) {
  return Status::Error(absl::StrCat(
      "plugin \"", plugin.plugin->Name(), "\" returns an invalid score ", score,
      ", it should in the range of [", framework::kMinNodeScore, ", ", framework::kMaxNodeScore,
      "] after normalizing"));
}

// Filter verdicts of one cycle, per node row.
constexpr uint8_t kRejectedByRows = 0;  // FilterRows cleared it
constexpr uint8_t kPassed = 1;
constexpr uint8_t kRejected = 2;  // a per-node filter; status in statuses

}  // namespace

Scheduler::Scheduler(cache::Cache* cache,
                     std::vector<std::unique_ptr<framework::Framework>> profiles,
                     Options options)
    : cache_(cache),
      profiles_(std::move(profiles)),
      options_(options),
      parallelizer_(ResolveThreads(options.threads)),
      rng_(options.seed) {}

const Framework* Scheduler::ProfileFor(const model::Pod& pod) const {
  for (const auto& fw : profiles_) {
    if (fw->scheduler_name() == pod.scheduler_name) return fw.get();
  }
  return nullptr;
}

size_t Scheduler::NumFeasibleNodesToFind(const Framework& fw, size_t num_all_nodes) const {
  int32_t percentage = fw.percentage_of_nodes_to_score();
  if (percentage == 0) percentage = options_.percentage_of_nodes_to_score;
  // Kestrel evaluates every node unless a percentage is configured.
  if (percentage <= 0 || percentage >= 100) return num_all_nodes;
  if (num_all_nodes < kMinFeasibleNodesToFind) return num_all_nodes;
  percentage = std::max(percentage, kMinFeasibleNodesPercentageToFind);
  size_t n = num_all_nodes * static_cast<size_t>(percentage) / 100;
  return std::max(n, kMinFeasibleNodesToFind);
}

size_t Scheduler::MinParallel(bool cheap) const {
  if (options_.min_parallel_nodes != 0) return options_.min_parallel_nodes;
  return cheap ? 32 * framework::Parallelizer::kDefaultMinParallel
               : framework::Parallelizer::kDefaultMinParallel;
}

Status Scheduler::RunPreFilter(const Framework& fw, CycleState& state, const model::Pod& pod) {
  if (!pod.invalid_reason.empty()) {
    return Status(Code::kUnschedulableAndUnresolvable, pod.invalid_reason);
  }
  return fw.RunPreFilterPlugins(state, pod, snapshot_.nodes());
}

Scheduler::Verdicts* Scheduler::VerdictsFor(const std::string& key) {
  Verdicts* oldest = &verdicts_[1];
  for (size_t i = 1; i < verdicts_.size(); ++i) {
    Verdicts& v = verdicts_[i];
    if (!v.filter.key.empty() && v.filter.key == key) return &v;
    if (v.last_used < oldest->last_used) oldest = &v;
  }
  oldest->filter.key.clear();
  oldest->score.key.clear();
  oldest->counted = false;
  oldest->feasible_reusable = false;
  return oldest;
}

void Scheduler::FindNodesThatFit(const Framework& fw, CycleState& state,
                                 const model::Pod& pod, Diagnosis* diagnosis, Status* error,
                                 size_t* rejected) {
  framework::NodeInfoList all = snapshot_.nodes();
  // The last cycle's feasible list, when kept for its template, goes back
  // to its verdicts; every cycle starts from an empty list.
  if (feasible_owner_ != nullptr) {
    feasible_owner_->feasible.swap(feasible_);
    feasible_owner_->feasible_rows.swap(feasible_rows_);
    feasible_owner_ = nullptr;
  }
  feasible_.clear();
  feasible_rows_.clear();
  filter_row_local_ = false;
  v_ = &verdicts_[0];

  Status pre = RunPreFilter(fw, state, pod);
  diagnosis->pre_filter_plugins = state.pre_filter_plugins;
  if (!pre.ok()) {
    if (!pre.IsRejected()) {
      *error = pre;
      return;
    }
    // Every node has the same status, as upstream's absent nodes, so
    // preemption can see them all.
    diagnosis->pre_filter_msg = pre.Message();
    diagnosis->node_to_status.SetAbsent(all.size(), pre);
    *rejected = all.size();
    return;
  }

  // A pod that preempted before is tried on its nominated node first
  // (upstream evaluateNominatedNode): if it fits there, that is the node.
  if (!pod.nominated_node_name.empty()) {
    const NodeInfo* nominated = snapshot_.Get(pod.nominated_node_name);
    if (nominated != nullptr) {
      Status s = fw.RunFilterPluginsWithNominatedPods(state, pod, *nominated);
      if (s.code() == Code::kError) {
        *error = s;
        return;
      }
      if (s.ok()) {
        feasible_.push_back(nominated);
        feasible_rows_.push_back(static_cast<uint32_t>(snapshot_.RowOf(nominated)));
        return;
      }
    }
  }

  if (state.pre_filter_nodes.has_value() && options_.pre_filter_result) {
    FindNarrowedNodesThatFit(fw, state, pod, diagnosis, error, rejected);
    return;
  }

  // Plugins that check this pod over the node table's rows, and whether
  // that is all of them (then no per-node call is needed for a passing node).
  const auto& filters = fw.filter_plugins();
  uint64_t by_rows = 0;
  bool all_by_rows = true;
  for (size_t i = 0; i < filters.size(); ++i) {
    if ((state.skip_filter_mask >> i) & 1) continue;
    if (options_.use_node_table && filters[i]->FiltersRows(state, pod)) {
      by_rows |= uint64_t{1} << i;
    } else {
      all_by_rows = false;
    }
  }

  const size_t n = all.size();
  // Row-local filters only, and no nominated pods to add: each verdict
  // follows from the pod's template and its row alone, so the verdicts of
  // the last cycle with the same key still hold but for the rows that
  // changed since.
  const framework::Nominator* nominator = fw.handle().nominator;
  const bool nominated_pods = nominator != nullptr && !nominator->empty();
  key_.clear();
  filter_row_local_ =
      options_.incremental && !nominated_pods && FilterKey(fw, state, pod, by_rows, &key_);
  Verdicts& v = filter_row_local_ ? *VerdictsFor(key_) : verdicts_[0];
  v_ = &v;
  v.last_used = ++cycles_;
  if (v.statuses.size() < n) v.statuses.resize(n);
  // passed[r]: kPassed, kRejectedByRows (status not computed: most such
  // nodes never need one), or kRejected with the status in statuses[r].
  changed_rows_.clear();
  // Whether a row the filters ran on again changed between feasible and
  // not: if none did, the feasible list of the last cycle still holds.
  bool flipped = true;
  if (filter_row_local_ && v.filter.key == key_ && v.passed.size() == n &&
      snapshot_.RowsChangedSince(v.filter.update, &changed_rows_)) {
    flipped = false;
    for (const uint32_t r : changed_rows_) {
      const bool was = v.passed[r] == kPassed;
      // Counted verdicts stay counted: the row's old status out, its new
      // one (computed now if the rows rejected it) in.
      if (v.counted && v.passed[r] == kRejected) v.rejected.Remove(v.statuses[r]);
      FilterRange(fw, state, pod, by_rows, all_by_rows, r, r + 1);
      if (v.counted && v.passed[r] == kRejectedByRows) {
        v.statuses[r] = fw.RunFilterPlugins(state, pod, *all[r]);
        v.passed[r] = kRejected;
      }
      if (v.counted && v.passed[r] == kRejected) v.rejected.Add(v.statuses[r]);
      const bool is = v.passed[r] == kPassed;
      if (was != is) {
        flipped = true;
        v.num_passed = is ? v.num_passed + 1 : v.num_passed - 1;
      }
    }
    ++stats_.filter_incremental;
  } else {
    v.passed.resize(n);
    v.counted = false;
    // Row r is node all[r]. Chunks of rows are independent, so the verdicts
    // do not depend on the number of threads. Column loops alone cost about
    // a nanosecond a node: not worth a second core below tens of thousands.
    parallelizer_.For(n, [&](size_t begin, size_t end) {
      FilterRange(fw, state, pod, by_rows, all_by_rows, begin, end);
    }, MinParallel(/*cheap=*/all_by_rows));
    v.num_passed = static_cast<size_t>(std::count(v.passed.begin(), v.passed.end(), kPassed));
    ++stats_.filter_full;
  }
  if (filter_row_local_) {
    v.filter.key.swap(key_);
    v.filter.update = snapshot_.updates();
  }

  // Nodes with nominated pods of this pod's priority or higher: those pods
  // count there too (the table does not hold them), and a node must fit
  // both with and without them. Only nodes that passed can change verdict.
  if (nominated_pods) {
    for (const auto& [node_name, pods] : nominator->by_node()) {
      const NodeInfo* info = snapshot_.Get(node_name);
      if (info == nullptr) continue;
      const int32_t r = snapshot_.RowOf(info);
      if (r < 0 || v.passed[r] != kPassed) continue;
      if (fw.NominatedPodsToAdd(pod, *info).empty()) continue;
      Status s = fw.RunFilterPluginsWithNominatedPods(state, pod, *info);
      if (!s.ok()) {
        v.passed[r] = kRejected;
        v.statuses[r] = std::move(s);
        --v.num_passed;
      }
    }
  }

  // Walk the nodes starting where the last sampled cycle stopped, taking
  // feasible nodes until enough are found (all of them by default).
  const size_t start = next_start_node_index_ % n;
  const size_t want = NumFeasibleNodesToFind(fw, n);
  // Every node taken, from the same start, and no verdict changed since
  // the last such walk for this template: its list is this one. At tens of
  // thousands of nodes the walk is most of what a cycle costs.
  const bool walk_all = filter_row_local_ && want >= n;
  if (walk_all && v.feasible_reusable && !flipped && v.feasible_start == start) {
    feasible_.swap(v.feasible);
    feasible_rows_.swap(v.feasible_rows);
    feasible_owner_ = &v;
    *rejected = n - feasible_.size();
    ++stats_.feasible_reused;
    return;
  }
  v.feasible_reusable = false;
  size_t found = 0;
  size_t processed = n;
  // Counted verdicts with no row passing: none fits, and the statuses and
  // their counts are already there (a template that fits nowhere).
  if (!(v.counted && v.num_passed == 0)) {
    // Written through locals: the loop runs once per node of every cycle.
    feasible_.resize(n);
    feasible_rows_.resize(n);
    const NodeInfo** feasible = feasible_.data();
    uint32_t* rows = feasible_rows_.data();
    const uint8_t* passed = v.passed.data();
    processed = 0;
    for (size_t r = start; processed < n && found < want; r = r + 1 == n ? 0 : r + 1) {
      ++processed;
      if (passed[r] == kPassed) {
        feasible[found] = all[r];
        rows[found++] = static_cast<uint32_t>(r);
      } else if (passed[r] == kRejected && v.statuses[r].code() == Code::kError) {
        *error = v.statuses[r];
        feasible_.clear();
        feasible_rows_.clear();
        return;
      }
    }
    feasible_.resize(found);
    feasible_rows_.resize(found);
  }
  *rejected = processed - found;
  next_start_node_index_ = (start + processed) % n;
  if (found > 0) {
    if (walk_all) {
      v.feasible_reusable = true;
      v.feasible_start = start;
      feasible_owner_ = &v;
    }
    return;
  }

  // None fits, so every node was processed and every row needs its status,
  // which the diagnosis views with their counts. Nodes rejected over the
  // rows get theirs now, from the per-node run in upstream order, which
  // gives the exact status; the runs are independent and go in parallel.
  // The verdicts are then counted, and stay so while kept: the next pod of
  // the template that fits nowhere (a ReplicaSet's) computes only the rows
  // that changed.
  if (v.counted) {
    ++stats_.diagnosis_kept;
  } else {
    uint8_t* verdicts = v.passed.data();
    Status* statuses = v.statuses.data();
    parallelizer_.For(n, [&](size_t begin, size_t end) {
      for (size_t r = begin; r < end; ++r) {
        if (verdicts[r] != kRejectedByRows) continue;
        statuses[r] = fw.RunFilterPlugins(state, pod, *all[r]);
        verdicts[r] = kRejected;
      }
    }, MinParallel(/*cheap=*/false));
    // Runs of copies of one status (most rows, for a pod that fits
    // nowhere) count at once.
    v.rejected.Clear();
    for (size_t r = 0; r < n;) {
      size_t e = r + 1;
      while (e < n && statuses[e].IsCopyOf(statuses[r])) ++e;
      v.rejected.Add(statuses[r], e - r);
      r = e;
    }
    v.counted = true;
  }
  if (v.rejected.Count(Code::kError) > 0) {
    // The first error in the order the nodes were evaluated.
    for (size_t i = 0, r = start; i < n; ++i, r = r + 1 == n ? 0 : r + 1) {
      if (v.statuses[r].code() == Code::kError) {
        *error = v.statuses[r];
        break;
      }
    }
    v.filter.key.clear();
    v.counted = false;
    return;
  }
  diagnosis->node_to_status.SetRows(all, absl::MakeConstSpan(v.statuses.data(), n), start,
                                    &v.rejected);
}

void Scheduler::FindNarrowedNodesThatFit(const Framework& fw, CycleState& state,
                                         const model::Pod& pod, Diagnosis* diagnosis,
                                         Status* error, size_t* rejected) {
  // The named nodes that exist (upstream drops the others), in row order.
  // These verdicts are not row-local ones kept for a template: the kept
  // verdicts stay as they are for the next pod of theirs.
  filter_row_local_ = false;
  narrowed_.clear();
  for (const std::string& name : *state.pre_filter_nodes) {
    if (const NodeInfo* info = snapshot_.Get(name); info != nullptr) narrowed_.push_back(info);
  }
  std::sort(narrowed_.begin(), narrowed_.end(), [&](const NodeInfo* a, const NodeInfo* b) {
    return snapshot_.RowOf(a) < snapshot_.RowOf(b);
  });
  const size_t m = narrowed_.size();
  narrowed_statuses_.assign(m, Status());
  parallelizer_.For(m, [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      narrowed_statuses_[i] = fw.RunFilterPluginsWithNominatedPods(state, pod, *narrowed_[i]);
    }
  }, MinParallel(/*cheap=*/false));

  // As over all nodes: from where the last sampled cycle stopped, until
  // enough fit; the start moves on over all nodes (upstream).
  const size_t n = snapshot_.num_nodes();
  const size_t start = m == 0 ? 0 : next_start_node_index_ % m;
  const size_t want = NumFeasibleNodesToFind(fw, m);
  size_t processed = 0;
  for (size_t i = 0; i < m && feasible_.size() < want; ++i) {
    const size_t j = (start + i) % m;
    ++processed;
    if (narrowed_statuses_[j].code() == Code::kError) {
      *error = narrowed_statuses_[j];
      feasible_.clear();
      feasible_rows_.clear();
      return;
    }
    if (narrowed_statuses_[j].ok()) {
      feasible_.push_back(narrowed_[j]);
      feasible_rows_.push_back(static_cast<uint32_t>(snapshot_.RowOf(narrowed_[j])));
    }
  }
  *rejected = processed - feasible_.size();
  next_start_node_index_ = (next_start_node_index_ + processed) % n;
  if (!feasible_.empty()) return;
  for (size_t i = 0; i < processed; ++i) {
    const size_t j = (start + i) % m;
    diagnosis->node_to_status.Add(narrowed_[j], std::move(narrowed_statuses_[j]));
  }
  // The nodes left out count as rejected by the plugins that narrowed.
  diagnosis->node_to_status.SetAbsent(
      n - processed, Status::Unresolvable(PreFilterExcludedReason(state.pre_filter_plugins))
                         .WithPlugin(state.pre_filter_plugins.front()));
}

void Scheduler::FilterRange(const Framework& fw, const CycleState& state, const model::Pod& pod,
                            uint64_t by_rows, bool all_by_rows, size_t begin, size_t end) {
  const auto& filters = fw.filter_plugins();
  uint8_t* passed = v_->passed.data();
  std::fill(passed + begin, passed + end, kPassed);
  for (uint64_t bits = by_rows; bits != 0; bits &= bits - 1) {
    filters[__builtin_ctzll(bits)]->FilterRows(state, pod, snapshot_.table(), begin, end,
                                               passed);
  }
  if (all_by_rows) return;
  framework::NodeInfoList all = snapshot_.nodes();
  for (size_t r = begin; r < end; ++r) {
    if (passed[r] != kPassed) continue;
    Status s = fw.RunFilterPlugins(state, pod, *all[r], by_rows);
    if (!s.ok()) {
      passed[r] = kRejected;
      v_->statuses[r] = std::move(s);
    }
  }
}

bool Scheduler::FilterKey(const Framework& fw, const CycleState& state, const model::Pod& pod,
                          uint64_t by_rows, std::string* key) const {
  model::AppendKey(static_cast<int64_t>(reinterpret_cast<intptr_t>(&fw)), key);
  model::AppendKey(static_cast<int64_t>(state.skip_filter_mask), key);
  model::AppendKey(static_cast<int64_t>(by_rows), key);
  const auto& filters = fw.filter_plugins();
  for (size_t i = 0; i < filters.size(); ++i) {
    if ((state.skip_filter_mask >> i) & 1) continue;
    if (!filters[i]->FilterRowLocalKey(state, pod, key)) return false;
  }
  return true;
}

bool Scheduler::RowScores(const CycleState& state, const model::Pod& pod,
                          absl::Span<const RowLocalRun> run, absl::Span<const uint32_t> rows,
                          Verdicts* v) {
  for (const uint32_t r : rows) v->partial[r] = 0;
  row_scores_.resize(std::max(row_scores_.size(), rows.size()));
  int64_t* raw = row_scores_.data();
  framework::NodeInfoList all = snapshot_.nodes();
  for (const RowLocalRun& r : run) {
    const framework::WeightedScorePlugin& wp = *r.plugin;
    if (r.by_rows) {
      wp.plugin->ScoreRows(state, pod, snapshot_.table(), rows, raw);
    } else {
      for (size_t i = 0; i < rows.size(); ++i) {
        absl::StatusOr<int64_t> s = wp.plugin->Score(state, pod, *all[rows[i]]);
        if (!s.ok()) return false;
        raw[i] = *s;
      }
    }
    if (r.normalized >= 0) {
      // Raw, for DefaultNormalizedScore: a negative one is the full path's
      // to report.
      int64_t* kept = v->normalized[r.normalized].raw.data();
      for (size_t i = 0; i < rows.size(); ++i) {
        if (raw[i] < 0) return false;
        kept[rows[i]] = raw[i];
      }
      continue;
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      if (raw[i] < framework::kMinNodeScore || raw[i] > framework::kMaxNodeScore) return false;
      v->partial[rows[i]] += raw[i] * wp.weight;
    }
  }
  return true;
}

bool Scheduler::SelectRowLocal(const Framework& fw, const CycleState& state,
                               const model::Pod& pod, const NodeInfo** host) {
  const size_t n = snapshot_.num_nodes();
  Verdicts& v = *v_;
  // The feasible nodes must be every row that passed (no sampling), and
  // their verdicts row-local, so that the kept verdicts are a function of
  // the rows.
  if (!options_.incremental || !options_.use_node_table || !filter_row_local_ ||
      scores_.keep_per_plugin || NumFeasibleNodesToFind(fw, n) < n) {
    v.score.key.clear();
    return false;
  }
  // The key: the filter verdicts' key, then each score plugin's mode. A
  // uniform score adds the same to every node and does not change which
  // wins; the others must be row-local, and normalize, if at all, by the
  // highest raw score alone.
  key_ = v.filter.key;
  run_.clear();
  int num_normalized = 0;
  const auto& plugins = fw.score_plugins();
  for (size_t p = 0; p < plugins.size(); ++p) {
    const framework::ScorePlugin* plugin = plugins[p].plugin;
    int64_t uniform = 0;
    bool reverse = false;
    if ((state.skip_score_mask >> p) & 1) {
      key_.push_back('S');
    } else if (plugin->UniformScore(state, pod, &uniform)) {
      // Out of range: the full path reports it.
      if (uniform < framework::kMinNodeScore || uniform > framework::kMaxNodeScore) {
        v.score.key.clear();
        return false;
      }
      key_.push_back('U');
    } else if ((!plugin->NormalizesScores() || plugin->NormalizesByMax(&reverse)) &&
               plugin->ScoreRowLocalKey(state, pod, &key_)) {
      const bool by_rows = plugin->ScoresRows(state, pod);
      const bool normalizes = plugin->NormalizesScores();
      key_.push_back(by_rows ? 'R' : 'N');
      key_.push_back(!normalizes ? '-' : reverse ? 'V' : 'M');
      model::AppendKey(plugins[p].weight, &key_);
      run_.push_back({&plugins[p], by_rows, normalizes ? num_normalized++ : -1, reverse});
    } else {
      v.score.key.clear();
      return false;
    }
  }
  changed_rows_.clear();
  const bool incremental = v.score.key == key_ && v.best.size() == n &&
                           snapshot_.RowsChangedSince(v.score.update, &changed_rows_);
  // The rows to score: those that changed and passed (the others are
  // kNone now), or, from scratch, every feasible row. A changed row that
  // held a total takes its raw scores out of the normalizing plugins'
  // counts first (once: a row may be logged more than once).
  rescore_rows_.clear();
  if (incremental) {
    std::sort(changed_rows_.begin(), changed_rows_.end());
    changed_rows_.erase(std::unique(changed_rows_.begin(), changed_rows_.end()),
                        changed_rows_.end());
    for (const uint32_t r : changed_rows_) {
      if (v.best.Get(r) != BestRows::kNone) {
        for (Verdicts::Normalized& m : v.normalized) {
          auto it = m.values.find(m.raw[r]);
          if (--it->second == 0) m.values.erase(it);
        }
      }
      if (v.passed[r] == kPassed) {
        rescore_rows_.push_back(r);
      } else {
        v.best.Set(r, BestRows::kNone);
      }
    }
  } else {
    v.partial.resize(n);
    v.normalized.resize(num_normalized);
    for (Verdicts::Normalized& m : v.normalized) {
      m.raw.resize(n);
      m.values.clear();
      m.max = -1;  // none yet: every total is computed below
    }
    rescore_rows_.assign(feasible_rows_.begin(), feasible_rows_.end());
  }
  if (!RowScores(state, pod, run_, rescore_rows_, &v)) {
    v.score.key.clear();
    return false;
  }
  // The highest raw score of each normalizing plugin over the feasible
  // rows. When one moved, every feasible row's final score may have:
  // all totals are computed again, from the kept partial and raw scores.
  bool all_rows = !incremental;
  for (Verdicts::Normalized& m : v.normalized) {
    for (const uint32_t r : rescore_rows_) ++m.values[m.raw[r]];
    const int64_t max = m.values.empty() ? 0 : m.values.rbegin()->first;
    if (max != m.max) all_rows = true;
    m.max = max;
  }
  auto total = [&](uint32_t r) {
    int64_t t = v.partial[r];
    for (const RowLocalRun& run : run_) {
      if (run.normalized < 0) continue;
      const Verdicts::Normalized& m = v.normalized[run.normalized];
      t += framework::DefaultNormalizedScore(m.raw[r], m.max, run.reverse) * run.plugin->weight;
    }
    return t;
  };
  if (all_rows) {
    if (!incremental) v.best.Reset(n);
    for (const uint32_t r : feasible_rows_) v.best.Assign(r, total(r));
    v.best.Rebuild();
  } else {
    for (const uint32_t r : rescore_rows_) v.best.Set(r, total(r));
  }
  v.score.key.swap(key_);
  v.score.update = snapshot_.updates();
  ++(incremental ? stats_.score_incremental : stats_.score_full);
  if (incremental && all_rows) ++stats_.score_renormalized;

  // As SelectHost: every row with the best total equally likely, one draw
  // from the seeded generator, counted in the feasible list's order (from
  // its first row, wrapping around).
  const BestRows::Top top = v.best.top();
  if (top.count == 0) {
    v.score.key.clear();
    return false;
  }
  const size_t pick =
      top.count == 1 ? 0 : std::uniform_int_distribution<size_t>(0, top.count - 1)(rng_);
  *host = snapshot_.nodes()[v.best.KthBest(feasible_rows_.front(), static_cast<uint32_t>(pick))];
  return true;
}

Status Scheduler::RunScorePlugins(const Framework& fw, const CycleState& state,
                                  const model::Pod& pod, framework::NodeInfoList feasible,
                                  absl::Span<const uint32_t> rows, ScoreTable* out) {
  const auto& plugins = fw.score_plugins();
  const size_t n = feasible.size();
  const framework::NodeTable& table = snapshot_.table();
  const bool keep = out->keep_per_plugin;
  out->by_plugin.resize(plugins.size());
  // Zeroed per chunk by the thread that fills it, not here: a caller that
  // touches every slot first makes the other threads pull the lines back.
  out->total.resize(n);
  // Per plugin: skipped for this pod, the same score everywhere, scored
  // over rows, or per node.
  enum class Mode : uint8_t { kSkip, kUniform, kRows, kNodes };
  struct PluginRun {
    Mode mode;
    int64_t uniform;  // kUniform: the final score, unweighted
    bool normalizes;
  };
  std::vector<PluginRun> run(plugins.size());
  for (size_t p = 0; p < plugins.size(); ++p) {
    const framework::ScorePlugin* plugin = plugins[p].plugin;
    PluginRun& r = run[p];
    r.normalizes = plugin->NormalizesScores();
    r.uniform = 0;
    if ((state.skip_score_mask >> p) & 1) {
      r.mode = Mode::kSkip;
    } else if (options_.use_node_table && !rows.empty() &&
               plugin->UniformScore(state, pod, &r.uniform)) {
      r.mode = Mode::kUniform;
      if (r.uniform < framework::kMinNodeScore || r.uniform > framework::kMaxNodeScore) {
        return RangeError(plugins[p], r.uniform);
      }
    } else if (options_.use_node_table && !rows.empty() && plugin->ScoresRows(state, pod)) {
      r.mode = Mode::kRows;
    } else {
      r.mode = Mode::kNodes;
    }
    // Normalizing plugins need all their raw scores at once.
    const bool needs_table = keep || (r.normalizes && (r.mode == Mode::kRows ||
                                                       r.mode == Mode::kNodes));
    out->by_plugin[p].resize(needs_table ? n : 0);
  }
  row_scores_.resize(n);
  // Rows and uniform scores cost a few nanoseconds a node: like the filter's
  // column loops, not worth a second core below tens of thousands of nodes.
  bool cheap = true;
  for (const PluginRun& r : run) cheap = cheap && r.mode != Mode::kNodes;
  const size_t min_parallel = MinParallel(cheap);
  // Raw scores over chunks of nodes in parallel; each node's slots are its
  // own. Plugins that do not normalize are weighted and summed right there;
  // the others once all their raw scores are in.
  // std::mutex, as in Parallelizer: TSan cannot see an uninstrumented
  // absl::Mutex order threads.
  std::mutex error_mu;
  Status error;  // the error of the lowest-index node, for a stable message
  size_t error_index = n;
  auto fail = [&](size_t i, Status s) {
    std::lock_guard<std::mutex> l(error_mu);
    if (i < error_index) {
      error_index = i;
      error = std::move(s);
    }
  };
  parallelizer_.For(n, [&](size_t begin, size_t end) {
    int64_t* total = out->total.data();
    std::fill(total + begin, total + end, 0);
    int64_t* raw = row_scores_.data();
    for (size_t p = 0; p < plugins.size(); ++p) {
      const framework::WeightedScorePlugin& wp = plugins[p];
      const PluginRun& r = run[p];
      framework::NodeScore* scores = out->by_plugin[p].data();
      switch (r.mode) {
        case Mode::kSkip:
          if (keep) {
            for (size_t i = begin; i < end; ++i) scores[i] = {feasible[i], 0};
          }
          continue;
        case Mode::kUniform:
          // The same on every node: added once, after the loop.
          if (keep) {
            for (size_t i = begin; i < end; ++i) scores[i] = {feasible[i], r.uniform * wp.weight};
          }
          continue;
        case Mode::kRows:
          wp.plugin->ScoreRows(state, pod, table, rows.subspan(begin, end - begin), raw + begin);
          break;
        case Mode::kNodes:
          for (size_t i = begin; i < end; ++i) {
            absl::StatusOr<int64_t> s = wp.plugin->Score(state, pod, *feasible[i]);
            if (!s.ok()) {
              return fail(i, Status::Error(std::string(s.status().message()))
                                 .WithPlugin(wp.plugin->Name()));
            }
            raw[i] = *s;
          }
          break;
      }
      if (r.normalizes) {
        for (size_t i = begin; i < end; ++i) scores[i] = {feasible[i], raw[i]};
        continue;
      }
      for (size_t i = begin; i < end; ++i) {
        if (raw[i] < framework::kMinNodeScore || raw[i] > framework::kMaxNodeScore) {
          return fail(i, RangeError(wp, raw[i]));
        }
        total[i] += raw[i] * wp.weight;
      }
      if (keep) {
        for (size_t i = begin; i < end; ++i) scores[i] = {feasible[i], raw[i] * wp.weight};
      }
    }
  }, min_parallel);
  if (!error.ok()) return error;
  // Uniform scores do not change which node wins; totals carry them only
  // when asked to (explain), as one offset otherwise.
  out->offset = 0;
  for (size_t p = 0; p < plugins.size(); ++p) {
    if (run[p].mode == Mode::kUniform) out->offset += run[p].uniform * plugins[p].weight;
  }
  if (keep && out->offset != 0) {
    for (int64_t& t : out->total) t += out->offset;
    out->offset = 0;
  }
  for (size_t p = 0; p < plugins.size(); ++p) {
    const framework::ScorePlugin* plugin = plugins[p].plugin;
    if (!run[p].normalizes || run[p].mode == Mode::kSkip || run[p].mode == Mode::kUniform) {
      continue;
    }
    std::vector<framework::NodeScore>& scores = out->by_plugin[p];
    Status s = plugin->NormalizeScore(state, pod, absl::MakeSpan(scores));
    if (!s.ok()) return s.WithPlugin(plugin->Name());
    for (size_t i = 0; i < n; ++i) {
      if (!Weigh(plugins[p], &scores[i], &out->total[i])) {
        return RangeError(plugins[p], scores[i].score);
      }
    }
  }
  return Status();
}

const NodeInfo* Scheduler::SelectHost(framework::NodeInfoList feasible,
                                      const std::vector<int64_t>& totals) {
  // Every node with the highest total is equally likely, as with upstream's
  // reservoir sampling in selectHost; one draw from the seeded generator
  // instead of one per tie keeps this cheap when thousands of nodes tie.
  // The best total and how many nodes have it, in one pass.
  int64_t best = totals[0];
  size_t ties = 0;
  for (const int64_t t : totals) {
    if (t > best) {
      best = t;
      ties = 1;
    } else if (t == best) {
      ++ties;
    }
  }
  size_t pick = ties == 1 ? 0 : std::uniform_int_distribution<size_t>(0, ties - 1)(rng_);
  for (size_t i = 0; i < totals.size(); ++i) {
    if (totals[i] == best && pick-- == 0) return feasible[i];
  }
  return feasible[0];  // unreachable: `best` is in `totals`
}

ScheduleResult Scheduler::SchedulePod(const Framework& fw, CycleState& state,
                                      const model::Pod& pod, Diagnosis* diagnosis) {
  ScheduleResult result;
  const size_t num_nodes = snapshot_.num_nodes();
  if (num_nodes == 0) {
    result.code = Code::kUnschedulable;
    result.message = "no nodes available to schedule pods";
    return result;
  }
  Status error;
  size_t rejected = 0;
  FindNodesThatFit(fw, state, pod, diagnosis, &error, &rejected);
  const std::vector<const NodeInfo*>& feasible = feasible_;
  if (!error.ok()) {
    result.code = Code::kError;
    result.message = error.Message();
    return result;
  }
  result.evaluated_nodes = static_cast<int>(feasible.size() + rejected);
  result.feasible_nodes = static_cast<int>(feasible.size());
  if (feasible.empty()) {
    result.code = Code::kUnschedulable;
    result.fit_reasons = FitReasons(*diagnosis);
    result.message = FitErrorMessage(num_nodes, *diagnosis, result.fit_reasons);
    return result;
  }
  // One feasible node: nothing to rank.
  if (feasible.size() == 1) {
    result.node = feasible[0]->node()->name;
    return result;
  }
  state.feasible_rows = feasible_rows_;
  Status s = fw.RunPreScorePlugins(state, pod, feasible);
  if (s.ok()) {
    const NodeInfo* host = nullptr;
    if (SelectRowLocal(fw, state, pod, &host)) {
      result.node = host->node()->name;
      return result;
    }
    s = RunScorePlugins(fw, state, pod, feasible, feasible_rows_, &scores_);
  }
  if (!s.ok()) {
    result.code = Code::kError;
    result.message = s.Message();
    return result;
  }
  result.node = SelectHost(feasible, scores_.total)->node()->name;
  return result;
}

ScheduleResult Scheduler::ScheduleOne(const model::PodPtr& pod) {
  const Framework* fw = ProfileFor(*pod);
  if (fw == nullptr) {
    ScheduleResult r;
    r.code = Code::kUnschedulableAndUnresolvable;
    r.message = absl::StrCat("no profile for schedulerName \"", pod->scheduler_name, "\"");
    return r;
  }
  UpdateSnapshot();
  CycleState state = NewCycleState();
  Diagnosis diagnosis;
  ScheduleResult result = SchedulePod(*fw, state, *pod, &diagnosis);
  if (result.node.empty()) {
    // Views of plugin names (they outlive the cycle); sorted below.
    absl::flat_hash_set<absl::string_view> plugins(diagnosis.pre_filter_plugins.begin(),
                                                   diagnosis.pre_filter_plugins.end());
    diagnosis.node_to_status.ForEachCount([&](const Status& s, size_t) {
      if (s.IsRejected() && !s.plugin().empty()) plugins.insert(s.plugin());
    });
    for (absl::string_view p : plugins) result.unschedulable_plugins.emplace_back(p);
    std::sort(result.unschedulable_plugins.begin(), result.unschedulable_plugins.end());
    // No nodes at all is not a fit error: nothing to preempt on.
    if (result.code != Code::kError && snapshot_.num_nodes() > 0 &&
        !fw->post_filter_plugins().empty()) {
      framework::PostFilterResult pf;
      Status s = fw->RunPostFilterPlugins(state, *pod, diagnosis.node_to_status, &pf);
      if (s.code() == Code::kError) {
        // The pod stays unschedulable with its fit error; the plugin error
        // is added so it is not lost.
        result.message = absl::StrCat(result.message, " ", s.Message());
      } else if (!s.ok()) {
        // FitErrorMessage with the PostFilter message: the histogram part
        // is already in result.message, so only the message is appended.
        diagnosis.post_filter_msg = s.Message();
        if (!diagnosis.post_filter_msg.empty()) {
          absl::StrAppend(&result.message, " ", diagnosis.post_filter_msg, ".");
        }
      } else {
        result.nominated_node = pf.nominated_node_name;
        result.victims = std::move(pf.victims);
      }
      // The nomination follows the result (upstream's AddNominatedPod with
      // the result's NominatingInfo): replaced, cleared, or kept.
      framework::Nominator* nominator = fw->handle().nominator;
      if (nominator != nullptr && pf.mode == framework::NominatingMode::kOverride) {
        nominator->Delete(*pod);
        if (!pf.nominated_node_name.empty()) {
          auto nominated = std::make_shared<model::Pod>(*pod);
          nominated->nominated_node_name = pf.nominated_node_name;
          nominator->Add(std::move(nominated), pf.nominated_node_name);
        }
      }
    }
    return result;
  }

  // Assume: the pod counts on its node from now on.
  auto assumed = std::make_shared<model::Pod>(*pod);
  assumed->node_name = result.node;
  absl::Status as = cache_->AssumePod(assumed);
  if (!as.ok()) {
    result.code = Code::kError;
    result.message = std::string(as.message());
    result.node.clear();
    return result;
  }
  auto fail = [&](const Status& s) {
    fw->RunUnreservePlugins(state, *assumed, result.node);
    cache_->ForgetPod(*assumed).IgnoreError();
    result.code = s.code();
    result.message = s.Message();
    result.node.clear();
    return result;
  };
  Status s = fw->RunReservePlugins(state, *assumed, result.node);
  if (!s.ok()) return fail(s);
  s = fw->RunPermitPlugins(state, *assumed, result.node);
  if (!s.ok()) return fail(s);
  s = fw->RunBindPlugins(state, *assumed, result.node);
  if (!s.ok()) return fail(s);
  cache_->FinishBinding(*assumed).IgnoreError();
  if (framework::Nominator* nominator = fw->handle().nominator; nominator != nullptr) {
    nominator->Delete(*pod);
  }
  return result;
}

}  // namespace kestrel::scheduler
