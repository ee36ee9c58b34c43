// File: scheduler.h
//
// Scheduler runs scheduling cycles: for one pod, PreFilter, Filter over every
// node in parallel, PreScore, Score + NormalizeScore, the weighted sum, host
// selection (ties broken by a seeded random choice), then Reserve (assume in
// the cache), Permit and Bind. It is the same object in every host: against an
// API server, in the simulator, in the gRPC service; only the Binder differs.
//
// Example:
//   Scheduler s(&cache, std::move(profiles), {.seed = 1, .threads = 2});
//   ScheduleResult r = s.ScheduleOne(pod);
//   if (r.node.empty()) std::cout << r.message;   // the FitError text

#ifndef KESTREL_SCHEDULER_SCHEDULER_H_
#define KESTREL_SCHEDULER_SCHEDULER_H_

#include <array>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/types/span.h"
#include "scheduler/best_rows.h"
#include "scheduler/cache/cache.h"
#include "scheduler/cache/snapshot.h"
#include "scheduler/fit_error.h"
#include "scheduler/framework/framework.h"
#include "scheduler/framework/parallel.h"

namespace kestrel::scheduler {

struct ScheduleResult {
  // The chosen node; empty when the pod could not be scheduled.
  std::string node;
  // Why not, when `node` is empty: the FitError message or an error.
  std::string message;
  framework::Code code = framework::Code::kSuccess;
  int evaluated_nodes = 0;
  int feasible_nodes = 0;
  // When `node` is empty but preemption made room: the node the pod is now
  // nominated to (the nominator holds the pod with nominated_node_name set),
  // and the pods deleted for it. The pod is placed by a later cycle.
  std::string nominated_node;
  std::vector<model::PodPtr> victims;
  // When `node` is empty: the plugins that rejected the pod (upstream's
  // Diagnosis.UnschedulablePlugins), sorted; the queue moves the pod back
  // only on events these registered. Empty for an error.
  std::vector<std::string> unschedulable_plugins;
  // When no node fit: the FitError histogram by plugin, sorted by plugin,
  // then reason, so reports need not parse `message`. A PreFilter
  // rejection counts every node once. Empty for an error.
  std::vector<ReasonCount> fit_reasons;
};

// The scores of one cycle: per score plugin (normalized and weighted, in
// Framework::score_plugins() order) and in total, for each feasible node.
struct ScoreTable {
  // Filled for every plugin when `keep_per_plugin` (explain); otherwise only
  // for plugins that normalize, which need all raw scores at once.
  std::vector<std::vector<framework::NodeScore>> by_plugin;
  // Node i's weighted total is total[i] + offset. The offset holds the
  // scores that are the same on every node (ScorePlugin::UniformScore); it
  // is 0, folded into `total`, when `keep_per_plugin`.
  std::vector<int64_t> total;
  int64_t offset = 0;
  bool keep_per_plugin = false;
};

class Scheduler {
 public:
  struct Options {
    uint64_t seed = 1;
    // Filter/score threads, the caller's included; 0: one per hardware thread.
    int threads = 0;
    // Used when a profile does not set its own; 0 or 100: every node.
    int32_t percentage_of_nodes_to_score = 0;
    // Run plugins' FilterRows/ScoreRows over the node table where they
    // offer it. Off: every plugin per node (the reference path, for tests).
    bool use_node_table = true;
    // The fewest nodes a filter or score pass splits over the threads; 0:
    // the defaults, which weigh what a pass costs per node against handing
    // out chunks (Parallelizer::kDefaultMinParallel, 32 times that for
    // passes that only loop over the node table). For tests, which need the
    // parallel path on a cluster of a few thousand nodes.
    size_t min_parallel_nodes = 0;
    // Keep the filter verdicts and weighted totals of the last cycle of a
    // pod template whose plugins are all row-local (their verdict on a node
    // depends only on that node: FilterPlugin::FilterRowLocalKey), and for
    // the next pod of that template filter and score again only the rows
    // whose nodes changed, picking the best node from an index of totals
    // (BestRows). Placements are the same as without (the reference path,
    // for tests).
    bool incremental = true;
    // Filter and score only the nodes a PreFilterResult names (upstream);
    // off: every node, whose filters reject the others themselves (the
    // reference path, for tests; messages then list their reasons).
    bool pre_filter_result = true;
  };

  // How cycles were run, for tests and benchmarks.
  struct Stats {
    int64_t filter_incremental = 0;  // filtered only the rows that changed
    int64_t filter_full = 0;
    int64_t score_incremental = 0;   // scored only the rows that changed
    int64_t score_full = 0;
    int64_t feasible_reused = 0;     // the last cycle's feasible list still held
    // Cycles that found no node and took their diagnosis from the statuses
    // and counts kept for the template (no pass over every node).
    int64_t diagnosis_kept = 0;
    // Incremental scorings whose normalizing plugins' highest raw score
    // moved, so that every feasible row's total was computed again.
    int64_t score_renormalized = 0;
  };

