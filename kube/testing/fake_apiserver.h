// File: fake_apiserver.h
//
// An in-process Kubernetes API server for tests: a real HTTP server on
// 127.0.0.1 that keeps Nodes, Pods, PodDisruptionBudgets, PriorityClasses,
// Events (core/v1 and events.k8s.io/v1), Leases and Namespaces as JSON in
// memory, with the API's semantics where a client can tell them apart.
// No real kube-apiserver can be built or run where Kestrel's tests run.
// `kestrel apiserver` (standalone.h) serves it on its own, and kubectl
// (1.20 to 1.32) works against it.
//
// What it does:
//
//   * every resource serves list, watch, get, create (POST), update (PUT),
//     patch and delete, cluster-wide and per namespace, at upstream's
//     paths (also the deprecated /watch/ ones);
//   * one resourceVersion counter shared by all kinds, bumped by every
//     write; a write that changes nothing keeps the old version. A PUT or
//     PATCH whose metadata.resourceVersion is not the stored one is 409
//     Conflict; a PUT without one is unconditional, except for Leases
//     (422, "must be specified for an update"); a PUT to a missing Lease
//     creates it. Writes to an object keep its status; writes to /status
//     (pods, nodes, budgets, namespaces) change only the status;
//   * PATCH takes JSON merge patch, JSON patch and strategic merge patch
//     (conditions keyed by type, containers by name, the `$patch`,
//     `$setElementOrder`, `$deleteFromPrimitiveList` and `$retainKeys`
//     directives; see patch.h for the lists it knows);
//   * watch (`?watch=true`): a chunked response, one JSON WatchEvent per
//     line. resourceVersion "" or "0" starts with an ADDED event per object,
//     then changes; resourceVersion N sends the changes after N from the
//     kind's history, which keeps the last `history_size` changes of each
//     kind; an N older than that gets one ERROR event carrying a 410 Status
//     (reason Expired, "too old resource version: N (M)"), as upstream's
//     watch cache answers. labelSelector and fieldSelector filter, and an
//     object that stops (starts) matching is DELETED (ADDED) as upstream's
//     cacher sends it. allowWatchBookmarks=true adds BOOKMARK events (an
//     object of the kind with only metadata.resourceVersion) every
//     `bookmark_interval` and `bookmark_before_timeout` before the end;
//     sendInitialEvents=true ends the initial ADDED events with a BOOKMARK
//     annotated k8s.io/initial-events-end. timeoutSeconds ends the stream
//     cleanly (default `default_watch_timeout`, at most
//     `max_watch_timeout`). A watch that falls behind the history is
//     closed. DELETED events carry the object's last state;
//   * lists page with limit and continue (upstream's token: base64 of
//     {"v":"meta.k8s.io/v1","rv":N,"start":"<key>\u0000"}): every page
//     shows the snapshot of the first, rebuilt from the history, with
//     metadata.remainingItemCount when no selector is given; a token older
//     than the history is 410 Expired with upstream's "inconsistent
//     continue" message and a token for the rest at the latest version.
//     resourceVersionMatch=Exact lists a past version the same way; a
//     resourceVersion newer than the store's is 504 "Too large resource
//     version". List items carry no kind or apiVersion, as upstream's;
//   * graceful deletion of pods (rest.BeforeDelete, podStrategy.
//     CheckGracefulDelete): deleting a pod that is bound and not Succeeded
//     or Failed sets metadata.deletionTimestamp (now + grace) and
//     deletionGracePeriodSeconds (gracePeriodSeconds, else
//     spec.terminationGracePeriodSeconds, else its default 30) and keeps
//     it, listed and watched as MODIFIED; a later delete may only shorten
//     the grace, and gracePeriodSeconds=0 (the kubelet's final delete; see
//     FinishDeletion) removes it: MODIFIED with grace 0, then DELETED. An
//     unbound or terminal pod goes at once the same way. Other kinds go at
//     once and answer a Status; DeleteOptions.preconditions are checked;
//   * the Eviction subresource as pkg/registry/core/pod/storage/eviction.go
//     decides: terminal, Pending or terminating pods are deleted without
//     looking at budgets; otherwise the one matching budget must allow a
//     disruption (429 with upstream's causes, 403 when negative, 429 with
//     Retry-After 10 while the controller has not observed the budget's
//     generation, 500 for two budgets). Selectors are policy/v1's: `{}`
//     selects every pod of the namespace, as policy/v1 documents (upstream's
//     eviction handler skips such a budget), a missing one none. It then
//     takes one from
//     status.disruptionsAllowed, records the pod under
//     status.disruptedPods, sets the DisruptionAllowed condition when it
//     reaches 0, and leaves currentHealthy alone (only the disruption
//     controller changes it). A pod that is not Ready while the budget is
//     healthy is deleted without taking a disruption. The pod is then
//     deleted gracefully, as above;
//   * pods/{name}/binding (201; 409 "pod p is already assigned to node
//     \"n\"" or being deleted; 404 when gone; the PodScheduled condition
//     set as upstream does);
//   * API creates apply the registry's defaults: a pod's status becomes
//     {phase: Pending}, a budget's status is cleared and its generation 1,
//     a namespace is Active with the kubernetes finalizer; every namespace
//     carries the kubernetes.io/metadata.name label (those made with
//     Create() below too);
//   * events.k8s.io/v1 Events are a view of the stored core/v1 ones
//     (regarding <-> involvedObject, note <-> message, ...), so each API
//     sees the other's;
//   * errors are Status objects with upstream's codes, reasons and
//     messages; a malformed body is 400, never a crash;
//   * discovery (discovery.h): /version (gitVersion v1.32.0, the fake's
//     own), /api, /api/v1, /apis, /apis/<g>, /apis/<g>/<v> with every
//     resource, short name and subresource served; /openapi/v3 and
//     /openapi/v2 as documents without schemas (so kubectl validates
//     nothing, and may send fieldValidation, which is not enforced).
//     Aggregated discovery is not served: kubectl falls back to the plain
//     documents. /healthz, /livez and /readyz answer "ok";
//   * Tables (table.h): a GET (list, get or watch) that asks for
//     "application/json;as=Table;v=v1;g=meta.k8s.io" (or v1beta1), as
//     plain `kubectl get` does, gets a meta.k8s.io Table with upstream's
//     columns for each kind, simplified, rows carrying what includeObject
//     says; a watch sends the columns with its first event only. Other
//     conversions (PartialObjectMetadata, aggregated discovery) are not
//     made: a media range asking for one is skipped, as upstream skips
//     what an endpoint does not allow;
//   * TokenReview and SubjectAccessReview (reviews.h), as a delegating
//     server's authentication and authorization ask them: a token the test
//     gave with SetToken() is its user; a user may GET (or any verb) the
//     non-resource paths AllowPath() names. Anything else is not
//     authenticated ("invalid bearer token") or not allowed (no reason);
//   * requests are served concurrently: a reader/writer lock around the
//     store, held only while an answer is computed, never while one is
//     written to the socket. Each watch takes one of `threads` handler
//     threads for its life; at most `max_watches` run at once (more are
//     429 with Retry-After 1), so ordinary requests always find a thread.
//
// What it does not do: protobuf (JSON only; see wire.h), YAML,
// server-side apply (its patch type is 415), dry run (400, "dryRun is not
// supported", rather than a write for real), deletecollection (405), field
// management, generation bumps on spec changes, validation beyond what is
// described here, admission (no namespace existence check, no defaulting
// of pod specs beyond the above, no qosClass), authentication
// of its own requests beyond one required bearer token
// (FakeApiServerOptions.required_token), authorization of them (the
// reviews above only answer),
// resource attributes in SubjectAccessReviews (never allowed), RBAC,
// compression of watches (a compressor would hold events back; other
// answers are gzip'ed when the client asks), a namespace controller
// (deleting a namespace removes it at once and leaves what is in it), a
// disruption controller, a garbage collector, a kubelet (pods stay
// terminating until a test finishes them; `kestrel apiserver` does so on
// its own), and the watch cache's wait for a resourceVersion newer than the
// store's (a watch from one gets the changes after it). The history is per
// kind, as the watch cache's is per resource, but its size counts changes,
// not time.
//
// Faults a test can script: FailNext (an error Status, with Retry-After),
// CloseNext (the connection closed instead of an answer), SetLatency,
// DropWatches (streams cut mid-way, no final chunk), ForceGoneOnNextWatch
// (410), CloseConnections (every open connection, watches too).
//
// Example:
//   absl::StatusOr<std::unique_ptr<FakeApiServer>> server = FakeApiServer::Start();
//   ASSERT_TRUE(server.ok()) << server.status();
//   ASSERT_TRUE((*server)->Create(R"({"kind":"Node","metadata":{"name":"n1"}})").ok());
//   httplib::Client client((*server)->url());
//   httplib::Result nodes = client.Get("/api/v1/nodes");

