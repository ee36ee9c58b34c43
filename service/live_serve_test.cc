// `kestrel serve --kubeconfig` as the command wires it: the in-repo API
// server (kube/testing) over real loopback HTTP, LiveWhatIf's informers
// keeping the base, the WhatIf service with bearer-token authorization
// (TokenReview + SubjectAccessReview) behind a real gRPC server, and a
// client stub.

#include <atomic>
#include <chrono>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "api/service.grpc.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "host/live_whatif.h"
#include "host/scheduler_host_testing.h"
#include "host/serving/delegating_auth.h"
#include "kube/client.h"
#include "kube/testing/fake_apiserver.h"
#include "kube/testing/standalone.h"
#include "nlohmann/json.hpp"
#include "scheduler/profile.h"
#include "service/grpc_auth.h"
#include "service/raw_grpc_testing.h"
#include "service/server.h"
#include "service/whatif_service.h"
#include "sim/cluster.h"
#include "sim/whatif.h"

namespace kestrel::service {
namespace {

namespace pb = ::kestrel::v1;
namespace v1 = ::k8s::io::api::core::v1;
using host::testing::NodeJson;
using host::testing::PodJson;
using host::testing::QuickClient;
using host::testing::WaitFor;
using kube::testing::FakeApiServer;
using ::testing::HasSubstr;

constexpr char kPlace[] = "/kestrel.v1.WhatIf/Place";
// HealthCheckResponse{status: SERVING} and {status: NOT_SERVING}.
const std::string kServing("\x08\x01", 2);
const std::string kNotServing("\x08\x02", 2);

// A bound pod of `cpu` on `node`.
std::string BoundPodJson(const std::string& name, const std::string& cpu,
                         const std::string& node) {
  nlohmann::json pod = nlohmann::json::parse(PodJson(name, cpu));
  pod["spec"]["nodeName"] = node;
  pod["status"]["phase"] = "Running";
  return pod.dump();
}

v1::Pod Probe(const std::string& name, const std::string& cpu) {
  v1::Pod pod;
  pod.mutable_metadata()->set_name(name);
  pod.mutable_metadata()->set_namespace_("default");
  v1::Container* c = pod.mutable_spec()->add_containers();
  c->set_name("c");
  c->set_image("nginx");
  (*c->mutable_resources()->mutable_requests())["cpu"].set_string(cpu);
  return pod;
}

// Forwards to another client; LISTs of pods wait until the gate opens, so
// the pods informer cannot sync before the test says so.
class GatedClient : public kube::Client {
 public:
  explicit GatedClient(std::shared_ptr<kube::Client> inner) : inner_(std::move(inner)) {}

  absl::StatusOr<kube::Response> Do(const kube::Request& request) override {
    if (request.method == "GET" && absl::StartsWith(request.path, "/api/v1/pods")) {
      ++gated_;
      gate_.WaitForNotification();
    }
    return inner_->Do(request);
  }
  absl::Status Stream(const kube::Request& request, const StreamHandler& handler,
                      kube::Cancellation* cancel) override {
    return inner_->Stream(request, handler, cancel);
  }

  void Open() {
    if (!gate_.HasBeenNotified()) gate_.Notify();
  }
  int gated() const { return gated_.load(); }

 private:
  const std::shared_ptr<kube::Client> inner_;
  absl::Notification gate_;
  std::atomic<int> gated_{0};
};

struct ServeOptions {
  // Authorize every call by the API server's reviews.
  bool authorize = false;
  std::vector<std::string> always_allow_paths;
  // The client the informers and reviews use; null: a quick client.
  std::shared_ptr<kube::Client> client;
};

class LiveServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto api = FakeApiServer::Start();
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = *std::move(api);
  }

  void TearDown() override {
    if (server_ != nullptr) server_->Shutdown();
    if (live_ != nullptr) live_->Stop();
  }

