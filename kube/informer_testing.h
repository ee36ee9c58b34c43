// File: informer_testing.h
//
// HandlerRecorder: informer event handlers for tests that log every call
// ("ADD ns/a@101", "UPDATE ns/a@101->104", "DELETE ns/b@105",
// "DELETE-UNKNOWN ns/b@102" for a DeletedFinalStateUnknown) and check that
// the calls tell a consistent story.
//
// Thread-safe (std::mutex, for ThreadSanitizer): the informer's thread
// calls the handlers while a test reads.

#ifndef KESTREL_KUBE_INFORMER_TESTING_H_
#define KESTREL_KUBE_INFORMER_TESTING_H_

#include <map>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "kube/informer.h"
#include "kube/list_watch.h"

namespace kestrel::kube::testing {

// "ns/name@resourceVersion".
inline std::string DescribeObject(const Object& o) {
  absl::StatusOr<std::string> key = KeyOf(*o);
  return absl::StrCat(key.ok() ? *key : "<no key>", "@", ResourceVersionOf(*o));
}

// Handlers that log every call and check that the calls tell a consistent
// story: adds only for keys not seen, updates whose old object is the new
// object of the change before, deletes only for keys seen (a tombstone's
// object being the last one handed out).
class HandlerRecorder {
 public:
  static std::string KeyOrEmpty(const google::protobuf::Message& o) {
    absl::StatusOr<std::string> key = KeyOf(o);
    return key.ok() ? *key : "";
  }

  EventHandlers Handlers() {
    EventHandlers h;
    h.on_add = [this](const Object& o) {
      std::lock_guard<std::mutex> lock(mu_);
      const std::string key = KeyOrEmpty(*o);
      if (seen_.count(key) > 0) violations_.push_back("a second ADD for " + key);
      seen_[key] = o;
      log_.push_back("ADD " + DescribeObject(o));
    };
    h.on_update = [this](const Object& old_object, const Object& new_object) {
      std::lock_guard<std::mutex> lock(mu_);
      const std::string key = KeyOrEmpty(*new_object);
      auto it = seen_.find(key);
      if (it == seen_.end()) {
        violations_.push_back("an UPDATE for " + key + ", never added");
      } else if (it->second != old_object) {
        violations_.push_back("an UPDATE for " + key + " whose old is not the last new");
      }
      seen_[key] = new_object;
      log_.push_back(absl::StrCat("UPDATE ", DescribeObject(old_object), "->",
                                  ResourceVersionOf(*new_object)));
    };
    h.on_delete = [this](const DeletedObject& d) {
      std::lock_guard<std::mutex> lock(mu_);
      const auto* tombstone = std::get_if<DeletedFinalStateUnknown>(&d);
      const std::string key = tombstone != nullptr ? tombstone->key : KeyOrEmpty(*LastState(d));
      auto it = seen_.find(key);
      if (it == seen_.end()) {
        violations_.push_back("a DELETE for " + key + ", never added");
      } else {
        if (tombstone != nullptr && it->second != tombstone->object) {
          violations_.push_back("a tombstone for " + key + " that is not the last object");
        }
        seen_.erase(it);
      }
      if (tombstone != nullptr) ++tombstones_;
      log_.push_back(absl::StrCat(tombstone != nullptr ? "DELETE-UNKNOWN " : "DELETE ",
                                  DescribeObject(LastState(d))));
    };
    return h;
  }

  std::vector<std::string> log() const {
    std::lock_guard<std::mutex> lock(mu_);
    return log_;
  }
  std::vector<std::string> violations() const {
    std::lock_guard<std::mutex> lock(mu_);
    return violations_;
  }
  std::map<std::string, Object> seen() const {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }
  int tombstones() const {
    std::lock_guard<std::mutex> lock(mu_);
    return tombstones_;
  }

 private:
  mutable std::mutex mu_;
  std::vector<std::string> log_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> violations_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Object> seen_ ABSL_GUARDED_BY(mu_);
  int tombstones_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace kestrel::kube::testing

#endif  // KESTREL_KUBE_INFORMER_TESTING_H_
