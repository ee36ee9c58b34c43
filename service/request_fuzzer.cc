// A libFuzzer target for what the service does with a request's bytes:
// protobuf decoding of PlaceRequest, CapacityRequest, ExplainRequest,
// ScaleUpRequest or DrainRequest (the first byte picks which), then
// compiling its pods and asking the question, with its options' fork delta,
// on a small fixed cluster (a drain keeps its fork and asks Capacity on it). Any input must end in
// an answer or an error status, never a crash, a hang or a sanitizer report. Under Bazel (gcc)
// //service:request_fuzz_test runs it over seeds and their mutations; with
// clang it builds as a fuzzer as api/FUZZING.md describes for the decoder.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/service.pb.h"
#include "scheduler/profile.h"
#include "sim/cluster.h"
#include "sim/whatif.h"

namespace {

namespace pb = ::kestrel::v1;
namespace v1 = ::k8s::io::api::core::v1;

constexpr char kCluster[] = R"(
apiVersion: v1
kind: Node
metadata: {name: n1, labels: {kubernetes.io/hostname: n1, topology.kubernetes.io/zone: a}}
status: {allocatable: {cpu: "2", memory: 4Gi, pods: "10"}}
---
apiVersion: v1
kind: Node
metadata: {name: n2, labels: {kubernetes.io/hostname: n2, topology.kubernetes.io/zone: b}}
spec: {taints: [{key: dedicated, value: x, effect: NoSchedule}]}
status: {allocatable: {cpu: "4", memory: 8Gi, pods: "10"}}
---
apiVersion: v1
kind: Pod
metadata: {name: running, namespace: default, labels: {app: db}}
spec:
  nodeName: n1
  containers: [{name: c, image: i, resources: {requests: {cpu: 500m}}}]
)";

// Questions are bounded so that one input stays fast.
constexpr int kMaxPods = 20;
constexpr int64_t kMaxCopies = 30;

const kestrel::sim::WhatIf& Base() {
  static const kestrel::sim::WhatIf* base = [] {
    auto cluster = kestrel::sim::LoadContents({{"cluster.yaml", kCluster}});
    if (!cluster.ok()) std::abort();
    auto w = kestrel::sim::WhatIf::Create(*std::move(cluster), kestrel::scheduler::DefaultConfig());
    if (!w.ok()) std::abort();
    return w->release();
  }();
  return *base;
}

kestrel::sim::WhatIfOptions OptionsOf(const pb::Options& o) {
  kestrel::sim::WhatIfOptions out;
  out.seed = o.has_seed() ? o.seed() : 1;
  out.preemption = o.has_preemption() ? o.preemption() : true;
  const pb::ForkDelta& d = o.delta();
  out.delta.remove_pods.assign(d.remove_pods().begin(), d.remove_pods().end());
  out.delta.remove_nodes.assign(d.remove_nodes().begin(), d.remove_nodes().end());
  out.delta.add_nodes.assign(d.add_nodes().begin(), d.add_nodes().end());
  out.delta.add_pods.assign(d.add_pods().begin(), d.add_pods().end());
  return out;
}

// The request's pods compiled, each named pods[i]; false at the first that
// does not compile.
bool CompilePods(const kestrel::sim::WhatIf& base,
                 const google::protobuf::RepeatedPtrField<v1::Pod>& in,
                 std::vector<kestrel::model::PodPtr>* out) {
  for (int i = 0; i < in.size(); ++i) {
    auto pod = base.CompilePod(in[i], absl::StrCat("pods[", i, "]"));
    if (!pod.ok()) return false;
    out->push_back(*std::move(pod));
  }
  return true;
}

bool Bounded(const pb::Options& o) {
  const pb::ForkDelta& d = o.delta();
  return d.add_pods_size() + d.add_nodes_size() + d.remove_pods_size() + d.remove_nodes_size() <=
         kMaxPods;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const kestrel::sim::WhatIf& base = Base();
  const char* bytes = reinterpret_cast<const char*>(data + 1);
  const int len = static_cast<int>(size - 1);
  switch (data[0] % 5) {
    case 0: {
      pb::PlaceRequest r;
      if (!r.ParseFromArray(bytes, len) || r.pods_size() > kMaxPods || !Bounded(r.options())) {
        return 0;
      }
      std::vector<kestrel::model::PodPtr> pods;
      if (!CompilePods(base, r.pods(), &pods)) return 0;
      (void)base.Place(pods, OptionsOf(r.options()));
      return 0;
    }
    case 1: {
      pb::CapacityRequest r;
      if (!r.ParseFromArray(bytes, len) || !r.has_template_() || !Bounded(r.options())) return 0;
      auto pod = base.CompilePod(r.template_(), "template");
      if (!pod.ok()) return 0;
      const int64_t limit = r.limit() <= 0 || r.limit() > kMaxCopies ? kMaxCopies : r.limit();
      (void)base.Capacity(*pod, limit, OptionsOf(r.options()));
      return 0;
    }
    case 2: {
      pb::ExplainRequest r;
      if (!r.ParseFromArray(bytes, len) || !r.has_pod() || !Bounded(r.options())) return 0;
      auto pod = base.CompilePod(r.pod(), "pod");
      if (!pod.ok()) return 0;
      (void)base.Explain(*pod, OptionsOf(r.options()));
      return 0;
    }
    case 3: {
      pb::ScaleUpRequest r;
      if (!r.ParseFromArray(bytes, len) || r.pods_size() > kMaxPods ||
          r.node_templates_size() > 3 || !Bounded(r.options())) {
        return 0;
      }
      std::vector<kestrel::model::PodPtr> pods;
      if (!CompilePods(base, r.pods(), &pods)) return 0;
      std::vector<kestrel::sim::NodeTemplate> templates;
      for (const pb::NodeTemplate& t : r.node_templates()) {
        templates.push_back({t.name(), t.node(), std::min<int64_t>(t.max_count(), kMaxPods)});
      }
      (void)base.ScaleUp(pods, templates, OptionsOf(r.options()));
      return 0;
    }
    default: {
      pb::DrainRequest r;
      if (!r.ParseFromArray(bytes, len) || !Bounded(r.options())) return 0;
      kestrel::sim::WhatIfOptions options = OptionsOf(r.options());
      std::shared_ptr<const kestrel::sim::KeptState> kept;
      options.keep = &kept;
      kestrel::sim::DrainOptions drain;
      drain.delete_local_data = r.delete_local_data();
      auto drained = base.Drain({r.nodes().begin(), r.nodes().end()}, drain, options);
      if (!drained.ok() || kept == nullptr) return 0;
      kestrel::sim::WhatIfOptions on_kept;
      on_kept.from = kept;
      auto probe =
          base.CompilePod(r.options().delta().add_pods_size() > 0 ? r.options().delta().add_pods(0)
                                                                  : ::k8s::io::api::core::v1::Pod(),
                          "probe");
      if (probe.ok()) (void)base.Capacity(*probe, kMaxCopies, on_kept);
      return 0;
    }
  }
}
