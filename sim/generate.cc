
#include "sim/generate.h"

#include <algorithm>
#include <cstdint>
#include <optional>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"

namespace kestrel::sim {
namespace {

constexpr int64_t kKi = int64_t{1} << 10;
constexpr int64_t kMi = int64_t{1} << 20;
constexpr int64_t kGi = int64_t{1} << 30;

constexpr absl::string_view kHostnameLabel = "kubernetes.io/hostname";
constexpr absl::string_view kZoneLabel = "topology.kubernetes.io/zone";
constexpr absl::string_view kGpuResource = "nvidia.com/gpu";
// The image of upstream scheduler_perf's pod-default.yaml.
constexpr absl::string_view kPauseImage = "registry.k8s.io/pause:3.9";

using Labels = std::vector<std::pair<std::string, std::string>>;

// Resources of a node (capacity = allocatable) or a container (requests =
// limits). Zero gpus are not written; pods only for nodes.
struct Resources {
  int64_t milli_cpu = 0;
  int64_t memory = 0;  // bytes
  int64_t gpus = 0;
  int64_t pods = 0;
};

// A node's capacity, 110 pods as upstream's node template has.
Resources NodeCapacity(int64_t milli_cpu, int64_t memory, int64_t gpus) {
  Resources r;
  r.milli_cpu = milli_cpu;
  r.memory = memory;
  r.gpus = gpus;
  r.pods = 110;
  return r;
}

Resources Requests(int64_t milli_cpu, int64_t memory, int64_t gpus = 0) {
  Resources r;
  r.milli_cpu = milli_cpu;
  r.memory = memory;
  r.gpus = gpus;
  return r;
}

struct Taint {
  std::string key;
  std::string value;
  std::string effect;
};

// A required pod (anti-)affinity term with a matchLabels selector.
struct AffinityTerm {
  Labels match_labels;
  std::string topology_key;
  std::vector<std::string> namespaces;  // empty: the pod's own namespace
};

struct NodeTemplate {
  Resources capacity;
  Labels labels;  // besides hostname and zone
  std::vector<Taint> taints;
};

struct PodTemplate {
  std::string namespace_name;
  Labels labels;
  Resources requests;
  Labels node_selector;
  std::vector<Taint> tolerations;  // operator Equal
  std::optional<AffinityTerm> required_anti_affinity;
  std::string priority_class_name;
  int32_t priority = 0;  // written only with a priority class
};

// ---------------------------------------------------------------------------
// YAML text. Every string written here is a plain identifier, label or
// quantity, so the only escaping needed is go-yaml's quoting of strings that
// would otherwise read as numbers.

bool LooksNumeric(absl::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || c == '.'; });
}

void AppendScalar(std::string* out, absl::string_view s) {
  if (LooksNumeric(s)) {
    absl::StrAppend(out, "\"", s, "\"");
  } else {
    absl::StrAppend(out, s);
  }
}

std::string CpuQuantity(int64_t milli_cpu) {
  if (milli_cpu % 1000 == 0) return absl::StrCat(milli_cpu / 1000);
  return absl::StrCat(milli_cpu, "m");
}

std::string MemoryQuantity(int64_t bytes) {
  if (bytes != 0 && bytes % kGi == 0) return absl::StrCat(bytes / kGi, "Gi");
  if (bytes != 0 && bytes % kMi == 0) return absl::StrCat(bytes / kMi, "Mi");
  if (bytes != 0 && bytes % kKi == 0) return absl::StrCat(bytes / kKi, "Ki");
  return absl::StrCat(bytes);
}

void AppendKeyValues(std::string* out, absl::string_view indent,
                     const Labels& entries) {
  for (const auto& [key, value] : entries) {
    absl::StrAppend(out, indent, key, ": ");
    AppendScalar(out, value);
    out->push_back('\n');
  }
}

// Keys in kubectl's (sorted) order: cpu, memory, nvidia.com/gpu, pods.
void AppendResourceList(std::string* out, absl::string_view indent,
                        const Resources& r) {
  Labels entries = {{"cpu", CpuQuantity(r.milli_cpu)},
                    {"memory", MemoryQuantity(r.memory)}};
  if (r.gpus > 0) entries.emplace_back(kGpuResource, absl::StrCat(r.gpus));
  if (r.pods > 0) entries.emplace_back("pods", absl::StrCat(r.pods));
  AppendKeyValues(out, indent, entries);
}