  Scheduler(cache::Cache* cache,
            std::vector<std::unique_ptr<framework::Framework>> profiles,
            Options options);

  // ScheduleOne()
  //
  // One full cycle for `pod`: on success the pod is assumed in the cache on
  // the chosen node and bound through the profile's bind plugins, and its
  // nomination, if any, is forgotten. When no node fits, the PostFilter
  // plugins run (DefaultPreemption); if they nominate a node, the pod is
  // recorded in the profile's nominator with nominated_node_name set.
  ScheduleResult ScheduleOne(const model::PodPtr& pod);

  // SchedulePod()
  //
  // The algorithm alone, against the current snapshot: filter, score,
  // select. Fills `diagnosis` when no node fits; it may view the verdicts
  // the scheduler keeps, so read it before the next cycle. Does not assume
  // or bind.
  ScheduleResult SchedulePod(const framework::Framework& fw, framework::CycleState& state,
                             const model::Pod& pod, Diagnosis* diagnosis);

  // The profile whose schedulerName the pod names, or nullptr.
  const framework::Framework* ProfileFor(const model::Pod& pod) const;

  // A cycle state for one pod against this scheduler's snapshot.
  framework::CycleState NewCycleState() {
    framework::CycleState state;
    state.snapshot = &snapshot_;
    state.set_mutable_index(&snapshot_.index());
    state.parallelizer = &parallelizer_;
    return state;
  }

  // RunPreFilter()
  //
  // The profile's PreFilter plugins, after the check every pod gets first: a
  // pod whose legacy annotations did not parse fits nowhere.
  framework::Status RunPreFilter(const framework::Framework& fw, framework::CycleState& state,
                                 const model::Pod& pod);

  // Brings the snapshot up to date with the cache; ScheduleOne does this.
  void UpdateSnapshot() { cache_->UpdateSnapshot(&snapshot_); }
  const cache::Snapshot& snapshot() const { return snapshot_; }
  const Stats& stats() const { return stats_; }
  framework::Parallelizer& parallelizer() { return parallelizer_; }

  // RunScorePlugins()
  //
  // Scores `feasible` with every score plugin of `fw` (after PreScore ran on
  // `state`), normalized and weighted. `rows`, when not empty, are the
  // feasible nodes' rows in the snapshot's node table, for plugins that
  // score rows. Returns an error status on a plugin error or an out-of-range
  // normalized score.
  framework::Status RunScorePlugins(const framework::Framework& fw,
                                    const framework::CycleState& state,
                                    const model::Pod& pod, framework::NodeInfoList feasible,
                                    absl::Span<const uint32_t> rows, ScoreTable* out);

 private:
  // Filters nodes in parallel; fills feasible_ in node order and counts the
  // nodes rejected. `diagnosis` gets their statuses only when none fits.
  void FindNodesThatFit(const framework::Framework& fw, framework::CycleState& state,
                        const model::Pod& pod, Diagnosis* diagnosis, framework::Status* error,
                        size_t* rejected);
  // FindNodesThatFit for a pod a PreFilterResult narrowed to some nodes
  // (state.pre_filter_nodes): filters those alone, each with its nominated
  // pods; when none fits, the others are the diagnosis's absent nodes.
  void FindNarrowedNodesThatFit(const framework::Framework& fw, framework::CycleState& state,
                                const model::Pod& pod, Diagnosis* diagnosis,
                                framework::Status* error, size_t* rejected);
  size_t NumFeasibleNodesToFind(const framework::Framework& fw, size_t num_all_nodes) const;
  // The `min_parallel` of a filter or score pass: `cheap` when it only
  // loops over the node table.
  size_t MinParallel(bool cheap) const;
  const framework::NodeInfo* SelectHost(framework::NodeInfoList feasible,
                                        const std::vector<int64_t>& totals);

