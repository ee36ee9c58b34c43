#include "sim/generate/templates.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace kestrel::sim::generate_internal {

Resources NodeCapacity(int64_t milli_cpu, int64_t memory, int64_t gpus) {
  Resources r;
  r.milli_cpu = milli_cpu;
  r.memory = memory;
  r.gpus = gpus;
  r.pods = 110;
  return r;
}

Resources Requests(int64_t milli_cpu, int64_t memory, int64_t gpus) {
  Resources r;
  r.milli_cpu = milli_cpu;
  r.memory = memory;
  r.gpus = gpus;
  return r;
}

Toleration Tolerate(const Taint& taint) {
  return {taint.key, "Equal", taint.value, taint.effect};
}

std::string OpNamespace(int op_index) {
  return absl::StrCat("namespace-", op_index);
}

// node-default.yaml, also upstream's node when an op names no template.
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

// The namespaces upstream's inter-pod affinity templates name in their terms.
std::vector<std::string> SchedNamespaces() { return {"sched-1", "sched-0"}; }

AffinityTerm Term(const Labels& match_labels, absl::string_view topology_key,
                  std::vector<std::string> namespaces, int32_t weight) {
  AffinityTerm term;
  term.match_labels = match_labels;
  term.topology_key = std::string(topology_key);
  term.namespaces = std::move(namespaces);
  term.weight = weight;
  return term;
}

}  // namespace kestrel::sim::generate_internal
