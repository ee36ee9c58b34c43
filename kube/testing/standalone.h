// File: standalone.h
//
// `kestrel apiserver`: the in-memory API server of fake_apiserver.h served
// on its own, so that a person can try Kestrel, or point kubectl at it,
// without a cluster. It listens on loopback only (it has no
// authentication), loads Kubernetes objects from files as `kestrel
// simulate` reads them, writes a kubeconfig that points at it, and runs
// until SIGINT or SIGTERM.
//
// Loading: each file is first decoded and validated by api/decode (the
// same errors as `kestrel simulate`: file, object and field), then its
// objects are created in file order as they are written (status included,
// so a `kubectl get -o yaml` snapshot comes back as it was), with the
// defaults an API server gives objects that lack them: a pod without a
// phase is Pending, a namespace without one Active. Kinds the server does
// not keep (Service, Deployment, ...) are skipped with a warning. The
// namespaces a real cluster starts with (default, kube-system, kube-public,
// kube-node-lease) and every namespace a loaded object names are created
// first, unless a file defines them.
//
// While it runs it also plays the kubelet's part in graceful deletion: a
// pod being deleted is removed on the next tick (there are no containers
// to stop), so `kubectl delete pod` returns.
//
// Example:
//   StandaloneOptions options;
//   options.listen = "127.0.0.1:8080";
//   options.load = {"cluster.yaml"};
//   options.kubeconfig_out = "/tmp/kestrel.kubeconfig";
//   absl::Status s = RunStandalone(options, std::cout, std::cerr);

#ifndef KESTREL_KUBE_TESTING_STANDALONE_H_
#define KESTREL_KUBE_TESTING_STANDALONE_H_

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "kube/testing/fake_apiserver.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube::testing {

struct StandaloneOptions {
  // "127.0.0.1:PORT" or "localhost:PORT"; PORT 0 picks a free port.
  std::string listen;
  // Files of Kubernetes objects, loaded in order.
  std::vector<std::string> load;
  // Where to write the kubeconfig; "" prints how to reach the server
  // instead.
  std::string kubeconfig_out;
};

// ParseListen()
//
// The port of a loopback listen address. InvalidArgument naming the flag
// for anything else: another host (0.0.0.0 too), no port, a bad one.
absl::StatusOr<int> ParseListen(absl::string_view listen);

// One object read from a file, as it will be created.
struct LoadedObject {
  std::string origin;  // "cluster.yaml: Pod default/web-1"
  nlohmann::json object;
};

// ReadObjects()
//
// The objects of `paths`, in file order (List items in place), of the
// kinds the server keeps. Errors name the file, the object and the field
// (api/decode's). Each skipped object adds a line to `warnings`.
absl::StatusOr<std::vector<LoadedObject>> ReadObjects(const std::vector<std::string>& paths,
                                                      std::vector<std::string>* warnings);

// Kubeconfig()
//
// A kubeconfig (YAML) with one cluster, user and context, all named
// "kestrel", the current context, pointing at `server_url` over plain
// HTTP in namespace "default".
std::string Kubeconfig(const std::string& server_url);

// A running standalone server.
class Standalone {
 public:
  // Start()
  //
  // Checks the options, reads every file, starts the server and creates
  // the objects, then writes the kubeconfig (atomically: it appears whole,
  // only once the server answers) and prints where the server is on `out`.
  // Warnings go to `err`. InvalidArgument for bad flags or input,
  // AlreadyExists for an object loaded twice (both naming the file and the
  // object), Unavailable when the port cannot be bound.
  static absl::StatusOr<std::unique_ptr<Standalone>> Start(const StandaloneOptions& options,
                                                           std::ostream& out, std::ostream& err);

  // Tick()
  //
  // The kubelet's part: finishes the deletion of every pod being deleted.
  // Returns how many. Cheap when nothing was written since the last call.
  int Tick();

  FakeApiServer& server() { return *server_; }

 private:
  explicit Standalone(std::unique_ptr<FakeApiServer> server) : server_(std::move(server)) {}

  std::unique_ptr<FakeApiServer> server_;
  int64_t last_version_ = -1;  // the resourceVersion Tick() last looked at
};

// RunStandalone()
//
// Start(), then Tick() every 100ms until SIGINT or SIGTERM arrives, then
// stops the server (ending its watches) and returns OK. SIGINT and SIGTERM
// are blocked in the calling thread, and so in the server's, meanwhile.
absl::Status RunStandalone(const StandaloneOptions& options, std::ostream& out, std::ostream& err);

}  // namespace kestrel::kube::testing

#endif  // KESTREL_KUBE_TESTING_STANDALONE_H_