// A node template's text that is the same for every node: its labels besides
// hostname and zone, and everything after metadata.
struct RenderedNode {
  const NodeTemplate* node;
  std::string after_metadata;
};

RenderedNode Render(const NodeTemplate& node) {
  std::string s = "spec:";
  if (node.taints.empty()) {
    s.append(" {}\n");
  } else {
    s.append("\n  taints:\n");
    for (const Taint& t : node.taints) {
      absl::StrAppend(&s, "  - effect: ", t.effect, "\n    key: ", t.key, "\n");
      if (!t.value.empty()) absl::StrAppend(&s, "    value: ", t.value, "\n");
    }
  }
  s.append("status:\n  allocatable:\n");
  AppendResourceList(&s, "    ", node.capacity);
  s.append("  capacity:\n");
  AppendResourceList(&s, "    ", node.capacity);
  s.append(
      "  conditions:\n"
      "  - status: \"True\"\n"
      "    type: Ready\n");
  return {&node, std::move(s)};
}

// A pod template's text that is the same for every pod: everything but the
// name and spec.nodeName, which sits between `spec_head` and `spec_tail`.
struct RenderedPod {
  const PodTemplate* pod;
  std::string labels;     // the metadata.labels block, or empty
  std::string spec_head;  // affinity, containers
  std::string spec_tail;  // nodeSelector .. tolerations
};

RenderedPod Render(const PodTemplate& pod) {
  RenderedPod r{&pod, "", "", ""};
  if (!pod.labels.empty()) {
    Labels sorted = pod.labels;
    std::sort(sorted.begin(), sorted.end());
    r.labels = "  labels:\n";
    AppendKeyValues(&r.labels, "    ", sorted);
  }

  std::string& head = r.spec_head;
  if (pod.required_anti_affinity.has_value()) {
    const AffinityTerm& term = *pod.required_anti_affinity;
    head.append(
        "  affinity:\n"
        "    podAntiAffinity:\n"
        "      requiredDuringSchedulingIgnoredDuringExecution:\n"
        "      - labelSelector:\n"
        "          matchLabels:\n");
    AppendKeyValues(&head, "            ", term.match_labels);
    if (!term.namespaces.empty()) {
      head.append("        namespaces:\n");
      for (const std::string& ns : term.namespaces) {
        absl::StrAppend(&head, "        - ", ns, "\n");
      }
    }
    absl::StrAppend(&head, "        topologyKey: ", term.topology_key, "\n");
  }
  absl::StrAppend(&head,
                  "  containers:\n"
                  "  - image: ",
                  kPauseImage,
                  "\n"
                  "    name: pause\n"
                  "    ports:\n"
                  "    - containerPort: 80\n"
                  "      protocol: TCP\n"
                  "    resources:\n"
                  "      limits:\n");
  AppendResourceList(&head, "        ", pod.requests);
  head.append("      requests:\n");
  AppendResourceList(&head, "        ", pod.requests);

  std::string& tail = r.spec_tail;
  if (!pod.node_selector.empty()) {
    tail.append("  nodeSelector:\n");
    AppendKeyValues(&tail, "    ", pod.node_selector);
  }
  if (!pod.priority_class_name.empty()) {
    absl::StrAppend(&tail, "  priority: ", pod.priority,
                    "\n  priorityClassName: ", pod.priority_class_name, "\n");
  }
  tail.append("  schedulerName: default-scheduler\n");
  if (!pod.tolerations.empty()) {
    tail.append("  tolerations:\n");
    for (const Taint& t : pod.tolerations) {
      absl::StrAppend(&tail, "  - effect: ", t.effect, "\n    key: ", t.key,
                      "\n    operator: Equal\n    value: ", t.value, "\n");
    }
  }
  return r;
}

// ---------------------------------------------------------------------------
// Placement of init pods: round-robin over the nodes, skipping those the pod
// does not fit on, is not allowed on (untolerated NoSchedule/NoExecute taint),
// or does not select. Init templates carry no pod affinity.

bool Tolerates(const PodTemplate& pod, const NodeTemplate& node) {
  for (const Taint& taint : node.taints) {
    if (taint.effect == "PreferNoSchedule") continue;
    bool tolerated = std::any_of(
        pod.tolerations.begin(), pod.tolerations.end(), [&](const Taint& t) {
          return t.key == taint.key && t.value == taint.value &&
                 t.effect == taint.effect;
        });
    if (!tolerated) return false;
  }
  return true;
}

