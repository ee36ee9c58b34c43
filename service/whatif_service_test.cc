// The what-if service through a real gRPC channel: a server on a loopback
// port and a client stub, as `kestrel serve` and its users run them.

#include "service/whatif_service.h"

#include <atomic>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/decode.h"
#include "gmock/gmock.h"
#include "google/protobuf/unknown_field_set.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "load/loader.h"
#include "scheduler/profile.h"
#include "service/raw_grpc_testing.h"
#include "service/server.h"
#include "sim/cluster.h"
#include "sim/explain.h"
#include "sim/simulator.h"

namespace kestrel::service {
namespace {

namespace pb = ::kestrel::v1;
namespace v1 = ::k8s::io::api::core::v1;
using ::testing::HasSubstr;

constexpr char kSmall[] = "testdata/small/cluster.yaml";

// The pending pods of a cluster file, as the API objects a client sends.
std::vector<v1::Pod> PendingPods(const std::string& path) {
  std::vector<v1::Pod> out;
  absl::StatusOr<std::string> content = api::ReadFile(path);
  EXPECT_TRUE(content.ok());
  absl::Status s = api::DecodeEach(path, *content, [&](api::Object obj) {
    if (obj.kind != "Pod") return absl::OkStatus();
    const auto& pod = static_cast<const v1::Pod&>(*obj.message);
    if (pod.spec().nodename().empty() && !load::Finished(pod)) out.push_back(pod);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

v1::Pod WebPod(const std::string& name, const std::string& cpu = "500m") {
  v1::Pod pod;
  pod.mutable_metadata()->set_name(name);
  pod.mutable_metadata()->set_namespace_("default");
  (*pod.mutable_metadata()->mutable_labels())["app"] = "web";
  v1::Container* c = pod.mutable_spec()->add_containers();
  c->set_name("app");
  c->set_image("nginx");
  (*c->mutable_resources()->mutable_requests())["cpu"].set_string(cpu);
  return pod;
}

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(ServiceOptions{}, ServerOptions{}); }
  void TearDown() override { Stop(); }

  void Start(ServiceOptions service_options, ServerOptions server_options,
             const std::string& cluster_path = kSmall) {
    auto cluster = sim::LoadFiles({cluster_path});
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    auto whatif = sim::WhatIf::Create(*std::move(cluster), scheduler::DefaultConfig());
    ASSERT_TRUE(whatif.ok()) << whatif.status();
    service_ = std::make_unique<WhatIfService>(std::move(service_options));
    service_->SetBase(*std::move(whatif));
    server_options.listen = "127.0.0.1:0";
    auto running = StartServer(server_options, service_.get());
    ASSERT_TRUE(running.ok()) << running.status();
    server_ = std::move(running->server);
    port_ = running->port;
    channel_ = grpc::CreateChannel(Address(), grpc::InsecureChannelCredentials());
    stub_ = pb::WhatIf::NewStub(channel_);
  }

  void Stop() {
    if (server_ != nullptr) server_->Shutdown();
    server_.reset();
  }

  std::string Address() const { return absl::StrCat("127.0.0.1:", port_); }

  std::unique_ptr<WhatIfService> service_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::WhatIf::Stub> stub_;
};

// Place of the small cluster's pending pods answers what `kestrel simulate`
// reports for them (rescheduler off).
TEST_F(ServiceTest, PlaceEqualsSimulate) {
  auto cluster = sim::LoadFiles({kSmall});
  ASSERT_TRUE(cluster.ok());
  sim::SimOptions sim_options;
  sim_options.rescheduler = false;
  auto report = sim::Simulate(*cluster, scheduler::DefaultConfig(), sim_options);
  ASSERT_TRUE(report.ok());

  pb::PlaceRequest request;
  for (const v1::Pod& pod : PendingPods(kSmall)) *request.add_pods() = pod;
  pb::PlaceResponse response;
  grpc::ClientContext context;
  grpc::Status s = stub_->Place(&context, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.placements_size(), static_cast<int>(report->placements.size()));
  for (int i = 0; i < response.placements_size(); ++i) {
    const pb::Placement& got = response.placements(i);
    const sim::Placement& want = report->placements[i];
    EXPECT_EQ(got.pod(), want.pod);
    EXPECT_EQ(got.node(), want.node) << want.pod;
    EXPECT_EQ(got.message(), want.message) << want.pod;
    EXPECT_EQ(std::vector<std::string>(got.victims().begin(), got.victims().end()), want.victims);
  }
}

// Explain answers what `kestrel explain` computes for the same pod.
TEST_F(ServiceTest, ExplainEqualsExplain) {
  auto cluster = sim::LoadFiles({kSmall});
  ASSERT_TRUE(cluster.ok());
  auto want = sim::Explain(*cluster, scheduler::DefaultConfig(), "default/with-init", {});
  ASSERT_TRUE(want.ok()) << want.status();
  pb::ExplainRequest request;
  for (const v1::Pod& pod : PendingPods(kSmall)) {
    if (pod.metadata().name() == "with-init") *request.mutable_pod() = pod;
  }
  pb::ExplainResponse response;
  grpc::ClientContext context;
  grpc::Status s = stub_->Explain(&context, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.pod(), "default/with-init");
  EXPECT_EQ(response.selected(), want->selected);
  EXPECT_EQ(response.requests().milli_cpu(), want->requests.milli_cpu);
  ASSERT_EQ(response.nodes_size(), static_cast<int>(want->nodes.size()));
  for (int i = 0; i < response.nodes_size(); ++i) {
    EXPECT_EQ(response.nodes(i).node(), want->nodes[i].node);
    EXPECT_EQ(response.nodes(i).feasible(), want->nodes[i].feasible);
    EXPECT_EQ(response.nodes(i).total(), want->nodes[i].total);
    ASSERT_EQ(response.nodes(i).filters_size(), static_cast<int>(want->nodes[i].filters.size()));
    for (int f = 0; f < response.nodes(i).filters_size(); ++f) {
      EXPECT_EQ(response.nodes(i).filters(f).verdict(), want->nodes[i].filters[f].second);
    }
  }
}

// Capacity through the service is sim::WhatIf's answer (itself checked
// against scheduling copies one by one in sim/whatif_test.cc).
TEST_F(ServiceTest, CapacityCountsCopies) {
  auto cluster = sim::LoadFiles({kSmall});
  ASSERT_TRUE(cluster.ok());
  auto whatif = sim::WhatIf::Create(*std::move(cluster), scheduler::DefaultConfig());
  ASSERT_TRUE(whatif.ok());
  auto pod = (*whatif)->CompilePod(WebPod("probe"), "template");
  ASSERT_TRUE(pod.ok());
  auto want = (*whatif)->Capacity(*pod, 0, {});
  ASSERT_TRUE(want.ok());

  pb::CapacityRequest request;
  *request.mutable_template_() = WebPod("probe");
  pb::CapacityResponse response;
  grpc::ClientContext context;
  grpc::Status s = stub_->Capacity(&context, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_GT(response.count(), 0);
  EXPECT_EQ(response.count(), want->count);
  EXPECT_EQ(response.stopped_by(), want->stopped_by);
  EXPECT_THAT(response.stopped_by(), HasSubstr("nodes are available"));
  ASSERT_EQ(response.per_node_size(), static_cast<int>(want->per_node.size()));
  for (int i = 0; i < response.per_node_size(); ++i) {
    EXPECT_EQ(response.per_node(i).node(), want->per_node[i].first);
    EXPECT_EQ(response.per_node(i).count(), want->per_node[i].second);
  }

  // With a limit.
  request.set_limit(2);
  grpc::ClientContext limited;
  s = stub_->Capacity(&limited, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.count(), 2);
  EXPECT_EQ(response.stopped_by(), "");
}

pb::NodeTemplate NodeTemplate(const std::string& name, const std::string& cpu, int64_t max_count) {
  pb::NodeTemplate t;
  t.set_name(name);
  (*t.mutable_node()->mutable_metadata()->mutable_labels())["pool"] = name;
  auto& allocatable = *t.mutable_node()->mutable_status()->mutable_allocatable();
  allocatable["cpu"].set_string(cpu);
  allocatable["memory"].set_string("256Gi");
  allocatable["pods"].set_string("110");
  t.set_max_count(max_count);
  return t;
}

// With no pods, ScaleUp takes the cluster's pending pods: five fit as the
// cluster is, big-batch (32 cpu) needs one 64-cpu node and fits no 8-cpu
// node; the answer is sim::WhatIf::ScaleUp's.
TEST_F(ServiceTest, ScaleUpOfThePendingPods) {
  pb::ScaleUpRequest request;
  *request.add_node_templates() = NodeTemplate("m5", "8", 10);
  *request.add_node_templates() = NodeTemplate("huge", "64", 2);
  pb::ScaleUpResponse response;
  grpc::ClientContext context;
  grpc::Status s = stub_->ScaleUp(&context, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.fit_existing_size(), 5);
  EXPECT_EQ(response.fit_existing(0).pod(), "default/web-1");
  EXPECT_EQ(response.fit_existing(0).node(), "node-gpu");
  ASSERT_EQ(response.templates_size(), 2);
  EXPECT_EQ(response.templates(0).name(), "m5");
  EXPECT_EQ(response.templates(0).nodes_needed(), 0);
  ASSERT_EQ(response.templates(0).unplaced_size(), 1);
  EXPECT_EQ(response.templates(0).unplaced(0).pod(), "default/big-batch");
  EXPECT_EQ(response.templates(0).unplaced(0).message(),
            "0/6 nodes are available: 1 Too many pods, 1 node(s) were unschedulable, 5 "
            "Insufficient cpu.");
  EXPECT_FALSE(response.templates(0).max_count_reached());
  EXPECT_EQ(response.templates(1).nodes_needed(), 1);
  ASSERT_EQ(response.templates(1).nodes_size(), 1);
  EXPECT_EQ(response.templates(1).nodes(0).name(), "huge-1");
  ASSERT_EQ(response.templates(1).nodes(0).pods_size(), 1);
  EXPECT_EQ(response.templates(1).nodes(0).pods(0), "default/big-batch");
  EXPECT_EQ(response.no_template_size(), 0);

  // Pods of the request instead: of six 4-cpu pods the cluster takes two
  // (node-b and node-gpu), one 8-cpu node two more, and max_count 1 leaves
  // two for no template.
  request.Clear();
  for (int i = 1; i <= 6; ++i) *request.add_pods() = WebPod(absl::StrCat("big-", i), "4");
  *request.add_node_templates() = NodeTemplate("m5", "8", 1);
  grpc::ClientContext pods_context;
  s = stub_->ScaleUp(&pods_context, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(response.fit_existing_size(), 2);
  ASSERT_EQ(response.templates_size(), 1);
  EXPECT_EQ(response.templates(0).nodes_needed(), 1);
  EXPECT_EQ(response.templates(0).nodes(0).pods_size(), 2);
  EXPECT_TRUE(response.templates(0).max_count_reached());
  EXPECT_EQ(response.templates(0).unplaced_size(), 2);
  EXPECT_EQ(response.no_template_size(), 2);
}

TEST_F(ServiceTest, ScaleUpBadRequestsNameTheField) {
  struct Case {
    pb::ScaleUpRequest request;
    std::string want;
  };
  std::vector<Case> cases;
  cases.push_back({pb::ScaleUpRequest(), "node_templates: Required value"});
  {
    pb::ScaleUpRequest r;
    *r.add_node_templates() = NodeTemplate("m5", "8", 0);
    cases.push_back({r,
                     "node_templates[0].max_count: Invalid value: 0: must be greater than or "
                     "equal to 1"});
  }
  {
    pb::ScaleUpRequest r;
    *r.add_node_templates() = NodeTemplate("m5", "8", 1000000);
    cases.push_back({r,
                     "node_templates[0].max_count: Invalid value: 1000000: must be less than "
                     "or equal to 10000"});
  }
  {
    pb::ScaleUpRequest r;
    *r.add_node_templates() = NodeTemplate("m5", "eight", 1);
    cases.push_back({r, "node_templates[0].node: Node m5-1: status.allocatable"});
  }
  {
    pb::ScaleUpRequest r;
    *r.add_node_templates() = NodeTemplate("m5", "8", 1);
    v1::Pod pod = WebPod("x");
    pod.mutable_spec()->clear_containers();
    *r.add_pods() = pod;
    cases.push_back({r, "pods[0]: Pod default/x: spec.containers: Required value"});
  }
  for (const Case& c : cases) {
    pb::ScaleUpResponse response;
    grpc::ClientContext context;
    grpc::Status s = stub_->ScaleUp(&context, c.request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.want;
    EXPECT_THAT(s.error_message(), HasSubstr(c.want));
  }
}

// Drain of testdata/drain: the answers sim::WhatIf::Drain gives
// (whatif_test checks them by hand and against Simulate).
TEST_F(ServiceTest, DrainReportsEachPod) {
  Stop();
  Start(ServiceOptions{}, ServerOptions{}, "testdata/drain/cluster.yaml");
  pb::DrainRequest request;
  request.add_nodes("node-2");
  request.add_nodes("node-3");
  pb::DrainResponse response;
  grpc::ClientContext context;
  grpc::Status s = stub_->Drain(&context, request, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.nodes_size(), 2);
  EXPECT_EQ(response.nodes(0).node(), "node-2");
  EXPECT_FALSE(response.nodes(0).drainable());
  ASSERT_EQ(response.nodes(0).pods_size(), 2);
  EXPECT_EQ(response.nodes(0).pods(0).pod(), "default/web-b");
  EXPECT_EQ(response.nodes(0).pods(0).action(), "moved");
  EXPECT_EQ(response.nodes(0).pods(0).node(), "node-1");
  EXPECT_EQ(response.nodes(0).pods(1).action(), "unplaced");
  EXPECT_EQ(response.nodes(0).pods(1).reason(),
            "0/3 nodes are available: 1 Insufficient cpu, 2 node(s) were unschedulable.");
  ASSERT_EQ(response.nodes(1).pods_size(), 2);
  EXPECT_EQ(response.nodes(1).pods(0).action(), "blocked");
  EXPECT_EQ(response.nodes(1).pods(0).reason(),
            "evicting it would violate PodDisruptionBudget default/web (no disruption allowed)");

  pb::DrainRequest one;
  one.add_nodes("node-1");
  one.set_delete_local_data(true);
  grpc::ClientContext one_context;
  s = stub_->Drain(&one_context, one, &response);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(response.nodes_size(), 1);
  ASSERT_EQ(response.nodes(0).pods_size(), 5);
  EXPECT_EQ(response.nodes(0).pods(0).action(), "stays");
  EXPECT_EQ(response.nodes(0).pods(3).pod(), "default/cache-0");
  EXPECT_EQ(response.nodes(0).pods(3).action(), "moved");
  EXPECT_EQ(response.nodes(0).pods(4).action(), "blocked");

  pb::DrainRequest bad;
  bad.add_nodes("node-9");
  grpc::ClientContext bad_context;
  s = stub_->Drain(&bad_context, bad, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "nodes[0]: Not found: \"node-9\"");
}

// keep_fork returns a fork_id; a request naming it builds on the kept
// state (the pods placed there are taken, a delta applies on top); it
// expires after --fork-ttl (NOT_FOUND naming it), and --max-forks caps the
// forks kept (RESOURCE_EXHAUSTED).
TEST_F(ServiceTest, ForksAreKeptBuiltOnAndExpire) {
  Stop();
  auto offset = std::make_shared<std::atomic<int64_t>>(0);
  ServiceOptions options;
  options.fork_ttl = absl::Minutes(5);
  options.max_forks = 2;
  options.now = [offset] { return absl::Now() + absl::Seconds(offset->load()); };
  Start(options, ServerOptions{});

  pb::CapacityRequest capacity;
  *capacity.mutable_template_() = WebPod("probe");
  pb::CapacityResponse base_capacity;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->Capacity(&context, capacity, &base_capacity).ok());
    EXPECT_EQ(base_capacity.fork_id(), "");
  }

  pb::PlaceRequest place;
  for (int i = 0; i < 4; ++i) *place.add_pods() = WebPod(absl::StrCat("kept-", i), "1");
  place.mutable_options()->set_keep_fork(true);
  pb::PlaceResponse placed;
  {
    grpc::ClientContext context;
    grpc::Status s = stub_->Place(&context, place, &placed);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  const std::string fork = placed.fork_id();
  ASSERT_EQ(fork.size(), 32u);

  // Built on: four 1-cpu pods took room for eight 500m copies.
  capacity.mutable_options()->set_fork_id(fork);
  pb::CapacityResponse on_fork;
  {
    grpc::ClientContext context;
    grpc::Status s = stub_->Capacity(&context, capacity, &on_fork);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  EXPECT_EQ(on_fork.count(), base_capacity.count() - 8);
  // The same pods again on the fork are duplicates.
  place.mutable_options()->set_keep_fork(false);
  place.mutable_options()->set_fork_id(fork);
  {
    grpc::ClientContext context;
    grpc::Status s = stub_->Place(&context, place, &placed);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(), "pods[0].metadata.name: Duplicate value: \"default/kept-0\"");
  }
  // A delta on top: a removed pod gives its room back.
  capacity.mutable_options()->mutable_delta()->add_remove_pods("default/kept-0");
  {
    grpc::ClientContext context;
    pb::CapacityResponse with_delta;
    grpc::Status s = stub_->Capacity(&context, capacity, &with_delta);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(with_delta.count(), on_fork.count() + 2);
  }
  capacity.mutable_options()->clear_delta();

  // The cap: a second fork fits, a third does not.
  pb::DrainRequest drain;
  drain.add_nodes("node-small");
  drain.mutable_options()->set_keep_fork(true);
  {
    grpc::ClientContext context;
    pb::DrainResponse response;
    grpc::Status s = stub_->Drain(&context, drain, &response);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_EQ(response.fork_id().size(), 32u);
  }
  {
    grpc::ClientContext context;
    pb::DrainResponse response;
    grpc::Status s = stub_->Drain(&context, drain, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
    EXPECT_THAT(s.error_message(), HasSubstr("keep_fork: 2 forks are kept"));
  }
  // ScaleUp keeps nothing.
  pb::ScaleUpRequest scale;
  *scale.add_node_templates() = NodeTemplate("m5", "8", 1);
  scale.mutable_options()->set_keep_fork(true);
  {
    grpc::ClientContext context;
    pb::ScaleUpResponse response;
    grpc::Status s = stub_->ScaleUp(&context, scale, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("keep_fork: ScaleUp keeps no fork"));
  }

  // Expired after the TTL, and unknown ids: NOT_FOUND naming the id.
  offset->store(5 * 60 + 1);
  {
    grpc::ClientContext context;
    pb::CapacityResponse response;
    grpc::Status s = stub_->Capacity(&context, capacity, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_EQ(s.error_message(), absl::StrCat("fork_id: Not found: \"", fork,
                                              "\": no such fork, or it expired (forks live 5m)"));
  }
  capacity.mutable_options()->set_fork_id("no-such-fork");
  {
    grpc::ClientContext context;
    pb::CapacityResponse response;
    grpc::Status s = stub_->Capacity(&context, capacity, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
    EXPECT_THAT(s.error_message(), HasSubstr("\"no-such-fork\""));
  }
}

// A field this server does not know (a newer client's) is refused, naming
// where it is, rather than dropped and the question answered without it.
TEST_F(ServiceTest, UnknownFieldsAreRefused) {
  pb::ScaleUpRequest scale;
  *scale.add_node_templates() = NodeTemplate("m5", "8", 1);
  *scale.add_node_templates() = NodeTemplate("big", "16", 1);
  scale.mutable_node_templates(1)
      ->GetReflection()
      ->MutableUnknownFields(scale.mutable_node_templates(1))
      ->AddVarint(42, 1);
  {
    grpc::ClientContext context;
    pb::ScaleUpResponse response;
    grpc::Status s = stub_->ScaleUp(&context, scale, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_EQ(s.error_message(),
              "node_templates[1]: Unknown field: number 42 (a field this server's protos do not "
              "define)");
  }
  pb::PlaceRequest place;
  *place.add_pods() = WebPod("a");
  v1::Container* c = place.mutable_pods(0)->mutable_spec()->mutable_containers(0);
  c->GetReflection()->MutableUnknownFields(c)->AddLengthDelimited(77, "x");
  {
    grpc::ClientContext context;
    pb::PlaceResponse response;
    grpc::Status s = stub_->Place(&context, place, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(),
                HasSubstr("pods[0].spec.containers[0]: Unknown field: number 77"));
  }
  pb::DrainRequest drain;
  drain.add_nodes("node-a");
  drain.GetReflection()->MutableUnknownFields(&drain)->AddVarint(9, 1);
  {
    grpc::ClientContext context;
    pb::DrainResponse response;
    grpc::Status s = stub_->Drain(&context, drain, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(s.error_message(), HasSubstr("request: Unknown field: number 9"));
  }
}

// Eight clients at once, each asking Place and Capacity several times with
// its own seed, get the answers those questions get one at a time.
TEST_F(ServiceTest, ConcurrentRequestsAnswerAsSequential) {
  auto place_request = [](int seed) {
    pb::PlaceRequest r;
    for (int i = 0; i < 8; ++i) *r.add_pods() = WebPod(absl::StrCat("web-x", i));
    r.mutable_options()->set_seed(seed);
    return r;
  };
  pb::CapacityRequest capacity_request;
  *capacity_request.mutable_template_() = WebPod("probe", "300m");
  std::vector<pb::PlaceResponse> sequential(8);
  for (int c = 0; c < 8; ++c) {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->Place(&context, place_request(c), &sequential[c]).ok());
  }
  pb::CapacityResponse sequential_capacity;
  {
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->Capacity(&context, capacity_request, &sequential_capacity).ok());
  }
  std::atomic<int> mismatches{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (int round = 0; round < 4; ++round) {
        grpc::ClientContext context;
        pb::PlaceResponse got;
        grpc::Status s = stub_->Place(&context, place_request(c), &got);
        if (!s.ok() || got.SerializeAsString() != sequential[c].SerializeAsString()) ++mismatches;
        grpc::ClientContext capacity_context;
        pb::CapacityResponse capacity;
        s = stub_->Capacity(&capacity_context, capacity_request, &capacity);
        if (!s.ok() || capacity.SerializeAsString() != sequential_capacity.SerializeAsString()) {
          ++mismatches;
        }
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

// Bad requests are INVALID_ARGUMENT with a message that names the field.
TEST_F(ServiceTest, BadRequestsNameTheField) {
  Stop();
  ServiceOptions options;
  options.max_pods_per_request = 3;
  options.max_capacity = 50;
  Start(options, ServerOptions{});

  struct PlaceCase {
    std::string name;
    pb::PlaceRequest request;
    std::string want;
  };
  std::vector<PlaceCase> place_cases;
  place_cases.push_back({"no pods", {}, "pods: Required value"});
  {
    pb::PlaceRequest r;
    *r.add_pods() = WebPod("a");
    v1::Pod empty = WebPod("b");
    empty.mutable_spec()->clear_containers();
    *r.add_pods() = empty;
    place_cases.push_back({"no containers", r, "pods[1]: Pod default/b: spec.containers: Required value"});
  }
  {
    pb::PlaceRequest r;
    *r.add_pods() = WebPod("a", "1.5.5");
    place_cases.push_back(
        {"bad quantity", r, "pods[0]: Pod default/a: spec.containers[0].resources.requests"});
  }
  {
    pb::PlaceRequest r;
    for (int i = 0; i < 4; ++i) *r.add_pods() = WebPod(absl::StrCat("a", i));
    place_cases.push_back({"too many", r, "pods: Too many: 4: must have at most 3 items"});
  }
  {
    pb::PlaceRequest r;
    *r.add_pods() = WebPod("a");
    *r.add_pods() = WebPod("a");
    place_cases.push_back({"duplicate", r, "pods[1].metadata.name: Duplicate value: \"default/a\""});
  }
  for (const PlaceCase& c : place_cases) {
    grpc::ClientContext context;
    pb::PlaceResponse response;
    grpc::Status s = stub_->Place(&context, c.request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.name;
    EXPECT_THAT(s.error_message(), HasSubstr(c.want)) << c.name;
  }

  struct CapacityCase {
    std::string name;
    pb::CapacityRequest request;
    std::string want;
  };
  std::vector<CapacityCase> capacity_cases;
  capacity_cases.push_back({"no template", {}, "template: Required value"});
  {
    pb::CapacityRequest r;
    *r.mutable_template_() = WebPod("t");
    r.set_limit(-1);
    capacity_cases.push_back(
        {"negative limit", r, "limit: Invalid value: -1: must be greater than or equal to 0"});
    r.set_limit(51);
    capacity_cases.push_back(
        {"limit too high", r, "limit: Invalid value: 51: must be less than or equal to 50"});
  }
  {
    pb::CapacityRequest r;
    *r.mutable_template_() = WebPod("t");
    r.mutable_template_()->mutable_spec()->set_nodename("node-a");
    capacity_cases.push_back({"bound template", r, "template: Pod default/t: spec.nodeName: Invalid value"});
  }
  for (const CapacityCase& c : capacity_cases) {
    grpc::ClientContext context;
    pb::CapacityResponse response;
    grpc::Status s = stub_->Capacity(&context, c.request, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << c.name;
    EXPECT_THAT(s.error_message(), HasSubstr(c.want)) << c.name;
  }

  grpc::ClientContext context;
  pb::ExplainResponse response;
  grpc::Status s = stub_->Explain(&context, pb::ExplainRequest(), &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(s.error_message(), "pod: Required value");
}

// A request whose deadline passes stops between pods and answers
// DEADLINE_EXCEEDED from the server. The server's clock is a test clock
// that moves ten seconds each time it is read, so the client's one-minute
// deadline passes on the server after a few pods while the client still
// waits: the status is the server's (its message), not the client's.
TEST_F(ServiceTest, DeadlineExceededStopsBetweenPods) {
  Stop();
  auto clock = std::make_shared<std::atomic<int64_t>>(0);
  const absl::Time start = absl::Now();
  ServiceOptions options;
  options.now = [clock, start]() { return start + absl::Seconds(10 * (*clock)++); };
  Start(options, ServerOptions{});

  pb::CapacityRequest request;
  *request.mutable_template_() = WebPod("probe", "100m");
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  pb::CapacityResponse response;
  grpc::Status s = stub_->Capacity(&context, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(s.error_message(), "deadline exceeded");
  // Seven reads: the copies before the deadline, then the one past it.
  EXPECT_LE(clock->load(), 8);
}

// A request larger than the server takes is refused before decoding.
TEST_F(ServiceTest, OversizedRequestIsRefused) {
  Stop();
  ServerOptions server;
  server.max_request_bytes = 64 << 10;
  Start(ServiceOptions{}, server);
  pb::PlaceRequest request;
  v1::Pod pod = WebPod("big");
  (*pod.mutable_metadata()->mutable_annotations())["blob"] = std::string(100 << 10, 'x');
  *request.add_pods() = pod;
  grpc::ClientContext context;
  pb::PlaceResponse response;
  grpc::Status s = stub_->Place(&context, request, &response);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
}

// Random bytes sent as requests never crash the server: each gets an
// answer (an error, or an answer to whatever the bytes decoded to), and the
// server still answers a good request afterwards.
TEST_F(ServiceTest, MalformedBytesNeverCrash) {
  std::mt19937 rng(42);
  const std::string methods[] = {"/kestrel.v1.WhatIf/Place", "/kestrel.v1.WhatIf/Explain",
                                 "/kestrel.v1.WhatIf/Capacity"};
  // Mutations of a valid request reach deeper than pure noise.
  pb::PlaceRequest valid;
  *valid.add_pods() = WebPod("fuzz");
  const std::string seed_bytes = valid.SerializeAsString();
  for (int i = 0; i < 300; ++i) {
    std::string bytes;
    if (i % 2 == 0) {
      bytes.resize(rng() % 200);
      for (char& c : bytes) c = static_cast<char>(rng());
    } else {
      bytes = seed_bytes;
      for (int m = 0; m < 4; ++m) bytes[rng() % bytes.size()] = static_cast<char>(rng());
    }
    auto [status, response] = RawCall(channel_.get(), methods[i % 3], bytes);
    (void)response;
    EXPECT_NE(status.error_code(), grpc::StatusCode::UNAVAILABLE) << "server gone at " << i;
  }
  grpc::ClientContext context;
  pb::PlaceRequest request;
  *request.add_pods() = WebPod("after");
  pb::PlaceResponse response;
  EXPECT_TRUE(stub_->Place(&context, request, &response).ok());
}

// grpc.health.v1.Health/Check of the whole server answers SERVING
// (HealthCheckResponse{status: SERVING} is the bytes 08 01).
TEST_F(ServiceTest, HealthServiceServes) {
  auto [status, response] = RawCall(channel_.get(), "/grpc.health.v1.Health/Check", "");
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response, std::string("\x08\x01", 2));
}

// Server reflection answers list_services with the WhatIf and health
// services, so `grpcurl` can find them. ServerReflectionRequest{list_services:
// ""} is the bytes 3a 00; the answer carries the service names as strings.
TEST_F(ServiceTest, ReflectionListsTheServices) {
  auto [status, bytes] = ReflectionListServices(channel_.get());
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_THAT(bytes, HasSubstr("kestrel.v1.WhatIf"));
  EXPECT_THAT(bytes, HasSubstr("grpc.health.v1.Health"));
}

std::string TempDir() {
  const char* d = std::getenv("TEST_TMPDIR");
  return d != nullptr ? d : "/tmp";
}

std::string ReadOrDie(const std::string& path) {
  absl::StatusOr<std::string> s = api::ReadFile(path);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : "";
}

// A CA (<name>.crt, <name>.key) and a certificate <leaf>.crt/.key signed by
// it for IP 127.0.0.1 (server) or CN client (client).
bool MakeCa(const std::string& dir, const std::string& name) {
  const std::string cmd = absl::StrCat(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1",
      " -subj /CN=", name, " -keyout ", dir, "/", name, ".key -out ", dir, "/", name,
      ".crt 2>/dev/null");
  return std::system(cmd.c_str()) == 0;
}

bool MakeLeaf(const std::string& dir, const std::string& ca, const std::string& leaf) {
  const std::string ext = absl::StrCat(dir, "/", leaf, ".ext");
  const std::string cmd = absl::StrCat(
      "printf 'subjectAltName=IP:127.0.0.1\\n' > ", ext,
      " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes",
      " -subj /CN=", leaf, " -keyout ", dir, "/", leaf, ".key -out ", dir, "/", leaf,
      ".csr 2>/dev/null",
      " && openssl x509 -req -days 1 -in ", dir, "/", leaf, ".csr -CA ", dir, "/", ca,
      ".crt -CAkey ", dir, "/", ca, ".key -CAcreateserial -extfile ", ext, " -out ", dir, "/",
      leaf, ".crt 2>/dev/null");
  return std::system(cmd.c_str()) == 0;
}

grpc::Status Ping(const std::string& address,
                  const std::shared_ptr<grpc::ChannelCredentials>& credentials) {
  auto stub = pb::WhatIf::NewStub(grpc::CreateChannel(address, credentials));
  pb::PlaceRequest request;
  *request.add_pods() = WebPod("tls");
  pb::PlaceResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  return stub->Place(&context, request, &response);
}

// TLS: a client that trusts the server's CA gets through; one that trusts
// another CA, or speaks plain TCP, does not. With a client CA (mTLS) a
// client must present a certificate that CA signed.
TEST_F(ServiceTest, TlsAndMutualTls) {
  const std::string dir = TempDir();
  ASSERT_TRUE(MakeCa(dir, "ca"));
  ASSERT_TRUE(MakeCa(dir, "other-ca"));
  ASSERT_TRUE(MakeLeaf(dir, "ca", "server"));
  ASSERT_TRUE(MakeLeaf(dir, "ca", "client"));
  ASSERT_TRUE(MakeLeaf(dir, "other-ca", "stranger"));
  auto credentials = [&](const std::string& root, const std::string& leaf) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = ReadOrDie(absl::StrCat(dir, "/", root, ".crt"));
    if (!leaf.empty()) {
      o.pem_private_key = ReadOrDie(absl::StrCat(dir, "/", leaf, ".key"));
      o.pem_cert_chain = ReadOrDie(absl::StrCat(dir, "/", leaf, ".crt"));
    }
    return grpc::SslCredentials(o);
  };

  Stop();
  ServerOptions tls;
  tls.tls_cert_file = absl::StrCat(dir, "/server.crt");
  tls.tls_private_key_file = absl::StrCat(dir, "/server.key");
  Start(ServiceOptions{}, tls);
  EXPECT_TRUE(Ping(Address(), credentials("ca", "")).ok());
  EXPECT_FALSE(Ping(Address(), credentials("other-ca", "")).ok());
  EXPECT_FALSE(Ping(Address(), grpc::InsecureChannelCredentials()).ok());

  Stop();
  tls.client_ca_file = absl::StrCat(dir, "/ca.crt");
  Start(ServiceOptions{}, tls);
  EXPECT_TRUE(Ping(Address(), credentials("ca", "client")).ok());
  EXPECT_FALSE(Ping(Address(), credentials("ca", "")).ok());
  EXPECT_FALSE(Ping(Address(), credentials("ca", "stranger")).ok());
}

TEST(ServerTest, BadTlsFlagsNameTheFlag) {
  WhatIfService service;
  struct Case {
    ServerOptions options;
    std::string want;
  };
  std::vector<Case> cases;
  cases.push_back({{"127.0.0.1:0", "/nonexistent/cert.pem", "/nonexistent/key.pem", ""},
                   "--tls-cert-file: "});
  cases.push_back({{"127.0.0.1:0", "/nonexistent/cert.pem", "", ""},
                   "--tls-cert-file and --tls-private-key-file: give both or neither"});
  cases.push_back({{"127.0.0.1:0", "", "", "/ca.pem"}, "--client-ca-file: needs"});
  cases.push_back({{"256.0.0.1:1", "", "", ""}, "--listen: cannot listen on \"256.0.0.1:1\""});
  for (const Case& c : cases) {
    auto s = StartServer(c.options, &service);
    ASSERT_FALSE(s.ok()) << c.want;
    EXPECT_THAT(std::string(s.status().message()), HasSubstr(c.want));
  }
}

}  // namespace
}  // namespace kestrel::service
