#include "kube/testing/object_store.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"

namespace kestrel::kube::testing {

using json = nlohmann::json;

// kind, apiVersion, resource, namespaced, status subresource, unconditional
// update, create on update: as each kind's registry strategy says.
const KindInfo kNode = {"Node", "v1", "nodes", false, true, true, false};
const KindInfo kPod = {"Pod", "v1", "pods", true, true, true, false};
const KindInfo kPdb = {
    "PodDisruptionBudget", "policy/v1", "poddisruptionbudgets", true, true, true, false};
const KindInfo kPriorityClass = {
    "PriorityClass", "scheduling.k8s.io/v1", "priorityclasses", false, false, true, false};
const KindInfo kEvent = {"Event", "v1", "events", true, false, true, false};
// leaseStrategy: AllowUnconditionalUpdate false, AllowCreateOnUpdate true.
const KindInfo kLease = {"Lease", "coordination.k8s.io/v1", "leases", true, false, false, true};
const KindInfo kNamespace = {"Namespace", "v1", "namespaces", false, true, true, false};

namespace {
constexpr const KindInfo* kKinds[] = {&kNode,  &kPod,   &kPdb,      &kPriorityClass,
                                      &kEvent, &kLease, &kNamespace};
}  // namespace

absl::Span<const KindInfo* const> AllKinds() { return kKinds; }

const KindInfo* FindKind(absl::string_view kind) {
  for (const KindInfo* k : kKinds) {
    if (kind == k->kind) return k;
  }
  return nullptr;
}

std::string Group(const KindInfo& k) {
  absl::string_view v = k.api_version;
  const size_t slash = v.find('/');
  return slash == absl::string_view::npos ? "" : std::string(v.substr(0, slash));
}

std::string ObjectKey(const KindInfo& k, const std::string& ns, const std::string& name) {
  return k.namespaced ? absl::StrCat(ns, "/", name) : name;
}

const char* ChangeTypeName(ChangeType type) {
  switch (type) {
    case ChangeType::kAdded:
      return "ADDED";
    case ChangeType::kModified:
      return "MODIFIED";
    case ChangeType::kDeleted:
      return "DELETED";
  }
  return "";
}

ObjectStore::ObjectStore(int history_size)
    : history_size_(static_cast<size_t>(std::max(1, history_size))) {}

// View and Txn exist only inside Read() and Write(), which hold mu_ (shared
// or exclusive); the analysis cannot follow that, so their members opt out.

ObjectPtr ObjectStore::View::Find(const KindInfo& k,
                                  const std::string& key) const ABSL_NO_THREAD_SAFETY_ANALYSIS {
  auto kind = store_->objects_.find(k.kind);
  if (kind == store_->objects_.end()) return nullptr;
  auto it = kind->second.find(key);
  return it == kind->second.end() ? nullptr : it->second;
}

const Objects& ObjectStore::View::All(const KindInfo& k) const ABSL_NO_THREAD_SAFETY_ANALYSIS {
  static const Objects* const kNone = new Objects();
  auto kind = store_->objects_.find(k.kind);
  return kind == store_->objects_.end() ? *kNone : kind->second;
}

int64_t ObjectStore::View::version() const ABSL_NO_THREAD_SAFETY_ANALYSIS {
  return store_->version_;
}

uint64_t ObjectStore::View::generation() const ABSL_NO_THREAD_SAFETY_ANALYSIS {
  return store_->generation_;
}

int64_t ObjectStore::View::Floor(const KindInfo& k) const ABSL_NO_THREAD_SAFETY_ANALYSIS {
  const History* h = store_->HistoryOf(k);
  if (h == nullptr || !h->dropped || h->changes.empty()) return 0;
  return h->changes.front().resource_version - 1;
}

absl::StatusOr<Objects> ObjectStore::View::At(const KindInfo& k, int64_t resource_version) const
    ABSL_NO_THREAD_SAFETY_ANALYSIS {
  if (resource_version < Floor(k)) {
    return absl::OutOfRangeError(
        absl::StrCat("resourceVersion ", resource_version, " is older than ", Floor(k)));
  }
  Objects objects = All(k);
  const History* h = store_->HistoryOf(k);
  if (h == nullptr) return objects;
  // Undo the changes made after `resource_version`, newest first.
  for (auto it = h->changes.rbegin();
       it != h->changes.rend() && it->resource_version > resource_version; ++it) {
    if (it->type == ChangeType::kAdded) {
      objects.erase(it->key);
    } else {
      objects[it->key] = it->previous;
    }
  }
  return objects;
}

std::vector<Change> ObjectStore::View::ChangesAfter(
    const KindInfo& k, int64_t resource_version) const ABSL_NO_THREAD_SAFETY_ANALYSIS {
  std::vector<Change> out;
  const History* h = store_->HistoryOf(k);
  if (h == nullptr) return out;
  auto first =
      std::upper_bound(h->changes.begin(), h->changes.end(), resource_version,
                       [](int64_t rv, const Change& c) { return rv < c.resource_version; });
  out.assign(first, h->changes.end());
  return out;
}

ObjectPtr ObjectStore::Txn::Put(const KindInfo& k, const std::string& key,
                                json object) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  ObjectStore* s = mutable_;
  const int64_t rv = ++s->version_;
  object["metadata"]["resourceVersion"] = std::to_string(rv);
  auto stored = std::make_shared<const json>(std::move(object));
  ObjectPtr& slot = s->objects_[k.kind][key];
  Change change;
  change.resource_version = rv;
  change.type = slot == nullptr ? ChangeType::kAdded : ChangeType::kModified;
  change.key = key;
  change.object = stored;
  change.previous = slot;
  slot = stored;
  s->Record(k, std::move(change));
  return stored;
}

