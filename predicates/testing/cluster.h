// File: cluster.h
//
// ClusterWorld: nodes and pods compiled from YAML (so terms and selectors go
// through the real compiler) into a cache, and its snapshot, for plugins
// that read the snapshot's indexes (affinity, spreading).
//
// Example:
//   ClusterWorld w;
//   w.AddNode("n1", {{"zone", "z1"}, {"kubernetes.io/hostname", "n1"}});
//   w.AddPod("metadata: {name: a, labels: {app: db}}\nspec: {nodeName: n1}");
//   model::PodPtr p = w.Pod("metadata: {name: p}\nspec: {affinity: ...}");
//   framework::CycleState state = w.NewCycle();

#ifndef KESTREL_PREDICATES_TESTING_CLUSTER_H_
#define KESTREL_PREDICATES_TESTING_CLUSTER_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/core.pb.h"
#include "api/decode.h"
#include "gtest/gtest.h"
#include "model/compile.h"
#include "scheduler/cache/cache.h"
#include "scheduler/cache/snapshot.h"
#include "scheduler/framework/cycle_state.h"

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
  }

  void AddNamespace(const std::string& name, const LabelList& labels) {
    std::vector<model::Label> ls;
    for (const auto& [k, v] : labels) ls.push_back({names.Intern(k), names.Intern(v), {}});
    cache.SetNamespace(names.Intern(name), model::Labels(std::move(ls)));
  }

  // A pod compiled from YAML (a v1.Pod without apiVersion/kind).
  model::PodPtr Pod(const std::string& yaml) {
    ::k8s::io::api::core::v1::Pod pod;
    absl::Status s = api::DecodeInto(yaml, &pod, "pod");
    EXPECT_TRUE(s.ok()) << s << "\n" << yaml;
    auto compiled = model::CompilePod(pod, names);
    EXPECT_TRUE(compiled.ok()) << compiled.status();
    return compiled.ok() ? *compiled : nullptr;
  }

  // Adds a bound pod (spec.nodeName set) to the cache.
  model::PodPtr AddPod(const std::string& yaml) {
    model::PodPtr p = Pod(yaml);
    if (p == nullptr) return p;
    absl::Status s = cache.AddPod(p);
    EXPECT_TRUE(s.ok()) << s;
    return p;
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
};

}  // namespace kestrel::testing

#endif  // KESTREL_PREDICATES_TESTING_CLUSTER_H_
