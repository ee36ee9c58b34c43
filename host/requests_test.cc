// Every request `kestrel scheduler --rescheduler` makes is one deploy/
// grants: a host runs a scenario that makes it do all it does (informers,
// leader election, bindings, an unschedulable pod, a preemption, a critical
// add-on the rescheduler makes room for, /metrics behind delegated auth)
// against the in-repo API server, and each request the server answered is
// turned into the authorizer's attributes and looked up in
// deploy/requests.txt, which //deploy:rbac_check_test checks against the
// manifests' RBAC rules. A request Kestrel starts making without a line
// there fails this test.

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "deploy/rbac_check.h"
#include "gtest/gtest.h"
#include "host/scheduler_host.h"
#include "host/scheduler_host_testing.h"
#include "httplib.h"
#include "kube/testing/fake_apiserver.h"
#include "nlohmann/json.hpp"

namespace kestrel::host {
namespace {

using Json = nlohmann::json;
using kube::testing::FakeApiServer;

// The authorizer's attributes of an API request, from its method and path
// (k8s.io/apiserver's RequestInfoFactory, for the paths Kestrel uses).
// Discovery (GET /api, /apis/<group>/<version>) is nullopt: every
// authenticated user may read it (system:discovery).
std::optional<deploy::Request> AttributesOf(const std::string& method, const std::string& path) {
  std::vector<std::string> parts = absl::StrSplit(path, '/', absl::SkipEmpty());
  size_t i = 0;
  std::string group;
  if (!parts.empty() && parts[0] == "api") {
    i = 2;  // api, v1
  } else if (!parts.empty() && parts[0] == "apis") {
    if (parts.size() < 3) return std::nullopt;
    group = parts[1];
    i = 3;  // apis, group, version
  } else {
    return deploy::NonResourceRequest(method == "GET" ? "get" : "post", path);
  }
  if (parts.size() <= i) return std::nullopt;  // discovery
  std::string ns;
  if (parts[i] == "namespaces" && parts.size() > i + 2) {
    ns = parts[i + 1];
    i += 2;
  }
  const std::string resource = parts[i];
  const std::string name = parts.size() > i + 1 ? parts[i + 1] : "";
  const std::string subresource = parts.size() > i + 2 ? parts[i + 2] : "";
  std::string verb;
  if (method == "GET") {
    verb = name.empty() ? "list" : "get";
  } else if (method == "POST") {
    verb = "create";
  } else if (method == "PUT") {
    verb = "update";
  } else if (method == "PATCH") {
    verb = "patch";
  } else if (method == "DELETE") {
    verb = name.empty() ? "deletecollection" : "delete";
  } else {
    verb = method;
  }
  deploy::Request r = deploy::ResourceRequest(
      verb, group, subresource.empty() ? resource : absl::StrCat(resource, "/", subresource), ns,
      // A create names the object it creates in its body, not its path;
      // subresource creates (binding, eviction) carry the parent's name.
      verb == "create" ? "" : name);
  return r;
}

// Whether `line` (from deploy/requests.txt) covers `request`.
bool Covers(const deploy::Request& line, const deploy::Request& request) {
  if (line.resource_request != request.resource_request) return false;
  if (!request.resource_request) return line.verb == request.verb && line.path == request.path;
  if (line.verb != request.verb || line.api_group != request.api_group ||
      line.resource != request.resource || line.subresource != request.subresource) {
    return false;
  }
  const bool ns_ok = line.namespace_ == "*" ? !request.namespace_.empty()
                                            : line.namespace_ == request.namespace_;
  const std::string line_name = line.name == "$LEASE" ? "kube-scheduler" : line.name;
  return ns_ok && (line_name.empty() || line_name == request.name);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(RequestsTest, EveryRequestTheSchedulerMakesIsListedForRbac) {
  absl::StatusOr<std::unique_ptr<FakeApiServer>> started = FakeApiServer::Start();
  ASSERT_TRUE(started.ok()) << started.status();
  FakeApiServer& server = **started;
  server.SetToken("reader-token", {"prometheus", "uid-1", {"monitoring"}});
  server.AllowPath("prometheus", "get", "/metrics");
  ASSERT_TRUE(server.Create(testing::NodeJson("node-0", "2")).ok());
  ASSERT_TRUE(server.Create(Json{{"kind", "Namespace"},
                                 {"apiVersion", "v1"},
                                 {"metadata", {{"name", "kube-system"}}}}
                                .dump())
                  .ok());
  // A pod that binds; one that fits nowhere (status patch, FailedScheduling).
  ASSERT_TRUE(server.Create(testing::PodJson("small", "100m")).ok());
  ASSERT_TRUE(server.Create(testing::PodJson("huge", "64")).ok());

  SchedulerHostOptions options = testing::QuickHostOptions();
  options.leader_election.leader_elect = true;
  options.leader_election.lease_duration = absl::Seconds(2);
  options.leader_election.renew_deadline = absl::Milliseconds(1500);
  options.leader_election.retry_period = absl::Milliseconds(300);
  options.identity = "requests-test";
  options.serve = true;
  options.serving.secure_port = 0;
  options.serving.bind_address = "127.0.0.1";
  options.rescheduler = true;
  options.rescheduler_options.housekeeping_interval = absl::Milliseconds(100);
  options.rescheduler_options.initial_delay = absl::ZeroDuration();
  SchedulerHost host(testing::QuickClient(server.url()), options);
  ASSERT_TRUE(host.Start().ok());
  ASSERT_TRUE(testing::WaitFor([&] { return testing::NodeOf(server, "small") == "node-0"; }));

  // Preemption: a high-priority pod and a low-priority victim on node-1.
  ASSERT_TRUE(server.Create(testing::NodeJson("node-1", "1")).ok());
  Json victim = Json::parse(testing::PodJson("victim", "1"));
  victim["spec"]["nodeName"] = "node-1";
  victim["spec"]["priority"] = 1;
  victim["status"]["phase"] = "Running";
  ASSERT_TRUE(server.Create(victim.dump()).ok());
  // A critical add-on (1.4 annotation, priority 0: it cannot preempt) that
  // the rescheduler makes room for on node-0 by evicting "small".
  Json critical = Json::parse(testing::PodJson("dns", "1950m"));
  critical["metadata"]["namespace"] = "kube-system";
  critical["metadata"]["annotations"] = {{"scheduler.alpha.kubernetes.io/critical-pod", ""}};
  critical["spec"]["tolerations"] =
      Json::array({{{"key", "CriticalAddonsOnly"}, {"operator", "Exists"}}});
  ASSERT_TRUE(server.Create(critical.dump()).ok());
  Json preemptor = Json::parse(testing::PodJson("preemptor", "1"));
  preemptor["spec"]["priority"] = 1000;
  preemptor["spec"]["nodeSelector"] = {{"kubernetes.io/hostname", "node-1"}};
  ASSERT_TRUE(server.Create(preemptor.dump()).ok());
  ASSERT_TRUE(testing::WaitFor([&] {
    absl::StatusOr<Json> v = server.Get("Pod", "default", "victim");
    absl::StatusOr<Json> s = server.Get("Pod", "default", "small");
    return v.ok() && (*v)["metadata"].contains("deletionTimestamp") && s.ok() &&
           (*s)["metadata"].contains("deletionTimestamp");
  }));
  // /metrics through delegated authentication and authorization.
  httplib::SSLClient https("127.0.0.1", host.secure_port());
  https.enable_server_certificate_verification(false);
  httplib::Result metrics = https.Get("/metrics", {{"Authorization", "Bearer reader-token"}});
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  host.Stop();  // releases the lease (PUT)

  absl::StatusOr<std::vector<deploy::RequestLine>> lines =
      deploy::ParseRequests("deploy/requests.txt", ReadFile("deploy/requests.txt"));
  ASSERT_TRUE(lines.ok()) << lines.status();
  std::vector<std::string> missing, seen;
  std::vector<std::pair<std::string, std::string>> made = server.AnsweredRequests();
  // The review endpoints answer outside the counters AnsweredRequests reads;
  // their own counters say whether they were asked.
  if (server.token_reviews() > 0) {
    made.emplace_back("POST", "/apis/authentication.k8s.io/v1/tokenreviews");
  }
  if (server.access_reviews() > 0) {
    made.emplace_back("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews");
  }
  for (const auto& [method, path] : made) {
    std::optional<deploy::Request> request = AttributesOf(method, path);
    if (!request.has_value()) continue;
    seen.push_back(deploy::Describe(*request));
    const bool covered = std::any_of(lines->begin(), lines->end(), [&](const auto& line) {
      return Covers(line.request, *request);
    });
    if (!covered) missing.push_back(absl::StrCat(method, " ", path, " (", seen.back(), ")"));
  }
  EXPECT_TRUE(missing.empty()) << "requests Kestrel made that deploy/requests.txt lacks:\n  "
                               << absl::StrJoin(missing, "\n  ");
  // The scenario did reach what it is for.
  const std::string all = absl::StrJoin(seen, "\n");
  for (const char* want : {"create pods/binding", "patch pods/status", "delete pods",
                           "create pods/eviction", "patch nodes", "create leases",
                           "update leases", "create tokenreviews",
                           "create subjectaccessreviews", "create events"}) {
    EXPECT_TRUE(absl::StrContains(all, want)) << want << " not made; made:\n" << all;
  }
}

}  // namespace
}  // namespace kestrel::host