bool Selects(const PodTemplate& pod, const NodeTemplate& node) {
  for (const auto& entry : pod.node_selector) {
    if (std::find(node.labels.begin(), node.labels.end(), entry) ==
        node.labels.end()) {
      return false;
    }
  }
  return true;
}

class Placer {
 public:
  void AddNode(const NodeTemplate& node) {
    nodes_.push_back(&node);
    used_.emplace_back();
  }

  // The node index, or -1 when no node can take the pod.
  int Place(const PodTemplate& pod) {
    const int n = static_cast<int>(nodes_.size());
    for (int step = 0; step < n; ++step) {
      const int i = (cursor_ + step) % n;
      if (Fits(pod, i)) {
        Resources& used = used_[i];
        used.milli_cpu += pod.requests.milli_cpu;
        used.memory += pod.requests.memory;
        used.gpus += pod.requests.gpus;
        used.pods += 1;
        cursor_ = (i + 1) % n;
        return i;
      }
    }
    return -1;
  }

 private:
  bool Fits(const PodTemplate& pod, int i) const {
    const NodeTemplate& node = *nodes_[i];
    const Resources& used = used_[i];
    const Resources& cap = node.capacity;
    return used.pods + 1 <= cap.pods &&
           used.milli_cpu + pod.requests.milli_cpu <= cap.milli_cpu &&
           used.memory + pod.requests.memory <= cap.memory &&
           used.gpus + pod.requests.gpus <= cap.gpus && Tolerates(pod, node) &&
           Selects(pod, node);
  }

  std::vector<const NodeTemplate*> nodes_;
  std::vector<Resources> used_;
  int cursor_ = 0;
};

// ---------------------------------------------------------------------------
// ClusterWriter: the stream of documents, in order: nodes, init pods, pods.
// Text goes to a buffer that is flushed to the stream in large chunks.

class ClusterWriter {
 public:
  explicit ClusterWriter(std::ostream& out) : out_(out) {
    buffer_.reserve(kFlushBytes + 64 * 1024);
  }

  // Writes node-<i> with hostname and zone labels.
  void AddNode(const RenderedNode& node, absl::string_view zone) {
    const std::string name = absl::StrCat("node-", node_names_.size());
    std::vector<std::pair<absl::string_view, absl::string_view>> labels;
    for (const auto& [key, value] : node.node->labels) {
      labels.emplace_back(key, value);
    }
    labels.emplace_back(kHostnameLabel, name);
    labels.emplace_back(kZoneLabel, zone);
    std::sort(labels.begin(), labels.end());

    absl::StrAppend(&buffer_,
                    "---\n"
                    "apiVersion: v1\n"
                    "kind: Node\n"
                    "metadata:\n"
                    "  labels:\n");
    for (const auto& [key, value] : labels) {
      absl::StrAppend(&buffer_, "    ", key, ": ");
      AppendScalar(&buffer_, value);
      buffer_.push_back('\n');
    }
    absl::StrAppend(&buffer_, "  name: ", name, "\n", node.after_metadata);
    placer_.AddNode(*node.node);
    node_names_.push_back(name);
    MaybeFlush();
  }

  // Writes init-pod-<i>, bound to the next node (round-robin) it fits on.
  absl::Status AddInitPod(const RenderedPod& pod) {
    const int node = placer_.Place(*pod.pod);
    if (node < 0) {
      return absl::InvalidArgumentError(absl::StrCat(
          "init pod ", init_pods_, " does not fit on any of the ",
          node_names_.size(), " nodes; use fewer init pods or more nodes"));
    }
    WritePod(absl::StrCat("init-pod-", init_pods_++), pod, node_names_[node]);
    return absl::OkStatus();
  }

  // Writes <prefix>-<i>, unbound; i counts all measured pods.
  void AddPod(absl::string_view prefix, const RenderedPod& pod) {
    WritePod(absl::StrCat(prefix, "-", pods_++), pod, "");
  }

  absl::Status Finish() {
    Flush();
    out_.flush();
    if (!out_) return absl::InternalError("writing the generated YAML failed");
    return absl::OkStatus();
  }

