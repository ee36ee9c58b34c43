// File: upstream.h
//
// Test references for PodTopologySpread and InterPodAffinity:
// kube-scheduler's answers computed from the API objects alone (the nodes,
// the bound pods and the Namespaces, as decoded protobufs), by scanning every
// pod for every question. They are transcribed from upstream's code, not from
// Kestrel's:
//
//   pkg/scheduler/framework/plugins/podtopologyspread/{common,filtering,scoring}.go
//   pkg/scheduler/framework/plugins/interpodaffinity/{filtering,scoring}.go
//   pkg/scheduler/framework/types.go (AffinityTerm.Matches)
//   staging/src/k8s.io/component-helpers/scheduling/corev1/nodeaffinity
//   staging/src/k8s.io/api/core/v1/toleration.go (ToleratesTaint)
//   staging/src/k8s.io/apimachinery/pkg/labels (selector semantics)
//
// and they carry their own label-selector, namespace, node-affinity and
// toleration matching. They share no code with model/, scheduler/ or the
// plugins, so a bug there cannot hide by being on both sides of a
// comparison. They are slow on purpose: a few hundred pods at most.
//
// Where Kestrel has no upstream object to read, the reference follows
// Kestrel's documented stand-in: PodTopologySpread's default selector is the
// pod's labels less the per-pod ones when its controller is a
// ReplicationController, ReplicaSet or StatefulSet (see
// PodTopologySpreadFilter::DefaultSelector), since no Services or
// controllers are loaded.
//
// Example:
//   const upstream::FilterResult want =
//       upstream::PodTopologySpreadFilter(args, world.api, api_pod);
//   EXPECT_EQ(want.skip, plugin.PreFilter(state, *pod, nodes).IsSkip());
//   EXPECT_EQ(VerdictOf(plugin.Filter(state, *pod, world.Info("n1"))),
//             want.nodes.at("n1"));

#ifndef KESTREL_PREDICATES_TESTING_UPSTREAM_H_
#define KESTREL_PREDICATES_TESTING_UPSTREAM_H_

#include <cstdint>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "absl/types/span.h"
#include "api/config/config.pb.h"
#include "api/core.pb.h"
#include "api/meta.pb.h"

namespace kestrel::testing::upstream {

namespace v1 = ::k8s::io::api::core::v1;
namespace metav1 = ::k8s::io::apimachinery::pkg::apis::meta::v1;
using LabelMap = ::google::protobuf::Map<std::string, std::string>;

// The objects kube-scheduler would see: nodes, pods bound to them
// (spec.nodeName), and the Namespace objects by name with their labels.
struct Cluster {
  std::vector<v1::Node> nodes;
  std::vector<v1::Pod> pods;
  std::map<std::string, LabelMap> namespaces;
};

// metav1.LabelSelectorAsSelector(selector).Matches(labels): nullptr (a nil
// selector) matches nothing, an empty one everything.
bool SelectorMatches(const metav1::LabelSelector* selector, const LabelMap& labels);

// nodeaffinity.GetRequiredNodeAffinity(pod).Match(node): spec.nodeSelector
// and the required node affinity terms.
bool MatchesRequiredNodeAffinity(const v1::Pod& pod, const v1::Node& node);

// v1helper.FindMatchingUntoleratedTaint with DoNotScheduleTaintsFilterFunc:
// some NoSchedule or NoExecute taint of the node is not tolerated.
bool HasUntoleratedDoNotScheduleTaint(const v1::Pod& pod, const v1::Node& node);

// A Filter verdict: the code and upstream's reason, word for word.
struct Verdict {
  enum class Code { kSuccess, kUnschedulable, kUnschedulableAndUnresolvable };
  Code code = Code::kSuccess;
  std::string reason;

  friend bool operator==(const Verdict& a, const Verdict& b) {
    return a.code == b.code && a.reason == b.reason;
  }
  friend bool operator!=(const Verdict& a, const Verdict& b) { return !(a == b); }
};
std::ostream& operator<<(std::ostream& os, const Verdict& v);

// PreFilter then Filter on every node of the cluster.
struct FilterResult {
  bool skip = false;                     // PreFilter returned Skip
  std::map<std::string, Verdict> nodes;  // by node name; empty when skipped
};

// PreScore, Score on each feasible node, then NormalizeScore.
struct ScoreResult {
  bool skip = false;                          // PreScore returned Skip
  std::map<std::string, int64_t> raw;         // by node name
  std::map<std::string, int64_t> normalized;  // by node name
};

// PodTopologySpread. `args` as written in the configuration (defaulted here:
// an empty defaultingType is System). Scoring needs Go's math.Log of the
// number of domains + 2, so at most 1024 domains or feasible nodes.
FilterResult PodTopologySpreadFilter(const config::PodTopologySpreadArgs& args,
                                     const Cluster& cluster, const v1::Pod& pod);
ScoreResult PodTopologySpreadScore(const config::PodTopologySpreadArgs& args,
                                   const Cluster& cluster, const v1::Pod& pod,
                                   const std::vector<std::string>& feasible);

// InterPodAffinity.
FilterResult InterPodAffinityFilter(const Cluster& cluster, const v1::Pod& pod);
ScoreResult InterPodAffinityScore(const config::InterPodAffinityArgs& args,
                                  const Cluster& cluster, const v1::Pod& pod,
                                  const std::vector<std::string>& feasible);

// Go's math.Log, as Go itself computed it: {x, log(x)} as IEEE 754 bit
// patterns, written by tools/go_math_log (see testdata/go_math_log.inc).
struct GoLogEntry {
  uint64_t x;
  uint64_t log;
};
absl::Span<const GoLogEntry> GoMathLogTable();
// math.Log(x) from the table; nullopt when x is not in it.
std::optional<double> GoMathLog(double x);

}  // namespace kestrel::testing::upstream

#endif  // KESTREL_PREDICATES_TESTING_UPSTREAM_H_
