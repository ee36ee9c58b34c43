// Informers over HTTP against the in-repo API server (kube/testing): the
// whole path from a JSON watch stream to the handlers, through the faults a
// real API server shows (dropped streams, 410s, closed connections, 5xx),
// with the server's own history, paging and field selectors.

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "kube/client.h"
#include "kube/http_list_watch.h"
#include "kube/informer.h"
#include "kube/informer_testing.h"
#include "kube/list_watch.h"
#include "kube/reflector.h"
#include "kube/testing/fake_apiserver.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube {
namespace {

using ::testing::IsEmpty;
using testing::FakeApiServer;
using testing::FakeApiServerOptions;
using testing::HandlerRecorder;
using Json = nlohmann::json;

using Versions = std::map<std::string, std::string>;

Versions VersionsOf(const Store& store) {
  Versions out;
  for (const Object& o : store.List()) out[*KeyOf(*o)] = ResourceVersionOf(*o);
  return out;
}

// The client's retries of 5xx answers wait 1 s, doubling to 10 s; the 500s
// this test injects would add up to a minute. Real time, but short waits.
ClientOptions QuickRetries(const std::string& content_type) {
  ClientOptions options;
  options.content_type = content_type;
  options.initial_backoff = absl::Milliseconds(5);
  options.max_backoff = absl::Milliseconds(50);
  return options;
}

// What the server lists for `resource` now, through a plain unpaged LIST;
// failures the test injected are retried (they are finite).
Versions ServerVersions(const Config& config, const Resource& resource) {
  absl::StatusOr<std::unique_ptr<HttpListerWatcher>> lw =
      HttpListerWatcher::Create(config, resource, QuickRetries(kContentTypeJson));
  EXPECT_TRUE(lw.ok()) << lw.status();
  absl::StatusOr<ListPage> page = absl::UnknownError("not listed");
  for (int attempt = 0; attempt < 100 && !page.ok(); ++attempt) page = (*lw)->List(ListOptions());
  EXPECT_TRUE(page.ok()) << page.status();
  Versions out;
  if (!page.ok()) return out;
  for (const Object& o : page->items) out[*KeyOf(*o)] = ResourceVersionOf(*o);
  return out;
}

// One informer with its recorder and what its reflector reported.
struct Watched {
  // Every informer of a test shares `client`, as a host's do.
  Watched(std::shared_ptr<Client> client, Resource r) : resource(std::move(r)) {
    auto lw = std::make_unique<HttpListerWatcher>(std::move(client), resource);
    ReflectorOptions options;
    // Real time, but short waits: the faults come often here.
    options.backoff.initial = absl::Milliseconds(5);
    options.backoff.cap = absl::Milliseconds(50);
    options.on_error = [this](const absl::Status& s) {
      std::lock_guard<std::mutex> lock(mu);
      errors.push_back(std::string(s.message()));
    };
    informer = std::make_unique<Informer>(std::move(lw), std::move(options));
    EXPECT_TRUE(informer->AddEventHandler(recorder.Handlers()).ok());
  }

  // Waits until the store holds what the server lists; false after a
  // minute (a hang guard, not a timing claim).
  bool CatchesUp(const Config& config) {
    const absl::Time deadline = absl::Now() + absl::Minutes(1);
    while (absl::Now() < deadline) {
      if (VersionsOf(informer->store()) == ServerVersions(config, resource)) return true;
      absl::SleepFor(absl::Milliseconds(10));
    }
    return false;
  }

  Resource resource;
  HandlerRecorder recorder;
  std::mutex mu;
  std::vector<std::string> errors;
  std::unique_ptr<Informer> informer;
};

std::string PodJson(const std::string& ns, const std::string& name, const std::string& phase,
                    const std::string& node = "") {
  Json pod = {{"kind", "Pod"},
              {"apiVersion", "v1"},
              {"metadata", {{"namespace", ns}, {"name", name}}},
              {"spec", {{"containers", Json::array({{{"name", "c"}, {"image", "i"}}})}}},
              {"status", {{"phase", phase}}}};
  if (!node.empty()) pod["spec"]["nodeName"] = node;
  return pod.dump();
}

// Runs over both wire formats: the server's protobuf lists and watch
// streams, and its JSON ones.
class InformerApiServerTest : public ::testing::TestWithParam<std::string> {};

TEST_P(InformerApiServerTest, InformersFollowTheServerThroughItsFaults) {
  FakeApiServerOptions server_options;
  server_options.history_size = 40;  // a resumed watch is often too old
  server_options.bookmark_interval = absl::Milliseconds(20);
  absl::StatusOr<std::unique_ptr<FakeApiServer>> started = FakeApiServer::Start(server_options);
  ASSERT_TRUE(started.ok()) << started.status();
  FakeApiServer& server = **started;
  Config config;
  config.server = server.url();

  for (const char* ns : {"a", "b"}) {
    ASSERT_TRUE(server.Create(Json{{"kind", "Namespace"}, {"metadata", {{"name", ns}}}}.dump()).ok());
  }
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(
        server.Create(Json{{"kind", "Node"}, {"metadata", {{"name", absl::StrCat("n", i)}}}}.dump())
            .ok());
  }
  ASSERT_TRUE(server.Create(PodJson("a", "done", "Succeeded", "n0")).ok());
  for (int i = 0; i < 10; ++i) {
    ASSERT_TRUE(server.Create(PodJson(i % 2 ? "a" : "b", absl::StrCat("p", i), "Running",
                                      absl::StrCat("n", i % 5)))
                    .ok());
  }
  ASSERT_TRUE(server
                  .Create(Json{{"kind", "PodDisruptionBudget"},
                               {"metadata", {{"namespace", "a"}, {"name", "budget"}}},
                               {"spec", {{"minAvailable", 1}, {"selector", Json::object()}}}}
                              .dump())
                  .ok());

