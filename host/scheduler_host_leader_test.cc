// Leader election between SchedulerHosts in one process, over HTTP against
// the in-repo API server, with short durations (lease 2s, renew deadline
// 1.5s, retry 0.3s): one replica binds while the other stands by; the
// standby takes over when the leader stops (and releases the lease); a
// replica whose lease another holds sends no binding, no status patch and
// no event; a leader that loses its lease stops and says so.

#include <memory>
#include <string>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "host/api_writer.h"
#include "host/scheduler_host.h"
#include "host/scheduler_host_testing.h"
#include "kube/testing/fake_apiserver.h"
#include "nlohmann/json.hpp"

namespace kestrel::host {
namespace {

using kube::testing::FakeApiServer;
using testing::BindingPath;
using testing::NodeJson;
using testing::NodeOf;
using testing::PodJson;
using testing::QuickClient;
using testing::QuickHostOptions;
using testing::RecordingClient;
using testing::WaitFor;
using Json = nlohmann::json;

constexpr char kLeaseNamespace[] = "kube-system";
constexpr char kLeaseName[] = "kube-scheduler";

SchedulerHostOptions ElectingOptions(const std::string& identity) {
  SchedulerHostOptions options = QuickHostOptions();
  options.leader_election.leader_elect = true;
  options.leader_election.lease_duration = absl::Seconds(2);
  options.leader_election.renew_deadline = absl::Milliseconds(1500);
  options.leader_election.retry_period = absl::Milliseconds(300);
  options.identity = identity;
  options.hostname = identity;
  return options;
}

std::string Holder(const FakeApiServer& server) {
  absl::StatusOr<Json> lease = server.Get("Lease", kLeaseNamespace, kLeaseName);
  if (!lease.ok()) return "<no lease>";
  return (*lease)["spec"].value("holderIdentity", "");
}

// The lease as another replica holding it for an hour writes it.
Json ForeignLease(const std::string& holder) {
  const std::string now = kube::MicroTimeString(absl::Now());
  return {{"kind", "Lease"},
          {"apiVersion", "coordination.k8s.io/v1"},
          {"metadata", {{"namespace", kLeaseNamespace}, {"name", kLeaseName}}},
          {"spec",
           {{"holderIdentity", holder},
            {"leaseDurationSeconds", 3600},
            {"acquireTime", now},
            {"renewTime", now},
            {"leaseTransitions", 0}}}};
}

class SchedulerHostLeaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<FakeApiServer>> server = FakeApiServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(server_->Create(NodeJson(absl::StrCat("node-", i))).ok());
    }
  }

  // Creates pods `prefix`-0 .. -(n-1) and waits until all are bound; false
  // if some never are.
  bool CreateAndWaitBound(const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(server_->Create(PodJson(absl::StrCat(prefix, "-", i), "100m")).ok());
    }
    return WaitFor([&] {
      for (int i = 0; i < n; ++i) {
        if (NodeOf(*server_, absl::StrCat(prefix, "-", i)).empty()) return false;
      }
      return true;
    });
  }

  int ServerBindings(const std::string& prefix, int n) {
    int bound = 0;
    for (int i = 0; i < n; ++i) {
      bound += server_->answered("POST", BindingPath(absl::StrCat(prefix, "-", i)), 201);
    }
    return bound;
  }

  std::unique_ptr<FakeApiServer> server_;
};

TEST_F(SchedulerHostLeaderTest, OneReplicaBindsAndTheOtherTakesOverWhenItStops) {
  auto client_a = std::make_shared<RecordingClient>(QuickClient(server_->url()));
  auto client_b = std::make_shared<RecordingClient>(QuickClient(server_->url()));
  auto a = std::make_unique<SchedulerHost>(client_a, ElectingOptions("replica-a"));
  auto b = std::make_unique<SchedulerHost>(client_b, ElectingOptions("replica-b"));
  ASSERT_TRUE(a->Start().ok());
  ASSERT_TRUE(b->Start().ok());
  ASSERT_TRUE(WaitFor([&] { return a->leading() || b->leading(); }));
  const bool a_leads = a->leading();
  std::unique_ptr<SchedulerHost>& leader = a_leads ? a : b;
  std::unique_ptr<SchedulerHost>& standby = a_leads ? b : a;
  RecordingClient& leader_client = a_leads ? *client_a : *client_b;
  RecordingClient& standby_client = a_leads ? *client_b : *client_a;
  const std::string standby_identity = a_leads ? "replica-b" : "replica-a";
  EXPECT_EQ(Holder(*server_), a_leads ? "replica-a" : "replica-b");

  ASSERT_TRUE(CreateAndWaitBound("first", 30));
  EXPECT_FALSE(standby->leading());
  // The server counts an answer once it is written, after the store (and so
  // the watch) shows the binding.
  EXPECT_TRUE(WaitFor([&] { return ServerBindings("first", 30) == 30; }))
      << ServerBindings("first", 30);
  // The client counts a binding once its answer is read, after the server
  // shows it.
  EXPECT_TRUE(WaitFor([&] { return leader_client.bindings() == 30; })) << leader_client.bindings();
  EXPECT_EQ(standby_client.bindings(), 0);

  // Stop() releases the lease (holder ""), so the standby need not wait
  // for it to expire.
  leader->Stop();
  ASSERT_TRUE(WaitFor([&] { return standby->leading(); }));
  EXPECT_EQ(Holder(*server_), standby_identity);

  ASSERT_TRUE(CreateAndWaitBound("second", 20));
  EXPECT_TRUE(WaitFor([&] { return ServerBindings("second", 20) == 20; }))
      << ServerBindings("second", 20);
  EXPECT_TRUE(WaitFor([&] { return standby_client.bindings() == 20; }))
      << standby_client.bindings();
  EXPECT_EQ(leader_client.bindings(), 30);
  standby->Stop();
  EXPECT_EQ(Holder(*server_), "");
}

