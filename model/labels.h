// File: labels.h
//
// Compiled label sets and selectors. A label set is a small vector of
// (key id, value id) pairs sorted by key; selectors compile to id comparisons.
//
// Two selector kinds exist upstream and both are here:
//   - LabelSelector (metav1): matchLabels + matchExpressions with In, NotIn,
//     Exists, DoesNotExist. Used by pod affinity terms, topology spread, PDBs.
//   - NodeSelector (core/v1): terms ORed, each term's requirements ANDed, with
//     In, NotIn, Exists, DoesNotExist, Gt, Lt, and matchFields on metadata.name.

#ifndef KESTREL_MODEL_LABELS_H_
#define KESTREL_MODEL_LABELS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "model/interner.h"

namespace kestrel::model {

struct Label {
  Id key;
  Id value;
  // The value parsed as a base-10 int64 when it is one; for Gt/Lt.
  std::optional<int64_t> number;
};

// Labels is an immutable set of labels sorted by key.
class Labels {
 public:
  Labels() = default;
  // `labels` need not be sorted; keys must be unique.
  explicit Labels(std::vector<Label> labels);

  // Returns the value id for `key`, or kNoId when the key is absent.
  Id Get(Id key) const {
    const Label* l = Find(key);
    return l == nullptr ? kNoId : l->value;
  }
  const Label* Find(Id key) const;
  bool Has(Id key) const { return Find(key) != nullptr; }

  const std::vector<Label>& items() const { return items_; }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }

 private:
  std::vector<Label> items_;
};

enum class SelectorOp : uint8_t { kIn, kNotIn, kExists, kDoesNotExist, kGt, kLt };

// One requirement of a label or node selector.
struct Requirement {
  Id key = kNoId;
  SelectorOp op = SelectorOp::kIn;
  std::vector<Id> values;  // sorted; for In and NotIn
  int64_t number = 0;      // for Gt and Lt

  bool Matches(const Labels& labels) const;
};

// LabelSelector (metav1). A selector that was nil in the API matches nothing;
// an empty one matches everything.
struct LabelSelector {
  bool matches_nothing = true;
  std::vector<Requirement> requirements;  // ANDed

  static LabelSelector Everything() { return LabelSelector{false, {}}; }
  static LabelSelector Nothing() { return LabelSelector{true, {}}; }

  bool Matches(const Labels& labels) const {
    if (matches_nothing) return false;
    for (const Requirement& r : requirements) {
      if (!r.Matches(labels)) return false;
    }
    return true;
  }
  bool empty() const { return !matches_nothing && requirements.empty(); }
};

// A node selector term: label requirements and metadata.name requirements,
// all ANDed. A term with neither matches no node (upstream rule).
//
// A term the scheduler cannot parse (upstream component-helpers
// nodeaffinity: a value that is no label value, a Gt/Lt value that is no
// integer, ...) keeps its problems in `parse_errors` and matches no node;
// its well-formed metadata.name requirements are kept (they still pin the
// pod's candidate nodes, as upstream's PreFilter reads them from the API
// object), the rest are not compiled.
struct NodeSelectorTerm {
  std::vector<Requirement> expressions;
  std::vector<Requirement> fields;  // key unused: always metadata.name
  // Upstream's field errors, e.g. "[0].matchExpressions[0].values[0][zone]:
  // Invalid value: ...", with the path upstream's parser gives them.
  std::vector<std::string> parse_errors;

  bool Matches(const Labels& labels, Id node_name) const;
};

// NodeSelector: terms ORed. No terms matches no node.
struct NodeSelector {
  std::vector<NodeSelectorTerm> terms;

  bool Matches(const Labels& labels, Id node_name) const {
    for (const NodeSelectorTerm& t : terms) {
      if (t.Matches(labels, node_name)) return true;
    }
    return false;
  }
};

}  // namespace kestrel::model

#endif  // KESTREL_MODEL_LABELS_H_
