#include "scheduler/cache/cache.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace kestrel::cache {

uint32_t Cache::SlotFor(absl::string_view node_name) {
  auto it = slot_by_name_.find(node_name);
  if (it != slot_by_name_.end()) return it->second;
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
    slot_names_.emplace_back();
    in_changed_.push_back(false);
  }
  slots_[slot] = std::make_shared<framework::NodeInfo>();
  slot_by_name_.emplace(std::string(node_name), slot);
  slot_names_[slot] = std::string(node_name);
  return slot;
}

void Cache::Touch(uint32_t slot) {
  MutableSlot(slot).set_generation(++generation_);
  if (!in_changed_[slot]) {
    in_changed_[slot] = true;
    changed_.push_back(slot);
  }
}

void Cache::MaybeFreeSlot(uint32_t slot) {
  framework::NodeInfo& info = *slots_[slot];
  if (info.node() != nullptr || !info.pods().empty()) return;
  slot_by_name_.erase(slot_names_[slot]);
  slot_names_[slot].clear();
  slots_[slot].reset();
  free_slots_.push_back(slot);
  node_set_changed_ = true;
  if (!in_changed_[slot]) {
    in_changed_[slot] = true;
    changed_.push_back(slot);
  }
}

void Cache::CopyFrom(const Cache& base) {
  slots_ = base.slots_;
  slot_names_ = base.slot_names_;
  free_slots_ = base.free_slots_;
  slot_by_name_ = base.slot_by_name_;
  pods_ = base.pods_;
  num_nodes_ = base.num_nodes_;
  generation_ = base.generation_;
  changed_ = base.changed_;
  in_changed_ = base.in_changed_;
  node_set_changed_ = base.node_set_changed_;
  epoch_ = base.epoch_;
  pod_log_ = base.pod_log_;
  pod_log_overflowed_ = base.pod_log_overflowed_;
  namespaces_ = base.namespaces_;
  namespaces_changed_ = base.namespaces_changed_;
}

void Cache::Freeze() { pods_.Freeze(); }

framework::NodeInfo& Cache::MutableSlot(uint32_t slot) {
  std::shared_ptr<framework::NodeInfo>& info = slots_[slot];
  // Shared with another cache: that one may read it at any time.
  if (info.use_count() > 1) info = std::make_shared<framework::NodeInfo>(*info);
  return *info;
}

const Cache::PodState* Cache::PodTable::Find(absl::string_view key) const {
  if (auto it = own_.find(key); it != own_.end()) return &it->second;
  if (frozen_ == nullptr || hidden_.contains(key)) return nullptr;
  auto it = frozen_->find(key);
  return it == frozen_->end() ? nullptr : &it->second;
}

Cache::PodState* Cache::PodTable::Mutable(absl::string_view key) {
  if (auto it = own_.find(key); it != own_.end()) return &it->second;
  if (frozen_ == nullptr || hidden_.contains(key)) return nullptr;
  auto it = frozen_->find(key);
  if (it == frozen_->end()) return nullptr;
  hidden_.insert(it->first);
  return &own_.emplace(it->first, it->second).first->second;
}

void Cache::PodTable::Insert(std::string key, PodState state) {
  own_.emplace(std::move(key), std::move(state));
}

void Cache::PodTable::Erase(absl::string_view key) {
  own_.erase(key);
  if (frozen_ != nullptr && frozen_->contains(key)) hidden_.insert(std::string(key));
}

size_t Cache::PodTable::size() const {
  return own_.size() + (frozen_ == nullptr ? 0 : frozen_->size()) - hidden_.size();
}

void Cache::PodTable::Freeze() {
  if (frozen_ == nullptr) {
    frozen_ = std::make_shared<const PodMap>(std::move(own_));
  } else {
    auto merged = std::make_shared<PodMap>();
    for (const auto& [key, state] : *frozen_) {
      if (!hidden_.contains(key)) merged->emplace(key, state);
    }
    for (auto& [key, state] : own_) merged->insert_or_assign(key, std::move(state));
    frozen_ = std::move(merged);
  }
  own_ = PodMap();
  hidden_.clear();
}