#ifndef KESTREL_KUBE_TESTING_FAKE_APISERVER_H_
#define KESTREL_KUBE_TESTING_FAKE_APISERVER_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "httplib.h"
#include "kube/testing/reviews.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube::testing {

struct FakeApiServerOptions {
  // Changes kept per kind: how far back a watch or a continue token reaches.
  int history_size = 1000;
  // Between BOOKMARK events (upstream's cacher: one minute) ...
  absl::Duration bookmark_interval = absl::Minutes(1);
  // ... and the last one this long before the watch's timeout (upstream: 2s).
  absl::Duration bookmark_before_timeout = absl::Seconds(2);
  // A watch without timeoutSeconds ends after this; none lasts longer than
  // max_watch_timeout.
  absl::Duration default_watch_timeout = absl::Minutes(30);
  absl::Duration max_watch_timeout = absl::Hours(1);
  // How often an idle watch checks that its client is still there.
  absl::Duration watch_poll_interval = absl::Milliseconds(100);
  // Watch streams open at once; another is answered 429.
  int max_watches = 32;
  // HTTP handler threads; 0: max_watches + 16, so that watches never take
  // the last ones.
  int threads = 0;
  // The port to listen on (always on 127.0.0.1); 0: a free one.
  int port = 0;
  // When set, every request but /healthz, /livez and /readyz must carry
  // "Authorization: Bearer <required_token>"; any other is answered 401
  // Unauthorized, as an API server answers a missing, unknown or expired
  // token.
  std::string required_token;
};

