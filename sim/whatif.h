// File: whatif.h
//
// WhatIf answers the what-if questions of the gRPC service (`kestrel serve`)
// and of `kestrel place` / `kestrel capacity` against one loaded cluster,
// the base: where would these pods go, why would this pod go there, how many
// more copies of this pod fit. Each question runs on its own fork of the
// base (Host::Fork: a copy of the loaded cache and a scheduler of its own),
// so nothing a question schedules is seen by any other, many questions run
// at once, and an answer depends only on the base, the question and its
// seed, never on what else runs.
//
// Example:
//   ASSIGN_OR_RETURN(Cluster c, LoadFiles({"cluster.yaml"}));
//   ASSIGN_OR_RETURN(auto whatif, WhatIf::Create(std::move(c), DefaultConfig()));
//   ASSIGN_OR_RETURN(model::PodPtr pod, whatif->CompilePod(api_pod, "template"));
//   ASSIGN_OR_RETURN(CapacityResult r, whatif->Capacity(pod, 100, {}));
//
// Threading: every method is const and may be called from any number of
// threads at once (the interner they compile into is thread-safe).

#ifndef KESTREL_SIM_WHATIF_H_
#define KESTREL_SIM_WHATIF_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/config/config.pb.h"
#include "api/core.pb.h"
#include "sim/cluster.h"
#include "sim/explain.h"
#include "scheduler/cache/cache.h"
#include "sim/simulator.h"

namespace kestrel::sim {

// Interrupt is asked before each pod is scheduled; a status other than OK
// (DeadlineExceeded, Cancelled) stops the question, which answers it.
using Interrupt = std::function<absl::Status()>;

class WhatIf;

// A cluster state a question left behind (WhatIfOptions::keep), for later
// questions to start from (WhatIfOptions::from) instead of the loaded
// cluster. Never changed once kept: every question on it works on a fork
// of its own. Only the WhatIf that kept it may use it.
class KeptState {
 public:
  KeptState(const KeptState&) = delete;
  KeptState& operator=(const KeptState&) = delete;

 private:
  friend class WhatIf;
  KeptState(const WhatIf* owner, std::unique_ptr<Host> host)
      : owner_(owner), host_(std::move(host)) {}
  const WhatIf* owner_;
  std::unique_ptr<Host> host_;  // frozen
};

// Changes made to a question's fork before the question is asked, in this
// order: pods removed, nodes removed, nodes added, pods added.
struct ForkDelta {
  // namespace/name of bound pods.
  std::vector<std::string> remove_pods;
  // Node names; their pods stay, on no node, as the scheduler's cache
  // keeps them, until removed themselves.
  std::vector<std::string> remove_nodes;
  std::vector<::k8s::io::api::core::v1::Node> add_nodes;
  // Bound pods (spec.nodeName set): running already, priority as admitted.
  std::vector<::k8s::io::api::core::v1::Pod> add_pods;

