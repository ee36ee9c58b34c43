// File: interner.h
//
// An Interner maps strings (label keys and values, namespaces, taint keys,
// topology keys, resource names) to dense uint32 ids, once, when objects are
// compiled. The scheduler's hot paths then compare ids, never strings.
//
// Example:
//   Interner names;
//   model::Id zone = names.Intern("topology.kubernetes.io/zone");
//   assert(names.Name(zone) == "topology.kubernetes.io/zone");
//
// Thread-safe: any number of threads may intern, find and name at once. The
// gRPC what-if service compiles each request's pods into the loaded cluster's
// interner while other requests schedule against it, so interning cannot be
// confined to one thread. `Name` takes no lock (it sits on the scheduler's
// message paths): names live in fixed chunks that never move, and a chunk's
// address is published before any id in it is handed out.

#ifndef KESTREL_MODEL_INTERNER_H_
#define KESTREL_MODEL_INTERNER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <shared_mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace kestrel::model {

// Id is a dense interned string id. kNoId stands for "absent".
using Id = uint32_t;
inline constexpr Id kNoId = ~Id{0};

class Interner {
 public:
  Interner();
  ~Interner();
  Interner(const Interner&) = delete;
  Interner& operator=(const Interner&) = delete;

  // Intern()
  //
  // Returns the id of `s`, adding it if new.
  Id Intern(absl::string_view s);

  // Find()
  //
  // Returns the id of `s` if it was interned, else kNoId. Never adds.
  Id Find(absl::string_view s) const;

  // Name()
  //
  // Returns the string behind `id`, an id this interner returned. The view
  // stays valid for the interner's lifetime.
  absl::string_view Name(Id id) const {
    const std::string* chunk = chunks_[id >> kChunkBits].load(std::memory_order_acquire);
    return chunk[id & (kChunkSize - 1)];
  }

  size_t size() const { return size_.load(std::memory_order_acquire); }

 private:
  // 4,096 names a chunk, 16,384 chunks: 67 million names, far more than any
  // cluster has distinct label keys and values. The chunk table is fixed so
  // that Name never reads memory a concurrent Intern moves.
  static constexpr int kChunkBits = 12;
  static constexpr size_t kChunkSize = size_t{1} << kChunkBits;
  static constexpr size_t kMaxChunks = size_t{1} << 14;

  // std::shared_mutex rather than absl::Mutex: ThreadSanitizer sees its
  // happens-before (.bazelrc, config tsan).
  mutable std::shared_mutex mu_;
  std::unique_ptr<std::atomic<std::string*>[]> chunks_;
  std::atomic<size_t> size_{0};
  // Guarded by mu_. Keys view the chunk strings, whose addresses never change.
  absl::flat_hash_map<absl::string_view, Id> ids_;
};

}  // namespace kestrel::model

#endif  // KESTREL_MODEL_INTERNER_H_
