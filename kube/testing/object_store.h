// File: object_store.h
//
// The fake API server's storage, in one place: the objects of every kind
// it keeps, one resourceVersion counter shared by all kinds (as etcd's
// revision is), and for each kind a bounded history of its changes (as the
// watch cache keeps one per resource) that watches read from and that
// lists reach back into to serve a continue token's snapshot.
//
// Objects are immutable once stored (`ObjectPtr`), so readers take
// pointers under the read lock and encode them after releasing it. Writes
// go through a Txn under the write lock: every Put or Remove stamps the
// next resourceVersion and records an ADDED, MODIFIED or DELETED change.
// Internal to kube/testing.
//
// Example:
//   ObjectStore store(/*history_size=*/1000);
//   store.Write([&](ObjectStore::Txn& txn) { txn.Put(kNode, "n1", node); });
//   ObjectStore::Batch b = store.WaitForChanges(kNode, /*after=*/1, deadline, generation);

#ifndef KESTREL_KUBE_TESTING_OBJECT_STORE_H_
#define KESTREL_KUBE_TESTING_OBJECT_STORE_H_

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube::testing {

// What the server knows of each kind it stores, and the parts of its
// registry strategy a client can observe.
struct KindInfo {
  const char* kind;
  const char* api_version;  // "<group>/<version>", or "v1" for the core group
  const char* resource;     // plural, as in paths and error messages
  bool namespaced;
  // A status subresource: writes to the object keep its status, writes to
  // /status change only the status.
  bool has_status;
  // A PUT without metadata.resourceVersion is accepted (AllowUnconditionalUpdate).
  bool unconditional_update;
  // A PUT to a missing name creates the object (AllowCreateOnUpdate).
  bool create_on_update;
};

extern const KindInfo kNode;
extern const KindInfo kPod;
extern const KindInfo kPdb;
extern const KindInfo kPriorityClass;
extern const KindInfo kEvent;  // stored as core/v1; events.k8s.io/v1 is a view of it
extern const KindInfo kLease;
extern const KindInfo kNamespace;

absl::Span<const KindInfo* const> AllKinds();

// The kind named `kind` ("Pod"), or nullptr.
const KindInfo* FindKind(absl::string_view kind);

// "" for the core group.
std::string Group(const KindInfo& k);

// Where an object is kept, and the order lists come in: "ns/name" for
// namespaced kinds, "name" for the others (etcd's key below the
// resource's prefix).
std::string ObjectKey(const KindInfo& k, const std::string& ns, const std::string& name);

using ObjectPtr = std::shared_ptr<const nlohmann::json>;
using Objects = std::map<std::string, ObjectPtr>;  // by key

enum class ChangeType { kAdded, kModified, kDeleted };

// "ADDED", "MODIFIED", "DELETED".
const char* ChangeTypeName(ChangeType type);

// One write, as watchers see it.
struct Change {
  int64_t resource_version = 0;
  ChangeType type = ChangeType::kAdded;
  std::string key;
  // The new state; for kDeleted the last state, stamped with the
  // deletion's resourceVersion (what a DELETED event carries).
  ObjectPtr object;
  // The state before; null for kAdded.
  ObjectPtr previous;
};

class ObjectStore {
 public:
  // `history_size` (at least 1): how many changes of each kind are kept.
  explicit ObjectStore(int history_size);

  ObjectStore(const ObjectStore&) = delete;
  ObjectStore& operator=(const ObjectStore&) = delete;

  // Reads, under the read lock.
  class View {
   public:
    // The stored object, or null.
    ObjectPtr Find(const KindInfo& k, const std::string& key) const;
    const Objects& All(const KindInfo& k) const;
    // The latest resourceVersion.
    int64_t version() const;
    // The interrupt generation (see WaitForChanges).
    uint64_t generation() const;
    // The oldest resourceVersion a watch or a snapshot can start from:
    // 0 while nothing of `k` has left the history, else one less than the
    // oldest change kept (upstream's "oldest-1"). Older ones are "too old".
    int64_t Floor(const KindInfo& k) const;
    // The objects of `k` as they were at `resource_version`, rebuilt from
    // the history; OutOfRange when it is older than Floor(k).
    absl::StatusOr<Objects> At(const KindInfo& k, int64_t resource_version) const;
    // The changes of `k` after `resource_version` (not older than Floor(k)).
    std::vector<Change> ChangesAfter(const KindInfo& k, int64_t resource_version) const;

   protected:
    friend class ObjectStore;
    explicit View(const ObjectStore* store) : store_(store) {}
    const ObjectStore* store_;
  };

  // Writes, under the write lock.
  class Txn : public View {
   public:
    // Stores `object` under `key`, stamping metadata.resourceVersion with
    // the next version; records ADDED or MODIFIED. Returns what is stored.
    ObjectPtr Put(const KindInfo& k, const std::string& key, nlohmann::json object);
    // Removes the object; records DELETED. Returns its last state stamped
    // with the deletion's version, or null when there is none.
    ObjectPtr Remove(const KindInfo& k, const std::string& key);
    // Counters for uids and generated names, so runs are repeatable.
    int64_t NextUid();
    int64_t NextGeneratedName();

   private:
    friend class ObjectStore;
    explicit Txn(ObjectStore* store) : View(store), mutable_(store) {}
    ObjectStore* mutable_;
  };

  template <typename F>
  auto Read(F&& f) const ABSL_LOCKS_EXCLUDED(mu_) {
    absl::ReaderMutexLock lock(&mu_);
    View view(this);
    return f(static_cast<const View&>(view));
  }

  template <typename F>
  auto Write(F&& f) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::WriterMutexLock lock(&mu_);
    Txn txn(this);
    return f(txn);
  }

  // What a watch waits for.
  struct Batch {
    enum class Why {
      kChanges,      // `changes` holds the kind's changes after `after`
      kDeadline,     // nothing new before the deadline
      kInterrupted,  // Interrupt() or Close() was called
      kFellBehind,   // changes the watch has not seen left the history
    };
    Why why = Why::kDeadline;
    std::vector<Change> changes;
    // Everything up to here has been looked at: the watch's next `after`.
    int64_t version = 0;
  };

  // WaitForChanges()
  //
  // Blocks until `k` has changes after `after`, `deadline` passes, or the
  // store's interrupt generation is no longer `generation`. Holds only the
  // read lock, and only while it looks.
  Batch WaitForChanges(const KindInfo& k, int64_t after, absl::Time deadline,
                       uint64_t generation) const ABSL_LOCKS_EXCLUDED(mu_);

  // The generation a watch starts with; Interrupt() moves it on.
  uint64_t generation() const ABSL_LOCKS_EXCLUDED(mu_);

  // Ends every wait in progress with kInterrupted.
  void Interrupt() ABSL_LOCKS_EXCLUDED(mu_);

  // Interrupt(), and every later wait ends at once too.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  struct History {
    std::deque<Change> changes;
    bool dropped = false;  // something left the front
  };

  const History* HistoryOf(const KindInfo& k) const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void Record(const KindInfo& k, Change change) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const size_t history_size_;
  mutable absl::Mutex mu_;
  int64_t version_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t uids_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t generated_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, Objects> objects_ ABSL_GUARDED_BY(mu_);  // by kind
  std::map<std::string, History> history_ ABSL_GUARDED_BY(mu_);  // by kind
};

}  // namespace kestrel::kube::testing

#endif  // KESTREL_KUBE_TESTING_OBJECT_STORE_H_
