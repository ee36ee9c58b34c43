// File: reflector.h
//
// client-go's Reflector (tools/cache/reflector.go): keeps a store equal to
// one resource on the API server by listing it and then watching it.
//
//   * LIST, paged (ListAllPages). The first list asks for resourceVersion
//     "0" with pages of 500: an API server with its watch cache (every real
//     one) answers it at once from memory, in one piece, possibly a little
//     stale, which the watch then makes good; without a watch cache the
//     server pages it from storage, and the reflector then keeps paging
//     later lists too. A relist asks for the last version it saw, unpaged
//     (so the watch cache can answer it), and when that version is gone
//     (410) or not there yet ("Too large resource version"), at once again
//     with "" (a consistent read). This is what kube-scheduler's informers
//     get; a NotFound list empties the store.
//   * WATCH from the list's resourceVersion with allowWatchBookmarks and a
//     timeoutSeconds drawn from [5, 10) minutes, so that watches end at
//     spread-out times; a watch that ends cleanly is opened again from the
//     last version seen (an event's or a bookmark's).
//   * A 410 (an ERROR event, or the request's answer) ends the watch: after
//     a backoff the reflector lists again, and the store's Replace turns
//     what the watch missed into adds, updates and deletes.
//   * A dropped stream, a stream cut in the middle of an event, a server
//     that cannot be reached or that answers the watch request with a 5xx
//     or a 429: after a backoff, the watch is opened again from the last
//     version seen, with no list. (client-go lists again after a 5xx
//     answer; the version is still good then, so Kestrel does not.)
//   * Any other failure (an ERROR event other than 410 and 429, a watch
//     that ends within a second with no event, a 403, a failed list) is
//     reported, and after a backoff the reflector lists again.
//   * An event whose object does not decode is reported and skipped; the
//     watch goes on. A list's undecodable objects are reported and left out,
//     and the store keeps what it has for them.
//
// Backoff is client-go's (wait.NewExponentialBackoffManager(800ms, 30s,
// 2m, 2.0, 1.0)): 0.8 s doubling up to 30 s, each wait d stretched to a
// random point of [d, 2d), back to 0.8 s after two quiet minutes.
//
// The clock and the random source are injected, so tests run the whole
// loop on a fake clock with scripted faults and no real waiting.
//
// Threading: Run() blocks on the calling thread and makes every
// ListerWatcher and ReflectorStore call from it, one at a time. Stop() and
// LastSyncResourceVersion() may be called from any thread. Shared state is
// behind std::mutex rather than absl::Mutex: Debian's Abseil is not built
// for ThreadSanitizer, which then cannot see an absl::Mutex order threads,
// while it does see std::mutex and std::condition_variable.
//
// Example:
//   Reflector reflector(&lister_watcher, &store, ReflectorOptions());
//   std::thread t([&] { reflector.Run(); });
//   ...
//   reflector.Stop();
//   t.join();

#ifndef KESTREL_KUBE_REFLECTOR_H_
#define KESTREL_KUBE_REFLECTOR_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/random/bit_gen_ref.h"
#include "absl/random/random.h"
#include "absl/status/status.h"
#include "absl/time/time.h"
#include "kube/list_watch.h"

namespace kestrel::kube {

// A flag that is set once, and that cuts waits for it short.
//
// Thread-safe.
class StopSignal {
 public:
  void Notify() ABSL_LOCKS_EXCLUDED(mu_);
  bool HasBeenNotified() const ABSL_LOCKS_EXCLUDED(mu_);
  // Waits until notified or `timeout` passed; true when notified.
  bool WaitFor(absl::Duration timeout) const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable std::mutex mu_;
  mutable std::condition_variable notified_cv_;
  bool notified_ ABSL_GUARDED_BY(mu_) = false;
};

// Where a reflector reads the time and how it waits.
//
// Thread-safe.
class ReflectorClock {
 public:
  virtual ~ReflectorClock() = default;
  virtual absl::Time Now() = 0;
  // Waits `d`, or less when `stop` is notified first; true when stopped.
  virtual bool WaitFor(absl::Duration d, const StopSignal& stop) = 0;

  // The wall clock; never deleted.
  static ReflectorClock* Real();
};

// client-go's exponentialBackoffManagerImpl over wait.Backoff.
struct BackoffOptions {
  absl::Duration initial = absl::Milliseconds(800);
  absl::Duration cap = absl::Seconds(30);
  // Back to `initial` when no backoff was taken for this long.
  absl::Duration reset_after = absl::Minutes(2);
  double factor = 2.0;
  // Each wait d becomes d + u * jitter * d, u uniform in [0, 1).
  double jitter = 1.0;
};

// Thread-compatible.
class Backoff {
 public:
  // `clock` must outlive this, and so must what `random` refers to.
  Backoff(BackoffOptions options, ReflectorClock* clock, absl::BitGenRef random);