 private:
  static constexpr size_t kFlushBytes = 1 << 20;

  void WritePod(absl::string_view name, const RenderedPod& pod,
                absl::string_view node_name) {
    absl::StrAppend(&buffer_,
                    "---\n"
                    "apiVersion: v1\n"
                    "kind: Pod\n"
                    "metadata:\n",
                    pod.labels, "  name: ", name,
                    "\n  namespace: ", pod.pod->namespace_name, "\nspec:\n",
                    pod.spec_head);
    if (!node_name.empty()) {
      absl::StrAppend(&buffer_, "  nodeName: ", node_name, "\n");
    }
    absl::StrAppend(&buffer_, pod.spec_tail, "status:\n  phase: ",
                    node_name.empty() ? "Pending" : "Running", "\n");
    MaybeFlush();
  }

  void MaybeFlush() {
    if (buffer_.size() >= kFlushBytes) Flush();
  }

  void Flush() {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
  }

  std::ostream& out_;
  std::string buffer_;
  Placer placer_;
  std::vector<std::string> node_names_;
  int init_pods_ = 0;
  int pods_ = 0;
};

// A uniform index in [0, n). Written out rather than using
// std::uniform_int_distribution, whose algorithm differs between standard
// libraries; the modulo bias is below 2^-40 for the sizes used here.
size_t Pick(std::mt19937_64& rng, size_t n) { return rng() % n; }

template <typename T>
void Shuffle(std::vector<T>& v, std::mt19937_64& rng) {
  for (size_t i = v.size(); i > 1; --i) {
    std::swap(v[i - 1], v[Pick(rng, i)]);
  }
}

// ---------------------------------------------------------------------------
// Workloads. Each is a small function over a ClusterWriter; add new ones to
// kWorkloads below.

// Upstream scheduler_perf templates (BENCHMARKS.md).
NodeTemplate DefaultNode() {
  NodeTemplate node;
  node.capacity = NodeCapacity(4000, 32 * kGi, 0);
  return node;
}

PodTemplate DefaultPod(absl::string_view namespace_name) {
  PodTemplate pod;
  pod.namespace_name = std::string(namespace_name);
  pod.requests = Requests(100, 500 * kMi);
  return pod;
}

// SchedulingBasic: default nodes in zone1, default pods in namespace sched-0.
absl::Status SchedulingBasic(const GenerateOptions& options,
                             ClusterWriter& writer) {
  const NodeTemplate node_template = DefaultNode();
  const RenderedNode node = Render(node_template);
  for (int i = 0; i < options.nodes; ++i) writer.AddNode(node, "zone1");

  const PodTemplate pod_template = DefaultPod("sched-0");
  const RenderedPod pod = Render(pod_template);
  for (int i = 0; i < options.init_pods; ++i) {
    if (absl::Status s = writer.AddInitPod(pod); !s.ok()) return s;
  }
  for (int i = 0; i < options.pods; ++i) writer.AddPod("pod", pod);
  return absl::OkStatus();
}