  bool empty() const {
    return remove_pods.empty() && remove_nodes.empty() && add_nodes.empty() && add_pods.empty();
  }
};

struct WhatIfOptions {
  // Ties between best nodes are broken by a random choice from this seed.
  uint64_t seed = 1;
  // Place: run DefaultPreemption for pods that fit nowhere. Capacity never
  // preempts (it counts free room), Explain never schedules.
  bool preemption = true;
  // Filter/score threads of the question's scheduler, the caller's
  // included. Answers do not depend on it.
  int threads = 1;
  // May be empty.
  Interrupt interrupt;
  // Start from this state (kept by this WhatIf) instead of the loaded
  // cluster; null: the loaded cluster.
  std::shared_ptr<const KeptState> from;
  // Applied to the fork before the question; errors name
  // "delta.<field>[i]".
  ForkDelta delta;
  // Not null: the fork, as the question leaves it (Place's pods placed,
  // Drain's nodes cordoned and pods moved, Capacity's copies placed), is
  // kept here. ScaleUp keeps nothing (each template has its own fork).
  std::shared_ptr<const KeptState>* keep = nullptr;
};

struct CapacityResult {
  // Copies of the template placed, one after another.
  int64_t count = 0;
  // How many copies each node took, nodes in cluster order; nodes that took
  // none are left out.
  std::vector<std::pair<std::string, int64_t>> per_node;
  // Why the next copy did not fit: its FitError text (or the cycle's
  // error). Empty when `limit` copies fit.
  std::string stopped_by;
};

// One kind of node an autoscaler could add (a node group).
struct NodeTemplate {
  // New nodes are named <name>-<i>, i from 1.
  std::string name;
  // The node to copy: labels, taints, allocatable. Each copy gets its own
  // name and the label kubernetes.io/hostname=<name>-<i>.
  ::k8s::io::api::core::v1::Node node;
  // At most this many nodes are added (>= 1).
  int64_t max_count = 1;
};

// The annotation of a template Node (ReadNodeTemplates) that sets its
// max_count.
inline constexpr char kMaxCountAnnotation[] = "kestrel.io/max-count";

// ReadNodeTemplates()
//
// `kestrel scaleup --templates`: every object of the file (a List, a YAML
// stream, or JSON) is a Node, the template named by its metadata.name, with
// max_count from its annotation kestrel.io/max-count, or
// `default_max_count` without one. Errors name the file, the object and the
// field; templates are checked further by WhatIf::CheckNodeTemplate.
absl::StatusOr<std::vector<NodeTemplate>> ReadNodeTemplates(const std::string& path,
                                                            int64_t default_max_count);

// A node ScaleUp added, and the pods that went to it in the order placed.
struct NewNode {
  std::string name;
  std::vector<std::string> pods;  // namespace/name
};

// A pod a template does not place, and why.
struct Unplaced {
  std::string pod;      // namespace/name
  std::string message;  // the FitError of its last attempt
};

// One template's answer, on a fork of its own.
struct TemplateScaleUp {
  std::string name;
  // Nodes added (nodes.size()); <= max_count.
  int64_t nodes_needed = 0;
  std::vector<NewNode> nodes;
  // Pods that fit no existing node and that this template does not place,
  // in scheduling order; with `max_count_reached` false, none of them fits
  // an empty node of this template either.
  std::vector<Unplaced> unplaced;
  bool max_count_reached = false;
};

struct ScaleUpResult {
  // Pods that fit the cluster as it is, with their nodes (no node is added
  // for them), in scheduling order.
  std::vector<Placement> fit_existing;
  // One per template, in request order.
  std::vector<TemplateScaleUp> templates;
  // Pods no template places, in scheduling order, with the message of the
  // first template's last attempt.
  std::vector<Unplaced> no_template;
};

struct DrainOptions {
  // Evict pods with emptyDir volumes too (kubectl drain
  // --delete-emptydir-data, cluster-autoscaler
  // --skip-nodes-with-local-storage=false); off: they block the drain.
  bool delete_local_data = false;
};

// What a drain does with one pod of a drained node.
struct DrainedPod {
  enum class Action {
    kMoved,     // evicted and placed on `node`
    kUnplaced,  // evicted, and fits no other node: `reason` is the FitError
    kStays,     // not evicted: a DaemonSet or mirror pod (`reason`)
    kBlocked,   // may not be evicted (`reason`): the node is not drainable
  };
  std::string pod;  // namespace/name
  Action action = Action::kMoved;
  std::string node;
  std::string reason;
};

// "moved", "unplaced", "stays", "blocked".
absl::string_view ActionName(DrainedPod::Action action);

struct NodeDrain {
  std::string node;
  // Every pod is moved or stays.
  bool drainable = false;
  // The node's pods in cluster order.
  std::vector<DrainedPod> pods;
};

class WhatIf {
 public:
  // Create()
  //
  // Loads the nodes, bound pods, namespaces and budgets of `cluster` into
  // the base. The cluster's pending pods are not scheduled: questions ask
  // about their own pods. `config` is validated here.
  static absl::StatusOr<std::unique_ptr<WhatIf>> Create(
      Cluster cluster, config::KubeSchedulerConfiguration config);