  // As cmd/kestrel.cc's Serve without --cluster.
  void Serve(ServeOptions o = {}) {
    client_ = o.client != nullptr ? o.client : QuickClient(api_->url());
    ServiceOptions service_options;
    if (o.authorize) {
      host::AuthOptions auth_options;
      auth_options.always_allow_paths = o.always_allow_paths;
      auth_ = std::make_unique<host::DelegatingAuth>(client_.get(), auth_options);
      authorizer_ = std::make_unique<GrpcAuthorizer>(auth_.get());
      service_options.authorize = authorizer_->AsHook();
    }
    service_ = std::make_unique<WhatIfService>(service_options);
    ServerOptions server_options;
    server_options.listen = "127.0.0.1:0";
    server_options.start_not_serving = true;
    auto running = StartServer(server_options, service_.get());
    ASSERT_TRUE(running.ok()) << running.status();
    server_ = std::move(running->server);
    host::LiveWhatIfOptions live_options;
    live_options.config = scheduler::DefaultConfig();
    live_options.reflector = host::testing::QuickHostOptions().reflector;
    grpc::Server* server = server_.get();
    WhatIfService* service = service_.get();
    live_options.on_base = [service, server](std::shared_ptr<const sim::WhatIf> base) {
      service->SetBase(std::move(base));
      server->GetHealthCheckService()->SetServingStatus(true);
    };
    live_ = std::make_unique<host::LiveWhatIf>(client_, live_options);
    ASSERT_TRUE(live_->Start().ok());
    channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", running->port),
                                   grpc::InsecureChannelCredentials());
    stub_ = pb::WhatIf::NewStub(channel_);
  }

  std::string Health() {
    auto [status, response] = RawCall(channel_.get(), "/grpc.health.v1.Health/Check", "");
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  bool WaitServing() {
    return WaitFor([&] { return Health() == kServing; });
  }

  // Places one pod; its node ("" when unschedulable), or the error.
  grpc::Status Place(const v1::Pod& pod, std::string* node,
                     const std::string& authorization = "", std::string* message = nullptr) {
    grpc::ClientContext context;
    if (!authorization.empty()) context.AddMetadata("authorization", authorization);
    pb::PlaceRequest request;
    *request.add_pods() = pod;
    pb::PlaceResponse response;
    grpc::Status s = stub_->Place(&context, request, &response);
    if (s.ok() && response.placements_size() == 1) {
      *node = response.placements(0).node();
      if (message != nullptr) *message = response.placements(0).message();
    }
    return s;
  }

  std::string NodeFor(const v1::Pod& pod) {
    std::string node;
    grpc::Status s = Place(pod, &node);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return node;
  }

  std::unique_ptr<FakeApiServer> api_;
  std::shared_ptr<kube::Client> client_;
  std::unique_ptr<host::DelegatingAuth> auth_;
  std::unique_ptr<GrpcAuthorizer> authorizer_;
  std::unique_ptr<WhatIfService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<host::LiveWhatIf> live_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::WhatIf::Stub> stub_;
};

// A node created through the API server after serve started becomes part of
// the base: a pod that fit nowhere lands on it.
TEST_F(LiveServeTest, NodeAddedThroughTheApiServerTakesPlacements) {
  ASSERT_TRUE(api_->Create(NodeJson("small", "1")).ok());
  Serve();
  ASSERT_TRUE(WaitServing());
  std::string message;
  std::string node = "unset";
  ASSERT_TRUE(Place(Probe("p", "2"), &node, "", &message).ok());
  EXPECT_EQ(node, "");
  EXPECT_EQ(message,
            "0/1 nodes are available: 1 Insufficient cpu. preemption: 0/1 nodes are available: "
            "1 Preemption is not helpful for scheduling..");

  ASSERT_TRUE(api_->Create(NodeJson("big", "4")).ok());
  EXPECT_TRUE(WaitFor([&] { return NodeFor(Probe("p", "2")) == "big"; }));
}

// A bound pod deleted through the API server frees its node's room.
TEST_F(LiveServeTest, PodDeletedThroughTheApiServerFreesRoom) {
  ASSERT_TRUE(api_->Create(NodeJson("n1", "1")).ok());
  ASSERT_TRUE(api_->Create(BoundPodJson("hog", "800m", "n1")).ok());
  Serve();
  ASSERT_TRUE(WaitServing());
  EXPECT_EQ(NodeFor(Probe("p", "500m")), "");

  absl::StatusOr<kube::Response> deleted =
      client_->Delete("/api/v1/namespaces/default/pods/hog");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  // The kubelet's part: a bound pod's deletion is graceful.
  api_->FinishDeletions();
  EXPECT_TRUE(WaitFor([&] { return NodeFor(Probe("p", "500m")) == "n1"; }));
}

