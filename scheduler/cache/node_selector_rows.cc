#include "scheduler/cache/node_selector_rows.h"

#include <algorithm>
#include <utility>

namespace kestrel::cache {
namespace {

// False for the terms upstream matches to no node: empty ones and ones that
// do not parse.
bool MatchesSomething(const model::NodeSelectorTerm& t) {
  return (!t.expressions.empty() || !t.fields.empty()) && t.parse_errors.empty();
}

}  // namespace

bool NodeSelectorRows::CompileRequirement(AffinityIndex& index, const model::Requirement& r,
                                          Requirement* out) {
  if (r.op == model::SelectorOp::kGt || r.op == model::SelectorOp::kLt) return false;
  const AffinityIndex::Topology& topology = index.GetTopology(r.key);
  out->domain_of_row = topology.domain_of_row.data();
  // In and Exists need the key; NotIn and DoesNotExist pass without it.
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

std::optional<NodeSelectorRows> NodeSelectorRows::Compile(AffinityIndex& index,
                                                          const model::Pod& pod) {
  NodeSelectorRows rows;
  for (const model::Requirement& r : pod.node_selector) {
    rows.selector_.emplace_back();
    if (!CompileRequirement(index, r, &rows.selector_.back())) return std::nullopt;
  }
  if (pod.required_node_affinity.has_value()) {
    rows.has_required_ = true;
    for (const model::NodeSelectorTerm& t : pod.required_node_affinity->terms) {
      Term term{{}, &t};
      // A term that does not parse matches no row; nothing to compile.
      if (!MatchesSomething(t)) {
        rows.terms_.push_back(std::move(term));
        continue;
      }
      for (const model::Requirement& r : t.expressions) {
        term.expressions.emplace_back();
        if (!CompileRequirement(index, r, &term.expressions.back())) return std::nullopt;
      }
      rows.terms_.push_back(std::move(term));
    }
  }
  rows.conjunction_ = !rows.has_required_ ||
                      (rows.terms_.size() == 1 && rows.terms_[0].term->fields.empty() &&
                       MatchesSomething(*rows.terms_[0].term));
  return rows;
}

bool NodeSelectorRows::Matches(uint32_t row, const framework::NodeTable& table) const {
  for (const Requirement& r : selector_) {
    if (!r.Matches(row)) return false;
  }
  if (!has_required_) return true;
  for (const Term& t : terms_) {
    if (!MatchesSomething(*t.term)) continue;
    bool ok = true;
    for (const Requirement& r : t.expressions) ok = ok && r.Matches(row);
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

void NodeSelectorRows::Filter(const framework::NodeTable& table, size_t begin, size_t end,
                              uint8_t* passed) const {
  if (!conjunction_) {
    for (size_t r = begin; r < end; ++r) {
      if (passed[r]) passed[r] = Matches(static_cast<uint32_t>(r), table);
    }
    return;
  }
  auto apply = [&](const Requirement& q) {
    const int32_t* domain = q.domain_of_row;
    const uint8_t* passes = q.passes.data();
    for (size_t r = begin; r < end; ++r) passed[r] &= passes[domain[r] + 1];
  };
  for (const Requirement& q : selector_) apply(q);
  if (has_required_) {
    for (const Requirement& q : terms_[0].expressions) apply(q);
  }
}

}  // namespace kestrel::cache
