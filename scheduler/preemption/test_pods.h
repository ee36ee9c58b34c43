// File: test_pods.h
//
// Pods and nodes for preemption tests: a priority, a start time, a cpu
// request and labels are all a victim needs. (predicates/testing/builders.h
// is not visible to this package.)

#ifndef KESTREL_SCHEDULER_PREEMPTION_TEST_PODS_H_
#define KESTREL_SCHEDULER_PREEMPTION_TEST_PODS_H_

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "model/interner.h"
#include "model/labels.h"
#include "model/objects.h"
#include "scheduler/framework/node_info.h"

namespace kestrel::preemption::testing {

// Seconds since the epoch, for start times.
inline absl::Time At(int64_t seconds) { return absl::FromUnixSeconds(seconds); }

struct PodSpec {
  std::string name;
  int32_t priority = 0;
  int64_t milli_cpu = 0;
  absl::Time start = absl::InfinitePast();  // not started
  std::vector<std::pair<std::string, std::string>> labels;
  std::string ns = "default";
};

inline model::PodPtr MakePod(model::Interner& names, const PodSpec& s) {
  auto p = std::make_shared<model::Pod>();
  p->ns = s.ns;
  p->name = s.name;
  p->uid = s.name;
  p->ns_id = names.Intern(s.ns);
  p->priority = s.priority;
  p->start_time = s.start;
  p->requests.milli_cpu = s.milli_cpu;
  p->requests.allowed_pods = 1;
  p->non_zero_milli_cpu = s.milli_cpu;
  std::vector<model::Label> labels;
  for (const auto& [k, v] : s.labels) labels.push_back({names.Intern(k), names.Intern(v), {}});
  p->labels = model::Labels(std::move(labels));
  return p;
}

inline framework::NodeInfo MakeNodeInfo(int64_t milli_cpu,
                                        const std::vector<model::PodPtr>& pods) {
  model::Node node;
  node.name = "n1";
  node.allocatable.milli_cpu = milli_cpu;
  node.allocatable.allowed_pods = 110;
  framework::NodeInfo info(std::make_shared<const model::Node>(std::move(node)));
  for (const model::PodPtr& p : pods) info.AddPod(p);
  return info;
}

// The pods' names, in order: of a vector, or of a node's PodList.
template <typename Pods>
std::vector<std::string> Names(const Pods& pods) {
  std::vector<std::string> out;
  for (const model::PodPtr& p : pods) out.push_back(p->name);
  return out;
}

}  // namespace kestrel::preemption::testing

#endif  // KESTREL_SCHEDULER_PREEMPTION_TEST_PODS_H_
