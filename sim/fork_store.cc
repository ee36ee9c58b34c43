#include "sim/fork_store.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace kestrel::sim {

ForkStore::ForkStore(Options options) : options_(std::move(options)) {}

void ForkStore::ExpireLocked(absl::Time now) {
  std::vector<std::string> expired;
  for (const auto& [id, kept] : kept_) {
    if (kept.expires <= now) expired.push_back(id);
  }
  for (const std::string& id : expired) kept_.erase(id);
}

absl::StatusOr<std::string> ForkStore::Put(Entry entry) {
  const absl::Time now = options_.now();
  std::lock_guard<std::mutex> lock(mu_);
  ExpireLocked(now);
  if (static_cast<int>(kept_.size()) >= options_.max_forks) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "keep_fork: ", kept_.size(), " forks are kept, the most this server keeps; one expires ",
        absl::FormatDuration(options_.ttl), " after it was kept"));
  }
  std::string id;
  do {
    id = absl::StrFormat("%016x%016x", absl::Uniform<uint64_t>(random_),
                         absl::Uniform<uint64_t>(random_));
  } while (kept_.contains(id));
  kept_.emplace(id, Kept{std::move(entry), now + options_.ttl});
  return id;
}

absl::StatusOr<ForkStore::Entry> ForkStore::Get(absl::string_view id) {
  const absl::Time now = options_.now();
  std::lock_guard<std::mutex> lock(mu_);
  ExpireLocked(now);
  auto it = kept_.find(id);
  if (it == kept_.end()) {
    return absl::NotFoundError(absl::StrCat("fork_id: Not found: \"", id,
                                            "\": no such fork, or it expired (forks live ",
                                            absl::FormatDuration(options_.ttl), ")"));
  }
  return it->second.entry;
}

size_t ForkStore::size() {
  const absl::Time now = options_.now();
  std::lock_guard<std::mutex> lock(mu_);
  ExpireLocked(now);
  return kept_.size();
}

}  // namespace kestrel::sim
