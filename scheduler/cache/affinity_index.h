// File: affinity_index.h
//
// AffinityIndex answers "how many existing pods of this kind are in each
// topology domain" without scanning pods: it is kept current as pods are
// added, assumed, forgotten and removed (DESIGN section 4.4). Upstream's
// InterPodAffinity and PodTopologySpread recompute these counts from every
// pod of the cluster for every pod they schedule; here a PreFilter costs
// O(distinct terms), and a filter over all nodes is a loop over dense
// domain ids.
//
// It holds three things, all over the rows of one Snapshot (row r is
// snapshot.nodes()[r]):
//
//   Topology    for a topology key in use, each row's domain: a dense id of
//               the node's value for the key, or -1 when the node lacks it.
//   Selection   a set of pods, given as ANDed clauses (namespaces, namespace
//               selector, label selector): the pods an incoming pod's
//               affinity terms or spread constraints select. Per row and per
//               domain of each key asked for, the number of such pods.
//               Registered on first use, then kept current.
//   Existing    the affinity terms that existing pods carry, deduplicated:
//   terms       per distinct term (and its topology key), the number of
//               carriers (or the sum of their weights) per domain. These are
//               the terms that may forbid or favour a domain for an
//               incoming pod they match (upstream's symmetry rules).
//
// Example (a required anti-affinity term of the incoming pod, in PreFilter):
//   AffinityIndex& index = *state.mutable_index();
//   const AffinityIndex::Topology& topo = index.GetTopology(term.topology_key);
//   SelectionId s = index.Select({AffinityIndex::ClauseOf(term)});
//   const std::vector<int32_t>& counts = index.DomainCounts(s, term.topology_key);
//   // node in row r is forbidden when topo.domain_of_row[r] >= 0 &&
//   //   counts[topo.domain_of_row[r]] > 0.
//
// Thread-compatible, split by constness: the non-const members register on
// first use (GetTopology, Select, DomainCounts) or update, and run on the
// scheduling thread only; the const members only read, and may run on many
// threads at once. The types keep it so: a cycle's plugins reach the index
// through a const Snapshot (CycleState::snapshot), and only PreFilter and
// PreScore, on the scheduling thread, get it writable
// (CycleState::mutable_index()). A reader that meets a topology key nobody
// registered (FindTopology returns null) works from the node's labels.

#ifndef KESTREL_SCHEDULER_CACHE_AFFINITY_INDEX_H_
#define KESTREL_SCHEDULER_CACHE_AFFINITY_INDEX_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/types/span.h"
#include "model/labels.h"
#include "model/objects.h"
#include "scheduler/framework/node_info.h"

namespace kestrel::cache {

// Namespace labels by namespace id: what namespace selectors match.
using NamespaceLabels = absl::flat_hash_map<model::Id, model::Labels>;

class AffinityIndex {
 public:
  struct Topology {
    model::Id key = model::kNoId;
    std::vector<int32_t> domain_of_row;  // -1: the node lacks the key
    absl::flat_hash_map<model::Id, int32_t> domain_of_value;
    size_t num_domains() const { return domain_of_value.size(); }
    // The domain of a node by its labels; -1 when it lacks the key.
    int32_t DomainOf(const model::Node& node) const;
  };

  // One ANDed part of a selection: upstream AffinityTerm.Matches without
  // the topology key.
  struct Clause {
    std::vector<model::Id> namespaces;  // sorted
    model::LabelSelector namespace_selector;
    model::LabelSelector selector;
  };
  static Clause ClauseOf(const model::AffinityTerm& term) {
    return {term.namespaces, term.namespace_selector, term.selector};
  }
  // The pods a spread constraint counts: the pod's namespace, the
  // constraint's selector, not terminating.
  static Clause ClauseOf(const model::TopologySpreadConstraint& c, model::Id ns) {
    return {{ns}, model::LabelSelector::Nothing(), c.selector};
  }

  using SelectionId = uint32_t;

  enum TermKind : uint8_t {
    kRequiredAffinity,
    kRequiredAntiAffinity,
    kPreferredAffinity,
    kPreferredAntiAffinity,
    kNumTermKinds,
  };

