// File: fake_list_watch.h
//
// An in-memory ListerWatcher for tests: one resource with an API server's
// list and watch semantics, and faults on demand.
//
//   * one resourceVersion counter (starting at 100), bumped by every write;
//     a DELETED event carries the object's last state at the deletion's
//     version;
//   * LIST: copies of the objects (as a client decodes its own from each
//     answer), sorted by key; `limit` pages them, with continue
//     tokens that read the snapshot the first page was taken from; a token
//     whose snapshot was compacted away is 410 (OutOfRange) with the API
//     server's message, and a continue token together with a
//     resourceVersion is refused as the API server refuses it. A version
//     newer than the counter is "Too large resource version" (Unavailable,
//     the 504 it is);
//   * WATCH from a version: every change after it, in order, then the live
//     ones. A watch from before the compaction point gets an ERROR event
//     with 410 "too old resource version" (as the watch cache answers), and
//     so does an open one that falls behind a Compact(). Watches from "" or
//     "0" are refused: a reflector never asks for them.
//
// Faults: failed LISTs and WATCH requests (any status, in turn), streams
// dropped mid-event, ERROR 410 events, clean ends, bookmarks, undecodable
// events (DataLoss) and compaction.
//
// Tests drive it deterministically from the reflector's own thread with
// SetIdleHook(): when a watch has nothing left to deliver, the hook runs
// (on that thread, without the fake's lock) and may write, inject faults or
// stop the reflector. Without a hook, an idle Next() blocks until a write,
// a fault or Stop().
//
// Thread-safe. Locks are std::mutex, for ThreadSanitizer (see reflector.h).

#ifndef KESTREL_KUBE_FAKE_LIST_WATCH_H_
#define KESTREL_KUBE_FAKE_LIST_WATCH_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/message.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "kube/list_watch.h"
#include "kube/reflector.h"

namespace kestrel::kube::testing {

// A ReflectorClock whose time moves only when a wait or the test moves it;
// every wait is recorded and returns at once.
//
// Thread-safe.
class FakeReflectorClock : public ReflectorClock {
 public:
  absl::Time Now() override ABSL_LOCKS_EXCLUDED(mu_);
  bool WaitFor(absl::Duration d, const StopSignal& stop) override ABSL_LOCKS_EXCLUDED(mu_);
  void Advance(absl::Duration d) ABSL_LOCKS_EXCLUDED(mu_);
  // Every WaitFor() so far, in order.
  std::vector<absl::Duration> waits() const ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable std::mutex mu_;
  absl::Time now_ ABSL_GUARDED_BY(mu_) = absl::FromUnixSeconds(1'700'000'000);
  std::vector<absl::Duration> waits_ ABSL_GUARDED_BY(mu_);
};

// A uniform random bit generator that always answers `bits`: 0 makes every
// absl::Uniform<double>(g, 0, 1) draw 0 (no jitter, the shortest watch
// timeout), 1 << 63 draws 0.5.
class ConstantBits {
 public:
  using result_type = uint64_t;
  explicit ConstantBits(uint64_t bits) : bits_(bits) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() { return bits_; }

 private:
  uint64_t bits_;
};

class FakeListerWatcher : public ListerWatcher {
 public:
  explicit FakeListerWatcher(std::string description = "pods");
  // Open streams must be gone first.
  ~FakeListerWatcher() override;

  // ---- The server's side: each write is one change with a new version.

  // AlreadyExists when the key is taken; InvalidArgument without a key.
  absl::Status Create(const google::protobuf::Message& object) ABSL_LOCKS_EXCLUDED(mu_);
  // NotFound when the key is not there.
  absl::Status Update(const google::protobuf::Message& object) ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Delete(absl::string_view key) ABSL_LOCKS_EXCLUDED(mu_);

  // The objects now, by key.
  std::map<std::string, Object> Objects() const ABSL_LOCKS_EXCLUDED(mu_);
  // The version of the last write.
  std::string resource_version() const ABSL_LOCKS_EXCLUDED(mu_);

