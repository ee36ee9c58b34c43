// File: template_key.h
//
// Parts of a compiled pod written into a byte string, for plugins whose
// verdict on a node depends on nothing else of the pod (FilterPlugin::
// RowLocalKey, ScorePlugin::RowLocalKey). Pods with equal keys get equal
// verdicts on equal nodes, so the scheduler can keep one pod's verdicts for
// the next pod of the same template (pods of one ReplicaSet differ only in
// name, uid and labels).
//
// The encoding is unambiguous: every number is 8 bytes, every string and
// list carries its length, so two different specs never write the same key.
//
// Example:
//   std::string key;
//   model::AppendKey(pod.requests, &key);
//   model::AppendKey(pod.tolerations, &key);

#ifndef KESTREL_MODEL_TEMPLATE_KEY_H_
#define KESTREL_MODEL_TEMPLATE_KEY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "model/labels.h"
#include "model/objects.h"
#include "model/resources.h"

namespace kestrel::model {

void AppendKey(int64_t value, std::string* key);
void AppendKey(absl::string_view value, std::string* key);
void AppendKey(const Resources& resources, std::string* key);
void AppendKey(const std::vector<Toleration>& tolerations, std::string* key);
void AppendKey(const std::vector<Requirement>& requirements, std::string* key);
void AppendKey(const std::optional<NodeSelector>& selector, std::string* key);
void AppendKey(const std::vector<PreferredSchedulingTerm>& terms, std::string* key);
void AppendKey(const std::vector<HostPort>& ports, std::string* key);
// What the resource score plugins read of a pod: its requests and the
// non-zero cpu and memory defaults.
void AppendScoredRequestsKey(const Pod& pod, std::string* key);

}  // namespace kestrel::model

#endif  // KESTREL_MODEL_TEMPLATE_KEY_H_
