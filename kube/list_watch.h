// File: list_watch.h
//
// client-go's ListerWatcher (tools/cache/listwatch.go): how a reflector reads
// one resource from an API server. A LIST answers one page of objects, the
// list's resourceVersion and, when more pages follow, a continue token; a
// WATCH from a resourceVersion answers a stream of the changes after it
// (ADDED, MODIFIED, DELETED, BOOKMARK, ERROR).
//
// Objects are the api protos (k8s::io::api::core::v1::Pod, Node, Namespace,
// k8s::io::api::policy::v1::PodDisruptionBudget, ...) held as
// `std::shared_ptr<const google::protobuf::Message>` rather than through a
// template per type: one reflector and one informer serve every kind and
// are compiled once; the store, the handlers and a DeletedFinalStateUnknown
// share one copy of a (several-KB) pod instead of copying it; and `const`
// makes client-go's "never mutate what the cache hands you" a fact of the
// types. ObjectAs<T>() is the checked way back to the concrete type.
//
// ListAllPages() is client-go's pager (tools/pager): pages of `limit`
// objects followed through continue tokens, and a full list when a continue
// token has expired.
//
// Errors follow kube::Client's codes (StatusFromHttp): 410 Gone (an expired
// resourceVersion or continue token) is OutOfRange, 429 ResourceExhausted,
// 404 NotFound, a server that cannot be reached or a broken connection
// Unavailable.
//
// Example:
//   std::unique_ptr<ListerWatcher> lw = ...;
//   ListOptions options;
//   options.resource_version = "0";
//   absl::StatusOr<PagedList> list = ListAllPages(*lw, options, kDefaultPageSize);
//   WatchOptions watch;
//   watch.resource_version = list->page.resource_version;
//   absl::StatusOr<std::unique_ptr<WatchStream>> w = lw->Watch(watch);
//   while (true) {
//     absl::StatusOr<std::optional<WatchEvent>> e = (*w)->Next();
//     if (!e.ok() || !e->has_value()) break;
//     ...
//   }

#ifndef KESTREL_KUBE_LIST_WATCH_H_
#define KESTREL_KUBE_LIST_WATCH_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "api/meta.pb.h"
#include "google/protobuf/message.h"

namespace kestrel::kube {

// One API object, immutable once handed out.
using Object = std::shared_ptr<const google::protobuf::Message>;

// ObjectAs()
//
// `object` as a T (a generated api message), or null when it is another
// type (or null).
template <typename T>
std::shared_ptr<const T> ObjectAs(const Object& object) {
  if (object == nullptr || object->GetDescriptor() != T::descriptor()) return nullptr;
  return std::static_pointer_cast<const T>(object);
}

// MetaOf()
//
// The `metadata` field of an API object, or null when the message has none.
const k8s::io::apimachinery::pkg::apis::meta::v1::ObjectMeta* MetaOf(
    const google::protobuf::Message& object);

// KeyOf()
//
// client-go's MetaNamespaceKeyFunc: "namespace/name", or "name" for a
// cluster-scoped object (no namespace). InvalidArgument when the object has
// no metadata or no name.
absl::StatusOr<std::string> KeyOf(const google::protobuf::Message& object);

// metadata.resourceVersion, or "" when there is none.
std::string ResourceVersionOf(const google::protobuf::Message& object);

// What a LIST asks for (metav1.ListOptions).
struct ListOptions {
  // "" (the most recent, a consistent read from storage), "0" (any: what
  // the watch cache has), or a version the answer must not be older than.
  std::string resource_version;
  // Objects per page; 0 asks for everything at once.
  int64_t limit = 0;
  // The token from the previous page; resource_version must then be "".
  std::string continue_token;
};

// An object of a list that failed to decode. Nothing has reported it yet:
// the reflector does.
struct Undecodable {
  // "namespace/name" when the object's metadata could be read, else "".
  std::string key;
  // Names the request and the object.
  absl::Status error;
};

// One page of a LIST.
struct ListPage {
  std::vector<Object> items;
  std::string resource_version;
  // Non-empty when more pages follow.
  std::string continue_token;
  // Objects of the page that could not be decoded, left out of `items`.
  std::vector<Undecodable> undecodable;
};

// What a WATCH asks for.
struct WatchOptions {
  // The changes after this version. Never "" or "0" from a reflector: those
  // ask the server for synthetic ADDED events of everything first.
  std::string resource_version;
  // Ask for BOOKMARK events (the server may ignore it).
  bool allow_watch_bookmarks = true;
  // The server ends the watch cleanly after this long; 0 leaves it to the
  // server.
  int64_t timeout_seconds = 0;
};

enum class WatchEventType { kAdded, kModified, kDeleted, kBookmark, kError };

// "ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR".
absl::string_view WatchEventTypeName(WatchEventType type);

struct WatchEvent {
  WatchEventType type = WatchEventType::kAdded;
  // kAdded, kModified, kDeleted: the object (for kDeleted, its last state).
  Object object;
  // The object's metadata.resourceVersion, or the bookmark's.
  std::string resource_version;
  // kError: the Status the server sent, as kube::Client would have mapped
  // its code (410 Gone, an expired resourceVersion, is OutOfRange).
  absl::Status error;
};

// One open WATCH.
//
// Thread-safety: Next() is called from one thread; Stop() from any thread,
// also while Next() blocks.
class WatchStream {
 public:
  virtual ~WatchStream() = default;