// What the server keeps of a kind Create() takes.
struct StoredKind {
  std::string api_version;  // "policy/v1"
  bool namespaced = false;
};

// StoredKindOf()
//
// The kind named `kind` ("Pod") as the server keeps it; nullopt for kinds it
// does not keep.
std::optional<StoredKind> StoredKindOf(const std::string& kind);

class FakeApiServer {
 public:
  // Start()
  //
  // Listens on 127.0.0.1 at `options.port` (a free port when 0) and serves
  // on its own threads. InvalidArgument for options out of range;
  // Unavailable when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<FakeApiServer>> Start(FakeApiServerOptions options = {});

  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;
  // Ends every watch, stops the server and joins its threads.
  ~FakeApiServer();

  // "http://127.0.0.1:<port>"
  std::string url() const;
  int port() const { return port_; }

  // Create()
  //
  // Stores an object given as JSON: kind Node, Pod, PodDisruptionBudget,
  // PriorityClass, Event, Lease or Namespace (apiVersion is filled in when
  // absent), as it is (status included), and records it as ADDED. Stamps
  // metadata.resourceVersion, and uid and creationTimestamp when absent; a
  // namespaced object without a namespace goes to "default", and
  // metadata.generateName is honoured. AlreadyExists when the name is
  // taken; InvalidArgument for malformed JSON or an unsupported kind.
  absl::Status Create(const std::string& json);

  // Get()
  //
  // The stored object; `ns` is ignored for cluster-scoped kinds.
  absl::StatusOr<nlohmann::json> Get(const std::string& kind, const std::string& ns,
                                     const std::string& name) const;

