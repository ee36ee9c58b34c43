// File: http_list_watch.h
//
// A ListerWatcher over HTTP: an API server's LIST and WATCH requests for one
// resource, their JSON answers decoded by api/decode into the api protos.
//
//   LIST   GET /api/v1/pods?fieldSelector=...&resourceVersion=0&limit=500
//          a PodList: metadata.resourceVersion, metadata.continue, items
//   WATCH  GET /api/v1/pods?watch=true&fieldSelector=...&resourceVersion=812
//              &allowWatchBookmarks=true&timeoutSeconds=412
//          one JSON WatchEvent {"type": ..., "object": {...}} per line, for
//          as long as the server keeps the response open
//
// Bad input never ends more than it must: an item of a list that does not
// decode is left out (ListPage::undecodable) and the rest of the page is
// kept; a watch line that does not decode (not JSON, an unknown type, an
// object with a wrong field) is one DataLoss answer from Next() and the
// stream goes on; a stream that ends or breaks in the middle of a line is
// Unavailable, which a reflector takes as a dropped connection. Every error
// names the request and, where it can be read, the object
// ("GET /api/v1/pods?watch=true&...: Pod ns/web-1: spec.priority: ...").
//
// Seams, for the client that is coming (the `wire` branch's thread-safe
// kube::Client with protobuf and a streaming GET):
//   * LISTs go through kube::Client::Get;
//   * the watch body comes from a BodyStream. HttplibBodyStreams() is a small
//     cpp-httplib one; an adapter over Client::Stream() replaces it;
//   * DecodeJsonList() and DecodeJsonWatchEvent() are the only places that
//     know the wire format; protobuf decoding goes beside them.
//
// Example:
//   absl::StatusOr<std::unique_ptr<HttpListerWatcher>> pods =
//       HttpListerWatcher::Create(config, PodsResource());
//   Informer informer(*std::move(pods), ReflectorOptions());

#ifndef KESTREL_KUBE_HTTP_LIST_WATCH_H_
#define KESTREL_KUBE_HTTP_LIST_WATCH_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "kube/client.h"
#include "kube/list_watch.h"

namespace kestrel::kube {

// One resource as the API serves it.
struct Resource {
  // The collection, across namespaces: "/api/v1/pods".
  std::string path;
  // For messages: "pods", "poddisruptionbudgets.policy".
  std::string description;
  // The objects' kind, for messages: "Pod".
  std::string kind;
  std::string field_selector;
  std::string label_selector;
  // The objects' message type (Pod::default_instance()); never null.
  const google::protobuf::Message* prototype = nullptr;
};

// Pods of every namespace that are not finished, as kube-scheduler watches
// them: fieldSelector status.phase!=Succeeded,status.phase!=Failed.
Resource PodsResource();
Resource NodesResource();
Resource NamespacesResource();
// policy/v1.
Resource PodDisruptionBudgetsResource();
// scheduling.k8s.io/v1.
Resource PriorityClassesResource();

// The body of one streaming GET.
//
// Thread-safety: Get() runs on one thread; Cancel() may be called from any
// other, before, during or after it.
class BodyStream {
 public:
  virtual ~BodyStream() = default;

  // Get()
  //
  // Requests `path` and hands the body of a 2xx answer to `on_data` chunk by
  // chunk, as it arrives. OK when the server ended the body; Cancelled after
  // Cancel(); the error of `on_data` when it returned one; for an answer
  // that is not 2xx, StatusFromHttp's error; Unavailable when the server
  // cannot be reached, the connection breaks, or nothing arrives for
  // `idle_timeout` (a connection that died without a word). Errors start
  // with "GET <path>: ".
  virtual absl::Status Get(const std::string& path, absl::Duration idle_timeout,
                           const std::function<absl::Status(absl::string_view)>& on_data) = 0;

  // Cancel()
  //
  // Makes a running Get() return Cancelled promptly, and a later one at
  // once.
  virtual void Cancel() = 0;
};

using BodyStreamFactory = std::function<std::unique_ptr<BodyStream>()>;

// HttplibBodyStreams()
//
// Streams from `config`'s server over cpp-httplib, one connection each,
// with its bearer token and TLS settings. Connecting is bounded by
// config.timeout.
BodyStreamFactory HttplibBodyStreams(const Config& config);

// How long a watch may go without a byte before it counts as dropped:
// the server ends it at its timeoutSeconds, and while it runs sends a
// BOOKMARK about every minute; without timeoutSeconds, an hour.
absl::Duration WatchIdleTimeout(const WatchOptions& options);

// Lines longer than this end a watch (client-go's streaming decoder refuses
// frames over 16 MiB as well).
inline constexpr size_t kMaxWatchEventBytes = 16 * 1024 * 1024;

// DecodeJsonList()
//
// A list answer (a PodList, ...) into a page; `what` (the request) starts
// every error. Items that do not decode are left out and listed in
// `undecodable`; an answer that is not a JSON object with a list's shape is
// an error.
absl::StatusOr<ListPage> DecodeJsonList(absl::string_view body, const Resource& resource,
                                        absl::string_view what);

// DecodeJsonWatchEvent()
//
// One line of a JSON watch stream. An ERROR event's Status becomes
// WatchEvent::error (its code mapped as StatusFromHttp maps an answer's,
// so 410 is OutOfRange). A line that is not an event, or whose object does
// not decode, is DataLoss naming `what` and the object.
absl::StatusOr<WatchEvent> DecodeJsonWatchEvent(absl::string_view line, const Resource& resource,
                                                absl::string_view what);

// Thread-compatible, as ListerWatcher asks: one List() or Watch() at a time.
class HttpListerWatcher : public ListerWatcher {
 public:
  // Create()
  //
  // A client of its own for `config`'s server (kube::Client serves one
  // request at a time), and cpp-httplib watch streams.
  static absl::StatusOr<std::unique_ptr<HttpListerWatcher>> Create(const Config& config,
                                                                   Resource resource);

  HttpListerWatcher(std::unique_ptr<Client> client, BodyStreamFactory streams, Resource resource);

  absl::StatusOr<ListPage> List(const ListOptions& options) override;
  absl::StatusOr<std::unique_ptr<WatchStream>> Watch(const WatchOptions& options) override;
  std::string description() const override { return resource_.description; }

  // The request paths, query included.
  std::string ListPath(const ListOptions& options) const;
  std::string WatchPath(const WatchOptions& options) const;

 private:
  std::unique_ptr<Client> client_;
  BodyStreamFactory streams_;
  const Resource resource_;
};

}  // namespace kestrel::kube

#endif  // KESTREL_KUBE_HTTP_LIST_WATCH_H_
