// File: fake_apiserver.h
//
// An in-process Kubernetes API server for tests: a real HTTP server on
// 127.0.0.1 that stores Nodes, Pods, PodDisruptionBudgets, PriorityClasses
// and Events as JSON and answers the few endpoints a scheduler host uses,
// with the API's semantics where a client can tell them apart:
//
//   * one resourceVersion counter, bumped by every write; a write that
//     changes nothing (a no-op patch or update) keeps the old version;
//   * optimistic concurrency: a PATCH or PUT whose metadata.resourceVersion
//     is not the stored one is answered 409 Conflict (an empty one is
//     unconditional), and so is a DELETE whose preconditions fail;
//   * the Eviction subresource checks the pod's PodDisruptionBudget
//     (policy/v1 selectors: `{}` selects every pod of the namespace, a
//     missing one none), answers 429 when it allows no disruption now and
//     500 when several budgets select the pod, and otherwise takes one
//     disruption from the budget and deletes the pod. Pods that are
//     Succeeded, Failed or Pending, or being deleted already, are deleted
//     without looking at budgets (upstream's canIgnorePDB);
//   * errors are Status objects with upstream's codes, reasons and
//     messages; a malformed body is 400, never a crash.
//
// Lists take labelSelector (equality- and set-based) and fieldSelector
// (=, ==, != on the fields upstream indexes); limit and continue are
// ignored, so a list always comes in one page. Watch is not supported:
// `?watch=true` and /watch/ paths answer 400 "watch is not supported by the
// fake API server". Nothing runs behind the store: no controller updates a
// budget's status (the eviction stands in for the disruption controller by
// also taking one from status.currentHealthy), no kubelet confirms a
// deletion (pods go at once), no admission or validation beyond what is
// described here.
//
// Endpoints:
//   GET              /api/v1/nodes, /api/v1/nodes/{name}
//   PATCH (merge), PUT /api/v1/nodes/{name}
//   GET              /api/v1/pods, /api/v1/namespaces/{ns}/pods
//   GET, DELETE      /api/v1/namespaces/{ns}/pods/{name}
//   POST             /api/v1/namespaces/{ns}/pods/{name}/eviction
//   POST             /api/v1/namespaces/{ns}/events
//   GET              /apis/policy/v1/poddisruptionbudgets,
//                    /apis/policy/v1/namespaces/{ns}/poddisruptionbudgets
//   GET              /apis/scheduling.k8s.io/v1/priorityclasses
//
// Thread-safe: one mutex around the store, so requests are served one at a
// time.
//
// Example:
//   absl::StatusOr<std::unique_ptr<FakeApiServer>> server = FakeApiServer::Start();
//   ASSERT_TRUE(server.ok()) << server.status();
//   ASSERT_TRUE((*server)->Create(R"({"kind":"Node","metadata":{"name":"n1"}})").ok());
//   httplib::Client client((*server)->url());
//   httplib::Result nodes = client.Get("/api/v1/nodes");

#ifndef KESTREL_KUBE_TESTING_FAKE_APISERVER_H_
#define KESTREL_KUBE_TESTING_FAKE_APISERVER_H_

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube::testing {

class FakeApiServer {
 public:
  // Start()
  //
  // Listens on 127.0.0.1 at a free port and serves on its own thread.
  static absl::StatusOr<std::unique_ptr<FakeApiServer>> Start();

  FakeApiServer(const FakeApiServer&) = delete;
  FakeApiServer& operator=(const FakeApiServer&) = delete;
  // Stops the server and joins its thread.
  ~FakeApiServer();

  // "http://127.0.0.1:<port>"
  std::string url() const;

  // Create()
  //
  // Stores an object given as JSON: kind Node, Pod, PodDisruptionBudget,
  // PriorityClass or Event (apiVersion is filled in when absent). Stamps
  // metadata.resourceVersion, and uid and creationTimestamp when absent;
  // a namespaced object without a namespace goes to "default", and
  // metadata.generateName is honoured. AlreadyExists when the name is
  // taken; InvalidArgument for malformed JSON or an unsupported kind.
  absl::Status Create(const std::string& json);

  // Get()
  //
  // The stored object; `ns` is ignored for Nodes and PriorityClasses.
  absl::StatusOr<nlohmann::json> Get(const std::string& kind, const std::string& ns,
                                     const std::string& name) const;

  // Update()
  //
  // Replaces a stored object (found by kind, namespace and name) from the
  // test's side, e.g. to set a pod's status: unconditional, keeps uid and
  // creationTimestamp, always bumps the resourceVersion.
  absl::Status Update(const nlohmann::json& object);

  // The Events POSTed to the server, in order, as stored.
  std::vector<nlohmann::json> Events() const;

  // FailNext()
  //
  // The next `times` requests whose method equals `method` and whose path
  // (without the query) starts with `path_prefix` are answered with HTTP
  // `code` and a Status body (reason from the code) instead of being
  // served; they change nothing. Rules are used in the order given.
  void FailNext(const std::string& method, const std::string& path_prefix, int code, int times = 1);

  // How many requests the server answered, injected failures included.
  int requests() const;

 private:
  // The objects and the request handling, behind one mutex.
  class Store;

  FakeApiServer();

  std::unique_ptr<Store> store_;
  httplib::Server server_;
  std::thread thread_;
  int port_ = -1;
};

}  // namespace kestrel::kube::testing

#endif  // KESTREL_KUBE_TESTING_FAKE_APISERVER_H_