  // A distinct affinity term carried by existing pods. `by_domain` is over
  // the domains of GetTopology(term.topology_key): the number of carriers
  // there (required kinds) or the sum of their weights (preferred kinds).
  struct ExistingTerm {
    model::AffinityTerm term;
    std::vector<int64_t> by_domain;
    int64_t carriers = 0;  // pods carrying it on nodes with the key
  };

  AffinityIndex() = default;
  AffinityIndex(const AffinityIndex&) = delete;
  AffinityIndex& operator=(const AffinityIndex&) = delete;

  // Rebuild()
  //
  // Recounts everything over `rows` (the snapshot's nodes) and `namespaces`,
  // keeping what was registered. Both must outlive the index's next Rebuild.
  void Rebuild(absl::Span<const framework::NodeInfo* const> rows,
               const NamespaceLabels* namespaces);

  // UpdatePod()
  //
  // `pod` was added to (sign = +1) or removed from (-1) the node in `row`.
  void UpdatePod(const model::Pod& pod, uint32_t row, int sign);

  // GetTopology()
  //
  // The domains of `key`, built and registered on first use.
  const Topology& GetTopology(model::Id key);

  // FindTopology()
  //
  // The domains of `key` if GetTopology registered it, else nullptr. For
  // readers off the scheduling thread (the PreFilter extensions AddPod and
  // RemovePod in preemption's dry runs), which must not register.
  const Topology* FindTopology(model::Id key) const;

  // Select()
  //
  // The selection of pods matching every clause (and, with
  // `skip_terminating`, not being deleted), registered on first use.
  SelectionId Select(const std::vector<Clause>& clauses, bool skip_terminating);

  // Per row, the number of pods of selection `s`.
  const std::vector<int32_t>& RowCounts(SelectionId s) const { return selections_[s]->rows; }

  // DomainCounts()
  //
  // Per domain of GetTopology(key), the number of pods of selection `s`.
  // `*total` (optional) gets their sum: the pods on nodes that have the key.
  const std::vector<int32_t>& DomainCounts(SelectionId s, model::Id key,
                                           int64_t* total = nullptr);

  // The distinct terms of `kind` that existing pods carry; entries whose
  // carriers dropped to zero stay (with zero counts) until the next Rebuild.
  const std::vector<ExistingTerm>& existing(TermKind kind) const { return existing_[kind].terms; }

  // The labels of namespace `ns`, or nullptr when it is unknown.
  const model::Labels* NamespaceLabelsOf(model::Id ns) const;
  // The same with no labels for an unknown namespace (upstream
  // GetNamespaceLabelsSnapshot): what existing pods' terms match against.
  const model::Labels& NamespaceLabelsOrEmpty(model::Id ns) const;

  // Whether `pod` is in selection `clauses` (exposed for tests).
  bool Matches(const std::vector<Clause>& clauses, bool skip_terminating,
               const model::Pod& pod) const;

 private:
  struct KeyCounts {
    model::Id key;
    const Topology* topology;
    std::vector<int32_t> by_domain;
    int64_t total = 0;
  };
  struct Selection {
    std::vector<Clause> clauses;
    bool skip_terminating = false;
    std::vector<int32_t> rows;
    std::vector<std::unique_ptr<KeyCounts>> keys;  // stable addresses
  };
  struct TermTable {
    std::vector<ExistingTerm> terms;
    absl::flat_hash_map<std::string, uint32_t> by_signature;
  };

  void BuildTopology(Topology* t) const;
  void CountSelection(Selection* s) const;
  static void CountKey(const Selection& s, const Topology& t, KeyCounts* k);
  void UpdateExistingTerms(const model::Pod& pod, uint32_t row, int sign);

  absl::Span<const framework::NodeInfo* const> rows_;
  const NamespaceLabels* namespaces_ = nullptr;
  std::vector<std::unique_ptr<Topology>> topologies_;
  std::vector<std::unique_ptr<Selection>> selections_;
  absl::flat_hash_map<std::string, SelectionId> selection_by_signature_;
  TermTable existing_[kNumTermKinds];
};

}  // namespace kestrel::cache

#endif  // KESTREL_SCHEDULER_CACHE_AFFINITY_INDEX_H_
