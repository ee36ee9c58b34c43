#include "predicates/node_ports/node_ports.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "predicates/testing/builders.h"

namespace kestrel::predicates {
namespace {

using framework::Code;
using model::Protocol;
using testing::MakeNode;
using testing::MakeNodeInfo;
using testing::MakePod;
using testing::NoResources;

model::HostPort Port(Protocol protocol, const std::string& ip, int32_t port) {
  model::HostPort p;
  p.protocol = protocol;
  p.host_ip = ip;
  p.port = port;
  return p;
}

model::Pod PodWithPorts(const std::string& name, std::vector<model::HostPort> ports) {
  model::Pod p = MakePod(name, NoResources());
  p.host_ports = std::move(ports);
  return p;
}

constexpr Protocol kTCP = Protocol::kTCP;
constexpr Protocol kUDP = Protocol::kUDP;
constexpr Protocol kSCTP = Protocol::kSCTP;

// Upstream TestNodePorts, case by case.
TEST(NodePortsTest, Filter) {
  struct Case {
    const char* name;
    std::vector<model::HostPort> want;
    std::vector<std::vector<model::HostPort>> existing;  // one pod each
    bool fits;
  };
  const Case cases[] = {
      {"nothing running", {Port(kUDP, "127.0.0.1", 8080)}, {}, true},
      {"other port", {Port(kUDP, "127.0.0.1", 8080)}, {{Port(kUDP, "127.0.0.1", 9090)}}, true},
      {"same udp port", {Port(kUDP, "127.0.0.1", 8080)}, {{Port(kUDP, "127.0.0.1", 8080)}}, false},
      {"same tcp port", {Port(kTCP, "127.0.0.1", 8080)}, {{Port(kTCP, "127.0.0.1", 8080)}}, false},
      {"different host ip",
       {Port(kTCP, "127.0.0.1", 8080)},
       {{Port(kTCP, "127.0.0.2", 8080)}},
       true},
      {"different protocol",
       {Port(kUDP, "127.0.0.1", 8080)},
       {{Port(kTCP, "127.0.0.1", 8080)}},
       true},
      {"second udp port conflict",
       {Port(kUDP, "127.0.0.1", 8000), Port(kUDP, "127.0.0.1", 8080)},
       {{Port(kUDP, "127.0.0.1", 8080)}},
       false},
      {"first tcp port conflict",
       {Port(kTCP, "127.0.0.1", 8001), Port(kUDP, "127.0.0.1", 8080)},
       {{Port(kTCP, "127.0.0.1", 8001), Port(kUDP, "127.0.0.1", 8081)}},
       false},
      {"first tcp port conflict due to 0.0.0.0 hostIP",
       {Port(kTCP, "0.0.0.0", 8001)},
       {{Port(kTCP, "10.0.10.10", 8001), Port(kTCP, "0.0.0.0", 8001)}},
       false},
      {"TCP hostPort conflict due to 0.0.0.0 hostIP",
       {Port(kTCP, "10.0.10.10", 8001), Port(kTCP, "10.0.10.10", 8002)},
       {{Port(kTCP, "0.0.0.0", 8001)}},
       false},
      {"second tcp port conflict to 0.0.0.0 hostIP",
       {Port(kTCP, "10.0.10.10", 8001), Port(kTCP, "0.0.0.0", 8001)},
       {{Port(kTCP, "127.0.0.1", 8001)}},
       false},
      {"UDP hostPort on 0.0.0.0 does not hold TCP",
       {Port(kUDP, "0.0.0.0", 8001)},
       {{Port(kTCP, "10.0.10.10", 8001)}},
       true},
      {"UDP hostPort on 0.0.0.0 does not block TCP",
       {Port(kTCP, "10.0.10.10", 8001)},
       {{Port(kUDP, "0.0.0.0", 8001)}},
       true},
      {"same sctp port",
       {Port(kSCTP, "127.0.0.1", 8080)},
       {{Port(kSCTP, "127.0.0.1", 8080)}},
       false},
      {"sctp and tcp on the same port",
       {Port(kSCTP, "127.0.0.1", 8080)},
       {{Port(kTCP, "127.0.0.1", 8080)}},
       true},
      {"SCTP hostPort conflict due to 0.0.0.0 hostIP",
       {Port(kSCTP, "10.0.10.10", 8001)},
       {{Port(kSCTP, "0.0.0.0", 8001)}},
       false},
      {"conflict with the second of several pods",
       {Port(kTCP, "0.0.0.0", 443)},
       {{Port(kTCP, "0.0.0.0", 80)}, {Port(kTCP, "192.168.1.5", 443)}},
       false},
  };

  NodePorts plugin;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    model::Pod pod = PodWithPorts("p", c.want);
    std::vector<model::Pod> existing;
    for (size_t i = 0; i < c.existing.size(); ++i) {
      existing.push_back(PodWithPorts("e" + std::to_string(i), c.existing[i]));
    }
    const framework::NodeInfo info = MakeNodeInfo(MakeNode("n", NoResources()), existing);
    framework::CycleState state;
    ASSERT_TRUE(plugin.PreFilter(state, pod, {&info}).ok());
    framework::Status s = plugin.Filter(state, pod, info);
    if (c.fits) {
      EXPECT_TRUE(s.ok()) << s.Message();
    } else {
      EXPECT_EQ(s.code(), Code::kUnschedulable);
      EXPECT_EQ(s.Message(), "node(s) didn't have free ports for the requested pod ports");
    }

    framework::NodeTable table;
    table.Build({&info});
    ASSERT_TRUE(plugin.FiltersRows(state, pod));
    uint8_t passed = 1;
    plugin.FilterRows(state, pod, table, 0, 1, &passed);
    EXPECT_EQ(passed != 0, c.fits);
  }
}

TEST(NodePortsTest, PreFilterSkipsPodsWithoutHostPorts) {
  NodePorts plugin;
  framework::CycleState state;
  EXPECT_TRUE(plugin.PreFilter(state, MakePod("p", NoResources()), {}).IsSkip());
  EXPECT_TRUE(plugin.PreFilter(state, PodWithPorts("q", {Port(kTCP, "0.0.0.0", 80)}), {}).ok());
}

// The node's held ports follow its pods: removing the holder frees the port
// (what preemption relies on).
TEST(NodePortsTest, RemovingTheHolderFreesThePort) {
  NodePorts plugin;
  framework::CycleState state;
  const model::Pod holder = PodWithPorts("holder", {Port(kTCP, "0.0.0.0", 80)});
  framework::NodeInfo info = MakeNodeInfo(MakeNode("n", NoResources()), {holder});
  const model::Pod pod = PodWithPorts("p", {Port(kTCP, "10.0.0.1", 80)});
  EXPECT_FALSE(plugin.Filter(state, pod, info).ok());
  ASSERT_TRUE(info.RemovePod(holder).ok());
  EXPECT_TRUE(plugin.Filter(state, pod, info).ok());
}

TEST(NodePortsTest, FilterRowsAgreesWithFilter) {
  const model::Pod pod = PodWithPorts("p", {Port(kTCP, "0.0.0.0", 8080)});
  std::vector<framework::NodeInfo> infos = {
      MakeNodeInfo(MakeNode("free", NoResources())),
      MakeNodeInfo(MakeNode("held", NoResources()),
                   {PodWithPorts("e1", {Port(kTCP, "10.1.1.1", 8080)})}),
      MakeNodeInfo(MakeNode("other-port", NoResources()),
                   {PodWithPorts("e2", {Port(kTCP, "10.1.1.1", 9090)})}),
      MakeNodeInfo(MakeNode("held-but-rejected", NoResources()),
                   {PodWithPorts("e3", {Port(kTCP, "0.0.0.0", 8080)})}),
  };
  std::vector<const framework::NodeInfo*> ptrs;
  for (const framework::NodeInfo& i : infos) ptrs.push_back(&i);
  framework::NodeTable table;
  table.Build(ptrs);
  NodePorts plugin;
  framework::CycleState state;
  std::vector<uint8_t> passed = {1, 1, 1, 0};
  plugin.FilterRows(state, pod, table, 0, ptrs.size(), passed.data());
  EXPECT_EQ(passed, (std::vector<uint8_t>{1, 0, 1, 0}));
  for (size_t r = 0; r < 3; ++r) {
    EXPECT_EQ(passed[r] != 0, plugin.Filter(state, pod, *ptrs[r]).ok()) << r;
  }
}

}  // namespace
}  // namespace kestrel::predicates
