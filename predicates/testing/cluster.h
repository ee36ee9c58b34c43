// File: cluster.h
//
// ClusterWorld: nodes and pods compiled from YAML (so terms and selectors go
// through the real compiler) into a cache, and its snapshot, for plugins
// that read the snapshot's indexes (affinity, spreading). The same objects,
// as decoded from the API, are kept in `api`: what the upstream references
// (upstream.h) read.
//
// Example:
//   ClusterWorld w;
//   w.AddNode("n1", {{"zone", "z1"}, {"kubernetes.io/hostname", "n1"}});
//   w.AddPod("metadata: {name: a, labels: {app: db}}\nspec: {nodeName: n1}");
//   model::PodPtr p = w.Pod("metadata: {name: p}\nspec: {affinity: ...}");
//   framework::CycleState state = w.NewCycle();

#ifndef KESTREL_PREDICATES_TESTING_CLUSTER_H_
#define KESTREL_PREDICATES_TESTING_CLUSTER_H_

#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/core.pb.h"
#include "api/decode.h"
#include "gtest/gtest.h"
#include "model/compile.h"
#include "predicates/testing/upstream.h"
#include "scheduler/cache/cache.h"
#include "scheduler/cache/snapshot.h"
#include "scheduler/framework/cycle_state.h"
#include "scheduler/framework/status.h"

namespace kestrel::testing {

class ClusterWorld {
 public:
  using LabelList = std::vector<std::pair<std::string, std::string>>;

  // A node with 8 CPUs, 32Gi and 110 pods; `taints` in flow style, e.g.
  // "[{key: k, value: v, effect: NoSchedule}]".
  void AddNode(const std::string& name, const LabelList& labels, const std::string& taints = "") {
    std::string yaml = absl::StrCat("metadata: {name: ", name, ", labels: {");
    for (const auto& [k, v] : labels) absl::StrAppend(&yaml, "\"", k, "\": '", v, "', ");
    absl::StrAppend(&yaml, "}}\n");
    if (!taints.empty()) absl::StrAppend(&yaml, "spec: {taints: ", taints, "}\n");
    absl::StrAppend(&yaml, "status: {allocatable: {cpu: '8', memory: 32Gi, pods: '110'}}");
    ::k8s::io::api::core::v1::Node node;
    absl::Status s = api::DecodeInto(yaml, &node, "node");
    EXPECT_TRUE(s.ok()) << s;
    auto compiled = model::CompileNode(node, names);
    EXPECT_TRUE(compiled.ok()) << compiled.status();
    if (!compiled.ok()) return;
    nodes.push_back(*compiled);
    EXPECT_TRUE(cache.AddNode(*compiled).ok());
    api.nodes.push_back(std::move(node));
  }

  void AddNamespace(const std::string& name, const LabelList& labels) {
    std::vector<model::Label> ls;
    upstream::LabelMap& api_labels = api.namespaces[name];
    for (const auto& [k, v] : labels) {
      ls.push_back({names.Intern(k), names.Intern(v), {}});
      api_labels[k] = v;
    }
    cache.SetNamespace(names.Intern(name), model::Labels(std::move(ls)));
  }

  // A v1.Pod decoded from YAML (a v1.Pod without apiVersion/kind).
  static ::k8s::io::api::core::v1::Pod DecodePod(const std::string& yaml) {
    ::k8s::io::api::core::v1::Pod pod;
    absl::Status s = api::DecodeInto(yaml, &pod, "pod");
    EXPECT_TRUE(s.ok()) << s << "\n" << yaml;
    return pod;
  }

  // `pod` compiled, as the cache and the queue hold it.
  model::PodPtr Compile(const ::k8s::io::api::core::v1::Pod& pod) {
    auto compiled = model::CompilePod(pod, names);
    EXPECT_TRUE(compiled.ok()) << compiled.status();
    return compiled.ok() ? *compiled : nullptr;
  }

  // A pod compiled from YAML.
  model::PodPtr Pod(const std::string& yaml) { return Compile(DecodePod(yaml)); }

  // Adds a bound pod (spec.nodeName set) to the cache and to `api`.
  model::PodPtr AddPod(const ::k8s::io::api::core::v1::Pod& pod) {
    model::PodPtr p = Compile(pod);
    if (p == nullptr) return p;
    absl::Status s = cache.AddPod(p);
    EXPECT_TRUE(s.ok()) << s;
    api.pods.push_back(pod);
    return p;
  }
  model::PodPtr AddPod(const std::string& yaml) { return AddPod(DecodePod(yaml)); }

  // Assumes a pod (spec.nodeName set) in the cache, as a binding cycle
  // does; `api` holds it too.
  model::PodPtr AssumePod(const ::k8s::io::api::core::v1::Pod& pod) {
    model::PodPtr p = Compile(pod);
    if (p == nullptr) return p;
    absl::Status s = cache.AssumePod(p);
    EXPECT_TRUE(s.ok()) << s;
    api.pods.push_back(pod);
    assumed_.insert(p->Key());
    return p;
  }

  // Takes a pod that AddPod or AssumePod placed out of the cache (removed,
  // or forgotten when assumed) and out of `api`.
  void DeletePod(const model::Pod& pod) {
    const bool assumed = assumed_.erase(pod.Key()) > 0;
    absl::Status s = assumed ? cache.ForgetPod(pod) : cache.RemovePod(pod);
    EXPECT_TRUE(s.ok()) << s;
    for (auto it = api.pods.begin(); it != api.pods.end(); ++it) {
      const std::string& ns = it->metadata().namespace_();
      if ((ns.empty() ? "default" : ns) == pod.ns && it->metadata().name() == pod.name) {
        api.pods.erase(it);
        return;
      }
    }
    ADD_FAILURE() << pod.Key() << " is not in the world";
  }

  // Updates the snapshot; a cycle state that reads it.
  framework::CycleState NewCycle() {
    cache.UpdateSnapshot(&snapshot);
    framework::CycleState state;
    state.snapshot = &snapshot;
    state.set_mutable_index(&snapshot.index());
    return state;
  }

  const framework::NodeInfo& Info(const std::string& node) const {
    return *snapshot.Get(node);
  }

  model::Interner names;
  std::vector<model::NodePtr> nodes;
  cache::Cache cache;
  cache::Snapshot snapshot;
  upstream::Cluster api;

 private:
  std::set<std::string> assumed_;  // keys of the pods AssumePod placed
};

// A plugin's Filter status as an upstream::Verdict, to compare with a
// reference's. An Error never equals a reference verdict.
inline upstream::Verdict VerdictOf(const framework::Status& s) {
  using Code = upstream::Verdict::Code;
  switch (s.code()) {
    case framework::Code::kSuccess:
      return {};
    case framework::Code::kUnschedulable:
      return {Code::kUnschedulable, s.Message()};
    case framework::Code::kUnschedulableAndUnresolvable:
      return {Code::kUnschedulableAndUnresolvable, s.Message()};
    default:
      return {Code::kUnschedulable, absl::StrCat("unexpected status: ", s.Message())};
  }
}

}  // namespace kestrel::testing

#endif  // KESTREL_PREDICATES_TESTING_CLUSTER_H_