TEST_F(SchedulerHostLeaderTest, NothingIsWrittenWhileAnotherHoldsTheLease) {
  ASSERT_TRUE(server_->Create(ForeignLease("someone-else").dump()).ok());
  auto client = std::make_shared<RecordingClient>(QuickClient(server_->url()));
  SchedulerHost host(client, ElectingOptions("replica-a"));
  ASSERT_TRUE(host.Start().ok());
  constexpr int kPods = 20;
  for (int i = 0; i < kPods; ++i) {
    ASSERT_TRUE(server_->Create(PodJson(absl::StrCat("pod-", i), "100m")).ok());
  }
  ASSERT_TRUE(WaitFor([&] { return host.synced(); }));
  // Many retry periods: a replica that wrote while not leading would have.
  absl::SleepFor(absl::Seconds(3));

  EXPECT_FALSE(host.leading());
  EXPECT_EQ(Holder(*server_), "someone-else");
  EXPECT_EQ(client->bindings(), 0);
  EXPECT_EQ(host.writer().refused_writes(), 0) << "the standby scheduled pods";
  for (int i = 0; i < kPods; ++i) {
    const std::string pod = absl::StrCat("pod-", i);
    EXPECT_EQ(NodeOf(*server_, pod), "") << pod;
    for (int code : {201, 409, 500}) {
      EXPECT_EQ(server_->answered("POST", BindingPath(pod), code), 0) << pod;
    }
  }
  EXPECT_TRUE(server_->Events().empty());

  // Released by its holder: now it leads and binds them all.
  Json released = ForeignLease("");
  ASSERT_TRUE(server_->Update(released).ok());
  EXPECT_TRUE(WaitFor([&] {
    for (int i = 0; i < kPods; ++i) {
      if (NodeOf(*server_, absl::StrCat("pod-", i)).empty()) return false;
    }
    return true;
  }));
  EXPECT_TRUE(host.leading());
  EXPECT_TRUE(WaitFor([&] { return client->bindings() == kPods; })) << client->bindings();
}

TEST_F(SchedulerHostLeaderTest, ALeaderThatLosesTheLeaseStopsScheduling) {
  auto client = std::make_shared<RecordingClient>(QuickClient(server_->url()));
  SchedulerHost host(client, ElectingOptions("replica-a"));
  ASSERT_TRUE(host.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return host.leading(); }));
  ASSERT_TRUE(CreateAndWaitBound("before", 5));
  ASSERT_TRUE(WaitFor([&] { return client->bindings() == 5; }));

  // Another replica overwrites the lease (as after a partition).
  ASSERT_TRUE(server_->Update(ForeignLease("usurper")).ok());
  // Wait() returns on its own when the lease is lost; `stop` only guards
  // against a hang.
  absl::Notification stop, returned;
  std::thread guard([&] {
    if (!returned.WaitForNotificationWithTimeout(absl::Minutes(1))) stop.Notify();
  });
  const absl::Status lost = host.Wait(stop);
  returned.Notify();
  guard.join();
  EXPECT_EQ(lost.code(), absl::StatusCode::kAborted) << lost;
  EXPECT_EQ(lost.message(), "leaderelection lost");
  EXPECT_FALSE(host.leading());

  ASSERT_TRUE(server_->Create(PodJson("after", "100m")).ok());
  absl::SleepFor(absl::Seconds(1));
  EXPECT_EQ(NodeOf(*server_, "after"), "");
  EXPECT_EQ(server_->answered("POST", BindingPath("after"), 201), 0);
  EXPECT_EQ(client->bindings(), 5);
  host.Stop();
  EXPECT_EQ(Holder(*server_), "usurper") << "a replica that lost the lease released it";
}

}  // namespace
}  // namespace kestrel::host