ObjectPtr ObjectStore::Txn::Remove(const KindInfo& k,
                                   const std::string& key) ABSL_NO_THREAD_SAFETY_ANALYSIS {
  ObjectStore* s = mutable_;
  Objects& objects = s->objects_[k.kind];
  auto it = objects.find(key);
  if (it == objects.end()) return nullptr;
  const int64_t rv = ++s->version_;
  json last = *it->second;
  last["metadata"]["resourceVersion"] = std::to_string(rv);
  auto deleted = std::make_shared<const json>(std::move(last));
  Change change;
  change.resource_version = rv;
  change.type = ChangeType::kDeleted;
  change.key = key;
  change.object = deleted;
  change.previous = it->second;
  objects.erase(it);
  s->Record(k, std::move(change));
  return deleted;
}

int64_t ObjectStore::Txn::NextUid() ABSL_NO_THREAD_SAFETY_ANALYSIS { return ++mutable_->uids_; }

int64_t ObjectStore::Txn::NextGeneratedName() ABSL_NO_THREAD_SAFETY_ANALYSIS {
  return mutable_->generated_++;
}

const ObjectStore::History* ObjectStore::HistoryOf(const KindInfo& k) const {
  auto it = history_.find(k.kind);
  return it == history_.end() ? nullptr : &it->second;
}

void ObjectStore::Record(const KindInfo& k, Change change) {
  History& h = history_[k.kind];
  h.changes.push_back(std::move(change));
  while (h.changes.size() > history_size_) {
    h.changes.pop_front();
    h.dropped = true;
  }
}

ObjectStore::Batch ObjectStore::WaitForChanges(const KindInfo& k, int64_t after,
                                               absl::Time deadline, uint64_t generation) const {
  const auto ready = [&]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    if (closed_ || generation_ != generation) return true;
    const History* h = HistoryOf(k);
    return h != nullptr && !h->changes.empty() && h->changes.back().resource_version > after;
  };
  const bool woke = mu_.ReaderLockWhenWithDeadline(absl::Condition(&ready), deadline);
  Batch batch;
  batch.version = version_;
  View view(this);
  if (closed_ || generation_ != generation) {
    batch.why = Batch::Why::kInterrupted;
  } else if (after < view.Floor(k)) {
    batch.why = Batch::Why::kFellBehind;
  } else if (woke) {
    batch.why = Batch::Why::kChanges;
    batch.changes = view.ChangesAfter(k, after);
  }
  mu_.ReaderUnlock();
  return batch;
}

uint64_t ObjectStore::generation() const {
  absl::ReaderMutexLock lock(&mu_);
  return generation_;
}

void ObjectStore::Interrupt() {
  absl::WriterMutexLock lock(&mu_);
  ++generation_;
}

void ObjectStore::Close() {
  absl::WriterMutexLock lock(&mu_);
  ++generation_;
  closed_ = true;
}

}  // namespace kestrel::kube::testing
