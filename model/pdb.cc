#include "model/pdb.h"

#include <algorithm>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "model/compile.h"

namespace kestrel::model {

bool PodDisruptionBudget::Selects(const Pod& pod) const {
  if (pod.labels.empty() || pod.ns != ns) return false;
  if (selector.empty()) return false;
  return selector.Matches(pod.labels);
}

bool PodDisruptionBudget::AlreadyDisrupted(const std::string& pod_name) const {
  return std::binary_search(disrupted_pods.begin(), disrupted_pods.end(), pod_name);
}

absl::StatusOr<PdbPtr> CompilePodDisruptionBudget(
    const ::k8s::io::api::policy::v1::PodDisruptionBudget& api, Interner& names) {
  auto pdb = std::make_shared<PodDisruptionBudget>();
  const auto& meta = api.metadata();
  pdb->ns = meta.namespace_().empty() ? "default" : meta.namespace_();
  pdb->name = meta.name();
  const std::string object = absl::StrCat("PodDisruptionBudget ", pdb->ns, "/", pdb->name);
  if (pdb->name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(object, ": metadata.name: Required value"));
  }
  pdb->ns_id = names.Intern(pdb->ns);
  absl::StatusOr<LabelSelector> selector = CompileLabelSelector(
      api.spec().has_selector() ? &api.spec().selector() : nullptr, names, object,
      "spec.selector");
  if (!selector.ok()) return selector.status();
  pdb->selector = *std::move(selector);
  pdb->disruptions_allowed = api.status().disruptionsallowed();
  if (pdb->disruptions_allowed < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(object, ": status.disruptionsAllowed: Invalid value: ",
                     pdb->disruptions_allowed, ": must be greater than or equal to 0"));
  }
  for (const auto& [pod_name, unused_time] : api.status().disruptedpods()) {
    pdb->disrupted_pods.push_back(pod_name);
  }
  std::sort(pdb->disrupted_pods.begin(), pdb->disrupted_pods.end());
  return pdb;
}

}  // namespace kestrel::model