  // One chunk of the filter pass, rows [begin, end): the row filters in
  // `by_rows`, then (unless `all_by_rows`) the others per node; sets the
  // verdicts v_ of those rows.
  void FilterRange(const framework::Framework& fw, const framework::CycleState& state,
                   const model::Pod& pod, uint64_t by_rows, bool all_by_rows, size_t begin,
                   size_t end);
  // The key of this cycle's filter verdicts when every filter that runs is
  // row-local (see Options::incremental); false otherwise.
  bool FilterKey(const framework::Framework& fw, const framework::CycleState& state,
                 const model::Pod& pod, uint64_t by_rows, std::string* key) const;
  // The incremental selection: the best feasible node from the totals kept
  // for this template, after scoring the rows that changed. False when the
  // cycle must score every feasible node the full way.
  bool SelectRowLocal(const framework::Framework& fw, const framework::CycleState& state,
                      const model::Pod& pod, const framework::NodeInfo** host);
  // A row-local score plugin of the incremental selection; `normalized`:
  // its index in Verdicts::normalized when it normalizes (by the highest raw
  // score, reversed with `reverse`), else -1.
  struct RowLocalRun {
    const framework::WeightedScorePlugin* plugin;
    bool by_rows;
    int normalized;
    bool reverse;
  };
  struct Verdicts;
  // The raw scores of `run` over `rows`, into v's partial sums (plugins
  // that do not normalize, weighted) and kept raw scores (those that do).
  // False on a score out of range or a plugin error (the full path then
  // reports it).
  bool RowScores(const framework::CycleState& state, const model::Pod& pod,
                 absl::Span<const RowLocalRun> run, absl::Span<const uint32_t> rows,
                 Verdicts* v);

  cache::Cache* cache_;
  std::vector<std::unique_ptr<framework::Framework>> profiles_;
  Options options_;
  cache::Snapshot snapshot_;
  framework::Parallelizer parallelizer_;
  std::mt19937_64 rng_;
  size_t next_start_node_index_ = 0;
  // Per-cycle buffers, reused across cycles so the hot path does not
  // allocate: the feasible list, the score table.
  std::vector<const framework::NodeInfo*> feasible_;
  std::vector<uint32_t> feasible_rows_;
  std::vector<int64_t> row_scores_;
  std::vector<const framework::NodeInfo*> narrowed_;  // FindNarrowedNodesThatFit
  std::vector<framework::Status> narrowed_statuses_;
  ScoreTable scores_;

  // The filter verdicts of one cycle over every node-table row, and what
  // follows from them. With Options::incremental, those of a pod template
  // whose filters are row-local are kept for its next pod, which filters
  // again only the rows that changed since (usually one: where the last
  // pod went), and scores and diagnoses likewise.
  struct Kept {
    std::string key;  // the template, profile and plugin modes; empty: none
    uint64_t update = 0;  // the snapshot update they are current with
  };
  struct Verdicts {
    Kept filter;                              // for passed, statuses
    std::vector<uint8_t> passed;              // per row: see kPassed
    std::vector<framework::Status> statuses;  // of kRejected rows
    size_t num_passed = 0;
    // Every rejected row is kRejected (its status known), and `rejected`
    // counts their statuses: a diagnosis without a pass over the rows.
    bool counted = false;
    framework::StatusCounts rejected;
    Kept score;     // for best, partial, normalized
    BestRows best;  // the totals of passed rows, kNone elsewhere
    // Per row: the weighted sum of the score plugins that do not normalize.
    std::vector<int64_t> partial;
    // Per score plugin that normalizes by the highest raw score: each row's
    // raw score, how many rows holding a total have each value, and the
    // highest, which the totals were normalized with.
    struct Normalized {
      std::vector<int64_t> raw;
      absl::btree_map<int64_t, uint32_t> values;
      int64_t max = 0;
    };
    std::vector<Normalized> normalized;
    // The feasible list of the last cycle that took every node, walking
    // from feasible_start, for the next one while no row changes verdict.
    // While that cycle's list is in use it is feasible_ (feasible_owner_).
    bool feasible_reusable = false;
    size_t feasible_start = 0;
    std::vector<const framework::NodeInfo*> feasible;
    std::vector<uint32_t> feasible_rows;
    uint64_t last_used = 0;
  };
  // The kept verdicts of this template, or, when none are, those of the
  // least recently used template, cleared.
  Verdicts* VerdictsFor(const std::string& key);
  // verdicts_[0] serves cycles whose verdicts are not kept; the others keep
  // those of the templates seen last (a workload interleaves a few: a pod
  // that fits nowhere among a ReplicaSet's).
  static constexpr size_t kKeptTemplates = 4;
  std::array<Verdicts, kKeptTemplates + 1> verdicts_;
  Verdicts* v_ = &verdicts_[0];  // this cycle's
  Verdicts* feasible_owner_ = nullptr;
  uint64_t cycles_ = 0;
  bool filter_row_local_ = false;  // this cycle's verdicts are row-local
  std::string key_;                // scratch
  std::vector<uint32_t> changed_rows_;
  std::vector<uint32_t> rescore_rows_;
  std::vector<int64_t> rescore_totals_;
  std::vector<RowLocalRun> run_;
  Stats stats_;
};

}  // namespace kestrel::scheduler

#endif  // KESTREL_SCHEDULER_SCHEDULER_H_