  // Moves the version on by `n` without changing this resource, as writes
  // to other resources do on a real server (the version is global).
  void AdvanceVersion(int64_t n) ABSL_LOCKS_EXCLUDED(mu_);

  // ---- Faults

  // Forgets the changes so far: lagging watches get 410, and so do continue
  // tokens of lists taken before.
  void Compact() ABSL_LOCKS_EXCLUDED(mu_);
  // The next List() (after those queued before) answers `error`.
  void FailNextList(absl::Status error) ABSL_LOCKS_EXCLUDED(mu_);
  // The next Watch() request (after those queued before) answers `error`.
  void FailNextWatch(absl::Status error) ABSL_LOCKS_EXCLUDED(mu_);
  // Every open watch breaks: its next Next() is Unavailable, as a stream
  // cut in the middle of an event is.
  void DropWatches() ABSL_LOCKS_EXCLUDED(mu_);
  // Every open watch gets an ERROR event with 410, as a watch the server's
  // cache dropped does.
  void ExpireWatches() ABSL_LOCKS_EXCLUDED(mu_);
  // Every open watch ends cleanly, as at its timeoutSeconds.
  void CloseWatches() ABSL_LOCKS_EXCLUDED(mu_);
  // Every open watch that allows bookmarks gets a BOOKMARK at the current
  // version once it has delivered every change.
  void SendBookmark() ABSL_LOCKS_EXCLUDED(mu_);
  // Every open watch delivers an undecodable event (DataLoss) before its
  // next one; no change is lost.
  void SendGarbage() ABSL_LOCKS_EXCLUDED(mu_);

  // See the file comment. Set it before the reflector runs.
  void SetIdleHook(std::function<void()> hook) ABSL_LOCKS_EXCLUDED(mu_);

  // The requests so far, in order:
  //   "LIST rv=0 limit=500 continue="
  //   "WATCH rv=104 timeout=300 bookmarks=true"
  std::vector<std::string> requests() const ABSL_LOCKS_EXCLUDED(mu_);
  int open_watches() const ABSL_LOCKS_EXCLUDED(mu_);

  // ---- ListerWatcher

  absl::StatusOr<ListPage> List(const ListOptions& options) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::unique_ptr<WatchStream>> Watch(const WatchOptions& options) override
      ABSL_LOCKS_EXCLUDED(mu_);
  std::string description() const override { return description_; }

 private:
  class Stream;
  friend class Stream;

  struct Change {
    int64_t version;
    WatchEventType type;
    Object object;
  };

  // Stores a copy of `object` at a new version and records the change.
  void Write(const std::string& key, WatchEventType type, const google::protobuf::Message& object)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const std::string description_;
  mutable std::mutex mu_;
  // Notified, under mu_, by every change an idle stream may be waiting
  // for; the waiters look once mu_ is released.
  std::condition_variable changed_;
  int64_t version_ ABSL_GUARDED_BY(mu_) = 100;
  std::map<std::string, Object> objects_ ABSL_GUARDED_BY(mu_);
  // Changes after compacted_, oldest first.
  std::deque<Change> history_ ABSL_GUARDED_BY(mu_);
  int64_t compacted_ ABSL_GUARDED_BY(mu_) = 0;
  // What paged lists read their later pages from, by version.
  std::map<int64_t, std::map<std::string, Object>> snapshots_ ABSL_GUARDED_BY(mu_);
  std::deque<absl::Status> list_failures_ ABSL_GUARDED_BY(mu_);
  std::deque<absl::Status> watch_failures_ ABSL_GUARDED_BY(mu_);
  std::vector<Stream*> streams_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> requests_ ABSL_GUARDED_BY(mu_);
  std::function<void()> idle_hook_;
};

}  // namespace kestrel::kube::testing

#endif  // KESTREL_KUBE_FAKE_LIST_WATCH_H_