absl::Status Cache::AddNode(model::NodePtr node) {
  const uint32_t slot = SlotFor(node->name);
  if (slots_[slot]->node() != nullptr) {
    return absl::AlreadyExistsError(absl::StrCat("node ", node->name, " already exists"));
  }
  MutableSlot(slot).SetNode(std::move(node));
  ++num_nodes_;
  node_set_changed_ = true;
  Touch(slot);
  return absl::OkStatus();
}

absl::Status Cache::UpdateNode(model::NodePtr node) {
  auto it = slot_by_name_.find(node->name);
  if (it == slot_by_name_.end() || slots_[it->second]->node() == nullptr) {
    return AddNode(std::move(node));
  }
  MutableSlot(it->second).SetNode(std::move(node));
  Touch(it->second);
  return absl::OkStatus();
}

absl::Status Cache::RemoveNode(absl::string_view name) {
  auto it = slot_by_name_.find(name);
  if (it == slot_by_name_.end() || slots_[it->second]->node() == nullptr) {
    return absl::NotFoundError(absl::StrCat("node ", name, " is not in the cache"));
  }
  const uint32_t slot = it->second;
  // Pods stay until they are removed themselves, as upstream: the node's
  // slot lives on, without a node, while it still holds pods.
  MutableSlot(slot).SetNode(nullptr);
  --num_nodes_;
  node_set_changed_ = true;
  Touch(slot);
  MaybeFreeSlot(slot);
  return absl::OkStatus();
}

void Cache::LogPod(uint32_t slot, const model::PodPtr& pod, int sign) {
  if (pod_log_overflowed_) return;
  if (pod_log_.size() > 2 * pods_.size() + 4096) {
    pod_log_.clear();
    pod_log_.shrink_to_fit();
    pod_log_overflowed_ = true;
    return;
  }
  pod_log_.push_back({slot, pod, sign});
}

absl::Status Cache::AddPodToNode(const model::PodPtr& pod) {
  const uint32_t slot = SlotFor(pod->node_name);
  MutableSlot(slot).AddPod(pod);
  LogPod(slot, pod, +1);
  Touch(slot);
  return absl::OkStatus();
}

absl::Status Cache::RemovePodFromNode(const model::PodPtr& pod) {
  auto it = slot_by_name_.find(pod->node_name);
  if (it == slot_by_name_.end()) {
    return absl::NotFoundError(
        absl::StrCat("node ", pod->node_name, " of pod ", pod->Key(), " is not in the cache"));
  }
  const uint32_t slot = it->second;
  absl::Status s = MutableSlot(slot).RemovePod(*pod);
  if (!s.ok()) return s;
  LogPod(slot, pod, -1);
  Touch(slot);
  MaybeFreeSlot(slot);
  return absl::OkStatus();
}

absl::Status Cache::AddPod(model::PodPtr pod) {
  if (pod->node_name.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("pod ", pod->Key(), " is not bound"));
  }
  const std::string key = pod->Key();
  if (const PodState* found = pods_.Find(key); found != nullptr) {
    if (!found->assumed) {
      return absl::AlreadyExistsError(absl::StrCat("pod ", key, " was already in added state"));
    }
    // Confirmation of an assumed pod: replace the assumed copy with the
    // observed one, which may even name another node.
    absl::Status s = RemovePodFromNode(found->pod);
    if (!s.ok()) return s;
    s = AddPodToNode(pod);
    if (!s.ok()) return s;
    *pods_.Mutable(key) = PodState{std::move(pod), false, false};
    return absl::OkStatus();
  }
  absl::Status s = AddPodToNode(pod);
  if (!s.ok()) return s;
  pods_.Insert(key, PodState{std::move(pod), false, false});
  return absl::OkStatus();
}

