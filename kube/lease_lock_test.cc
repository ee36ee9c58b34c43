#include "kube/lease_lock.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kube/leader_election_testing.h"
#include "kube/testing/fake_apiserver.h"

namespace kestrel::kube {
namespace {

using ::testing::ElementsAre;
using json = nlohmann::json;

constexpr char kPath[] =
    "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler";
constexpr char kCollection[] = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases";
constexpr char kConflict[] =
    "Operation cannot be fulfilled on leases.coordination.k8s.io \"kube-scheduler\": the object "
    "has been modified; please apply your changes to the latest version and try again";

// The API server's Lease endpoints for one lease, as a Client: 404 before
// it exists, 409 on a second create or a stale resourceVersion.
class FakeLeaseServer : public Client {
 public:
  absl::StatusOr<Response> Do(const Request& r) override {
    if (r.method == "GET") return Get(r.path);
    if (r.method == "POST") return Post(r.path, r.body);
    if (r.method == "PUT") return Put(r.path, r.body);
    return absl::UnimplementedError(r.method);
  }
  absl::Status Stream(const Request&, const StreamHandler&, Cancellation*) override {
    return absl::UnimplementedError("watch");
  }

  absl::StatusOr<Response> Get(const std::string& path) {
    requests.push_back("GET " + path);
    if (!get_answer.empty()) return Response{200, get_answer};
    if (path != kPath || stored.is_null()) {
      return absl::NotFoundError(
          absl::StrCat("GET ", path, R"(: leases.coordination.k8s.io "kube-scheduler" not found)"));
    }
    return Response{200, stored.dump()};
  }
  absl::StatusOr<Response> Post(const std::string& path, const std::string& body) {
    requests.push_back("POST " + path);
    bodies.push_back(json::parse(body));
    if (!stored.is_null()) {
      return absl::AbortedError(absl::StrCat(
          "POST ", path, R"(: leases.coordination.k8s.io "kube-scheduler" already exists)"));
    }
    stored = bodies.back();
    stored["metadata"]["uid"] = "6f1c";
    stored["metadata"]["resourceVersion"] = std::to_string(++version);
    return Response{201, stored.dump()};
  }
  absl::StatusOr<Response> Put(const std::string& path, const std::string& body) {
    requests.push_back("PUT " + path);
    bodies.push_back(json::parse(body));
    if (stored.is_null()) return absl::NotFoundError("PUT: not found");
    if (bodies.back()["metadata"]["resourceVersion"] != stored["metadata"]["resourceVersion"]) {
      return absl::AbortedError(absl::StrCat("PUT ", path, ": ", kConflict));
    }
    stored = bodies.back();
    stored["metadata"]["resourceVersion"] = std::to_string(++version);
    return Response{200, stored.dump()};
  }
  json stored;             // null: no lease
  std::string get_answer;  // when set, the body of every GET
  int version = 40;
  std::vector<std::string> requests;
  std::vector<json> bodies;  // of POST and PUT
};

LeaderElectionRecord Record(const std::string& holder, absl::Time acquired, absl::Time renewed,
                            int transitions) {
  LeaderElectionRecord r;
  r.holder_identity = holder;
  r.lease_duration_seconds = 15;
  r.acquire_time = acquired;
  r.renew_time = renewed;
  r.leader_transitions = transitions;
  return r;
}

const absl::Time kT0 = absl::FromUnixMicros(1700000000123456);  // 2023-11-14T22:13:20.123456Z

TEST(HttpLeaseLockTest, CreatesTheLeaseAsClientGoWritesIt) {
  FakeLeaseServer server;
  HttpLeaseLock lock(&server, "kube-system", "kube-scheduler");
  EXPECT_EQ(lock.Describe(), "kube-system/kube-scheduler");
  absl::StatusOr<VersionedRecord> missing = lock.Get();
  EXPECT_TRUE(absl::IsNotFound(missing.status())) << missing.status();

  absl::StatusOr<std::string> rv = lock.Create(Record("host_1", kT0, kT0 + absl::Seconds(2), 0));
  ASSERT_TRUE(rv.ok()) << rv.status();
  EXPECT_EQ(*rv, "41");
  EXPECT_THAT(server.requests,
              ElementsAre(std::string("GET ") + kPath, std::string("POST ") + kCollection));
  EXPECT_EQ(server.bodies[0], json::parse(R"({
    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
    "metadata": {"name": "kube-scheduler", "namespace": "kube-system"},
    "spec": {"holderIdentity": "host_1", "leaseDurationSeconds": 15,
             "acquireTime": "2023-11-14T22:13:20.123456Z",
             "renewTime": "2023-11-14T22:13:22.123456Z", "leaseTransitions": 0}})"));

  absl::StatusOr<VersionedRecord> got = lock.Get();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->record, Record("host_1", kT0, kT0 + absl::Seconds(2), 0));
  EXPECT_EQ(got->resource_version, "41");