  absl::StatusOr<std::unique_ptr<Client>> created = Client::Create(config, QuickRetries(GetParam()));
  ASSERT_TRUE(created.ok()) << created.status();
  std::shared_ptr<Client> client = *std::move(created);
  Watched pods(client, PodsResource());
  Watched nodes(client, NodesResource());
  Watched namespaces(client, NamespacesResource());
  Watched budgets(client, PodDisruptionBudgetsResource());
  std::vector<Watched*> all = {&pods, &nodes, &namespaces, &budgets};
  for (Watched* w : all) w->informer->Start();
  for (Watched* w : all) ASSERT_TRUE(w->informer->WaitForSync(absl::Minutes(1)));
  // kube-scheduler's selector: the finished pod is not there.
  EXPECT_EQ(pods.informer->store().Get("a/done"), nullptr);
  EXPECT_EQ(pods.informer->store().size(), 10u);
  EXPECT_EQ(budgets.informer->store().size(), 1u);
  EXPECT_EQ(namespaces.informer->store().size(), 2u);

  // Random writes through the API and the test's side, with faults.
  httplib::Client http(server.url());
  std::mt19937_64 rng(7);
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };
  for (int step = 0; step < 400; ++step) {
    const std::string ns = pick(2) ? "a" : "b";
    const std::string name = absl::StrCat("p", pick(30));
    const std::string path = absl::StrCat("/api/v1/namespaces/", ns, "/pods/", name);
    switch (pick(6)) {
      case 0:
      case 1:
        (void)server.Create(PodJson(ns, name, "Pending"));
        break;
      case 2:  // bound or finished: a finished pod leaves the selector (DELETED)
        (void)server.Update(Json::parse(
            PodJson(ns, name, pick(4) ? "Running" : "Failed", absl::StrCat("n", pick(5)))));
        break;
      case 3:
        http.Delete(path + "?gracePeriodSeconds=0");
        break;
      case 4:
        (void)server.Update(Json{{"kind", "Node"},
                                 {"apiVersion", "v1"},
                                 {"metadata", {{"name", absl::StrCat("n", pick(5))},
                                               {"labels", {{"step", absl::StrCat(step)}}}}}});
        break;
      case 5:
        (void)server.Update(Json{{"kind", "Namespace"},
                                 {"apiVersion", "v1"},
                                 {"metadata", {{"name", ns}, {"labels", {{"step", absl::StrCat(step)}}}}}});
        break;
    }
    switch (step % 50) {
      case 10:
        server.DropWatches();
        break;
      case 20:
        server.ForceGoneOnNextWatch();
        server.DropWatches();
        break;
      case 30:
        server.CloseConnections();
        break;
      case 40:
        server.FailNext("GET", "/api/v1/pods", 500, 2);
        server.DropWatches();
        break;
    }
    if (step % 7 == 0) absl::SleepFor(absl::Milliseconds(2));  // let watches run between bursts
  }

  for (Watched* w : all) {
    SCOPED_TRACE(w->resource.description);
    EXPECT_TRUE(w->CatchesUp(config)) << [w] {
      std::lock_guard<std::mutex> lock(w->mu);
      return absl::StrJoin(w->errors, "\n");
    }();
  }
  for (Watched* w : all) w->informer->Stop();
  for (Watched* w : all) {
    SCOPED_TRACE(w->resource.description);
    EXPECT_THAT(w->recorder.violations(), IsEmpty());
    EXPECT_EQ(VersionsOf(w->informer->store()), ServerVersions(config, w->resource));
    Versions seen;
    for (const auto& [key, o] : w->recorder.seen()) seen[key] = ResourceVersionOf(*o);
    EXPECT_EQ(seen, VersionsOf(w->informer->store()));
  }
  // The faults did reach the pods' reflector: its requests got the injected
  // 500s. (Whether it reports an error depends on timing: the client
  // retries a GET's 500s, and a cut watch may have just been re-opened;
  // under load a run could see none.)
  EXPECT_GT(server.answered("GET", "/api/v1/pods", 500), 0);
}

INSTANTIATE_TEST_SUITE_P(WireFormats, InformerApiServerTest,
                         ::testing::Values(kContentTypeProtobuf, kContentTypeJson),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           return info.param == kContentTypeJson ? "Json" : "Protobuf";
                         });

}  // namespace
}  // namespace kestrel::kube
