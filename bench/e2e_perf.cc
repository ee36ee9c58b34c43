// `kestrel scheduler` end to end against the in-repo API server on loopback
// (issue 17's benchmark): N nodes, then M pods created through the API as
// fast as the server takes them; measured from the first create to the last
// binding seen by a watch.
//
//   bazel run -c opt //bench:e2e_perf -- [--nodes=5000] [--pods=10000]
//       [--content-type=application/json|application/vnd.kubernetes.protobuf]
//       [--creators=8] [--qps=5000] [--threads=2] [--incremental=false] [--progress]
//
// Everything runs in this process but talks HTTP on 127.0.0.1: the API
// server (kube/testing, its own threads), the scheduler host (its informers,
// one scheduling thread, the writer's workers; client qps/burst --qps as the
// issue asks), --creators threads POSTing pods, and a watch that notes when
// each pod's binding shows. Prints pods/s, each pod's creation → binding
// latency (p50, p99, max), and the share of the wall time the scheduling
// thread spent in cycles and in applying informer events.
//
// What it measures includes the in-repo server, which is not kube-apiserver:
// it keeps objects as JSON and, asked for protobuf, converts each one
// through api/decode. Its cost shows in the numbers; see the README.

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "host/scheduler_host.h"
#include "kube/client.h"
#include "kube/testing/fake_apiserver.h"
#include "nlohmann/json.hpp"
#include "scheduler/profile.h"

namespace kestrel {
namespace {

using Json = nlohmann::json;

struct Flags {
  int nodes = 5000;
  int pods = 10000;
  std::string content_type = kube::kContentTypeProtobuf;
  int creators = 8;
  double qps = 5000;
  int threads = 2;
  bool progress = false;
  bool incremental = true;
};

bool ParseFlags(int argc, char** argv, Flags* f) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](absl::string_view name) -> const char* {
      const std::string prefix = absl::StrCat("--", name, "=");
      return absl::StartsWith(arg, prefix) ? arg.c_str() + prefix.size() : nullptr;
    };
    if (const char* v = value("nodes")) {
      if (!absl::SimpleAtoi(v, &f->nodes)) return false;
    } else if (const char* v = value("pods")) {
      if (!absl::SimpleAtoi(v, &f->pods)) return false;
    } else if (const char* v = value("creators")) {
      if (!absl::SimpleAtoi(v, &f->creators)) return false;
    } else if (const char* v = value("threads")) {
      if (!absl::SimpleAtoi(v, &f->threads)) return false;
    } else if (const char* v = value("qps")) {
      if (!absl::SimpleAtod(v, &f->qps)) return false;
    } else if (arg == "--progress") {
      f->progress = true;
    } else if (arg == "--incremental=false" || arg == "--incremental=true") {
      f->incremental = arg == "--incremental=true";
    } else if (const char* v = value("content-type")) {
      f->content_type = v;
    } else {
      std::cerr << "e2e_perf: unknown flag " << arg << "\n";
      return false;
    }
  }
  return f->nodes > 0 && f->pods > 0 && f->creators > 0;
}

Json NodeJson(int i) {
  const std::string name = absl::StrCat("node-", i);
  return {{"kind", "Node"},
          {"apiVersion", "v1"},
          {"metadata",
           {{"name", name},
            {"labels",
             {{"kubernetes.io/hostname", name},
              {"topology.kubernetes.io/zone", absl::StrCat("zone-", i % 3)}}}}},
          {"status",
           {{"capacity", {{"cpu", "4"}, {"memory", "32Gi"}, {"pods", "110"}}},
            {"allocatable", {{"cpu", "4"}, {"memory", "32Gi"}, {"pods", "110"}}},
            {"conditions", Json::array({{{"type", "Ready"}, {"status", "True"}}})}}}};
}

std::string PodJson(int i) {
  return Json{{"kind", "Pod"},
              {"apiVersion", "v1"},
              {"metadata", {{"namespace", "default"}, {"name", absl::StrCat("pod-", i)}}},
              {"spec",
               {{"containers",
                 Json::array({{{"name", "c"},
                               {"image", "registry.k8s.io/pause:3.9"},
                               {"resources",
                                {{"requests", {{"cpu", "100m"}, {"memory", "128Mi"}}}}}}})}}}}
      .dump();
}