  // Update()
  //
  // Replaces a stored object (found by kind, namespace and name) from the
  // test's side, e.g. to set a pod's status or a budget's: unconditional,
  // keeps uid and creationTimestamp, always bumps the resourceVersion,
  // recorded as MODIFIED.
  absl::Status Update(const nlohmann::json& object);

  // FinishDeletion()
  //
  // The kubelet's part of a graceful deletion: deletes the pod as a DELETE
  // with gracePeriodSeconds=0 does (MODIFIED with grace 0, then DELETED).
  // NotFound when there is no such pod.
  absl::Status FinishDeletion(const std::string& ns, const std::string& name);

  // FinishDeletions()
  //
  // FinishDeletion() for every pod that is being deleted; returns how many.
  int FinishDeletions();

  // The Events POSTed to the server (either API), in order, as stored
  // (core/v1).
  std::vector<nlohmann::json> Events() const;

  // The latest resourceVersion.
  int64_t resource_version() const;

  // Watch streams open now.
  int watches() const;

  // How many requests the server answered, injected failures included.
  int requests() const;
  // How many GETs of `path` (without the query) that are not watches it
  // answered: LISTs of a collection, or reads of one object.
  int gets(const std::string& path) const;
  // How many requests of `method` on `path` (without the query) it
  // answered with HTTP `code`, injected failures included; watch streams
  // are not counted. ("POST", ".../pods/p/binding", 201): p's bindings.
  int answered(const std::string& method, const std::string& path, int code) const;
  // Every (method, path) answered() counts, sorted: what a client asked of
  // the server (watch streams aside), for checking it against RBAC rules.
  std::vector<std::pair<std::string, std::string>> AnsweredRequests() const;

  // Delegated authentication and authorization.

  // SetToken(): a TokenReview of `token` answers that it is `user`.
  void SetToken(const std::string& token, ReviewUser user);
  // AllowPath(): a SubjectAccessReview of `user` for `verb` ("get") on the
  // non-resource `path` ("/metrics") is allowed.
  void AllowPath(const std::string& user, const std::string& verb, const std::string& path);
  // How many TokenReviews and SubjectAccessReviews it answered.
  int token_reviews() const;
  int access_reviews() const;

  // Faults.

  // FailNext()
  //
  // The next `times` requests whose method equals `method` and whose path
  // (without the query) starts with `path_prefix` are answered with HTTP
  // `code` and a Status body (reason from the code) instead of being
  // served; they change nothing. With `retry_after_seconds` > 0 the answer
  // carries Retry-After and details.retryAfterSeconds (429, 503). Rules
  // are used in the order given; a watch request matches too.
  void FailNext(const std::string& method, const std::string& path_prefix, int code, int times = 1,
                int retry_after_seconds = 0);

  // CloseNext()
  //
  // The next `times` matching requests get no answer: their connection is
  // closed. They change nothing.
  void CloseNext(const std::string& method, const std::string& path_prefix, int times = 1);

  // SetLatency()
  //
  // Every later request whose path starts with `path_prefix` waits
  // `latency` before it is served (holding no lock). Zero removes it.
  void SetLatency(absl::Duration latency, const std::string& path_prefix = "");

  // DropWatches()
  //
  // Cuts every open watch stream mid-way: the connection closes without
  // the final chunk, as when a load balancer or the server goes away.
  void DropWatches();

  // ForceGoneOnNextWatch()
  //
  // The next watch request, whatever its resourceVersion, gets the 410
  // ERROR event a too-old resourceVersion gets, and ends.
  void ForceGoneOnNextWatch();

  // CloseConnections()
  //
  // Closes every connection open to the server now: requests in flight
  // get no answer, watches end without the final chunk, idle keep-alive
  // connections close.
  void CloseConnections();

 private:
  class Impl;

  explicit FakeApiServer(FakeApiServerOptions options);

  std::unique_ptr<Impl> impl_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
};

}  // namespace kestrel::kube::testing

#endif  // KESTREL_KUBE_TESTING_FAKE_APISERVER_H_
