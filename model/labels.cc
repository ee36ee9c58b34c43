#include "model/labels.h"

#include <algorithm>

namespace kestrel::model {

Labels::Labels(std::vector<Label> labels) : items_(std::move(labels)) {
  std::sort(items_.begin(), items_.end(),
            [](const Label& a, const Label& b) { return a.key < b.key; });
}

const Label* Labels::Find(Id key) const {
  // Label sets are small: a linear scan beats a binary search below ~16.
  if (items_.size() <= 16) {
    for (const Label& l : items_) {
      if (l.key == key) return &l;
    }
    return nullptr;
  }
  auto it = std::lower_bound(items_.begin(), items_.end(), key,
                             [](const Label& l, Id k) { return l.key < k; });
  return (it != items_.end() && it->key == key) ? &*it : nullptr;
}

static bool Contains(const std::vector<Id>& sorted, Id v) {
  return std::binary_search(sorted.begin(), sorted.end(), v);
}

bool Requirement::Matches(const Labels& labels) const {
  const Label* l = labels.Find(key);
  switch (op) {
    case SelectorOp::kIn:
      return l != nullptr && Contains(values, l->value);
    case SelectorOp::kNotIn:
      return l == nullptr || !Contains(values, l->value);
    case SelectorOp::kExists:
      return l != nullptr;
    case SelectorOp::kDoesNotExist:
      return l == nullptr;
    case SelectorOp::kGt:
      return l != nullptr && l->number.has_value() && *l->number > number;
    case SelectorOp::kLt:
      return l != nullptr && l->number.has_value() && *l->number < number;
  }
  return false;
}

bool NodeSelectorTerm::Matches(const Labels& labels, Id node_name) const {
  if ((expressions.empty() && fields.empty()) || !parse_errors.empty()) return false;
  for (const Requirement& r : expressions) {
    if (!r.Matches(labels)) return false;
  }
  for (const Requirement& r : fields) {
    const bool in = Contains(r.values, node_name);
    if (r.op == SelectorOp::kIn ? !in : in) return false;
  }
  return true;
}

}  // namespace kestrel::model
