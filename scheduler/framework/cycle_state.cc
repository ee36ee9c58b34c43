#include "scheduler/framework/cycle_state.h"

namespace kestrel::framework {

void CycleState::Write(absl::string_view key, std::unique_ptr<StateData> data) {
  for (auto& [k, v] : entries_) {
    if (k == key) {
      v = std::move(data);
      return;
    }
  }
  entries_.emplace_back(std::string(key), std::move(data));
}

CycleState CycleState::Clone() const {
  CycleState out;
  out.entries_.reserve(entries_.size());
  for (const auto& [k, v] : entries_) {
    out.entries_.emplace_back(k, v ? v->Clone() : nullptr);
  }
  out.skip_filter_mask = skip_filter_mask;
  out.skip_score_mask = skip_score_mask;
  out.pre_filter_nodes = pre_filter_nodes;
  out.pre_filter_plugins = pre_filter_plugins;
  out.snapshot = snapshot;
  // Not mutable_index_: a clone is what runs beside others (dry runs).
  out.feasible_rows = feasible_rows;
  out.parallelizer = parallelizer;
  return out;
}

}  // namespace kestrel::framework