  // Next()
  //
  // Blocks until the next event and answers:
  //   * an event;
  //   * std::nullopt when the server ended the stream cleanly (its
  //     timeoutSeconds ran out);
  //   * DataLoss when one event could not be decoded (the message names the
  //     request and, where it could be read, the object): the stream goes
  //     on, and Next() may be called again;
  //   * Cancelled after Stop();
  //   * any other error when the request failed or the stream broke (a
  //     dropped connection, or a stream cut in the middle of an event, is
  //     Unavailable). Next() must not be called after these.
  virtual absl::StatusOr<std::optional<WatchEvent>> Next() = 0;

  // Stop()
  //
  // Ends the stream: a blocked Next() returns Cancelled promptly, and so
  // does every later one.
  virtual void Stop() = 0;
};

// Lists and watches one resource.
//
// Thread-safety: List() and Watch() are called from one thread at a time
// (a reflector's); the streams Watch() returns follow WatchStream's rules
// and must not outlive the ListerWatcher.
class ListerWatcher {
 public:
  virtual ~ListerWatcher() = default;

  // One page; errors name the request.
  virtual absl::StatusOr<ListPage> List(const ListOptions& options) = 0;

  // Opens a watch. An error of the request itself may come from here or
  // from the stream's first Next(); a reflector treats both alike.
  virtual absl::StatusOr<std::unique_ptr<WatchStream>> Watch(const WatchOptions& options) = 0;

  // What is listed, for messages: "pods", "nodes",
  // "poddisruptionbudgets.policy".
  virtual std::string description() const = 0;
};

// client-go's pager.PageSize.
inline constexpr int64_t kDefaultPageSize = 500;

// A list put together from its pages.
struct PagedList {
  // Every page's items and undecodable objects; the first page's
  // resourceVersion; no continue token.
  ListPage page;
  // Whether it took more than one page.
  bool paginated = false;
};

// ListAllPages()
//
// client-go's pager.List: asks for `page_size` objects at a time (unless
// options.limit is set; 0 lists everything at once) and follows continue
// tokens, sending the continuation pages without a resourceVersion as the
// API requires. When a continuation page fails with OutOfRange (410, the
// token expired), it starts over with one unpaged list at the requested
// resourceVersion. Other errors are returned as they are.
absl::StatusOr<PagedList> ListAllPages(ListerWatcher& lw, ListOptions options, int64_t page_size);

}  // namespace kestrel::kube

#endif  // KESTREL_KUBE_LIST_WATCH_H_