  absl::StatusOr<std::string> again = lock.Create(Record("host_2", kT0, kT0, 0));
  EXPECT_TRUE(absl::IsAborted(again.status())) << again.status();
}

// The whole Lease goes back, with what Kestrel does not know about kept.
TEST(HttpLeaseLockTest, UpdatePutsTheLeaseBackWithTheNamedVersion) {
  FakeLeaseServer server;
  server.stored = json::parse(R"({
    "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
    "metadata": {"name": "kube-scheduler", "namespace": "kube-system", "uid": "9a",
                 "resourceVersion": "77", "labels": {"team": "sched"}},
    "spec": {"holderIdentity": "old", "leaseDurationSeconds": 15,
             "acquireTime": "2023-11-14T22:00:00.000000Z",
             "renewTime": "2023-11-14T22:10:00.500000Z", "leaseTransitions": 4,
             "strategy": "OldestEmulationVersion"}})");
  HttpLeaseLock lock(&server, "kube-system", "kube-scheduler");
  absl::StatusOr<VersionedRecord> got = lock.Get();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->resource_version, "77");
  EXPECT_EQ(got->record.holder_identity, "old");
  EXPECT_EQ(got->record.renew_time, absl::FromUnixMillis(1699999800500));
  EXPECT_EQ(got->record.leader_transitions, 4);

  absl::StatusOr<std::string> rv = lock.Update(Record("new", kT0, kT0, 5), "77");
  ASSERT_TRUE(rv.ok()) << rv.status();
  EXPECT_EQ(*rv, "41");
  EXPECT_EQ(server.requests.back(), std::string("PUT ") + kPath);
  const json& put = server.bodies.back();
  EXPECT_EQ(put["metadata"]["resourceVersion"], "77");
  EXPECT_EQ(put["metadata"]["uid"], "9a");
  EXPECT_EQ(put["metadata"]["labels"]["team"], "sched");
  EXPECT_EQ(put["spec"], json::parse(R"({
    "holderIdentity": "new", "leaseDurationSeconds": 15,
    "acquireTime": "2023-11-14T22:13:20.123456Z", "renewTime": "2023-11-14T22:13:20.123456Z",
    "leaseTransitions": 5, "strategy": "OldestEmulationVersion"})"));

  // Naming a version the lease has left is a conflict.
  absl::StatusOr<std::string> stale = lock.Update(Record("new", kT0, kT0, 5), "77");
  EXPECT_TRUE(absl::IsAborted(stale.status())) << stale.status();
  EXPECT_TRUE(absl::StrContains(stale.status().message(), "the object has been modified"));
}

TEST(HttpLeaseLockTest, UpdateNeedsARead) {
  FakeLeaseServer server;
  HttpLeaseLock lock(&server, "kube-system", "kube-scheduler");
  absl::StatusOr<std::string> rv = lock.Update(Record("a", kT0, kT0, 0), "1");
  EXPECT_EQ(rv.status(),
            absl::FailedPreconditionError("lease not initialized, call get or create first"));
  EXPECT_TRUE(server.requests.empty());
}

TEST(HttpLeaseLockTest, ABadAnswerNamesTheRequestAndTheLease) {
  const struct {
    std::string name;
    std::string body;
    std::string message;
  } cases[] = {
      {"not JSON", "<html>", "the answer is not a Lease object"},
      {"bad time", R"({"metadata": {"resourceVersion": "5"}, "spec": {"renewTime": "noon"}})",
       "spec.renewTime"},
      {"no resourceVersion", R"({"metadata": {}, "spec": {}})",
       "metadata.resourceVersion: missing"},
  };
  for (const auto& c : cases) {
    FakeLeaseServer server;
    server.get_answer = c.body;
    HttpLeaseLock lock(&server, "kube-system", "kube-scheduler");
    absl::StatusOr<VersionedRecord> got = lock.Get();
    ASSERT_FALSE(got.ok()) << c.name;
    EXPECT_TRUE(absl::StartsWith(got.status().message(),
                                 absl::StrCat("GET ", kPath, ": Lease kube-system/kube-scheduler")))
        << c.name << ": " << got.status();
    EXPECT_TRUE(absl::StrContains(got.status().message(), c.message))
        << c.name << ": " << got.status();
  }
}

