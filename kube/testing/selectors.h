// File: selectors.h
//
// Label and field selectors as the fake API server applies them to lists,
// watches and PodDisruptionBudgets: a LabelSelector object (matchLabels,
// matchExpressions) or the `labelSelector` query ("a=b", "a!=b", "a",
// "!a", "a in (x,y)", "a notin (x)"), and the `fieldSelector` query (=, ==,
// != on the fields upstream lets each kind select on). Internal to
// kube/testing.

#ifndef KESTREL_KUBE_TESTING_SELECTORS_H_
#define KESTREL_KUBE_TESTING_SELECTORS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube::testing {

// One label requirement.
struct Requirement {
  enum class Op { kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kExists;
  std::vector<std::string> values;
};

// All of `requirements` hold for `labels` (a map of strings; null for none).
bool Matches(const std::vector<Requirement>& requirements, const nlohmann::json& labels);

// metav1.LabelSelectorAsSelector: matchLabels and matchExpressions (In,
// NotIn, Exists, DoesNotExist). No requirements at all selects everything.
absl::StatusOr<std::vector<Requirement>> FromLabelSelector(const nlohmann::json& selector);

// The labelSelector query, with upstream's key and value rules; the error
// is upstream's "unable to parse requirement" message.
absl::StatusOr<std::vector<Requirement>> ParseLabelSelector(absl::string_view selector);

// One field requirement.
struct FieldRequirement {
  std::string field;
  std::string value;
  bool equal = true;
};

// The fieldSelector query for objects of `kind` as `api_version` serves
// them; the error says which field is not supported ("field label not
// supported: spec.foo"). The fields name the stored (core) object, which
// events.k8s.io/v1's labels ("regarding.name") are translated to.
absl::StatusOr<std::vector<FieldRequirement>> ParseFieldSelector(absl::string_view kind,
                                                                 absl::string_view api_version,
                                                                 bool namespaced,
                                                                 absl::string_view selector);

bool FieldsMatch(const std::vector<FieldRequirement>& requirements, const nlohmann::json& object);

// Both selectors of a list or watch request.
struct Selector {
  std::vector<Requirement> labels;
  std::vector<FieldRequirement> fields;

  // Selects everything (upstream's SelectionPredicate.Empty()).
  bool empty() const { return labels.empty() && fields.empty(); }
  bool Matches(const nlohmann::json& object) const;
};

}  // namespace kestrel::kube::testing

#endif  // KESTREL_KUBE_TESTING_SELECTORS_H_
