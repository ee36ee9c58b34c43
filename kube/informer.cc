#include "kube/informer.h"

#include <pthread.h>

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"

namespace kestrel::kube {

Object Store::Get(absl::string_view key) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  return it == objects_.end() ? nullptr : it->second;
}

std::vector<Object> Store::List() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Object> out;
  out.reserve(objects_.size());
  for (const auto& [key, object] : objects_) out.push_back(object);
  return out;
}

std::vector<std::string> Store::ListKeys() const {
  std::vector<std::string> keys;
  {
    std::lock_guard<std::mutex> lock(mu_);
    keys.reserve(objects_.size());
    for (const auto& [key, object] : objects_) keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

size_t Store::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_.size();
}

Object Store::Put(const std::string& key, Object object) {
  std::lock_guard<std::mutex> lock(mu_);
  Object& slot = objects_[key];
  std::swap(slot, object);
  return object;
}

Object Store::Erase(absl::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return nullptr;
  Object old = std::move(it->second);
  objects_.erase(it);
  return old;
}

const Object& LastState(const DeletedObject& deleted) {
  if (const auto* tombstone = std::get_if<DeletedFinalStateUnknown>(&deleted)) {
    return tombstone->object;
  }
  return std::get<Object>(deleted);
}

Informer::Informer(std::unique_ptr<ListerWatcher> lister_watcher, ReflectorOptions options)
    : lister_watcher_(std::move(lister_watcher)),
      dispatcher_(this),
      reflector_(lister_watcher_.get(), &dispatcher_, std::move(options)) {}

Informer::~Informer() { Stop(); }

absl::Status Informer::AddEventHandler(EventHandlers handlers) {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_) {
    return absl::FailedPreconditionError(absl::StrCat(
        "informer ", reflector_.name(), ": event handlers must be added before it runs"));
  }
  handlers_.push_back(std::move(handlers));
  return absl::OkStatus();
}

void Informer::Run() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (started_ || stopped_) return;
    started_ = true;
  }
  reflector_.Run();
}

void Informer::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (started_ || stopped_) return;
  started_ = true;
  thread_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "reflector");
    reflector_.Run();
  });
}

void Informer::Stop() {
  reflector_.Stop();
  std::thread thread;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) {
      thread = std::move(thread_);
    }
  }
  synced_or_stopped_cv_.notify_all();
  if (thread.joinable()) thread.join();
}

bool Informer::HasSynced() const {
  std::lock_guard<std::mutex> lock(mu_);
  return synced_;
}

bool Informer::WaitForSync(absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  synced_or_stopped_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                                 [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
                                   return synced_ || stopped_;
                                 });
  return synced_;
}

void Informer::MarkSynced() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    synced_ = true;
  }
  synced_or_stopped_cv_.notify_all();
}

void Informer::OnAdd(const Object& object) {
  for (const EventHandlers& h : handlers_) {
    if (h.on_add) h.on_add(object);
  }
}

void Informer::OnUpdate(const Object& old_object, const Object& new_object) {
  for (const EventHandlers& h : handlers_) {
    if (h.on_update) h.on_update(old_object, new_object);
  }
}

void Informer::OnDelete(const DeletedObject& deleted) {
  for (const EventHandlers& h : handlers_) {
    if (h.on_delete) h.on_delete(deleted);
  }
}

absl::Status Informer::Dispatcher::Upsert(const Object& object) {
  absl::StatusOr<std::string> key = KeyOf(*object);
  if (!key.ok()) return key.status();
  // As client-go's processDeltas: add or update by what the store had, not
  // by the event's type, so that an ADDED for a known key is an update.
  Object old = informer_->store_.Put(*key, object);
  if (old == nullptr) {
    informer_->OnAdd(object);
  } else {
    informer_->OnUpdate(old, object);
  }
  return absl::OkStatus();
}

absl::Status Informer::Dispatcher::Delete(const Object& object) {
  absl::StatusOr<std::string> key = KeyOf(*object);
  if (!key.ok()) return key.status();
  Object old = informer_->store_.Erase(*key);
  // Handlers never saw this object arrive; a delete would be their first
  // word of it.
  if (old == nullptr) return absl::OkStatus();
  informer_->OnDelete(object);
  return absl::OkStatus();
}

absl::Status Informer::Dispatcher::Replace(std::vector<Object> items,
                                           const std::vector<std::string>& keep,
                                           const std::string& /*resource_version*/) {
  absl::flat_hash_set<std::string> listed(keep.begin(), keep.end());
  absl::Status first_error;
  int errors = 0;
  for (const Object& object : items) {
    absl::StatusOr<std::string> key = KeyOf(*object);
    if (!key.ok()) {
      if (errors++ == 0) first_error = key.status();
      continue;
    }
    listed.insert(*key);
    Object old = informer_->store_.Get(*key);
    if (old != nullptr && ResourceVersionOf(*old) == ResourceVersionOf(*object)) {
      // The same version again is client-go's resync, which nobody here
      // asked for. The store keeps the copy the handlers were given, so
      // that the next update's `old` is the object they saw.
      continue;
    }
    informer_->store_.Put(*key, object);
    if (old == nullptr) {
      informer_->OnAdd(object);
    } else {
      informer_->OnUpdate(old, object);
    }
  }
  // What the list no longer has was deleted while the watch was not
  // looking.
  for (const std::string& key : informer_->store_.ListKeys()) {
    if (listed.contains(key)) continue;
    Object old = informer_->store_.Erase(key);
    if (old != nullptr) informer_->OnDelete(DeletedFinalStateUnknown{key, std::move(old)});
  }
  informer_->MarkSynced();
  if (errors > 0) {
    return absl::Status(first_error.code(),
                        absl::StrCat(errors, " listed object(s) without a key were left out; the "
                                             "first: ",
                                     first_error.message()));
  }
  return absl::OkStatus();
}

}  // namespace kestrel::kube
