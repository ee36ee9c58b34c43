// Demo: the mixed cluster `./demo.sh` schedules.

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "sim/generate.h"
#include "sim/generate/templates.h"
#include "sim/generate/workloads.h"
#include "sim/generate/writer.h"
#include "sim/generate/yaml.h"

namespace kestrel::sim::generate_internal {

// Demo: a mixed cluster that exercises what the simulator reports.
//
// Nodes: every tenth is a GPU node (8 CPU, 64Gi, 4 nvidia.com/gpu, label and
// taint dedicated=gpu:NoSchedule); the others are 2, 4 or 8 CPU at 4Gi per
// CPU, disktype ssd or hdd, picked at random; every node carries
// node.kubernetes.io/instance-type (standard-<cpus>, gpu-8); zones
// zone1..zone3 round-robin. One node in 50 reports a condition, as the node
// lifecycle controller writes it: memory-pressure and disk-pressure
// alternately, each a NoSchedule taint that no pod here tolerates.
// Init pods: every tenth a GPU pod, every tenth a db pod, every tenth a
// frontend pod (see below), the rest web pods of random size.
// Measured pods, shuffled: 10% GPU pods (tolerate the taint, select GPU
// nodes, one GPU each); 10% color=green pods with required anti-affinity to
// each other per hostname (upstream's pod-with-pod-anti-affinity); 5% db
// pods (required node affinity disktype In [ssd], preferred instance-type
// standard-8, weight 50); 5% api pods (required pod affinity to app=web per
// zone, preferred anti-affinity to each other per hostname, weight 100); 5%
// frontend pods (spread over zones, maxSkew 1, DoNotSchedule, and over
// hosts, ScheduleAnyway); 0.5% (at least one) system-cluster-critical pods
// in kube-system; 0.1% (at least one) pods asking for 9 CPU, which no node
// has; the rest web pods of random size.
absl::Status Demo(const GenerateOptions& options, ClusterWriter& writer) {
  constexpr absl::string_view kInstanceType =
      "node.kubernetes.io/instance-type";
  std::mt19937_64 rng(options.seed);
  const Taint gpu_taint{"dedicated", "gpu", "NoSchedule"};

  enum Condition { kHealthy, kMemoryPressure, kDiskPressure, kConditions };
  const std::string disks[] = {"ssd", "hdd"};
  const int64_t cpus[] = {2, 4, 8};
  auto standard_node = [&](int64_t cpu, const std::string& disk,
                           int condition) {
    NodeTemplate node;
    node.capacity = NodeCapacity(cpu * 1000, cpu * 4 * kGi, 0);
    node.labels = {
        {"disktype", disk},
        {std::string(kInstanceType), absl::StrCat("standard-", cpu)}};
    if (condition == kMemoryPressure) {
      node.taints = {{"node.kubernetes.io/memory-pressure", "", "NoSchedule"}};
      node.conditions = {{"MemoryPressure", "True"}, {"Ready", "True"}};
    } else if (condition == kDiskPressure) {
      node.taints = {{"node.kubernetes.io/disk-pressure", "", "NoSchedule"}};
      node.conditions = {{"DiskPressure", "True"}, {"Ready", "True"}};
    }
    return Render(node);
  };
  // standard[(size * 2 + disk) * kConditions + condition]
  std::vector<RenderedNode> standard;
  for (int64_t cpu : cpus) {
    for (const std::string& disk : disks) {
      for (int condition = 0; condition < kConditions; ++condition) {
        standard.push_back(standard_node(cpu, disk, condition));
      }
    }
  }
  NodeTemplate gpu_template;
  gpu_template.capacity = NodeCapacity(8000, 64 * kGi, 4);
  gpu_template.labels = {{"dedicated", "gpu"},
                         {std::string(kInstanceType), "gpu-8"}};
  gpu_template.taints = {gpu_taint};
  const RenderedNode gpu_node = Render(gpu_template);
  const std::string zones[] = {"zone1", "zone2", "zone3"};
  for (int i = 0; i < options.nodes; ++i) {
    if (i % 10 == 9) {
      writer.AddNode(gpu_node, zones[i % 3]);
      continue;
    }
    const size_t size = Pick(rng, 3);
    const size_t disk = Pick(rng, 2);
    int condition = kHealthy;
    if (i % 50 == 24)
      condition = (i / 50) % 2 == 0 ? kMemoryPressure : kDiskPressure;
    writer.AddNode(standard[(size * 2 + disk) * kConditions + condition],
                   zones[i % 3]);
  }

  auto web_pod = [](int64_t milli_cpu, int64_t memory) {
    PodTemplate pod = DefaultPod("default");
    pod.labels = {{"app", "web"}};
    pod.requests = Requests(milli_cpu, memory);
    return pod;
  };
  PodTemplate gpu_template_pod = DefaultPod("default");
  gpu_template_pod.labels = {{"app", "training"}};
  gpu_template_pod.requests = Requests(1000, 4 * kGi, 1);
  gpu_template_pod.node_selector = {{"dedicated", "gpu"}};
  gpu_template_pod.tolerations = {Tolerate(gpu_taint)};

  PodTemplate green_template = DefaultPod("default");
  green_template.labels = {{"color", "green"}};
  green_template.required_anti_affinity = {
      Term(green_template.labels, kHostnameLabel, {})};

  PodTemplate db_template = DefaultPod("default");
  db_template.labels = {{"app", "db"}};
  db_template.requests = Requests(500, 1 * kGi);
  NodeSelectorTerm ssd;
  ssd.match_expressions = {{"disktype", "In", {"ssd"}}};
  NodeSelectorTerm large_node;
  large_node.match_expressions = {
      {std::string(kInstanceType), "In", {"standard-8"}}};
  large_node.weight = 50;
  db_template.required_node_affinity = {ssd};
  db_template.preferred_node_affinity = {large_node};

  PodTemplate api_template = DefaultPod("default");
  api_template.labels = {{"app", "api"}};
  api_template.requests = Requests(250, 512 * kMi);
  api_template.required_affinity = {Term({{"app", "web"}}, kZoneLabel, {})};
  api_template.preferred_anti_affinity = {
      Term(api_template.labels, kHostnameLabel, {}, 100)};

  PodTemplate frontend_template = DefaultPod("default");
  frontend_template.labels = {{"app", "frontend"}};
  frontend_template.requests = Requests(100, 256 * kMi);
  SpreadConstraint by_zone;
  by_zone.max_skew = 1;
  by_zone.topology_key = std::string(kZoneLabel);
  by_zone.when_unsatisfiable = "DoNotSchedule";
  by_zone.match_labels = frontend_template.labels;
  SpreadConstraint by_host = by_zone;
  by_host.topology_key = std::string(kHostnameLabel);
  by_host.when_unsatisfiable = "ScheduleAnyway";
  frontend_template.spread_constraints = {by_zone, by_host};

  PodTemplate critical_template = DefaultPod("kube-system");
  critical_template.labels = {{"k8s-app", "critical-addon"}};
  critical_template.requests = Requests(500, 512 * kMi);
  critical_template.priority_class_name = "system-cluster-critical";
  critical_template.priority = 2000000000;

  PodTemplate large_template = DefaultPod("default");
  large_template.labels = {{"app", "batch"}};
  large_template.requests = Requests(9000, 1 * kGi);

  const RenderedPod web[] = {
      Render(web_pod(100, 256 * kMi)), Render(web_pod(250, 512 * kMi)),
      Render(web_pod(500, 1 * kGi)), Render(web_pod(1000, 2 * kGi))};
  const RenderedPod gpu = Render(gpu_template_pod);
  const RenderedPod green = Render(green_template);
  const RenderedPod db = Render(db_template);
  const RenderedPod api = Render(api_template);
  const RenderedPod frontend = Render(frontend_template);
  const RenderedPod critical = Render(critical_template);
  const RenderedPod large = Render(large_template);

  for (int i = 0; i < options.init_pods; ++i) {
    const RenderedPod* pod;
    switch (i % 10) {
      case 9:
        pod = &gpu;
        break;
      case 4:
        pod = &db;
        break;
      case 7:
        pod = &frontend;
        break;
      default:
        pod = &web[Pick(rng, 4)];
    }
    if (absl::Status s = writer.AddInitPod(*pod); !s.ok()) return s;
  }

  enum Kind { kWeb, kGpu, kGreen, kDb, kApi, kFrontend, kCritical, kLarge };
  std::vector<Kind> kinds;
  kinds.reserve(options.pods);
  auto add = [&](Kind kind, int count) {
    count = std::min(count, options.pods - static_cast<int>(kinds.size()));
    kinds.insert(kinds.end(), count, kind);
  };
  if (options.pods > 0) {
    add(kLarge, std::max(1, options.pods / 1000));
    add(kCritical, std::max(1, options.pods / 200));
  }
  add(kGpu, options.pods / 10);
  add(kGreen, options.pods / 10);
  add(kDb, options.pods / 20);
  add(kApi, options.pods / 20);
  add(kFrontend, options.pods / 20);
  add(kWeb, options.pods);
  Shuffle(kinds, rng);

  for (Kind kind : kinds) {
    switch (kind) {
      case kWeb:
        writer.AddPod("web", web[Pick(rng, 4)]);
        break;
      case kGpu:
        writer.AddPod("gpu", gpu);
        break;
      case kGreen:
        writer.AddPod("green", green);
        break;
      case kDb:
        writer.AddPod("db", db);
        break;
      case kApi:
        writer.AddPod("api", api);
        break;
      case kFrontend:
        writer.AddPod("frontend", frontend);
        break;
      case kCritical:
        writer.AddPod("critical", critical);
        break;
      case kLarge:
        writer.AddPod("large", large);
        break;
    }
  }
  return absl::OkStatus();
}

}  // namespace kestrel::sim::generate_internal
