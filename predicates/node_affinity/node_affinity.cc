#include "predicates/node_affinity/node_affinity.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <utility>

#include "scheduler/cache/snapshot.h"

namespace kestrel::predicates {
namespace {

using cache::AffinityIndex;

constexpr char kRowStateKey[] = "PreFilterNodeAffinityRows";

// A label requirement as a test of a row's domain for the key: a table
// over the domains (slot 0 for nodes without the key) says which pass.
struct RowRequirement {
  const int32_t* domain_of_row;
  std::vector<uint8_t> passes;  // by domain + 1

  bool Matches(uint32_t row) const { return passes[domain_of_row[row] + 1]; }
};

struct RowTerm {
  std::vector<RowRequirement> expressions;
  const model::NodeSelectorTerm* term;  // for matchFields and emptiness
};

// Compiles `r`; false for Gt/Lt, which need the label's number.
bool CompileRequirement(AffinityIndex& index, const model::Requirement& r, RowRequirement* out) {
  if (r.op == model::SelectorOp::kGt || r.op == model::SelectorOp::kLt) return false;
  const AffinityIndex::Topology& topology = index.GetTopology(r.key);
  out->domain_of_row = topology.domain_of_row.data();
  // Slot 0: the node lacks the key. In and Exists need it; NotIn and
  // DoesNotExist pass without it.
  const bool in = r.op == model::SelectorOp::kIn || r.op == model::SelectorOp::kExists;
  out->passes.assign(topology.num_domains() + 1, r.op == model::SelectorOp::kExists ||
                                                     r.op == model::SelectorOp::kNotIn);
  out->passes[0] = !in;
  if (r.op == model::SelectorOp::kIn || r.op == model::SelectorOp::kNotIn) {
    for (model::Id v : r.values) {
      auto it = topology.domain_of_value.find(v);
      if (it != topology.domain_of_value.end()) out->passes[it->second + 1] = in;
    }
  }
  return true;
}

}  // namespace

struct NodeAffinityFilter::RowState : framework::StateData {
  std::vector<RowRequirement> selector;  // spec.nodeSelector, ANDed
  bool has_required = false;
  std::vector<RowTerm> terms;  // required node affinity, ORed
  // When the whole check is one AND of label requirements (no required
  // affinity, or one term without matchFields), filtering is one loop per
  // requirement.
  bool conjunction = false;

  std::unique_ptr<framework::StateData> Clone() const override {
    return std::make_unique<RowState>(*this);
  }

