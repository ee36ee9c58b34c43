// `kestrel scheduler`'s secure port on a SchedulerHost against the in-repo
// API server, which answers the TokenReviews and SubjectAccessReviews:
// health without a token, /readyz only once the informers have synced,
// /metrics only for an authorized token, with the attempts and the queue as
// scheduling left them.

#include <memory>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "host/scheduler_host.h"
#include "host/scheduler_host_testing.h"
#include "httplib.h"
#include "kube/testing/fake_apiserver.h"

namespace kestrel::host {
namespace {

using kube::testing::FakeApiServer;
using testing::NodeJson;
using testing::NodeOf;
using testing::PodJson;
using testing::QuickClient;
using testing::QuickHostOptions;
using testing::WaitFor;
using ::testing::HasSubstr;
using ::testing::Not;

struct Reply {
  int code = 0;  // 0: no answer
  std::string body;
};

// GET over TLS; the certificate is the one the host generated
// (host/serving:server_test checks it against its CA).
Reply Get(int port, const std::string& path, const std::string& token = "") {
  httplib::SSLClient client("127.0.0.1", port);
  client.enable_server_certificate_verification(false);
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", absl::StrCat("Bearer ", token));
  httplib::Result r = client.Get(path.c_str(), headers);
  if (!r) return {};
  return {r->status, r->body};
}

class SchedulerHostServingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<FakeApiServer>> server = FakeApiServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    server_->SetToken("reader-token", {"prometheus", "uid-1", {"monitoring"}});
    server_->SetToken("other-token", {"someone", "uid-2", {}});
    server_->AllowPath("prometheus", "get", "/metrics");
    ASSERT_TRUE(server_->Create(NodeJson("node-0", "1")).ok());
  }

  std::unique_ptr<SchedulerHost> StartHost() {
    SchedulerHostOptions options = QuickHostOptions();
    options.serve = true;
    options.serving.bind_address = "127.0.0.1";
    options.serving.secure_port = 0;
    auto host = std::make_unique<SchedulerHost>(QuickClient(server_->url()), options);
    absl::Status s = host->Start();
    EXPECT_TRUE(s.ok()) << s;
    EXPECT_GT(host->secure_port(), 0);
    return host;
  }

  std::unique_ptr<FakeApiServer> server_;
};

TEST_F(SchedulerHostServingTest, ReadyOnlyOnceTheInformersHaveSynced) {
  // The pods' first list takes seconds, so the host starts unsynced.
  server_->SetLatency(absl::Seconds(5), "/api/v1/pods");
  std::unique_ptr<SchedulerHost> host = StartHost();
  // synced() never turns back to false: when it is false after an answer,
  // it was false while the answer was made.
  int unsynced_answers = 0;
  while (true) {
    const Reply r = Get(host->secure_port(), "/readyz?verbose");
    if (host->synced()) break;
    ++unsynced_answers;
    EXPECT_EQ(r.code, 500);
    EXPECT_THAT(r.body, HasSubstr("[-]sched-handler-sync failed: reason withheld\n"));
    // Health does not wait for the informers.
    EXPECT_EQ(Get(host->secure_port(), "/healthz").code, 200);
    if (unsynced_answers >= 3) break;
  }
  EXPECT_GT(unsynced_answers, 0) << "synced before the first answer (5 s of latency)";

  server_->SetLatency(absl::ZeroDuration(), "/api/v1/pods");
  ASSERT_TRUE(WaitFor([&] { return host->synced(); }));
  const Reply after = Get(host->secure_port(), "/readyz");
  EXPECT_EQ(after.code, 200);
  EXPECT_EQ(after.body, "ok");
}

TEST_F(SchedulerHostServingTest, HealthIsOpenAndMetricsNeedAnAuthorizedToken) {
  std::unique_ptr<SchedulerHost> host = StartHost();
  const int port = host->secure_port();
  ASSERT_TRUE(WaitFor([&] { return host->synced(); }));

  // node-0 has one CPU: three pods of 300m fit, the fourth and fifth do not.
  constexpr int kBound = 3;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(server_->Create(PodJson(absl::StrCat("pod-", i), "300m")).ok());
  }
  ASSERT_TRUE(WaitFor([&] {
    int bound = 0;
    for (int i = 0; i < 5; ++i) bound += NodeOf(*server_, absl::StrCat("pod-", i)).empty() ? 0 : 1;
    return bound == kBound;
  }));

  for (const char* path : {"/healthz", "/livez", "/readyz"}) {
    const Reply r = Get(port, path);
    EXPECT_EQ(r.code, 200) << path;
    EXPECT_EQ(r.body, "ok") << path;
  }
  EXPECT_EQ(Get(port, "/metrics").code, 403) << "anonymous";
  EXPECT_EQ(Get(port, "/metrics", "no-such-token").code, 401);
  const Reply denied = Get(port, "/metrics", "other-token");
  EXPECT_EQ(denied.code, 403);
  EXPECT_THAT(denied.body, Not(HasSubstr("scheduler_")));

  // The attempts are counted once the binding (or the failure) is written.
  const std::string scheduled = absl::StrCat(
      "\nscheduler_schedule_attempts_total{profile=\"default-scheduler\",result=\"scheduled\"} ",
      kBound, "\n");
  Reply metrics;
  EXPECT_TRUE(WaitFor([&] {
    metrics = Get(port, "/metrics", "reader-token");
    return metrics.code == 200 && absl::StrContains(metrics.body, scheduled) &&
           absl::StrContains(metrics.body, "\nscheduler_pending_pods{queue=\"unschedulable\"} 2\n");
  })) << metrics.code << "\n" << metrics.body;
  EXPECT_THAT(metrics.body, HasSubstr("\nscheduler_pending_pods{queue=\"active\"} 0\n"));
  EXPECT_THAT(metrics.body, HasSubstr("\nscheduler_pending_pods{queue=\"backoff\"} 0\n"));
  EXPECT_THAT(metrics.body,
              HasSubstr("\nscheduler_schedule_attempts_total{profile=\"default-scheduler\","
                        "result=\"unschedulable\"} "));
}

}  // namespace
}  // namespace kestrel::host