  // CreateFromCache()
  //
  // The base of a live host (host/live_whatif.h): a copy of `state`, the
  // cache its informers keep (only read here, so the host must not change
  // it meanwhile), with the budgets, priority classes, nodes (Capacity's
  // order), pending pods and interner of `cluster`; `cluster.bound_pods`
  // may be empty, the cache holds them.
  static absl::StatusOr<std::unique_ptr<WhatIf>> CreateFromCache(
      Cluster cluster, const cache::Cache& state, config::KubeSchedulerConfiguration config);

  WhatIf(const WhatIf&) = delete;
  WhatIf& operator=(const WhatIf&) = delete;

  const Cluster& cluster() const { return cluster_; }

  // CompilePod()
  //
  // `pod` defaulted as the API server would on create, validated, compiled
  // into the base's interner, and its priority admitted against the
  // cluster's PriorityClasses. Errors are InvalidArgument and read
  // "<field>: Pod <ns>/<name>: <path>: <problem>", `field` being where the
  // pod is (its place in a request, "pods[2]", or a file name): a pod with no
  // containers, a quantity that does not parse, a bound pod
  // (spec.nodeName set), anything the API server would refuse.
  absl::StatusOr<model::PodPtr> CompilePod(::k8s::io::api::core::v1::Pod pod,
                                           absl::string_view field) const;

  // CompilePodFile()
  //
  // Every object of a file (a List, a YAML stream, or JSON) compiled with
  // CompilePod, `path` as the field: what `kestrel place --pods` and
  // `kestrel capacity --template` read. An object that is not a Pod is an
  // error naming it.
  absl::StatusOr<std::vector<model::PodPtr>> CompilePodFile(const std::string& path) const;

  // Place()
  //
  // Schedules `pods` one after another, each seeing those placed before it,
  // in the simulator's order (priority, then request order) and with
  // preemption unless turned off: the placements `kestrel simulate` reports
  // for the same pods added to the cluster, without the rescheduler. A pod
  // whose namespace/name is a bound pod's or another request pod's is an
  // InvalidArgument naming `pods[i].metadata.name`.
  absl::StatusOr<std::vector<Placement>> Place(const std::vector<model::PodPtr>& pods,
                                               const WhatIfOptions& options) const;

  // Explain()
  //
  // ExplainPod on a fork: filter verdicts and scores per node, and the
  // node the scheduler would select with this seed.
  absl::StatusOr<Explanation> Explain(const model::PodPtr& pod,
                                      const WhatIfOptions& options) const;

  // Capacity()
  //
  // cluster-capacity's question: copies of `pod` (named <name>-<i>, i from
  // 1) are scheduled one after another with the full profile and without
  // preemption, each seeing the copies before it (so anti-affinity and
  // spreading count them), until one does not fit or `limit` fit (`limit`
  // <= 0: no limit; pods-per-node limits end it).
  absl::StatusOr<CapacityResult> Capacity(const model::PodPtr& pod, int64_t limit,
                                          const WhatIfOptions& options) const;

  // CheckNodeTemplate()
  //
  // InvalidArgument naming `field` ("node_templates[1]") and the problem
  // when `t` could not be scaled up: no name, a name that is not a DNS
  // label, max_count < 1, a node that does not compile.
  absl::Status CheckNodeTemplate(const NodeTemplate& t, absl::string_view field) const;