// grpc.health.v1 answers NOT_SERVING (and the WhatIf service UNAVAILABLE)
// until every informer has synced, then SERVING.
TEST_F(LiveServeTest, HealthIsNotServingUntilTheInformersSync) {
  ASSERT_TRUE(api_->Create(NodeJson("n1", "4")).ok());
  auto gated = std::make_shared<GatedClient>(QuickClient(api_->url()));
  // A failed check must not leave the informer waiting: TearDown joins it.
  struct OpenAtEnd {
    GatedClient* gated;
    ~OpenAtEnd() { gated->Open(); }
  } open_at_end{gated.get()};
  ServeOptions o;
  o.client = gated;
  Serve(o);
  ASSERT_TRUE(WaitFor([&] { return gated->gated() > 0; }));
  // The nodes informer may have synced; the pods informer has not.
  EXPECT_EQ(Health(), kNotServing);
  std::string node;
  EXPECT_EQ(Place(Probe("p", "1"), &node).error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_FALSE(live_->ready());

  gated->Open();
  ASSERT_TRUE(WaitServing());
  EXPECT_TRUE(live_->ready());
  EXPECT_EQ(NodeFor(Probe("p", "1")), "n1");
}

// Every answer comes from one state of the cluster, however many nodes
// arrive meanwhile: Capacity's count and its FitError name the same number
// of nodes (4 one-CPU copies per 4-CPU node).
TEST_F(LiveServeTest, EachAnswerSeesOneStateWhileNodesArrive) {
  ASSERT_TRUE(api_->Create(NodeJson("n0", "4")).ok());
  Serve();
  ASSERT_TRUE(WaitServing());
  std::thread creator([&] {
    for (int i = 1; i < 30; ++i) {
      EXPECT_TRUE(api_->Create(NodeJson(absl::StrCat("n", i), "4")).ok());
    }
  });
  std::set<int64_t> counts;
  for (int i = 0; i < 60; ++i) {
    grpc::ClientContext context;
    pb::CapacityRequest request;
    *request.mutable_template_() = Probe("copy", "1");
    pb::CapacityResponse response;
    grpc::Status s = stub_->Capacity(&context, request, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    ASSERT_EQ(response.count() % 4, 0) << response.count();
    const int64_t nodes = response.count() / 4;
    EXPECT_EQ(response.stopped_by(),
              absl::StrCat("0/", nodes, " nodes are available: ", nodes, " Insufficient cpu."));
    EXPECT_EQ(response.per_node_size(), nodes);
    counts.insert(response.count());
  }
  creator.join();
  EXPECT_TRUE(WaitFor([&] {
    grpc::ClientContext context;
    pb::CapacityRequest request;
    *request.mutable_template_() = Probe("copy", "1");
    pb::CapacityResponse response;
    return stub_->Capacity(&context, request, &response).ok() && response.count() == 120;
  }));
}

// Bearer tokens: checked by TokenReview, then SubjectAccessReview for the
// non-resource path of the method and verb "post".
TEST_F(LiveServeTest, CallsAreAuthorizedByTokenReviewAndSubjectAccessReview) {
  ASSERT_TRUE(api_->Create(NodeJson("n1", "4")).ok());
  api_->SetToken("alice-token", {"alice", "uid-a", {"team-a"}});
  api_->SetToken("bob-token", {"bob", "uid-b", {"team-b"}});
  api_->AllowPath("alice", "post", kPlace);
  ServeOptions o;
  o.authorize = true;
  Serve(o);
  ASSERT_TRUE(WaitServing());

  struct Case {
    std::string name;
    std::string authorization;
    grpc::StatusCode code;
    std::string message;
  };
  const Case cases[] = {
      {"no token", "", grpc::StatusCode::UNAUTHENTICATED,
       "Unauthorized: the call needs \"authorization: Bearer <token>\" metadata"},
      {"not a bearer token", "Basic YWxpY2U6cGFzcw==", grpc::StatusCode::UNAUTHENTICATED,
       "Unauthorized: the call needs \"authorization: Bearer <token>\" metadata"},
      {"empty bearer token", "Bearer ", grpc::StatusCode::UNAUTHENTICATED,
       "Unauthorized: the call needs \"authorization: Bearer <token>\" metadata"},
      {"token TokenReview rejects", "Bearer mallory-token", grpc::StatusCode::UNAUTHENTICATED,
       "Unauthorized"},
      {"user SubjectAccessReview denies", "Bearer bob-token",
       grpc::StatusCode::PERMISSION_DENIED,
       "forbidden: User \"bob\" cannot post path \"/kestrel.v1.WhatIf/Place\""},
      {"allowed user", "Bearer alice-token", grpc::StatusCode::OK, ""},
      {"allowed user, scheme in lower case", "bearer alice-token", grpc::StatusCode::OK, ""},
  };
  for (const Case& c : cases) {
    std::string node;
    grpc::Status s = Place(Probe("p", "1"), &node, c.authorization);
    EXPECT_EQ(s.error_code(), c.code) << c.name << ": " << s.error_message();
    EXPECT_EQ(s.error_message(), c.message) << c.name;
    if (c.code == grpc::StatusCode::OK) {
      EXPECT_EQ(node, "n1") << c.name;
    }
  }
  // alice may Place, not Explain.
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer alice-token");
  pb::ExplainRequest explain;
  *explain.mutable_pod() = Probe("p", "1");
  pb::ExplainResponse explained;
  grpc::Status s = stub_->Explain(&context, explain, &explained);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(s.error_message(),
            "forbidden: User \"alice\" cannot post path \"/kestrel.v1.WhatIf/Explain\"");
}

// Reviews are cached as upstream's delegating authenticator and authorizer
// cache them (10 s): a second call with the same token asks the API server
// nothing.
TEST_F(LiveServeTest, ReviewsAreCached) {
  ASSERT_TRUE(api_->Create(NodeJson("n1", "4")).ok());
  api_->SetToken("alice-token", {"alice", "", {}});
  api_->AllowPath("alice", "post", kPlace);
  ServeOptions o;
  o.authorize = true;
  Serve(o);
  ASSERT_TRUE(WaitServing());
  std::string node;
  ASSERT_TRUE(Place(Probe("p", "1"), &node, "Bearer alice-token").ok());
  EXPECT_EQ(api_->token_reviews(), 1);
  EXPECT_EQ(api_->access_reviews(), 1);
  ASSERT_TRUE(Place(Probe("p", "1"), &node, "Bearer alice-token").ok());
  EXPECT_EQ(api_->token_reviews(), 1);
  EXPECT_EQ(api_->access_reviews(), 1);
}

// Every method of the WhatIf service, those added later included, refuses a
// call without a token; health and reflection need none.
TEST_F(LiveServeTest, EveryWhatIfMethodNeedsATokenAndHealthDoesNot) {
  ServeOptions o;
  o.authorize = true;
  Serve(o);
  ASSERT_TRUE(WaitServing());  // no token sent
  const google::protobuf::ServiceDescriptor* service =
      google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
          pb::WhatIf::service_full_name());
  ASSERT_NE(service, nullptr);
  ASSERT_GE(service->method_count(), 3);
  for (int i = 0; i < service->method_count(); ++i) {
    const std::string method = absl::StrCat("/", service->full_name(), "/", service->method(i)->name());
    auto [status, response] = RawCall(channel_.get(), method, "");
    EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED) << method;
  }
  EXPECT_EQ(api_->token_reviews(), 0);
  EXPECT_EQ(api_->access_reviews(), 0);
  // Reflection's list_services (ServerReflectionRequest{list_services: ""})
  // is a stream; that it is not refused is what counts here.
  auto [reflection, services] = ReflectionListServices(channel_.get());
  EXPECT_TRUE(reflection.ok()) << reflection.error_message();
}