  // Next()
  //
  // How long to wait now.
  absl::Duration Next();

 private:
  const BackoffOptions options_;
  ReflectorClock* const clock_;
  absl::BitGenRef random_;
  absl::Duration duration_;
  // Once the cap is reached the duration stays there.
  bool capped_ = false;
  absl::Time last_;
};

// What a reflector writes to: client-go's Store as the reflector uses it.
// Errors are reported by the reflector, which carries on.
class ReflectorStore {
 public:
  virtual ~ReflectorStore() = default;
  virtual absl::Status Add(const Object& object) = 0;
  virtual absl::Status Update(const Object& object) = 0;
  virtual absl::Status Delete(const Object& object) = 0;
  // Replace()
  //
  // The store's contents become `items`, except that what it holds under a
  // key of `keep` (objects the list had but could not decode) stays.
  virtual absl::Status Replace(std::vector<Object> items, const std::vector<std::string>& keep,
                               const std::string& resource_version) = 0;
};

struct ReflectorOptions {
  // Names the reflector in what it reports ("pods"); the ListerWatcher's
  // description when empty.
  std::string name;
  // Objects per list page: 0 is client-go's choice (described above),
  // anything else pages every list by it (client-go's WatchListPageSize).
  int64_t page_size = 0;
  // Watches ask for timeoutSeconds in [min_watch_timeout,
  // 2 * min_watch_timeout).
  absl::Duration min_watch_timeout = absl::Minutes(5);
  BackoffOptions backoff;
  // Null: the wall clock. Must outlive the reflector.
  ReflectorClock* clock = nullptr;
  // Jitter and watch timeouts; unset: the reflector's own absl::BitGen.
  // What it refers to must outlive the reflector.
  std::optional<absl::BitGenRef> random;
  // Gets every failure the reflector reports and carries on from, its
  // message starting with the reflector's name; null writes them to
  // stderr, one line each. Called on Run()'s thread.
  std::function<void(const absl::Status&)> on_error;
};

class Reflector {
 public:
  // `lister_watcher` and `store` must outlive the reflector.
  Reflector(ListerWatcher* lister_watcher, ReflectorStore* store, ReflectorOptions options);

  Reflector(const Reflector&) = delete;
  Reflector& operator=(const Reflector&) = delete;

  // Run()
  //
  // Lists and watches until Stop(), backing off between attempts; call it
  // once. A LIST in flight when Stop() comes is finished first.
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  // Stop()
  //
  // Makes Run() return soon: ends the watch in flight and any wait.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // The resourceVersion of the last list, event or bookmark applied.
  std::string LastSyncResourceVersion() const ABSL_LOCKS_EXCLUDED(mu_);

  const std::string& name() const { return name_; }

 private:
  // One list, then watches until one ends in a way that needs a new list.
  // OK when stopped or when the watch asks for a relist; the list's error
  // otherwise.
  absl::Status ListAndWatch();
  absl::Status List();
  absl::Status WatchUntilRelist();
  // Applies the events of one stream; OK when it ended cleanly.
  absl::Status HandleWatch(absl::Time start, WatchStream& stream);
  absl::Status Apply(const WatchEvent& event);

  // What the next list asks for: "0" first, the last version seen after,
  // "" when that version turned out to be gone.
  std::string RelistResourceVersion() const ABSL_LOCKS_EXCLUDED(mu_);
  void SetLastSyncResourceVersion(const std::string& version) ABSL_LOCKS_EXCLUDED(mu_);
  // Makes `stream` the one Stop() ends (null: none); false when Stop()
  // came first.
  bool SetCurrentStream(WatchStream* stream) ABSL_LOCKS_EXCLUDED(mu_);
  // Waits a backoff; true when stopped meanwhile.
  bool WaitBackoff();
  void Report(const absl::Status& status);
  bool stopped() const { return stop_.HasBeenNotified(); }

  ListerWatcher* const lister_watcher_;
  ReflectorStore* const store_;
  const ReflectorOptions options_;
  const std::string name_;
  ReflectorClock* const clock_;
  // Used when options_.random is unset.
  absl::BitGen own_random_;
  absl::BitGenRef random_;
  Backoff backoff_;
  StopSignal stop_;
  // Whether the first list came in pages although it asked for version
  // "0": the server has no watch cache, so later lists page as well.
  bool paginated_result_ = false;

  mutable std::mutex mu_;
  std::string last_sync_resource_version_ ABSL_GUARDED_BY(mu_);
  // The last list said last_sync_resource_version_ is gone (410) or too
  // new for the server.
  bool last_sync_resource_version_unavailable_ ABSL_GUARDED_BY(mu_) = false;
  WatchStream* current_stream_ ABSL_GUARDED_BY(mu_) = nullptr;
};

}  // namespace kestrel::kube

#endif  // KESTREL_KUBE_REFLECTOR_H_
