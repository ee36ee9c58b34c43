#include "scheduler/cache/snapshot.h"

namespace kestrel::cache {

const framework::NodeInfo* Snapshot::Get(absl::string_view node_name) const {
  auto it = by_name_.find(node_name);
  return it == by_name_.end() ? nullptr : it->second;
}

}  // namespace kestrel::cache
