#include "scheduler/cache/snapshot.h"

#include <algorithm>
#include <vector>

namespace kestrel::cache {

const framework::NodeInfo* Snapshot::Get(absl::string_view node_name) const {
  auto it = by_name_.find(node_name);
  return it == by_name_.end() ? nullptr : it->second;
}

bool Snapshot::RowsChangedSince(uint64_t since, std::vector<uint32_t>* rows) const {
  if (since < row_log_floor_ || since > updates_) return false;
  // The log is in update order: the changes after `since` are its tail.
  auto first = std::upper_bound(
      row_log_.begin(), row_log_.end(), since,
      [](uint64_t u, const RowChange& c) { return u < c.update; });
  for (auto it = first; it != row_log_.end(); ++it) rows->push_back(it->row);
  return true;
}

namespace {

// The distinct names a node lists (a node counts once per name).
std::vector<absl::string_view> ImageNames(const model::Node& node) {
  std::vector<absl::string_view> names;
  for (const model::ImageState& image : node.images) {
    for (const std::string& n : image.names) names.push_back(n);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  return names;
}

}  // namespace

void Snapshot::AddImages(const model::Node& node) {
  for (const model::ImageState& image : node.images) {
    for (const std::string& n : image.names) {
      auto [it, inserted] = images_.try_emplace(n, ImageInfo{image.size_bytes, 0});
      (void)it;
      (void)inserted;
    }
  }
  for (absl::string_view n : ImageNames(node)) ++images_.find(n)->second.num_nodes;
}

void Snapshot::RemoveImages(const model::Node& node) {
  for (absl::string_view n : ImageNames(node)) {
    auto it = images_.find(n);
    if (it == images_.end()) continue;
    if (--it->second.num_nodes <= 0) images_.erase(it);
  }
}

}  // namespace kestrel::cache
