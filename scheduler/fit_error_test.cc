#include "scheduler/fit_error.h"

#include "gtest/gtest.h"

namespace kestrel::scheduler {
namespace {

using framework::Status;

Diagnosis WithReasons(const std::vector<std::vector<std::string>>& per_node) {
  Diagnosis d;
  for (const auto& reasons : per_node) {
    d.node_to_status.Add(nullptr, Status(framework::Code::kUnschedulable, reasons));
  }
  return d;
}

TEST(FitErrorTest, Table) {
  struct Case {
    const char* name;
    size_t nodes;
    Diagnosis diagnosis;
    std::string want;
  };
  Diagnosis pre;
  pre.pre_filter_msg = "node(s) didn't satisfy plugin(s) [NodeAffinity]";
  pre.node_to_status.SetAbsent(2, Status::Unschedulable("ignored"));
  Diagnosis post = WithReasons({{"Insufficient cpu"}, {"Insufficient cpu"}});
  post.post_filter_msg =
      "preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod";
  std::vector<std::vector<std::string>> ten_and_two;
  for (int i = 0; i < 10; ++i) ten_and_two.push_back({"node(s) were unschedulable"});
  for (int i = 0; i < 2; ++i) ten_and_two.push_back({"Insufficient memory"});

  const std::vector<Case> cases = {
      {"one reason", 3, WithReasons({{"Insufficient cpu"}, {"Insufficient cpu"}, {"Insufficient cpu"}}),
       "0/3 nodes are available: 3 Insufficient cpu."},
      {"histogram sorted as strings, several reasons per node", 3,
       WithReasons({{"Too many pods", "Insufficient cpu"}, {"Insufficient cpu"},
                    {"node(s) were unschedulable"}}),
       "0/3 nodes are available: 1 Too many pods, 1 node(s) were unschedulable, 2 Insufficient "
       "cpu."},
      // "10 ..." sorts before "2 ..." as strings: upstream's quirk, kept.
      {"counts compare as strings", 12, WithReasons(ten_and_two),
       "0/12 nodes are available: 10 node(s) were unschedulable, 2 Insufficient memory."},
      {"prefilter message stands alone", 2, pre,
       "0/2 nodes are available: node(s) didn't satisfy plugin(s) [NodeAffinity]."},
      {"postfilter message follows", 2, post,
       "0/2 nodes are available: 2 Insufficient cpu. preemption: 0/2 nodes are available: 2 No "
       "preemption victims found for incoming pod."},
      {"no statuses", 0, Diagnosis{}, "0/0 nodes are available:"},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FitErrorMessage(c.nodes, c.diagnosis), c.want) << c.name;
  }
}

}  // namespace
}  // namespace kestrel::scheduler
