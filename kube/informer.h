// File: informer.h
//
// client-go's shared informer (tools/cache/shared_informer.go), for one
// resource: a Reflector keeps a Store equal to the API server's objects,
// keyed "namespace/name" (or "name" for cluster-scoped kinds), and every
// change is handed to the registered handlers:
//
//   OnAdd(object)                  an object the store did not have
//   OnUpdate(old, new)             one it had: `old` is what the store held
//   OnDelete(object)               the watch's DELETED event (its last state)
//   OnDelete(DeletedFinalStateUnknown{key, last known object})
//                                  gone from a relist: the deletion itself
//                                  was missed while the watch was down
//
// as client-go's DeltaFIFO and processDeltas do it: a relist adds what is
// new, updates what changed and deletes what is gone; an object a relist
// finds at the resourceVersion the store already has is not handed out
// again (client-go treats it as a resync, and resync is off, as in
// kube-scheduler), and the store keeps the copy it had. Handlers see a consistent story: an update or a delete
// only for a key they were given an add for, never two adds in a row, and
// `old` of an update is the `new` of the change before. A DELETED event for
// an object the store does not have (its add was lost to bad input) is
// dropped.
//
// Threading: handlers are called from the informer's one thread (Run()'s),
// in order, one at a time; they must not block for long, since the watch
// waits for them. The store is updated before the handlers of a change are
// called, and may be read from any thread. Stop(), HasSynced(),
// WaitForSync() and store() may be called from any thread, Stop() also from
// a handler. Locks are std::mutex, for ThreadSanitizer (see reflector.h).
//
// Example:
//   auto lw = HttpListerWatcher::Create(config, PodsResource());
//   Informer pods(*std::move(lw), ReflectorOptions());
//   EventHandlers handlers;
//   handlers.on_add = [&](const Object& o) { ... };
//   pods.AddEventHandler(std::move(handlers));
//   pods.Start();
//   if (!pods.WaitForSync(absl::Minutes(1))) ...;
//   ...
//   pods.Stop();

#ifndef KESTREL_KUBE_INFORMER_H_
#define KESTREL_KUBE_INFORMER_H_

#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "kube/list_watch.h"
#include "kube/reflector.h"

namespace kestrel::kube {

// Objects by key: client-go's threadSafeMap, without indexes.
//
// Thread-safe.
class Store {
 public:
  // The object under `key`, or null.
  Object Get(absl::string_view key) const ABSL_LOCKS_EXCLUDED(mu_);
  // Every object, in no particular order.
  std::vector<Object> List() const ABSL_LOCKS_EXCLUDED(mu_);
  // Every key, sorted.
  std::vector<std::string> ListKeys() const ABSL_LOCKS_EXCLUDED(mu_);
  size_t size() const ABSL_LOCKS_EXCLUDED(mu_);

  // Put()
  //
  // Stores `object` under `key`; answers what was there before, or null.
  Object Put(const std::string& key, Object object) ABSL_LOCKS_EXCLUDED(mu_);

  // Erase()
  //
  // Removes `key`; answers what was there, or null.
  Object Erase(absl::string_view key) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable std::mutex mu_;
  absl::flat_hash_map<std::string, Object> objects_ ABSL_GUARDED_BY(mu_);
};

// An object deleted while the watch was down: a relist no longer has it.
// `object` is the last state the store had; the object may have changed on
// the server before it went.
struct DeletedFinalStateUnknown {
  std::string key;
  Object object;
};

// What OnDelete receives.
using DeletedObject = std::variant<Object, DeletedFinalStateUnknown>;

// LastState()
//
// The object a DeletedObject carries, whichever kind it is.
const Object& LastState(const DeletedObject& deleted);

// client-go's ResourceEventHandlerFuncs: unset functions are not called.
struct EventHandlers {
  std::function<void(const Object& object)> on_add;
  std::function<void(const Object& old_object, const Object& new_object)> on_update;
  std::function<void(const DeletedObject& deleted)> on_delete;
};

class Informer {
 public:
  // `options` configure the reflector (clock, backoff, error reporting).
  Informer(std::unique_ptr<ListerWatcher> lister_watcher, ReflectorOptions options);

  Informer(const Informer&) = delete;
  Informer& operator=(const Informer&) = delete;
  // Stop()s, and joins the thread Start() made.
  ~Informer();

  // AddEventHandler()
  //
  // Handlers are called in the order they were added. Only before Run() or
  // Start(): FailedPrecondition after.
  absl::Status AddEventHandler(EventHandlers handlers) ABSL_LOCKS_EXCLUDED(mu_);

  // Run()
  //
  // Lists and watches on the calling thread, calling the handlers, until
  // Stop(). Run() or Start(), once.
  void Run() ABSL_LOCKS_EXCLUDED(mu_);

  // Start()
  //
  // Run() on a thread of the informer's own.
  void Start() ABSL_LOCKS_EXCLUDED(mu_);

  // Stop()
  //
  // Ends Run() and, unless called from it, waits for Start()'s thread.
  void Stop() ABSL_LOCKS_EXCLUDED(mu_);

  // HasSynced()
  //
  // Whether the first list is in the store and its handlers have returned.
  bool HasSynced() const ABSL_LOCKS_EXCLUDED(mu_);

  // WaitForSync()
  //
  // Waits until HasSynced(); false when `timeout` passed first or the
  // informer was stopped.
  bool WaitForSync(absl::Duration timeout) const ABSL_LOCKS_EXCLUDED(mu_);

  const Store& store() const { return store_; }

  // The resourceVersion the store reflects.
  std::string LastSyncResourceVersion() const { return reflector_.LastSyncResourceVersion(); }

 private:
  // The reflector's view of the informer: changes go to the store, then to
  // the handlers.
  class Dispatcher : public ReflectorStore {
   public:
    explicit Dispatcher(Informer* informer) : informer_(informer) {}
    absl::Status Add(const Object& object) override { return Upsert(object); }
    absl::Status Update(const Object& object) override { return Upsert(object); }
    absl::Status Delete(const Object& object) override;
    absl::Status Replace(std::vector<Object> items, const std::vector<std::string>& keep,
                         const std::string& resource_version) override;

   private:
    absl::Status Upsert(const Object& object);
    Informer* const informer_;
  };

  void OnAdd(const Object& object);
  void OnUpdate(const Object& old_object, const Object& new_object);
  void OnDelete(const DeletedObject& deleted);
  void MarkSynced() ABSL_LOCKS_EXCLUDED(mu_);

  std::unique_ptr<ListerWatcher> lister_watcher_;
  Store store_;
  Dispatcher dispatcher_;
  Reflector reflector_;

  mutable std::mutex mu_;
  mutable std::condition_variable synced_or_stopped_cv_;
  // Written before Run() only, so the informer's thread reads it unlocked.
  std::vector<EventHandlers> handlers_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool synced_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_ ABSL_GUARDED_BY(mu_);
};

}  // namespace kestrel::kube

#endif  // KESTREL_KUBE_INFORMER_H_