// Demo: a mixed cluster that exercises what the simulator reports.
//
// Nodes: every tenth is a GPU node (8 CPU, 64Gi, 4 nvidia.com/gpu, label and
// taint dedicated=gpu:NoSchedule); the others are 2, 4 or 8 CPU at 4Gi per
// CPU, picked at random; zones zone1..zone3 round-robin.
// Init pods: web pods of random size, and every tenth a GPU pod.
// Measured pods, shuffled: 10% GPU pods (tolerate the taint, select GPU
// nodes, one GPU each); 10% color=green pods with required anti-affinity to
// each other per hostname (upstream's pod-with-pod-anti-affinity); 0.5% (at
// least one) system-cluster-critical pods in kube-system; 0.1% (at least one)
// pods asking for 9 CPU, which no node has; the rest web pods of random size.
absl::Status Demo(const GenerateOptions& options, ClusterWriter& writer) {
  std::mt19937_64 rng(options.seed);
  const Taint gpu_taint{"dedicated", "gpu", "NoSchedule"};

  auto standard_node = [](int64_t cpus) {
    NodeTemplate node;
    node.capacity = NodeCapacity(cpus * 1000, cpus * 4 * kGi, 0);
    return node;
  };
  const NodeTemplate standard_templates[] = {standard_node(2), standard_node(4),
                                             standard_node(8)};
  NodeTemplate gpu_template;
  gpu_template.capacity = NodeCapacity(8000, 64 * kGi, 4);
  gpu_template.labels = {{"dedicated", "gpu"}};
  gpu_template.taints = {gpu_taint};
  const RenderedNode standard_nodes[] = {Render(standard_templates[0]),
                                         Render(standard_templates[1]),
                                         Render(standard_templates[2])};
  const RenderedNode gpu_node = Render(gpu_template);
  const std::string zones[] = {"zone1", "zone2", "zone3"};
  for (int i = 0; i < options.nodes; ++i) {
    const RenderedNode& node =
        i % 10 == 9 ? gpu_node : standard_nodes[Pick(rng, 3)];
    writer.AddNode(node, zones[i % 3]);
  }

  auto web_pod = [](int64_t milli_cpu, int64_t memory) {
    PodTemplate pod = DefaultPod("default");
    pod.labels = {{"app", "web"}};
    pod.requests = Requests(milli_cpu, memory);
    return pod;
  };
  const PodTemplate web_templates[] = {
      web_pod(100, 256 * kMi), web_pod(250, 512 * kMi), web_pod(500, 1 * kGi),
      web_pod(1000, 2 * kGi)};
  PodTemplate gpu_template_pod = DefaultPod("default");
  gpu_template_pod.labels = {{"app", "training"}};
  gpu_template_pod.requests = Requests(1000, 4 * kGi, 1);
  gpu_template_pod.node_selector = {{"dedicated", "gpu"}};
  gpu_template_pod.tolerations = {gpu_taint};

  PodTemplate green_template = DefaultPod("default");
  green_template.labels = {{"color", "green"}};
  AffinityTerm green_term;
  green_term.match_labels = {{"color", "green"}};
  green_term.topology_key = std::string(kHostnameLabel);
  green_template.required_anti_affinity = green_term;

  PodTemplate critical_template = DefaultPod("kube-system");
  critical_template.labels = {{"k8s-app", "critical-addon"}};
  critical_template.requests = Requests(500, 512 * kMi);
  critical_template.priority_class_name = "system-cluster-critical";
  critical_template.priority = 2000000000;

  PodTemplate large_template = DefaultPod("default");
  large_template.labels = {{"app", "batch"}};
  large_template.requests = Requests(9000, 1 * kGi);

  const RenderedPod web[] = {Render(web_templates[0]), Render(web_templates[1]),
                             Render(web_templates[2]),
                             Render(web_templates[3])};
  const RenderedPod gpu = Render(gpu_template_pod);
  const RenderedPod green = Render(green_template);
  const RenderedPod critical = Render(critical_template);
  const RenderedPod large = Render(large_template);

  for (int i = 0; i < options.init_pods; ++i) {
    const RenderedPod& pod = i % 10 == 9 ? gpu : web[Pick(rng, 4)];
    if (absl::Status s = writer.AddInitPod(pod); !s.ok()) return s;
  }

  enum Kind { kWeb, kGpu, kGreen, kCritical, kLarge };
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

struct Workload {
  absl::string_view name;
  absl::Status (*generate)(const GenerateOptions&, ClusterWriter&);
};

// Sorted by name.
constexpr Workload kWorkloads[] = {
    {"Demo", &Demo},
    {"SchedulingBasic", &SchedulingBasic},
};

}  // namespace

std::vector<std::string> WorkloadNames() {
  std::vector<std::string> names;
  for (const Workload& w : kWorkloads) names.emplace_back(w.name);
  return names;
}

absl::Status Generate(const GenerateOptions& options, std::ostream& out) {
  const Workload* workload = nullptr;
  for (const Workload& w : kWorkloads) {
    if (w.name == options.workload) workload = &w;
  }
  if (workload == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown workload \"", options.workload,
        "\"; known workloads: ", absl::StrJoin(WorkloadNames(), ", ")));
  }
  if (options.nodes <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("nodes must be positive, got ", options.nodes));
  }
  if (options.init_pods < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "init pods must not be negative, got ", options.init_pods));
  }
  if (options.pods < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("pods must not be negative, got ", options.pods));
  }
  ClusterWriter writer(out);
  if (absl::Status s = workload->generate(options, writer); !s.ok()) return s;
  return writer.Finish();
}

}  // namespace kestrel::sim