kube::ClientOptions Unlimited() {
  kube::ClientOptions options;
  options.qps = -1;
  options.content_type = kube::kContentTypeJson;
  return options;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5));
  return v[i];
}

int Run(const Flags& flags) {
  kube::testing::FakeApiServerOptions server_options;
  server_options.history_size = static_cast<size_t>(flags.pods) * 4 + flags.nodes + 1000;
  auto server = kube::testing::FakeApiServer::Start(server_options);
  if (!server.ok()) {
    std::cerr << "e2e_perf: " << server.status() << "\n";
    return 1;
  }
  for (int i = 0; i < flags.nodes; ++i) {
    if (absl::Status s = (*server)->Create(NodeJson(i).dump()); !s.ok()) {
      std::cerr << "e2e_perf: " << s << "\n";
      return 1;
    }
  }
  kube::Config kube_config;
  kube_config.server = (*server)->url();

  // The scheduler, with the client limits raised.
  kube::ClientOptions client_options;
  client_options.qps = static_cast<float>(flags.qps);
  client_options.burst = static_cast<int>(flags.qps);
  client_options.content_type = flags.content_type;
  auto client = kube::Client::Create(kube_config, client_options);
  if (!client.ok()) {
    std::cerr << "e2e_perf: " << client.status() << "\n";
    return 1;
  }
  host::SchedulerHostOptions options;
  options.config = scheduler::DefaultConfig();
  options.leader_election.leader_elect = false;
  options.serve = false;
  options.threads = flags.threads;
  options.incremental = flags.incremental;
  options.api_workers = 32;
  host::SchedulerHost host(std::shared_ptr<kube::Client>(*std::move(client)), options);
  if (absl::Status s = host.Start(); !s.ok()) {
    std::cerr << "e2e_perf: " << s << "\n";
    return 1;
  }
  while (!host.synced()) absl::SleepFor(absl::Milliseconds(10));

  // The watch that sees bindings: JSON lines, read as they come.
  std::vector<absl::Time> created(flags.pods, absl::InfinitePast());
  std::vector<absl::Time> bound(flags.pods, absl::InfinitePast());
  std::atomic<int> bound_count{0};
  absl::Notification all_bound;
  auto watch_client = kube::Client::Create(kube_config, Unlimited());
  kube::Cancellation stop_watch;
  std::thread watcher([&] {
    pthread_setname_np(pthread_self(), "bench-watch");
    std::string pending;
    kube::Request request;
    request.path = absl::StrCat("/api/v1/namespaces/default/pods?watch=true&resourceVersion=",
                                (*server)->resource_version());
    kube::Client::StreamHandler handler;
    handler.on_start = [](const kube::Response&) { return absl::OkStatus(); };
    handler.on_data = [&](absl::string_view chunk) {
      pending.append(chunk.data(), chunk.size());
      size_t start = 0;
      for (size_t end; (end = pending.find('\n', start)) != std::string::npos; start = end + 1) {
        const Json event = Json::parse(pending.begin() + start, pending.begin() + end, nullptr,
                                       /*allow_exceptions=*/false);
        if (!event.is_object() || !event.contains("object")) continue;
        const Json& pod = event["object"];
        const std::string node = pod["spec"].value("nodeName", "");
        if (node.empty()) continue;
        int i = -1;
        const std::string name = pod["metadata"].value("name", "");
        if (!absl::SimpleAtoi(absl::string_view(name).substr(4), &i) || i < 0 ||
            i >= flags.pods || bound[i] != absl::InfinitePast()) {
          continue;
        }
        bound[i] = absl::Now();
        if (++bound_count == flags.pods) all_bound.Notify();
      }
      pending.erase(0, start);
      return absl::OkStatus();
    };
    (void)(*watch_client)->Stream(request, handler, &stop_watch);
  });

  // Every second: what waits where (with --progress).
  std::atomic<bool> monitoring{flags.progress};
  std::thread monitor([&] {
    const absl::Time t0 = absl::Now();
    while (monitoring.load()) {
      absl::SleepFor(absl::Seconds(1));
      const queue::QueueStats q = host.queue_stats();
      std::fprintf(stderr,
                   "  t=%.0fs bound %d, changes waiting %zu, queue active %lld backoff %lld "
                   "unschedulable %lld\n",
                   absl::ToDoubleSeconds(absl::Now() - t0), bound_count.load(),
                   host.changes_waiting(), static_cast<long long>(q.active),
                   static_cast<long long>(q.backoff), static_cast<long long>(q.unschedulable));
    }
  });

  // The creators.
  auto create_client = kube::Client::Create(kube_config, Unlimited());
  std::atomic<int> next{0};
  std::atomic<int> failed{0};
  const absl::Time first_create = absl::Now();
  std::vector<std::thread> creators;
  for (int t = 0; t < flags.creators; ++t) {
    creators.emplace_back([&] {
      pthread_setname_np(pthread_self(), "bench-create");
      for (int i; (i = next++) < flags.pods;) {
        created[i] = absl::Now();
        if (!(*create_client)->Post("/api/v1/namespaces/default/pods", PodJson(i)).ok()) {
          ++failed;
        }
      }
    });
  }
  for (std::thread& t : creators) t.join();
  const absl::Time last_create = absl::Now();
  const bool done = all_bound.WaitForNotificationWithTimeout(absl::Minutes(10));
  const absl::Time end = absl::Now();
  stop_watch.Cancel();
  watcher.join();
  monitoring = false;
  monitor.join();
  const absl::Duration cycles = host.cycle_time();
  const absl::Duration apply = host.apply_time();
  const absl::Duration cycles_cpu = host.cycle_cpu_time();
  host.Stop();

  absl::Time last_bound = first_create;
  std::vector<double> latency_ms;
  for (int i = 0; i < flags.pods; ++i) {
    if (bound[i] == absl::InfinitePast()) continue;
    last_bound = std::max(last_bound, bound[i]);
    latency_ms.push_back(absl::ToDoubleMilliseconds(bound[i] - created[i]));
  }
  const double wall = absl::ToDoubleSeconds((done ? last_bound : end) - first_create);
  std::printf("e2e_perf: %d nodes, %d pods, client content type %s, qps %.0f, %d creators, "
              "incremental=%s\n",
              flags.nodes, flags.pods, flags.content_type.c_str(), flags.qps, flags.creators,
              flags.incremental ? "true" : "false");
  std::printf("  created in %.2f s (%.0f pods/s), %d create errors\n",
              absl::ToDoubleSeconds(last_create - first_create),
              flags.pods / absl::ToDoubleSeconds(last_create - first_create), failed.load());
  std::printf("  bound %d/%d in %.2f s: %.0f pods/s end to end%s\n", bound_count.load(), flags.pods,
              wall, bound_count.load() / wall, done ? "" : " (TIMED OUT)");
  std::printf("  creation -> binding latency: p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
              Percentile(latency_ms, 0.5), Percentile(latency_ms, 0.99),
              Percentile(latency_ms, 1.0));
  std::printf("  scheduling thread: cycles %.2f s (%.1f%% of wall), applying events %.2f s "
              "(%.1f%%)\n",
              absl::ToDoubleSeconds(cycles), 100 * absl::ToDoubleSeconds(cycles) / wall,
              absl::ToDoubleSeconds(apply), 100 * absl::ToDoubleSeconds(apply) / wall);
  std::printf("  cycles on the scheduling thread's CPU: %.2f s (%.1f%% of wall)\n",
              absl::ToDoubleSeconds(cycles_cpu), 100 * absl::ToDoubleSeconds(cycles_cpu) / wall);
  return done && failed.load() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace kestrel

int main(int argc, char** argv) {
  kestrel::Flags flags;
  if (!kestrel::ParseFlags(argc, argv, &flags)) {
    std::cerr << "usage: e2e_perf [--nodes=N] [--pods=M] [--content-type=T] [--creators=K] "
                 "[--qps=Q] [--threads=T]\n";
    return 2;
  }
  return kestrel::Run(flags);
}
