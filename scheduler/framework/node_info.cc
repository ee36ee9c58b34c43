#include "scheduler/framework/node_info.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace kestrel::framework {
namespace {

bool SamePod(const model::Pod& a, const model::Pod& b) {
  if (!a.uid.empty() && !b.uid.empty()) return a.uid == b.uid;
  return a.ns == b.ns && a.name == b.name;
}

bool SamePort(const model::HostPort& a, const model::HostPort& b) {
  return a.protocol == b.protocol && a.port == b.port && a.host_ip == b.host_ip;
}

}  // namespace

const model::Resources& NodeInfo::allocatable() const {
  static const model::Resources* const kNone = new model::Resources();
  return node_ != nullptr ? node_->allocatable : *kNone;
}

void NodeInfo::AddPod(model::PodPtr pod) {
  requested_.Add(pod->requests);
  non_zero_milli_cpu_ += pod->non_zero_milli_cpu;
  non_zero_memory_ += pod->non_zero_memory;
  for (const model::HostPort& p : pod->host_ports) used_ports_.push_back(p);
  pods_.push_back(std::move(pod));
}

absl::Status NodeInfo::RemovePod(const model::Pod& pod) {
  // From the back: the pod removed is most often the one added last (an
  // assumed pod confirmed or forgotten), and a node may hold thousands.
  size_t i = pods_.size();
  while (i > 0 && !SamePod(*pods_[i - 1], pod)) --i;
  if (i == 0) {
    return absl::NotFoundError(absl::StrCat(
        "pod ", pod.Key(), " is not on node ",
        node_ ? node_->name : std::string("<unknown>")));
  }
  --i;
  const model::Pod& removed = *pods_[i];
  requested_.Subtract(removed.requests);
  non_zero_milli_cpu_ -= removed.non_zero_milli_cpu;
  non_zero_memory_ -= removed.non_zero_memory;
  for (const model::HostPort& p : removed.host_ports) {
    auto port = std::find_if(used_ports_.begin(), used_ports_.end(),
                             [&](const model::HostPort& u) { return SamePort(u, p); });
    if (port != used_ports_.end()) used_ports_.erase(port);
  }
  pods_.SwapRemove(i);
  return absl::OkStatus();
}

bool NodeInfo::PortInUse(const model::HostPort& port) const {
  constexpr absl::string_view kAnyIp = "0.0.0.0";
  for (const model::HostPort& u : used_ports_) {
    if (u.port != port.port || u.protocol != port.protocol) continue;
    if (u.host_ip == port.host_ip || u.host_ip == kAnyIp || port.host_ip == kAnyIp) {
      return true;
    }
  }
  return false;
}

}  // namespace kestrel::framework
