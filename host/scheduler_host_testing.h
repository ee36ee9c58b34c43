// File: scheduler_host_testing.h
//
// What the tests of `kestrel scheduler` against the in-repo API server
// (kube/testing/fake_apiserver.h) share: objects as JSON, a client and host
// options with short retry waits (real time, so the faults the tests inject
// cost milliseconds, not the production seconds), a client that records
// which bindings it sent, and a hang-guarded wait.
//
// Example:
//   auto server = *FakeApiServer::Start();
//   ASSERT_TRUE(server->Create(NodeJson("n1")).ok());
//   SchedulerHost host(QuickClient(server->url()), QuickHostOptions());
//   ASSERT_TRUE(host.Start().ok());
//   ASSERT_TRUE(server->Create(PodJson("p", "100m")).ok());
//   EXPECT_TRUE(WaitFor([&] { return NodeOf(*server, "p") == "n1"; }));

#ifndef KESTREL_HOST_SCHEDULER_HOST_TESTING_H_
#define KESTREL_HOST_SCHEDULER_HOST_TESTING_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "absl/time/time.h"
#include "host/scheduler_host.h"
#include "kube/client.h"
#include "kube/testing/fake_apiserver.h"

namespace kestrel::host::testing {

// A Node with `cpu` and `memory` allocatable, 110 pods, Ready.
std::string NodeJson(const std::string& name, const std::string& cpu = "4",
                     const std::string& memory = "8Gi");

// An unbound Pod in namespace "default" asking for `cpu`, for
// `scheduler_name` (default-scheduler).
std::string PodJson(const std::string& name, const std::string& cpu,
                    const std::string& scheduler_name = "default-scheduler");

// "/api/v1/namespaces/default/pods/<name>/binding"
std::string BindingPath(const std::string& pod);

// The pod's spec.nodeName on the server ("" when unbound or missing).
std::string NodeOf(const kube::testing::FakeApiServer& server, const std::string& pod);

// A client of `url` (JSON, no rate limit) whose retries wait 5 ms doubling
// to 50 ms; `token` as its bearer token.
std::shared_ptr<kube::Client> QuickClient(const std::string& url, const std::string& token = "");

// The default configuration with podInitialBackoffSeconds 1 and
// podMaxBackoffSeconds 2; no leader election, no secure port, reflectors
// backing off 10 ms doubling to 100 ms, two filter threads.
SchedulerHostOptions QuickHostOptions();

// Polls `done` every 10 ms until it holds; false after `guard` (a hang
// guard, not a timing claim).
bool WaitFor(const std::function<bool()>& done, absl::Duration guard = absl::Minutes(1));

// RecordingClient
//
// Forwards to another client and counts the bindings that succeeded
// through it, by path: which replica bound what. Thread-safe.
class RecordingClient : public kube::Client {
 public:
  explicit RecordingClient(std::shared_ptr<kube::Client> inner);

  absl::StatusOr<kube::Response> Do(const kube::Request& request) override;
  absl::Status Stream(const kube::Request& request, const StreamHandler& handler,
                      kube::Cancellation* cancel) override;

  // Bindings (POST .../binding answered 2xx), in all and of one pod.
  int bindings() const;
  int bindings(const std::string& pod) const;

 private:
  const std::shared_ptr<kube::Client> inner_;
  mutable std::mutex mu_;
  std::map<std::string, int> bindings_;  // by pod name
};

}  // namespace kestrel::host::testing

#endif  // KESTREL_HOST_SCHEDULER_HOST_TESTING_H_
