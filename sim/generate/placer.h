// File: generate/placer.h
// -----------------------------------------------------------------------------
//
// Placement of init pods, as a scheduler could have made it: round-robin over
// the nodes from where the last placement stopped, taking the first node
// that passes the filters a pod's template asks for:
//   - resources: cpu, memory, GPUs and the pod count fit what is left;
//   - taints: every NoSchedule/NoExecute taint is tolerated;
//   - nodeSelector and required node affinity (In, NotIn, Exists,
//     DoesNotExist on labels; metadata.name fields);
//   - required pod anti-affinity, both the pod's own terms and those of the
//     pods already placed (symmetry);
//   - required pod affinity, with upstream's rule for the first pod of a
//     series: when no placed pod matches all its terms and the pod matches
//     them itself, any node having the topology keys will do (upstream only
//     counts pods on nodes with those keys; in these workloads every node
//     has them);
//   - DoNotSchedule topology spreading: upstream's skew (matching pods in the
//     node's domain, plus one if the pod matches, minus the least of any
//     domain among the nodes the constraint's inclusion policies admit) is
//     at most maxSkew.
// Preferred terms and ScheduleAnyway constraints are scores, not filters: a
// scheduler could place the pod on any node that passes, and the placer does
// not weigh them. Round-robin is close to what LeastAllocated scoring does
// on identical nodes; a scheduler honouring preferred pod affinity would
// rather stack those pods.
//
// The placer is a deliberately small copy of the filters these workloads
// need, so that the generator does not depend on scheduler/. Internal to
// sim/generate.cc and its families.

#ifndef KESTREL_SIM_GENERATE_PLACER_H_
#define KESTREL_SIM_GENERATE_PLACER_H_

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/generate/templates.h"

namespace kestrel::sim::generate_internal {

// Placer
//
// Runs on the generator's one thread; not thread-safe.
class Placer {
 public:
  // Records a namespace's labels, for namespaceSelector terms.
  void AddNamespace(const std::string& name, const Labels& labels);

  // `labels` are all the node's labels, hostname and zone included.
  void AddNode(std::shared_ptr<const NodeTemplate> node, std::string name,
               Labels labels);

  // Places one pod of `shared` and records it there. The node index, or -1
  // when no node can take the pod.
  int Place(const std::shared_ptr<const PodTemplate>& shared);

 private:
  // Placed pods, counted by template: a template's pods share namespace and
  // labels, so a term matches all of them or none. placed_templates_ keeps
  // the templates alive.
  using TemplateCounts = std::vector<std::pair<const PodTemplate*, int>>;

  struct NodeState {
    std::shared_ptr<const NodeTemplate> node;
    std::string name;
    Labels labels;
    Resources used;
    TemplateCounts pods;
  };

  // One DoNotSchedule constraint of a template: the nodes its inclusion
  // policies admit, and the matching pods on them per domain.
  struct SpreadState {
    std::shared_ptr<const PodTemplate> owner;
    const SpreadConstraint* constraint;
    std::vector<bool> eligible;
    std::map<std::string, int> matching;
  };

  static void Add(TemplateCounts& counts, const PodTemplate* pod);

  bool Fits(const PodTemplate& pod, const NodeState& node) const;

  // Whether `term` of a pod in namespace `owner_ns` selects pods of
  // `candidate` (upstream AffinityTerm.Matches).
  bool TermSelects(const AffinityTerm& term, const std::string& owner_ns,
                   const PodTemplate& candidate) const;

  // The placed pods in the node's domain of `topology_key`; null when the
  // node has no such label or no pod is there.
  const TemplateCounts* PodsInDomain(const NodeState& node,
                                     const std::string& topology_key) const;

  bool SatisfiesPodAffinity(const PodTemplate& pod,
                            const NodeState& node) const;

  bool SatisfiesSpreading(const PodTemplate& pod, const NodeState& node,
                          const std::vector<SpreadState*>& spreading,
                          const std::vector<int>& min_match) const;

  // Whether a pod of `constraint`'s owner counts towards its domains.
  bool CountsFor(const SpreadState& s, const PodTemplate& placed) const;

  // The DoNotSchedule constraints of `pod`, set up on first use (all nodes
  // exist by then).
  std::vector<SpreadState*> SpreadStatesOf(
      const std::shared_ptr<const PodTemplate>& shared);

  void Record(const std::shared_ptr<const PodTemplate>& shared, int i);

  std::map<std::string, Labels> namespace_labels_;
  std::vector<NodeState> nodes_;
  // Placed pods per (topology key, value) of every node label.
  std::map<std::pair<std::string, std::string>, TemplateCounts> domains_;
  std::vector<std::shared_ptr<const PodTemplate>> placed_templates_;
  std::vector<const PodTemplate*> anti_affinity_templates_;
  std::deque<SpreadState> spread_states_;  // stable addresses
  int cursor_ = 0;
};

}  // namespace kestrel::sim::generate_internal

#endif  // KESTREL_SIM_GENERATE_PLACER_H_