// --authorization-always-allow-paths: a matching method is served without
// a token and without asking the API server ("/*" turns authorization off,
// as upstream's path authorizer reads it); others still need one.
TEST_F(LiveServeTest, AlwaysAllowPathsNeedNoToken) {
  ASSERT_TRUE(api_->Create(NodeJson("n1", "4")).ok());
  ServeOptions o;
  o.authorize = true;
  o.always_allow_paths = {"/kestrel.v1.WhatIf/Place"};
  Serve(o);
  ASSERT_TRUE(WaitServing());
  std::string node;
  ASSERT_TRUE(Place(Probe("p", "1"), &node).ok());
  EXPECT_EQ(node, "n1");
  auto [status, response] = RawCall(channel_.get(), "/kestrel.v1.WhatIf/Explain", "");
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_EQ(api_->access_reviews(), 0);
}

TEST_F(LiveServeTest, AlwaysAllowEveryPath) {
  ASSERT_TRUE(api_->Create(NodeJson("n1", "4")).ok());
  ServeOptions o;
  o.authorize = true;
  o.always_allow_paths = {"/*"};
  Serve(o);
  ASSERT_TRUE(WaitServing());
  std::string node;
  ASSERT_TRUE(Place(Probe("p", "1"), &node).ok());
  EXPECT_EQ(node, "n1");
  grpc::ClientContext context;
  pb::ExplainRequest explain;
  *explain.mutable_pod() = Probe("p", "1");
  pb::ExplainResponse explained;
  EXPECT_TRUE(stub_->Explain(&context, explain, &explained).ok());
}


