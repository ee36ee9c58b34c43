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
// Interning is done by whoever compiles objects (one thread at a time); reads
// (`Find`, `Name`) are safe from any number of threads while no one interns.

#ifndef KESTREL_MODEL_INTERNER_H_
#define KESTREL_MODEL_INTERNER_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"

namespace kestrel::model {

// Id is a dense interned string id. kNoId stands for "absent".
using Id = uint32_t;
inline constexpr Id kNoId = ~Id{0};

class Interner {
 public:
  Interner() = default;
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
  // Returns the string behind `id`. The view stays valid for the interner's
  // lifetime.
  absl::string_view Name(Id id) const { return names_[id]; }

  size_t size() const { return names_.size(); }

 private:
  // deque: element addresses are stable, so the map's string_view keys stay valid.
  std::deque<std::string> names_;
  absl::flat_hash_map<absl::string_view, Id> ids_;
};

}  // namespace kestrel::model

#endif  // KESTREL_MODEL_INTERNER_H_
