// File: fnv.h
//
// FNV-1a, 64 bits: a hash that is the same in every process, release and
// platform (absl::Hash is seeded per process), for names and keys that must
// stay stable: event names a restarted process must find again, generated
// names, golden tables, cacheable URLs. Not for hash tables of untrusted
// keys.
//
// Example:
//   uint64_t h = util::Fnv1a64("kind/ns/name");
//   uint64_t h2 = util::Fnv1a64("more", h);  // continues from h

#ifndef KESTREL_UTIL_HASH_FNV_H_
#define KESTREL_UTIL_HASH_FNV_H_

#include <cstdint>

#include "absl/strings/string_view.h"

namespace kestrel::util {

inline constexpr uint64_t kFnv1a64Offset = 14695981039346656037ull;

inline uint64_t Fnv1a64(absl::string_view data, uint64_t h = kFnv1a64Offset) {
  for (const unsigned char c : data) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

}  // namespace kestrel::util

#endif  // KESTREL_UTIL_HASH_FNV_H_