  // ScaleUp()
  //
  // The cluster-autoscaler's question, answered by scheduling for real:
  // which of `pods` (empty: the cluster's pending pods) fit once nodes of a
  // template are added, and how many nodes that takes. Pods are taken in
  // the simulator's order (priority, then request order) and never preempt.
  //
  // Each template is evaluated on a fork of its own, independently of the
  // others (the options an autoscaler's expander compares). On it, every
  // pod is first scheduled on the cluster as it is; those that fit are
  // `fit_existing` (the same for every template). Then, as
  // cluster-autoscaler's binpacking estimator, each remaining pod is
  // scheduled again on the cluster with the nodes added so far; when it
  // does not fit and fewer than max_count nodes were added, one more node
  // of the template is added and the pod scheduled once more; if it still
  // does not fit, that node is removed again (the pod fits no new node)
  // and the pod is unplaced. A pod may land on any node, old or new; new
  // nodes are listed with the pods they took.
  //
  // Errors: InvalidArgument for a duplicate pod (as Place), a bad template
  // (CheckNodeTemplate), or a new node's name that an existing node has.
  absl::StatusOr<ScaleUpResult> ScaleUp(const std::vector<model::PodPtr>& pods,
                                        const std::vector<NodeTemplate>& templates,
                                        const WhatIfOptions& options) const;

  // Drain()
  //
  // Could `nodes` be drained together? On one fork every named node is
  // cordoned at once; each of their pods, node by node in request order
  // and pods in cluster order, is then judged as kubectl drain and
  // cluster-autoscaler's drain rules (GetPodsToMove) judge it:
  //   - a mirror pod (annotation kubernetes.io/config.mirror) or a pod a
  //     DaemonSet controls stays, and does not stop the drain;
  //   - a pod without a controller (no ownerReference with controller:
  //     true) is blocked: nothing would recreate it ("<ns>/<name> is not
  //     replicated", as cluster-autoscaler says);
  //   - a pod with an emptyDir volume is blocked unless
  //     `drain.delete_local_data` ("pod with local storage present: ...");
  //   - a pod whose eviction a PodDisruptionBudget would refuse (its
  //     disruptionsAllowed already spent by the evictions before it, all
  //     nodes counted together) is blocked, naming the budget; more than
  //     one budget selecting the pod blocks it too, as the eviction API.
  // The other pods are evicted (budgets spent), and then scheduled again,
  // without preemption, by priority then in that order, onto the nodes
  // left: moved to a node, or unplaced with the FitError. A node is
  // drainable when none of its pods is blocked or unplaced. Not modelled:
  // cluster-autoscaler's safe-to-evict annotations, its kube-system rule
  // (pods there without a budget block), and a controller that no longer
  // exists.
  //
  // Errors: InvalidArgument naming nodes[i] for an empty, repeated or
  // unknown node.
  absl::StatusOr<std::vector<NodeDrain>> Drain(const std::vector<std::string>& nodes,
                                               const DrainOptions& drain,
                                               const WhatIfOptions& options) const;

 private:
  WhatIf() = default;
  // Create's and CreateFromCache's shared part: `make_base` builds base_.
  static absl::StatusOr<std::unique_ptr<WhatIf>> Build(
      Cluster cluster, config::KubeSchedulerConfiguration config,
      const std::function<absl::StatusOr<std::unique_ptr<Host>>(const WhatIf&, const SimOptions&)>&
          make_base);
  // A fork of options.from (or the base) with options.delta applied.
  absl::StatusOr<std::unique_ptr<Host>> Fork(const WhatIfOptions& options,
                                             bool preemption) const;
  absl::Status ApplyDelta(const ForkDelta& delta, Host& host) const;
  // Freezes `host` into *options.keep when asked to keep it.
  void Keep(const WhatIfOptions& options, std::unique_ptr<Host> host) const;
  // Copy `index` (from 1) of template `t`, compiled.
  absl::StatusOr<model::NodePtr> TemplateNode(const NodeTemplate& t, int64_t index) const;
  // InvalidArgument naming pods[i] when two pods, or a pod and a bound pod
  // of `host`, share a namespace/name.
  absl::Status CheckUniquePods(const std::vector<model::PodPtr>& pods, const Host& host) const;

  Cluster cluster_;
  config::KubeSchedulerConfiguration config_;
  // config_ with every profile's PostFilter plugins disabled.
  config::KubeSchedulerConfiguration no_preemption_config_;
  // Never scheduled into: only forked.
  std::unique_ptr<Host> base_;
};

}  // namespace kestrel::sim

#endif  // KESTREL_SIM_WHATIF_H_