  bool Matches(uint32_t row, const framework::NodeTable& table) const {
    for (const RowRequirement& r : selector) {
      if (!r.Matches(row)) return false;
    }
    if (!has_required) return true;
    for (const RowTerm& t : terms) {
      if (t.term->expressions.empty() && t.term->fields.empty()) continue;  // matches nothing
      bool ok = true;
      for (const RowRequirement& r : t.expressions) ok = ok && r.Matches(row);
      if (ok && !t.term->fields.empty()) {
        const model::Id name = table.infos[row]->node()->name_id;
        for (const model::Requirement& f : t.term->fields) {
          const bool in = std::binary_search(f.values.begin(), f.values.end(), name);
          ok = ok && (f.op == model::SelectorOp::kIn ? in : !in);
        }
      }
      if (ok) return true;
    }
    return false;
  }
};

bool MatchesPodNodeAffinity(const model::Pod& pod, const model::Node& node) {
  for (const model::Requirement& r : pod.node_selector) {
    if (!r.Matches(node.labels)) return false;
  }
  return !pod.required_node_affinity.has_value() ||
         pod.required_node_affinity->Matches(node.labels, node.name_id);
}

std::optional<std::vector<model::Id>> PinnedNodeNames(const model::Pod& pod) {
  if (!pod.required_node_affinity.has_value() || pod.required_node_affinity->terms.empty()) {
    return std::nullopt;
  }
  std::vector<model::Id> names;
  for (const model::NodeSelectorTerm& term : pod.required_node_affinity->terms) {
    std::optional<std::vector<model::Id>> term_names;
    for (const model::Requirement& r : term.fields) {
      if (r.op != model::SelectorOp::kIn) continue;
      if (!term_names.has_value()) {
        term_names = r.values;
        continue;
      }
      std::vector<model::Id> both;
      std::set_intersection(term_names->begin(), term_names->end(), r.values.begin(),
                            r.values.end(), std::back_inserter(both));
      *term_names = std::move(both);
    }
    // Terms are ORed: one without a name requirement allows every node.
    if (!term_names.has_value()) return std::nullopt;
    std::vector<model::Id> either;
    std::set_union(names.begin(), names.end(), term_names->begin(), term_names->end(),
                   std::back_inserter(either));
    names = std::move(either);
  }
  return names;
}

absl::StatusOr<std::unique_ptr<NodeAffinityFilter>> NodeAffinityFilter::Create(
    const config::NodeAffinityArgs& args, model::Interner& names) {
  absl::StatusOr<AddedAffinity> added = CompileAddedAffinity(args, names);
  if (!added.ok()) return added.status();
  return std::make_unique<NodeAffinityFilter>(std::move(added->required));
}

NodeAffinityFilter::NodeAffinityFilter(std::optional<model::NodeSelector> added_required)
    : added_required_(std::move(added_required)) {}

framework::Status NodeAffinityFilter::PreFilter(framework::CycleState& state,
                                                const model::Pod& pod,
                                                framework::NodeInfoList /*nodes*/) {
  if (!pod.required_node_affinity.has_value() && !added_required_.has_value() &&
      pod.node_selector.empty()) {
    return framework::Status::Skip();
  }
  std::optional<std::vector<model::Id>> pinned = PinnedNodeNames(pod);
  if (pinned.has_value() && pinned->empty()) {
    return framework::Status::Unresolvable(kErrReasonConflict);
  }
  // The rows fast path, when every label requirement compiles.
  if (state.snapshot == nullptr || added_required_.has_value()) return framework::Status();
  AffinityIndex& index = state.snapshot->index();
  auto rows = std::make_unique<RowState>();
  for (const model::Requirement& r : pod.node_selector) {
    rows->selector.emplace_back();
    if (!CompileRequirement(index, r, &rows->selector.back())) return framework::Status();
  }
  if (pod.required_node_affinity.has_value()) {
    rows->has_required = true;
    for (const model::NodeSelectorTerm& t : pod.required_node_affinity->terms) {
      RowTerm term{{}, &t};
      for (const model::Requirement& r : t.expressions) {
        term.expressions.emplace_back();
        if (!CompileRequirement(index, r, &term.expressions.back())) return framework::Status();
      }
      rows->terms.push_back(std::move(term));
    }
  }
  rows->conjunction =
      !rows->has_required ||
      (rows->terms.size() == 1 && rows->terms[0].term->fields.empty() &&
       !rows->terms[0].term->expressions.empty());
  state.Write(kRowStateKey, std::move(rows));
  return framework::Status();
}

bool NodeAffinityFilter::Fits(const model::Pod& pod, const model::Node& node) const {
  if (added_required_.has_value() && !added_required_->Matches(node.labels, node.name_id)) {
    return false;
  }
  return MatchesPodNodeAffinity(pod, node);
}

framework::Status NodeAffinityFilter::Filter(const framework::CycleState& /*state*/,
                                             const model::Pod& pod,
                                             const framework::NodeInfo& node) const {
  const model::Node* n = node.node();
  if (n == nullptr) return framework::Status::Error("node not found");
  if (added_required_.has_value() && !added_required_->Matches(n->labels, n->name_id)) {
    return framework::Status::Unresolvable(kErrReasonEnforced);
  }
  if (!MatchesPodNodeAffinity(pod, *n)) return framework::Status::Unresolvable(kErrReasonPod);
  return framework::Status();
}

void NodeAffinityFilter::FilterRows(const framework::CycleState& state, const model::Pod& pod,
                                    const framework::NodeTable& table, size_t begin, size_t end,
                                    uint8_t* passed) const {
  if (const RowState* rows = state.Read<RowState>(kRowStateKey); rows != nullptr) {
    if (rows->conjunction) {
      auto apply = [&](const RowRequirement& q) {
        const int32_t* domain = q.domain_of_row;
        const uint8_t* passes = q.passes.data();
        for (size_t r = begin; r < end; ++r) passed[r] &= passes[domain[r] + 1];
      };
      for (const RowRequirement& q : rows->selector) apply(q);
      if (rows->has_required) {
        for (const RowRequirement& q : rows->terms[0].expressions) apply(q);
      }
      return;
    }
    for (size_t r = begin; r < end; ++r) {
      if (passed[r]) passed[r] = rows->Matches(static_cast<uint32_t>(r), table);
    }
    return;
  }
  for (size_t r = begin; r < end; ++r) {
    if (passed[r]) passed[r] = Fits(pod, *table.infos[r]->node());
  }
}

}  // namespace kestrel::predicates
