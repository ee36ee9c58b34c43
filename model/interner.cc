#include "model/interner.h"

#include <cstdlib>
#include <mutex>

namespace kestrel::model {

Interner::Interner() : chunks_(new std::atomic<std::string*>[kMaxChunks]) {
  for (size_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

Interner::~Interner() {
  for (size_t i = 0; i < kMaxChunks; ++i) delete[] chunks_[i].load(std::memory_order_relaxed);
}

Id Interner::Intern(absl::string_view s) {
  {
    std::shared_lock lock(mu_);
    auto it = ids_.find(s);
    if (it != ids_.end()) return it->second;
  }
  std::unique_lock lock(mu_);
  auto it = ids_.find(s);
  if (it != ids_.end()) return it->second;
  const size_t n = size_.load(std::memory_order_relaxed);
  const size_t chunk = n >> kChunkBits;
  // An interner this full is a bug upstream of it (ids are per distinct
  // string); there is no id left to return.
  if (chunk >= kMaxChunks) std::abort();
  std::string* names = chunks_[chunk].load(std::memory_order_relaxed);
  if (names == nullptr) {
    names = new std::string[kChunkSize];
    chunks_[chunk].store(names, std::memory_order_release);
  }
  std::string& slot = names[n & (kChunkSize - 1)];
  slot.assign(s.data(), s.size());
  const Id id = static_cast<Id>(n);
  ids_.emplace(slot, id);
  size_.store(n + 1, std::memory_order_release);
  return id;
}

Id Interner::Find(absl::string_view s) const {
  std::shared_lock lock(mu_);
  auto it = ids_.find(s);
  return it == ids_.end() ? kNoId : it->second;
}

}  // namespace kestrel::model
