#include "predicates/taint_toleration/taint_toleration.h"

#include "absl/strings/str_cat.h"

namespace kestrel::predicates {
namespace {

bool IsDoNotSchedule(const model::Taint& taint) {
  return taint.effect == model::TaintEffect::kNoSchedule ||
         taint.effect == model::TaintEffect::kNoExecute;
}

bool Tolerated(const model::Taint& taint, const std::vector<model::Toleration>& tolerations) {
  for (const model::Toleration& t : tolerations) {
    if (t.Tolerates(taint)) return true;
  }
  return false;
}

}  // namespace

const model::Taint* FindUntoleratedTaint(const std::vector<model::Taint>& taints,
                                         const std::vector<model::Toleration>& tolerations) {
  for (const model::Taint& taint : taints) {
    if (IsDoNotSchedule(taint) && !Tolerated(taint, tolerations)) return &taint;
  }
  return nullptr;
}

framework::Status TaintTolerationFilter::Filter(const framework::CycleState& /*state*/,
                                                const model::Pod& pod,
                                                const framework::NodeInfo& node) const {
  if (node.node() == nullptr) return framework::Status::Error("node not found");
  const model::Taint* taint = FindUntoleratedTaint(node.node()->taints, pod.tolerations);
  if (taint == nullptr) return framework::Status();
  return framework::Status::Unresolvable(ErrReason(*taint));
}

std::string TaintTolerationFilter::ErrReason(const model::Taint& taint) {
  return absl::StrCat("node(s) had untolerated taint {", taint.key, ": ", taint.value, "}");
}

void TaintTolerationFilter::FilterRows(const framework::CycleState& /*state*/,
                                       const model::Pod& pod, const framework::NodeTable& table,
                                       size_t begin, size_t end, uint8_t* passed) const {
  for (size_t r = begin; r < end; ++r) {
    if (!passed[r] || !table.hard_taints[r]) continue;
    // hard_taints is 1 only for rows with a node.
    passed[r] = FindUntoleratedTaint(table.infos[r]->node()->taints, pod.tolerations) == nullptr;
  }
}

}  // namespace kestrel::predicates