absl::Status Cache::UpdatePod(const model::Pod& old_pod, model::PodPtr new_pod) {
  const std::string key = old_pod.Key();
  const PodState* found = pods_.Find(key);
  if (found == nullptr || found->assumed) {
    return absl::NotFoundError(
        absl::StrCat("pod ", key, " is not added to the cache, so it can't be updated"));
  }
  absl::Status s = RemovePodFromNode(found->pod);
  if (!s.ok()) return s;
  s = AddPodToNode(new_pod);
  if (!s.ok()) return s;
  pods_.Mutable(key)->pod = std::move(new_pod);
  return absl::OkStatus();
}

absl::Status Cache::RemovePod(const model::Pod& pod) {
  const std::string key = pod.Key();
  const PodState* found = pods_.Find(key);
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat("pod ", key, " is not in the cache"));
  }
  absl::Status s = RemovePodFromNode(found->pod);
  pods_.Erase(key);
  return s;
}

absl::Status Cache::AssumePod(model::PodPtr pod) {
  if (pod->node_name.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("assumed pod ", pod->Key(), " has no node name"));
  }
  const std::string key = pod->Key();
  if (pods_.Find(key) != nullptr) {
    return absl::AlreadyExistsError(
        absl::StrCat("pod ", key, " is in the cache, so can't be assumed"));
  }
  absl::Status s = AddPodToNode(pod);
  if (!s.ok()) return s;
  pods_.Insert(key, PodState{std::move(pod), true, false});
  return absl::OkStatus();
}

absl::Status Cache::FinishBinding(const model::Pod& pod) {
  const PodState* found = pods_.Find(pod.Key());
  if (found == nullptr || !found->assumed) {
    return absl::FailedPreconditionError(
        absl::StrCat("pod ", pod.Key(), " is not assumed"));
  }
  pods_.Mutable(pod.Key())->binding_finished = true;
  return absl::OkStatus();
}

absl::Status Cache::ForgetPod(const model::Pod& pod) {
  const std::string key = pod.Key();
  const PodState* found = pods_.Find(key);
  if (found == nullptr) {
    return absl::NotFoundError(absl::StrCat("pod ", key, " is not in the cache"));
  }
  if (!found->assumed) {
    return absl::FailedPreconditionError(
        absl::StrCat("pod ", key, " was added, so it can't be forgotten"));
  }
  if (found->pod->node_name != pod.node_name) {
    return absl::FailedPreconditionError(absl::StrCat(
        "pod ", key, " was assumed on ", found->pod->node_name,
        " but assigned to ", pod.node_name));
  }
  absl::Status s = RemovePodFromNode(found->pod);
  pods_.Erase(key);
  return s;
}

bool Cache::IsAssumed(const model::Pod& pod) const {
  const PodState* found = pods_.Find(pod.Key());
  return found != nullptr && found->assumed;
}

size_t Cache::CountPodsOnUnknownNodes() const {
  size_t n = 0;
  for (const auto& slot : slots_) {
    if (slot != nullptr && slot->node() == nullptr) n += slot->pods().size();
  }
  return n;
}

model::PodPtr Cache::GetPod(absl::string_view key) const {
  const PodState* found = pods_.Find(key);
  return found == nullptr ? nullptr : found->pod;
}

void Cache::SetNamespace(model::Id ns, model::Labels labels) {
  namespaces_[ns] = std::move(labels);
  namespaces_changed_ = true;
}

void Cache::RemoveNamespace(model::Id ns) {
  namespaces_changed_ |= namespaces_.erase(ns) > 0;
}

namespace {

bool SameLabels(const model::Node* a, const model::Node* b) {
  if (a == b) return true;
  if (a == nullptr || b == nullptr) return false;
  const auto& x = a->labels.items();
  const auto& y = b->labels.items();
  if (x.size() != y.size()) return false;
  for (size_t i = 0; i < x.size(); ++i) {
    if (x[i].key != y[i].key || x[i].value != y[i].value) return false;
  }
  return true;
}

}  // namespace

