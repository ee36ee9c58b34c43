// File: http_list_watch.h
//
// A ListerWatcher over HTTP: an API server's LIST and WATCH requests for one
// resource, made through a kube::Client (kube/client.h) that every informer
// of a host shares, so that all of them draw on one token bucket and one
// pool of kept connections, as client-go's shared informers share a
// clientset.
//
//   LIST   GET /api/v1/pods?fieldSelector=...&resourceVersion=0&limit=500
//          a PodList: metadata.resourceVersion, metadata.continue, items
//   WATCH  GET /api/v1/pods?watch=true&fieldSelector=...&resourceVersion=812
//              &allowWatchBookmarks=true&timeoutSeconds=412
//          events, for as long as the server keeps the response open
//
// Both ask for the client's content type (Kubernetes protobuf by default,
// kube-scheduler's clientConnection.contentType, falling back to JSON) and
// read what the server answers: a protobuf list or a JSON one; a
// length-delimited protobuf watch stream or JSON lines.
//
// Bad input never ends more than it must: an item of a list that does not
// decode is left out (ListPage::undecodable) and the rest of the page is
// kept; a watch event that arrived whole but does not decode (an unknown
// type, an object with a wrong field) is one DataLoss answer from Next()
// and the stream goes on; a stream that ends or breaks in the middle of an
// event, or stays silent past WatchIdleTimeout, is Unavailable, which a
// reflector takes as a dropped connection. Every error names the request
// and, where it can be read, the object
// ("GET /api/v1/pods?watch=true&...: Pod ns/web-1: spec.priority: ...").
//
// Example:
//   std::shared_ptr<Client> client = *Client::Create(config, options);
//   Informer pods(std::make_unique<HttpListerWatcher>(client, PodsResource()),
//                 ReflectorOptions());
//   Informer nodes(std::make_unique<HttpListerWatcher>(client, NodesResource()),
//                  ReflectorOptions());

#ifndef KESTREL_KUBE_HTTP_LIST_WATCH_H_
#define KESTREL_KUBE_HTTP_LIST_WATCH_H_

#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/message.h"
#include "kube/client.h"
#include "kube/codec.h"
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

// How long a watch may go without a byte before it counts as dropped:
// the server ends it at its timeoutSeconds, and while it runs sends a
// BOOKMARK about every minute; without timeoutSeconds, an hour.
absl::Duration WatchIdleTimeout(const WatchOptions& options);

// DecodeJsonList()
//
// A list answer (a PodList, ...) into a page; `what` (the request) starts
// every error. Items that do not decode are left out and listed in
// `undecodable`; an answer that is not a JSON object with a list's shape is
// an error.
absl::StatusOr<ListPage> DecodeJsonList(absl::string_view body, const Resource& resource,
                                        absl::string_view what);

// DecodeList()
//
// A list answer in the media type of `content_type` (protobuf or JSON; JSON
// when empty) into a page, as DecodeJsonList does.
absl::StatusOr<ListPage> DecodeList(absl::string_view content_type, absl::string_view body,
                                    const Resource& resource, absl::string_view what);

// WatchEventFrom()
//
// The reflector's event for one decoded watch event. An ERROR event's
// Status becomes WatchEvent::error (its code mapped as StatusFromHttp maps
// an answer's, so 410 is OutOfRange); an object without a name, or a
// BOOKMARK without a resourceVersion, is DataLoss naming `what`.
absl::StatusOr<WatchEvent> WatchEventFrom(DecodedEvent decoded, const Resource& resource,
                                          absl::string_view what);

// Thread-compatible, as ListerWatcher asks: one List() or Watch() at a time.
// Many HttpListerWatchers may share one client.
class HttpListerWatcher : public ListerWatcher {
 public:
  // Create()
  //
  // With a client of its own for `config`'s server.
  static absl::StatusOr<std::unique_ptr<HttpListerWatcher>> Create(
      const Config& config, Resource resource, const ClientOptions& options = {});

  HttpListerWatcher(std::shared_ptr<Client> client, Resource resource);

  absl::StatusOr<ListPage> List(const ListOptions& options) override;
  absl::StatusOr<std::unique_ptr<WatchStream>> Watch(const WatchOptions& options) override;
  std::string description() const override { return resource_.description; }

  // The request paths, query included.
  std::string ListPath(const ListOptions& options) const;
  std::string WatchPath(const WatchOptions& options) const;

 private:
  const std::shared_ptr<Client> client_;
  const Resource resource_;
};

}  // namespace kestrel::kube

#endif  // KESTREL_KUBE_HTTP_LIST_WATCH_H_
