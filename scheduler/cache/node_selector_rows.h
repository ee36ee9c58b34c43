// File: node_selector_rows.h
//
// NodeSelectorRows is a pod's spec.nodeSelector and required node affinity
// compiled against a snapshot's rows: each label requirement becomes a
// table over the topology domains of its key (the AffinityIndex's
// Topology), so "does row r match" is a few array reads instead of label
// lookups. NodeAffinity filters with it; PodTopologySpread uses it for
// nodeAffinityPolicy: Honor.
//
// Gt and Lt need the label's number, not its domain: Compile returns
// nullopt for pods that use them, and the caller matches per node. A term
// that does not parse (model::NodeSelectorTerm::parse_errors) matches no
// row, as it matches no node.
//
// Example:
//   std::optional<NodeSelectorRows> rows = NodeSelectorRows::Compile(index, pod);
//   if (rows) rows->Filter(table, begin, end, passed);

#ifndef KESTREL_SCHEDULER_CACHE_NODE_SELECTOR_ROWS_H_
#define KESTREL_SCHEDULER_CACHE_NODE_SELECTOR_ROWS_H_

#include <cstdint>
#include <optional>
#include <vector>

#include "model/objects.h"
#include "scheduler/cache/affinity_index.h"
#include "scheduler/framework/node_table.h"

namespace kestrel::cache {

class NodeSelectorRows {
 public:
  // The pod's selector and required node affinity over the index's rows;
  // nullopt when a requirement is Gt or Lt. Registers topologies (call from
  // PreFilter/PreScore only).
  static std::optional<NodeSelectorRows> Compile(AffinityIndex& index, const model::Pod& pod);

  // Whether the node in `row` matches (upstream
  // RequiredNodeAffinity.Match); `table` gives node names for matchFields.
  bool Matches(uint32_t row, const framework::NodeTable& table) const;

  // passed[r] &= Matches(r) for r in [begin, end).
  void Filter(const framework::NodeTable& table, size_t begin, size_t end,
              uint8_t* passed) const;

 private:
  // A label requirement as a table over the key's domains (slot 0: the node
  // lacks the key).
  struct Requirement {
    const int32_t* domain_of_row;
    std::vector<uint8_t> passes;  // by domain + 1
    bool Matches(uint32_t row) const { return passes[domain_of_row[row] + 1]; }
  };
  struct Term {
    std::vector<Requirement> expressions;
    const model::NodeSelectorTerm* term;  // for matchFields and emptiness
  };
  static bool CompileRequirement(AffinityIndex& index, const model::Requirement& r,
                                 Requirement* out);

  std::vector<Requirement> selector_;  // spec.nodeSelector, ANDed
  bool has_required_ = false;
  std::vector<Term> terms_;  // required node affinity, ORed
  // One AND of label requirements (no required affinity, or one term
  // without matchFields): one loop per requirement.
  bool conjunction_ = false;
};

}  // namespace kestrel::cache

#endif  // KESTREL_SCHEDULER_CACHE_NODE_SELECTOR_ROWS_H_
