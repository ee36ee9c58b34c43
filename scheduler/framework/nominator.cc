#include "scheduler/framework/nominator.h"

#include <algorithm>

namespace kestrel::framework {

void Nominator::Add(model::PodPtr pod, const std::string& node_name) {
  Delete(*pod);
  if (node_name.empty()) return;
  node_of_[pod->Key()] = node_name;
  by_node_[node_name].push_back(std::move(pod));
}

void Nominator::Delete(const model::Pod& pod) {
  const std::string key = pod.Key();
  auto it = node_of_.find(key);
  if (it == node_of_.end()) return;
  auto node = by_node_.find(it->second);
  if (node != by_node_.end()) {
    std::vector<model::PodPtr>& pods = node->second;
    pods.erase(std::remove_if(pods.begin(), pods.end(),
                              [&](const model::PodPtr& p) { return p->Key() == key; }),
               pods.end());
    if (pods.empty()) by_node_.erase(node);
  }
  node_of_.erase(it);
}

const std::vector<model::PodPtr>& Nominator::PodsOn(absl::string_view node_name) const {
  static const auto* const kNone = new std::vector<model::PodPtr>();
  auto it = by_node_.find(node_name);
  return it == by_node_.end() ? *kNone : it->second;
}

model::PodPtr Nominator::Get(absl::string_view pod_key) const {
  auto it = node_of_.find(pod_key);
  if (it == node_of_.end()) return nullptr;
  for (const model::PodPtr& p : PodsOn(it->second)) {
    if (p->Key() == pod_key) return p;
  }
  return nullptr;
}

std::string Nominator::NodeOf(absl::string_view pod_key) const {
  auto it = node_of_.find(pod_key);
  return it == node_of_.end() ? std::string() : it->second;
}

}  // namespace kestrel::framework