void Cache::UpdateSnapshot(Snapshot* snapshot) {
  ++snapshot->updates_;
  bool incremental = snapshot->source_ == this && snapshot->epoch_ == epoch_;
  bool relist = !incremental || node_set_changed_;
  if (snapshot->slots_.size() != slots_.size()) {
    // Growing moves the NodeInfos: every pointer to them must be rebuilt.
    snapshot->slots_.resize(slots_.size());
    snapshot->live_.resize(slots_.size());
    relist = true;
  }
  // Node labels decide topology domains: a change rebuilds the index.
  bool labels_changed = false;
  auto copy_slot = [&](uint32_t i) {
    snapshot->live_[i] = slots_[i] != nullptr;
    if (slots_[i] == nullptr) {
      const model::Node* before = snapshot->slots_[i].node();
      if (incremental && before != nullptr) snapshot->RemoveImages(*before);
      snapshot->slots_[i] = framework::NodeInfo();
    } else if (!incremental || snapshot->slots_[i].generation() != slots_[i]->generation()) {
      const model::Node* before = snapshot->slots_[i].node();
      const model::Node* after = slots_[i]->node();
      labels_changed |= !SameLabels(before, after);
      if (incremental && before != after) {
        if (before != nullptr) snapshot->RemoveImages(*before);
        if (after != nullptr) snapshot->AddImages(*after);
      }
      snapshot->slots_[i] = *slots_[i];
    }
  };
  if (incremental) {
    for (uint32_t i : changed_) copy_slot(i);
  } else {
    for (uint32_t i = 0; i < slots_.size(); ++i) copy_slot(i);
    snapshot->images_.clear();
    for (uint32_t i = 0; i < slots_.size(); ++i) {
      if (snapshot->live_[i] && snapshot->slots_[i].node() != nullptr) {
        snapshot->AddImages(*snapshot->slots_[i].node());
      }
    }
  }
  if (relist) {
    snapshot->node_list_.clear();
    snapshot->by_name_.clear();
    snapshot->row_of_slot_.assign(snapshot->slots_.size(), -1);
    for (size_t i = 0; i < snapshot->slots_.size(); ++i) {
      const framework::NodeInfo& info = snapshot->slots_[i];
      if (!snapshot->live_[i] || info.node() == nullptr) continue;
      snapshot->row_of_slot_[i] = static_cast<int32_t>(snapshot->node_list_.size());
      snapshot->node_list_.push_back(&info);
      snapshot->by_name_.emplace(info.node()->name, &info);
    }
    snapshot->table_.Build(snapshot->node_list_);
    snapshot->ResetRowLog();
  } else {
    bool rebuild = false;
    for (uint32_t i : changed_) {
      const int32_t row = snapshot->row_of_slot_[i];
      if (row < 0) continue;
      // A scalar resource no column holds yet: the table gains columns.
      if (!snapshot->table_.HasScalarColumns(snapshot->slots_[i])) {
        rebuild = true;
        break;
      }
      snapshot->table_.Set(row, snapshot->slots_[i]);
      snapshot->row_log_.push_back({snapshot->updates_, static_cast<uint32_t>(row)});
    }
    if (rebuild) {
      snapshot->table_.Build(snapshot->node_list_);
      snapshot->ResetRowLog();
    } else if (snapshot->row_log_.size() > std::max<size_t>(4096, 2 * snapshot->node_list_.size())) {
      // Bounded: a reader that far behind recomputes every row anyway.
      snapshot->ResetRowLog();
    }
  }
  if (!incremental || namespaces_changed_) snapshot->namespaces_ = namespaces_;
  if (relist || labels_changed || !incremental || namespaces_changed_ || pod_log_overflowed_) {
    snapshot->index_.Rebuild(snapshot->node_list_, &snapshot->namespaces_);
  } else {
    for (const PodEvent& e : pod_log_) {
      const int32_t row = snapshot->row_of_slot_[e.slot];
      if (row >= 0) snapshot->index_.UpdatePod(*e.pod, static_cast<uint32_t>(row), e.sign);
    }
  }
  pod_log_.clear();
  pod_log_overflowed_ = false;
  namespaces_changed_ = false;
  for (uint32_t i : changed_) in_changed_[i] = false;
  changed_.clear();
  node_set_changed_ = false;
  snapshot->source_ = this;
  snapshot->epoch_ = ++epoch_;
  snapshot->generation_ = generation_;
}

}  // namespace kestrel::cache
