// File: testing.h
//
// A small world for affinity tests: nodes with labels, pods compiled from
// YAML (so terms go through the real compiler), a cache and its snapshot.
//
// Example:
//   AffinityWorld w;
//   w.AddNode("n1", {{"zone", "z1"}, {"kubernetes.io/hostname", "n1"}});
//   w.AddPod(R"(metadata: {name: a, labels: {app: db}}
//               spec: {nodeName: n1})");
//   model::PodPtr p = w.Pod(R"(metadata: {name: p} spec: {affinity: ...})");
//   framework::CycleState state = w.NewCycle();

#ifndef KESTREL_PREDICATES_INTER_POD_AFFINITY_TESTING_H_
#define KESTREL_PREDICATES_INTER_POD_AFFINITY_TESTING_H_

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

class AffinityWorld {
 public:
  void AddNode(const std::string& name,
               const std::vector<std::pair<std::string, std::string>>& labels) {
    std::string yaml = absl::StrCat("metadata: {name: ", name, ", labels: {");
    for (const auto& [k, v] : labels) absl::StrAppend(&yaml, "\"", k, "\": \"", v, "\", ");
    absl::StrAppend(&yaml, "}}\nstatus: {allocatable: {cpu: '8', memory: 32Gi, pods: '110'}}");
    ::k8s::io::api::core::v1::Node node;
    absl::Status s = api::DecodeInto(yaml, &node, "node");
    EXPECT_TRUE(s.ok()) << s;
    auto compiled = model::CompileNode(node, names);
    EXPECT_TRUE(compiled.ok()) << compiled.status();
    nodes.push_back(*compiled);
    EXPECT_TRUE(cache.AddNode(*compiled).ok());
  }

  void AddNamespace(const std::string& name,
                    const std::vector<std::pair<std::string, std::string>>& labels) {
    std::vector<model::Label> ls;
    for (const auto& [k, v] : labels) ls.push_back({names.Intern(k), names.Intern(v), {}});
    cache.SetNamespace(names.Intern(name), model::Labels(std::move(ls)));
  }

  // A pod compiled from YAML (a v1.Pod without apiVersion/kind).
  model::PodPtr Pod(const std::string& yaml) {
    ::k8s::io::api::core::v1::Pod pod;
    absl::Status s = api::DecodeInto(yaml, &pod, "pod");
    EXPECT_TRUE(s.ok()) << s;
    auto compiled = model::CompilePod(pod, names);
    EXPECT_TRUE(compiled.ok()) << compiled.status();
    return compiled.ok() ? *compiled : nullptr;
  }

  // Adds a bound pod (spec.nodeName set) to the cache.
  model::PodPtr AddPod(const std::string& yaml) {
    model::PodPtr p = Pod(yaml);
    absl::Status s = cache.AddPod(p);
    EXPECT_TRUE(s.ok()) << s;
    return p;
  }

  framework::CycleState NewCycle() {
    cache.UpdateSnapshot(&snapshot);
    framework::CycleState state;
    state.snapshot = &snapshot;
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

#endif  // KESTREL_PREDICATES_INTER_POD_AFFINITY_TESTING_H_
