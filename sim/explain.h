// File: explain.h
//
// Explain answers "why would this pod go there, and not elsewhere": the
// pod's effective requests as the scheduler computed them, every enabled
// filter plugin on every node (all of them, not only up to the first
// failure), every enabled score plugin on the feasible nodes (normalized and
// weighted), and the node the scheduler would select with the same seed.
//
// A plugin whose PreFilter (PreScore) returned Skip is not run by upstream's
// framework for this pod (CycleState's SkipFilterPlugins / SkipScorePlugins):
// it is listed as skipped, never left out, so "skipped" reads apart from
// "not enabled".

#ifndef KESTREL_SIM_EXPLAIN_H_
#define KESTREL_SIM_EXPLAIN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "api/config/config.pb.h"
#include "sim/cluster.h"
#include "sim/simulator.h"

namespace kestrel::sim {

// Filter verdicts besides a plugin's reasons.
inline constexpr char kPassed[] = "passed";
// The plugin's PreFilter returned Skip: upstream does not run its Filter, so
// the node passes it.
inline constexpr char kSkipped[] = "skipped";
// A PreFilter plugin rejected the pod: upstream runs no Filter at all, every
// node gets the PreFilter's status (shown in the rejecting plugin's slot).
inline constexpr char kNotRun[] = "not run";

// The pod's requests as the scheduler computed them (model::Pod): what
// NodeResourcesFit checks, and what scoring uses.
struct EffectiveRequests {
  int64_t milli_cpu = 0;
  int64_t memory = 0;             // bytes
  int64_t ephemeral_storage = 0;  // bytes
  // Extended resources, hugepages-*, and other scalar resources the pod
  // requests, by name (sorted).
  std::vector<std::pair<std::string, int64_t>> scalar;
  // The same cpu and memory with upstream's non-zero defaults (100m, 200Mi)
  // for containers that request none: what the resource score plugins use.
  int64_t non_zero_milli_cpu = 0;
  int64_t non_zero_memory = 0;
};

struct NodeExplanation {
  std::string node;
  bool feasible = false;
  // Not empty when a PreFilterResult left this node out (NodeAffinity's
  // pinned node names): upstream filters and scores only the nodes it
  // names, and counts the others with this reason, "node(s) didn't satisfy
  // plugin(s) [NodeAffinity]". Its filters are then kNotRun, or kSkipped
  // for those that run on no node.
  std::string excluded;
  // Every enabled filter plugin, in profile order: kPassed, kSkipped, the
  // reasons, or kNotRun (see Explanation::pre_filter_rejection).
  std::vector<std::pair<std::string, std::string>> filters;
  // Feasible nodes only. Every score plugin that ran, in profile order:
  // normalized score × weight.
  std::vector<std::pair<std::string, int64_t>> scores;
  // Feasible nodes only. The score plugins skipped at PreScore, in profile
  // order: upstream runs none of them, so they add nothing to `total`.
  std::vector<std::string> skipped_scores;
  int64_t total = 0;
};

// A PreFilter rejection: no node was filtered.
struct PreFilterRejection {
  std::string plugin;  // empty: the pod itself is invalid (a bad legacy annotation)
  std::string message;
};

struct Explanation {
  std::string pod;
  EffectiveRequests requests;
  std::optional<PreFilterRejection> pre_filter_rejection;
  // The profile's enabled score plugins, in order: each feasible node has
  // every one of them either in `scores` or in `skipped_scores`, unless
  // scoring failed.
  std::vector<std::string> score_plugins;
  // Why scoring failed (a PreScore or Score error, e.g. NodeAffinity's
  // preferred term that does not parse); the feasible nodes then have no
  // scores. Upstream scores only when two or more nodes are feasible, so
  // with one the pod is still placed.
  std::string score_error;
  std::vector<NodeExplanation> nodes;  // in cluster order
  std::string selected;                // empty: none
  // When none: the FitError text, or the cycle's error.
  std::string message;
};

// ExplainPod()
//
// The same record for `pod` against `host`'s cluster as it is now, without
// the selection, which would draw on the scheduler's randomness: `selected`
// and `message` are left empty. Changes nothing in the cluster, so the
// simulator can explain pods as it goes (sim/html_report.h). Runs on the
// scheduling thread.
absl::StatusOr<Explanation> ExplainPod(Host& host, const model::Pod& pod);

// ExplainAndSelect()
//
// ExplainPod, then the selection by the scheduler's own algorithm (the
// host's seed): the whole record `kestrel explain` prints. Assumes nothing.
absl::StatusOr<Explanation> ExplainAndSelect(Host& host, const model::Pod& pod);

// ExplainSummary is the compact form of an Explanation that the HTML
// report keeps per pod: per filter plugin, how many nodes it rejected and
// why; the best-scored nodes.
struct ExplainSummary {
  struct Filter {
    std::string plugin;
    bool skipped = false;  // PreFilter returned Skip: it ran on no node
    int rejected = 0;      // nodes
    // The rejecting verdicts and how many nodes gave each, most common
    // first, then by text; at most kMaxReasons, `other` counts the rest.
    std::vector<std::pair<std::string, int>> reasons;
    int other = 0;
  };
  struct Scored {
    std::string node;
    int64_t total = 0;
    // Per `score_plugins`; nullopt: skipped at PreScore.
    std::vector<std::optional<int64_t>> scores;
  };
  static constexpr size_t kMaxReasons = 5;

  std::optional<PreFilterRejection> pre_filter_rejection;
  // Nodes a PreFilterResult left out (NodeExplanation::excluded), and why.
  int excluded = 0;
  std::string excluded_reason;
  std::vector<Filter> filters;  // profile order; empty after a PreFilter rejection
  int feasible = 0;
  std::vector<std::string> score_plugins;
  std::string score_error;
  std::vector<Scored> top;  // best total first, then cluster order
  // How many feasible nodes have the best total: the scheduler picks one
  // of them at random (seeded), maybe one not in `top`.
  int best_ties = 0;

  bool operator==(const ExplainSummary& o) const;
};

// Summarize()
//
// The summary of `e`, with its `top_nodes` best-scored feasible nodes.
ExplainSummary Summarize(const Explanation& e, size_t top_nodes);

// SummarizePod()
//
// Summarize(ExplainPod(host, pod), top_nodes), without building the
// per-node record: filters that check the node table's columns run over
// its rows (asked for reasons only where they reject), scores as the
// scheduler computes them. About 2 ms a pod on the 5,000-node demo
// cluster, where ExplainPod took about 20 (most of it allocating the
// per-node strings). `//sim:explain_test` checks the two agree.
absl::StatusOr<ExplainSummary> SummarizePod(Host& host, const model::Pod& pod, size_t top_nodes);

// Explains `pod_key` (namespace/name), a pending pod of `cluster`, against
// the cluster's nodes and bound pods.
absl::StatusOr<Explanation> Explain(const Cluster& cluster,
                                    const config::KubeSchedulerConfiguration& config,
                                    const std::string& pod_key, const SimOptions& options);

}  // namespace kestrel::sim

#endif  // KESTREL_SIM_EXPLAIN_H_
