// File: fork_store.h
//
// ForkStore keeps, for a while, the cluster states that what-if questions
// asked to keep (`keep_fork` in api/service.proto), under an id a later
// question names (`fork_id`) to build on that state instead of the loaded
// cluster. A kept state expires `ttl` after it was kept; at most
// `max_forks` live at once, so a client cannot hold the server's memory.
//
// Example:
//   ForkStore forks({.ttl = absl::Minutes(5), .max_forks = 100});
//   ASSIGN_OR_RETURN(std::string id, forks.Put({whatif, kept}));
//   ASSIGN_OR_RETURN(ForkStore::Entry e, forks.Get(id));   // NotFound once expired
//
// Threading: thread-safe.

#ifndef KESTREL_SIM_FORK_STORE_H_
#define KESTREL_SIM_FORK_STORE_H_

#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/random/random.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "sim/whatif.h"

namespace kestrel::sim {

class ForkStore {
 public:
  struct Options {
    // How long a kept state lives after it was kept (not renewed by use).
    absl::Duration ttl = absl::Minutes(5);
    // Kept states alive at once.
    int max_forks = 100;
    // The clock expiry is measured on; tests replace it.
    std::function<absl::Time()> now = [] { return absl::Now(); };
  };

  struct Entry {
    // The loaded cluster the state was forked from: a kept state refers
    // to its interner and priority classes, and keeps it alive across a
    // reload.
    std::shared_ptr<const WhatIf> whatif;
    std::shared_ptr<const KeptState> state;
  };

  explicit ForkStore(Options options);

  // Put()
  //
  // Keeps `entry` and returns its id (32 random hex digits: ids are not
  // guessable). ResourceExhausted when max_forks unexpired states are kept.
  absl::StatusOr<std::string> Put(Entry entry);

  // Get()
  //
  // NotFound naming `id` when no state has that id, or it expired.
  absl::StatusOr<Entry> Get(absl::string_view id);

  // Kept states not yet expired.
  size_t size();

 private:
  struct Kept {
    Entry entry;
    absl::Time expires;
  };
  void ExpireLocked(absl::Time now);

  const Options options_;
  std::mutex mu_;
  absl::flat_hash_map<std::string, Kept> kept_;  // guarded by mu_
  absl::BitGen random_;                          // guarded by mu_
};

}  // namespace kestrel::sim

#endif  // KESTREL_SIM_FORK_STORE_H_
