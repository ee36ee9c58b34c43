#include "host/scheduler_host_testing.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "nlohmann/json.hpp"
#include "scheduler/profile.h"

namespace kestrel::host::testing {

using Json = nlohmann::json;

std::string NodeJson(const std::string& name, const std::string& cpu, const std::string& memory) {
  const Json resources = {{"cpu", cpu}, {"memory", memory}, {"pods", "110"}};
  return Json{{"kind", "Node"},
              {"apiVersion", "v1"},
              {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}}}}},
              {"status",
               {{"capacity", resources},
                {"allocatable", resources},
                {"conditions", Json::array({{{"type", "Ready"}, {"status", "True"}}})}}}}
      .dump();
}

std::string PodJson(const std::string& name, const std::string& cpu,
                    const std::string& scheduler_name) {
  const Json container = {{"name", "c"},
                          {"image", "registry.k8s.io/pause:3.9"},
                          {"resources", {{"requests", {{"cpu", cpu}, {"memory", "64Mi"}}}}}};
  return Json{{"kind", "Pod"},
              {"apiVersion", "v1"},
              {"metadata", {{"namespace", "default"}, {"name", name}}},
              {"spec",
               {{"schedulerName", scheduler_name}, {"containers", Json::array({container})}}}}
      .dump();
}

std::string BindingPath(const std::string& pod) {
  return absl::StrCat("/api/v1/namespaces/default/pods/", pod, "/binding");
}

std::string NodeOf(const kube::testing::FakeApiServer& server, const std::string& pod) {
  absl::StatusOr<Json> p = server.Get("Pod", "default", pod);
  if (!p.ok()) return "";
  return (*p)["spec"].value("nodeName", "");
}

std::shared_ptr<kube::Client> QuickClient(const std::string& url, const std::string& token) {
  kube::Config config;
  config.server = url;
  config.bearer_token = token;
  kube::ClientOptions options;
  options.content_type = kube::kContentTypeJson;
  options.qps = -1;
  options.initial_backoff = absl::Milliseconds(5);
  options.max_backoff = absl::Milliseconds(50);
  absl::StatusOr<std::unique_ptr<kube::Client>> client = kube::Client::Create(config, options);
  if (!client.ok()) return nullptr;
  return std::shared_ptr<kube::Client>(*std::move(client));
}

SchedulerHostOptions QuickHostOptions() {
  SchedulerHostOptions options;
  options.config = scheduler::DefaultConfig();
  options.config.set_podinitialbackoffseconds(1);
  options.config.set_podmaxbackoffseconds(2);
  options.leader_election.leader_elect = false;
  options.serve = false;
  options.api_workers = 8;
  options.threads = 2;
  options.hostname = "test-host";
  options.reflector.backoff.initial = absl::Milliseconds(10);
  options.reflector.backoff.cap = absl::Milliseconds(100);
  return options;
}

bool WaitFor(const std::function<bool()>& done, absl::Duration guard) {
  const absl::Time deadline = absl::Now() + guard;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return true;
}

RecordingClient::RecordingClient(std::shared_ptr<kube::Client> inner)
    : kube::Client(inner->options()), inner_(std::move(inner)) {}

absl::StatusOr<kube::Response> RecordingClient::Do(const kube::Request& request) {
  absl::StatusOr<kube::Response> r = inner_->Do(request);
  constexpr absl::string_view kPods = "/api/v1/namespaces/default/pods/";
  if (r.ok() && request.method == "POST" && absl::StartsWith(request.path, kPods) &&
      absl::EndsWith(request.path, "/binding")) {
    std::string pod = request.path.substr(kPods.size());
    pod.resize(pod.size() - std::string("/binding").size());
    std::lock_guard<std::mutex> lock(mu_);
    ++bindings_[pod];
  }
  return r;
}

absl::Status RecordingClient::Stream(const kube::Request& request, const StreamHandler& handler,
                                     kube::Cancellation* cancel) {
  return inner_->Stream(request, handler, cancel);
}

int RecordingClient::bindings() const {
  std::lock_guard<std::mutex> lock(mu_);
  int n = 0;
  for (const auto& [pod, count] : bindings_) n += count;
  return n;
}

int RecordingClient::bindings(const std::string& pod) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = bindings_.find(pod);
  return it == bindings_.end() ? 0 : it->second;
}

}  // namespace kestrel::host::testing
