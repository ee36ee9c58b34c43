// File: builders.h
//
// Test builders for plugin tests: a node with allocatable resources, a pod
// with effective (and non-zero) requests, a NodeInfo holding pods. Requests
// are set directly, as the compiler would have computed them.
//
// Example:
//   model::Node node = MakeNode("n1", Cpu(4000).Mem(8 * kGi).Pods(110));
//   auto info = MakeNodeInfo(node, {MakePod("a", Cpu(1000).Mem(kGi))});

#ifndef KESTREL_PREDICATES_TESTING_BUILDERS_H_
#define KESTREL_PREDICATES_TESTING_BUILDERS_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "model/interner.h"
#include "model/objects.h"
#include "model/resources.h"
#include "scheduler/framework/node_info.h"

namespace kestrel::testing {

inline constexpr int64_t kMi = 1024 * 1024;
inline constexpr int64_t kGi = 1024 * kMi;

// Res is a fluent Resources builder.
struct Res {
  model::Resources r;

  Res& Cpu(int64_t milli) { r.milli_cpu = milli; return *this; }
  Res& Mem(int64_t bytes) { r.memory = bytes; return *this; }
  Res& Storage(int64_t bytes) { r.ephemeral_storage = bytes; return *this; }
  Res& Pods(int64_t n) { r.allowed_pods = n; return *this; }
  Res& Scalar(model::Id id, int64_t v) { r.SetScalar(id, v); return *this; }
};

inline Res Cpu(int64_t milli) { return Res().Cpu(milli); }
inline Res Mem(int64_t bytes) { return Res().Mem(bytes); }
inline Res NoResources() { return Res(); }

inline model::Node MakeNode(std::string name, const Res& allocatable) {
  model::Node n;
  n.name = std::move(name);
  n.allocatable = allocatable.r;
  return n;
}

// A pod whose non-zero requests follow upstream's defaulting for a single
// container: cpu 100m and memory 200Mi when it requests none.
inline model::Pod MakePod(std::string name, const Res& requests) {
  model::Pod p;
  p.ns = "default";
  p.name = std::move(name);
  p.uid = p.name;
  p.requests = requests.r;
  p.non_zero_milli_cpu =
      requests.r.milli_cpu != 0 ? requests.r.milli_cpu : model::kDefaultMilliCpuRequest;
  p.non_zero_memory =
      requests.r.memory != 0 ? requests.r.memory : model::kDefaultMemoryRequest;
  return p;
}

inline framework::NodeInfo MakeNodeInfo(const model::Node& node,
                                        const std::vector<model::Pod>& pods = {}) {
  framework::NodeInfo info(std::make_shared<const model::Node>(node));
  for (const model::Pod& p : pods) info.AddPod(std::make_shared<const model::Pod>(p));
  return info;
}

// A taint as the compiler builds it: an empty value is kNoId.
inline model::Taint MakeTaint(model::Interner& names, const std::string& key,
                              const std::string& value, model::TaintEffect effect) {
  model::Taint t;
  t.key = key;
  t.value = value;
  t.key_id = names.Intern(key);
  t.value_id = value.empty() ? model::kNoId : names.Intern(value);
  t.effect = effect;
  return t;
}

// A toleration as the compiler builds it: an empty key or value is kNoId.
inline model::Toleration MakeToleration(model::Interner& names, const std::string& key,
                                        model::TolerationOp op, const std::string& value,
                                        model::TaintEffect effect) {
  model::Toleration t;
  t.key = key.empty() ? model::kNoId : names.Intern(key);
  t.op = op;
  t.value = value.empty() ? model::kNoId : names.Intern(value);
  t.effect = effect;
  return t;
}

}  // namespace kestrel::testing

#endif  // KESTREL_PREDICATES_TESTING_BUILDERS_H_