// The live base answers as the snapshot of the same objects does: the
// in-repo API server loaded with testdata/small (as `kestrel apiserver
// --load` loads it) and the file itself give the same Capacity and Place.
TEST_F(LiveServeTest, LiveBaseAnswersAsTheFilesDo) {
  constexpr char kSmall[] = "testdata/small/cluster.yaml";
  std::ostringstream out, err;
  kube::testing::StandaloneOptions standalone_options;
  standalone_options.listen = "127.0.0.1:0";
  standalone_options.load = {kSmall};
  auto standalone = kube::testing::Standalone::Start(standalone_options, out, err);
  ASSERT_TRUE(standalone.ok()) << standalone.status();
  ServeOptions o;
  o.client = QuickClient((*standalone)->server().url());
  Serve(o);
  ASSERT_TRUE(WaitServing());

  auto cluster = sim::LoadFiles({kSmall});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  auto files = sim::WhatIf::Create(*std::move(cluster), scheduler::DefaultConfig());
  ASSERT_TRUE(files.ok()) << files.status();
  WhatIfService snapshot;
  snapshot.SetBase(*std::move(files));
  ServerOptions snapshot_options;
  snapshot_options.listen = "127.0.0.1:0";
  auto snapshot_server = StartServer(snapshot_options, &snapshot);
  ASSERT_TRUE(snapshot_server.ok()) << snapshot_server.status();
  auto snapshot_stub = pb::WhatIf::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", snapshot_server->port), grpc::InsecureChannelCredentials()));

  v1::Pod probe = Probe("probe", "500m");
  (*probe.mutable_spec()->mutable_containers(0)->mutable_resources()->mutable_requests())["memory"]
      .set_string("256Mi");
  pb::CapacityRequest capacity;
  *capacity.mutable_template_() = probe;
  pb::CapacityResponse live_answer, file_answer;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->Capacity(&context, capacity, &live_answer).ok());
  }
  {
    grpc::ClientContext context;
    ASSERT_TRUE(snapshot_stub->Capacity(&context, capacity, &file_answer).ok());
  }
  EXPECT_EQ(live_answer.count(), 26);
  EXPECT_EQ(live_answer.SerializeAsString(), file_answer.SerializeAsString())
      << live_answer.DebugString() << "\nvs\n" << file_answer.DebugString();

  pb::PlaceRequest place;
  for (int i = 0; i < 8; ++i) *place.add_pods() = Probe(absl::StrCat("web-", i), "1");
  pb::PlaceResponse live_placed, file_placed;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->Place(&context, place, &live_placed).ok());
  }
  {
    grpc::ClientContext context;
    ASSERT_TRUE(snapshot_stub->Place(&context, place, &file_placed).ok());
  }
  EXPECT_EQ(live_placed.SerializeAsString(), file_placed.SerializeAsString())
      << live_placed.DebugString() << "\nvs\n" << file_placed.DebugString();
  snapshot_server->server->Shutdown();
}

}  // namespace
}  // namespace kestrel::service