// Two electors over HTTP leases on one server: acquire, renew, release and
// takeover, with the records as client-go would leave them.
TEST(HttpLeaseLockTest, CarriesAnElection) {
  FakeLeaseServer server;
  testing::FakeClock clock(kT0);
  HttpLeaseLock lock_a(&server, "kube-system", "kube-scheduler");
  HttpLeaseLock lock_b(&server, "kube-system", "kube-scheduler");
  auto make = [&clock](const std::string& id, LeaseLock* lock) {
    LeaderElectionConfig config;
    config.identity = id;
    config.release_on_cancel = true;
    config.callbacks.on_started_leading = [] {};
    config.callbacks.on_stopped_leading = [] {};
    auto elector = LeaderElector::Create(config, lock, &clock);
    EXPECT_TRUE(elector.ok()) << elector.status();
    return std::move(*elector);
  };
  std::unique_ptr<LeaderElector> a = make("a", &lock_a);
  std::unique_ptr<LeaderElector> b = make("b", &lock_b);
  a->Step();
  b->Step();
  ASSERT_TRUE(a->IsLeader());
  EXPECT_FALSE(b->IsLeader());
  clock.Advance(absl::Seconds(2));
  a->Step();  // renews with a PUT
  EXPECT_EQ(server.stored["spec"]["renewTime"], "2023-11-14T22:13:22.123456Z");
  EXPECT_EQ(server.stored["spec"]["acquireTime"], "2023-11-14T22:13:20.123456Z");
  a->Shutdown();
  EXPECT_EQ(server.stored["spec"]["holderIdentity"], "");
  EXPECT_EQ(server.stored["spec"]["leaseDurationSeconds"], 1);
  clock.Advance(absl::Seconds(5));
  b->Step();
  EXPECT_TRUE(b->IsLeader());
  EXPECT_EQ(server.stored["spec"]["holderIdentity"], "b");
  EXPECT_EQ(server.stored["spec"]["leaseTransitions"], 1);
}

}  // namespace
}  // namespace kestrel::kube

namespace kestrel::kube {
namespace {

// The same election over real HTTP against the in-repo API server's Lease
// endpoints (create, get, PUT with resourceVersion, 409 on a stale one).
TEST(HttpLeaseLockTest, CarriesAnElectionAgainstTheInRepoApiServer) {
  auto server = kube::testing::FakeApiServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  ASSERT_TRUE((*server)->Create(R"({"kind":"Namespace","metadata":{"name":"kube-system"}})").ok());
  Config config;
  config.server = (*server)->url();
  auto client = Client::Create(config);
  ASSERT_TRUE(client.ok()) << client.status();
  testing::FakeClock clock(kT0);
  HttpLeaseLock lock_a(client->get(), "kube-system", "kube-scheduler");
  HttpLeaseLock lock_b(client->get(), "kube-system", "kube-scheduler");
  auto make = [&clock](const std::string& id, LeaseLock* lock) {
    LeaderElectionConfig c;
    c.identity = id;
    c.release_on_cancel = true;
    c.callbacks.on_started_leading = [] {};
    c.callbacks.on_stopped_leading = [] {};
    auto elector = LeaderElector::Create(c, lock, &clock);
    EXPECT_TRUE(elector.ok()) << elector.status();
    return std::move(*elector);
  };
  auto stored = [&]() {
    absl::StatusOr<json> lease = (*server)->Get("Lease", "kube-system", "kube-scheduler");
    EXPECT_TRUE(lease.ok()) << lease.status();
    return lease.ok() ? (*lease)["spec"] : json();
  };
  std::unique_ptr<LeaderElector> a = make("a", &lock_a);
  std::unique_ptr<LeaderElector> b = make("b", &lock_b);
  a->Step();
  b->Step();
  ASSERT_TRUE(a->IsLeader());
  EXPECT_FALSE(b->IsLeader());
  EXPECT_EQ(stored()["holderIdentity"], "a");
  clock.Advance(absl::Seconds(2));
  a->Step();  // renews with a PUT carrying the lease's resourceVersion
  EXPECT_EQ(stored()["renewTime"], "2023-11-14T22:13:22.123456Z");
  EXPECT_EQ(stored()["acquireTime"], "2023-11-14T22:13:20.123456Z");
  b->Step();  // the lease is held and fresh: b stays a follower
  EXPECT_FALSE(b->IsLeader());
  a->Shutdown();
  EXPECT_EQ(stored()["holderIdentity"], "");
  EXPECT_EQ(stored()["leaseDurationSeconds"], 1);
  clock.Advance(absl::Seconds(5));
  b->Step();
  EXPECT_TRUE(b->IsLeader());
  EXPECT_EQ(stored()["holderIdentity"], "b");
  EXPECT_EQ(stored()["leaseTransitions"], 1);
}

}  // namespace
}  // namespace kestrel::kube
