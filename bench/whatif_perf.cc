// The what-if service's latency (issue 15's bars): Place of 1 and of 100
// pods, Capacity up to 1,000 copies, and ScaleUp of 500 pending pods (a
// nodeSelector only new nodes match) with 3 templates, through a real gRPC channel on
// loopback, against a generated cluster (SchedulingBasic: every pod
// requests cpu and memory). Prints p50/p99 per RPC with one client, and
// requests/s with --clients concurrent clients.
//
//   bazel run -c opt //bench:whatif_perf -- --nodes=5000 --init-pods=50000 --requests=200

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/strings/str_cat.h"
#include "api/service.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "scheduler/profile.h"
#include "service/server.h"
#include "service/whatif_service.h"
#include "sim/cluster.h"
#include "sim/generate.h"
#include "sim/whatif.h"

ABSL_FLAG(int, nodes, 5000, "nodes in the generated cluster");
ABSL_FLAG(int, init_pods, 50000, "pods already bound");
ABSL_FLAG(int, requests, 200, "requests per RPC kind, one client");
ABSL_FLAG(int, clients, 8, "concurrent clients for the throughput run");
ABSL_FLAG(int, threads_per_request, 1, "filter/score threads per request");

namespace {

namespace pb = ::kestrel::v1;
namespace v1 = ::k8s::io::api::core::v1;

v1::Pod Pod(const std::string& name) {
  v1::Pod pod;
  pod.mutable_metadata()->set_name(name);
  pod.mutable_metadata()->set_namespace_("default");
  v1::Container* c = pod.mutable_spec()->add_containers();
  c->set_name("app");
  c->set_image("registry.k8s.io/pause:3.9");
  (*c->mutable_resources()->mutable_requests())["cpu"].set_string("100m");
  (*c->mutable_resources()->mutable_requests())["memory"].set_string("500Mi");
  return pod;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

void Measure(const std::string& name, int n, const std::function<bool()>& call) {
  std::vector<double> ms;
  for (int i = 0; i < n; ++i) {
    const auto start = std::chrono::steady_clock::now();
    if (!call()) {
      std::printf("%s: request failed\n", name.c_str());
      return;
    }
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  std::printf("%-28s n=%-4d p50 %8.2f ms   p99 %8.2f ms\n", name.c_str(), n, Percentile(ms, 0.5),
              Percentile(ms, 0.99));
}

void Throughput(const std::string& name, int clients, int per_client,
                const std::function<bool()>& call) {
  std::atomic<int> failed{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      for (int i = 0; i < per_client; ++i) failed += !call();
    });
  }
  for (std::thread& t : threads) t.join();
  const double s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%-28s %d clients: %8.1f requests/s (%d failed)\n", name.c_str(), clients,
              clients * per_client / s, failed.load());
}

}  // namespace

int main(int argc, char** argv) {
  absl::ParseCommandLine(argc, argv);
  kestrel::sim::GenerateOptions g;
  g.workload = "SchedulingBasic";
  g.nodes = absl::GetFlag(FLAGS_nodes);
  g.init_pods = absl::GetFlag(FLAGS_init_pods);
  g.pods = 0;
  std::ostringstream yaml;
  if (auto s = kestrel::sim::Generate(g, yaml); !s.ok()) {
    std::fprintf(stderr, "%s\n", std::string(s.message()).c_str());
    return 1;
  }
  auto t0 = std::chrono::steady_clock::now();
  auto cluster = kestrel::sim::LoadContents({{"generated.yaml", yaml.str()}});
  if (!cluster.ok()) return 1;
  auto whatif = kestrel::sim::WhatIf::Create(*std::move(cluster), kestrel::scheduler::DefaultConfig());
  if (!whatif.ok()) return 1;
  std::printf("loaded %d nodes, %d pods in %.0f ms\n", g.nodes, g.init_pods,
              std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                  .count());
  kestrel::service::ServiceOptions so;
  so.threads_per_request = absl::GetFlag(FLAGS_threads_per_request);
  kestrel::service::WhatIfService service(so);
  service.SetBase(*std::move(whatif));
  kestrel::service::ServerOptions server_options;
  server_options.listen = "127.0.0.1:0";
  auto server = kestrel::service::StartServer(server_options, &service);
  if (!server.ok()) return 1;
  auto stub = pb::WhatIf::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", server->port), grpc::InsecureChannelCredentials()));

  pb::PlaceRequest one, hundred;
  *one.add_pods() = Pod("probe-0");
  for (int i = 0; i < 100; ++i) *hundred.add_pods() = Pod(absl::StrCat("probe-", i));
  pb::CapacityRequest capacity;
  *capacity.mutable_template_() = Pod("probe");
  capacity.set_limit(1000);
  auto place = [&](const pb::PlaceRequest& r) {
    return [&stub, &r] {
      grpc::ClientContext ctx;
      pb::PlaceResponse resp;
      return stub->Place(&ctx, r, &resp).ok() && resp.placements_size() == r.pods_size();
    };
  };
  auto capacity_call = [&] {
    grpc::ClientContext ctx;
    pb::CapacityResponse resp;
    return stub->Capacity(&ctx, capacity, &resp).ok() && resp.count() == 1000;
  };
  // 500 pods of 1 cpu that only the templates' nodes (pool=new) take: 4,
  // 8 and 16 cpu templates need 125, 63 and 32 nodes.
  pb::ScaleUpRequest scaleup;
  for (int i = 0; i < 500; ++i) {
    v1::Pod pod = Pod(absl::StrCat("pending-", i));
    (*pod.mutable_spec()->mutable_nodeselector())["pool"] = "new";
    (*pod.mutable_spec()->mutable_containers(0)->mutable_resources()->mutable_requests())["cpu"]
        .set_string("1");
    *scaleup.add_pods() = pod;
  }
  for (const auto& [name, cpu] :
       {std::pair<const char*, const char*>{"small", "4"}, {"medium", "8"}, {"large", "16"}}) {
    pb::NodeTemplate* t = scaleup.add_node_templates();
    t->set_name(name);
    t->set_max_count(1000);
    (*t->mutable_node()->mutable_metadata()->mutable_labels())["pool"] = "new";
    auto& allocatable = *t->mutable_node()->mutable_status()->mutable_allocatable();
    allocatable["cpu"].set_string(cpu);
    allocatable["memory"].set_string("512Gi");
    allocatable["pods"].set_string("110");
  }
  auto scaleup_call = [&] {
    grpc::ClientContext ctx;
    pb::ScaleUpResponse resp;
    return stub->ScaleUp(&ctx, scaleup, &resp).ok() && resp.templates_size() == 3 &&
           resp.templates(0).nodes_needed() == 125 && resp.no_template_size() == 0;
  };
  const int n = absl::GetFlag(FLAGS_requests);
  Measure("Place 1 pod", n, place(one));
  Measure("Place 100 pods", n, place(hundred));
  Measure("Capacity (limit 1000)", std::max(1, n / 4), capacity_call);
  Measure("ScaleUp 3x500", std::max(1, n / 20), scaleup_call);
  const int clients = absl::GetFlag(FLAGS_clients);
  Throughput("Place 1 pod", clients, std::max(1, n / clients), place(one));
  Throughput("Place 100 pods", clients, std::max(1, n / clients), place(hundred));
  Throughput("Capacity (limit 1000)", clients, std::max(1, n / 4 / clients), capacity_call);
  Throughput("ScaleUp 3x500", clients, std::max(1, n / 20 / clients), scaleup_call);
  server->server->Shutdown();
  return 0;
}
