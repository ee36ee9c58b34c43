#include "scheduler/framework/node_to_status.h"

namespace kestrel::framework {

void StatusCounts::Clear() {
  entries_.clear();
  by_code_.fill(0);
  total_ = 0;
}

void StatusCounts::Change(const Status& s, int64_t delta) {
  const Key key{s.reasons_identity(), s.plugin().data(), s.plugin().size(), s.code()};
  Entry& e = entries_[key];
  if (e.count == 0) e.status = s;
  e.count += delta;
  by_code_[static_cast<size_t>(s.code())] += delta;
  total_ += delta;
  if (e.count == 0) entries_.erase(key);
}

size_t NodeToStatus::Count(Code code) const {
  size_t n = rows_counts_ != nullptr ? rows_counts_->Count(code) : 0;
  for (const NodeStatus& ns : listed_) n += ns.status.code() == code ? 1 : 0;
  return n;
}

const Status* NodeToStatus::Find(const NodeInfo* node, int32_t row) const {
  for (const NodeStatus& ns : listed_) {
    if (ns.node == node) return &ns.status;
  }
  if (row >= 0 && static_cast<size_t>(row) < rows_.size() && rows_nodes_[row] == node) {
    return &rows_[row];
  }
  return nullptr;
}

}  // namespace kestrel::framework
