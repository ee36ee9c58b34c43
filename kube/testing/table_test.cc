// The Table form of the fake API server's objects (kube/testing/table.h):
// upstream's HumanDuration, the pod and node cells of upstream's printers,
// and what rows carry as their object.

#include "kube/testing/table.h"

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube::testing {
namespace {

using json = nlohmann::json;

struct DurationCase {
  absl::Duration d;
  std::string want;
};

TEST(HumanDurationTest, MatchesUpstream) {
  const std::vector<DurationCase> cases = {
      {absl::Seconds(-2), "<invalid>"}, {absl::Seconds(-1), "0s"},
      {absl::ZeroDuration(), "0s"},     {absl::Seconds(119), "119s"},
      {absl::Seconds(120), "2m"},       {absl::Seconds(125), "2m5s"},
      {absl::Minutes(10), "10m"},       {absl::Minutes(179), "179m"},
      {absl::Hours(3), "3h"},           {absl::Hours(3) + absl::Minutes(5), "3h5m"},
      {absl::Hours(8), "8h"},           {absl::Hours(47), "47h"},
      {absl::Hours(48), "2d"},          {absl::Hours(49), "2d1h"},
      {absl::Hours(24 * 8), "8d"},      {absl::Hours(24 * 729), "729d"},
      {absl::Hours(24 * 731), "2y1d"},  {absl::Hours(24 * 365 * 8), "8y"},
  };
  for (const DurationCase& c : cases) {
    EXPECT_EQ(HumanDuration(c.d), c.want) << c.d;
  }
}

const absl::Time kCreated = absl::FromUnixSeconds(1704067200);  // 2024-01-01T00:00:00Z
const absl::Time kNow = kCreated + absl::Seconds(90);

json Cells(const std::string& kind, const json& object) {
  const json table =
      ToTable("meta.k8s.io/v1", kind, {{&object, &object}}, IncludeObject::kMetadata, kNow);
  return table["rows"][0]["cells"];
}

// A pod with one container "c" and `status`.
json PodWith(const json& status, const json& extra_meta = json::object()) {
  json pod = {{"kind", "Pod"},
              {"apiVersion", "v1"},
              {"metadata", {{"name", "p"}, {"creationTimestamp", "2024-01-01T00:00:00Z"}}},
              {"spec", {{"containers", {{{"name", "c"}}}}}},
              {"status", status}};
  pod["metadata"].update(extra_meta);
  return pod;
}

struct PodCase {
  std::string name;
  json pod;
  std::string ready;
  std::string status;
  std::string restarts;
};

TEST(ToTableTest, PodCellsFollowUpstreamsPrinter) {
  const json running = {{"running", json::object()}};
  const std::vector<PodCase> cases = {
      {"pending", PodWith({{"phase", "Pending"}}), "0/1", "Pending", "0"},
      {"running and ready",
       PodWith({{"phase", "Running"},
                {"containerStatuses",
                 {{{"name", "c"}, {"ready", true}, {"restartCount", 1}, {"state", running}}}}}),
       "1/1", "Running", "1"},
      {"crash looping",
       PodWith({{"phase", "Running"},
                {"containerStatuses",
                 {{{"name", "c"},
                   {"ready", false},
                   {"restartCount", 3},
                   {"state", {{"waiting", {{"reason", "CrashLoopBackOff"}}}}}}}}}),
       "0/1", "CrashLoopBackOff", "3"},
      {"exited without a reason",
       PodWith({{"phase", "Failed"},
                {"containerStatuses",
                 {{{"name", "c"}, {"state", {{"terminated", {{"exitCode", 2}}}}}}}}}),
       "0/1", "ExitCode:2", "0"},
      {"initializing",
       [] {
         json pod = PodWith(
             {{"phase", "Pending"},
              {"initContainerStatuses",
               {{{"name", "i"}, {"state", {{"waiting", {{"reason", "PodInitializing"}}}}}}}}});
         pod["spec"]["initContainers"] = {{{"name", "i"}}};
         return pod;
       }(),
       "0/1", "Init:0/1", "0"},
      {"init failed",
       PodWith({{"phase", "Pending"},
                {"initContainerStatuses",
                 {{{"name", "i"},
                   {"restartCount", 2},
                   {"state", {{"terminated", {{"exitCode", 1}, {"reason", "Error"}}}}}}}}}),
       "0/1", "Init:Error", "2"},
      {"evicted", PodWith({{"phase", "Failed"}, {"reason", "Evicted"}}), "0/1", "Evicted", "0"},
      {"scheduling gated",
       PodWith(
           {{"phase", "Pending"},
            {"conditions",
             {{{"type", "PodScheduled"}, {"status", "False"}, {"reason", "SchedulingGated"}}}}}),
       "0/1", "SchedulingGated", "0"},
      {"terminating",
       PodWith({{"phase", "Running"}}, {{"deletionTimestamp", "2024-01-01T00:01:00Z"}}), "0/1",
       "Terminating", "0"},
  };
  for (const PodCase& c : cases) {
    const json cells = Cells("Pod", c.pod);
    ASSERT_EQ(cells.size(), 9u) << c.name;
    EXPECT_EQ(cells[0], "p") << c.name;
    EXPECT_EQ(cells[1], c.ready) << c.name;
    EXPECT_EQ(cells[2], c.status) << c.name;
    EXPECT_EQ(cells[3], c.restarts) << c.name;
    EXPECT_EQ(cells[4], "90s") << c.name;
  }
}

TEST(ToTableTest, PodWideCells) {
  json pod = PodWith({{"phase", "Pending"}, {"nominatedNodeName", "n2"}, {"podIP", "10.0.0.7"}});
  pod["spec"]["nodeName"] = "n1";
  EXPECT_EQ(Cells("Pod", pod),
            json::array({"p", "0/1", "Pending", "0", "90s", "10.0.0.7", "n1", "n2", "<none>"}));
  EXPECT_EQ(
      Cells("Pod", PodWith({{"phase", "Pending"}})),
      json::array({"p", "0/1", "Pending", "0", "90s", "<none>", "<none>", "<none>", "<none>"}));
}

struct NodeCase {
  std::string name;
  json node;
  json cells;
};

TEST(ToTableTest, NodeCellsFollowUpstreamsPrinter) {
  const json meta = {{"name", "n1"}, {"creationTimestamp", "2024-01-01T00:00:00Z"}};
  const auto ready = [](const std::string& status) {
    return json{{"conditions", {{{"type", "Ready"}, {"status", status}}}}};
  };
  json full = {{"metadata", meta},
               {"spec", {{"unschedulable", true}}},
               {"status",
                {{"conditions", {{{"type", "Ready"}, {"status", "True"}}}},
                 {"addresses",
                  {{{"type", "InternalIP"}, {"address", "10.0.0.1"}},
                   {{"type", "ExternalIP"}, {"address", "1.2.3.4"}}}},
                 {"nodeInfo",
                  {{"kubeletVersion", "v1.30.2"},
                   {"osImage", "Debian 12"},
                   {"kernelVersion", "6.1"},
                   {"containerRuntimeVersion", "containerd://1.7"}}}}}};
  full["metadata"]["labels"] = {{"node-role.kubernetes.io/worker", ""},
                                {"node-role.kubernetes.io/control-plane", ""},
                                {"kubernetes.io/role", "edge"}};
  const std::vector<NodeCase> cases = {
      {"no conditions",
       {{"metadata", meta}},
       {"n1", "Unknown", "<none>", "90s", "", "<none>", "<none>", "<unknown>", "<unknown>",
        "<unknown>"}},
      {"ready",
       {{"metadata", meta}, {"status", ready("True")}},
       {"n1", "Ready", "<none>", "90s", "", "<none>", "<none>", "<unknown>", "<unknown>",
        "<unknown>"}},
      {"not ready",
       {{"metadata", meta}, {"status", ready("False")}},
       {"n1", "NotReady", "<none>", "90s", "", "<none>", "<none>", "<unknown>", "<unknown>",
        "<unknown>"}},
      {"cordoned, with roles and node info",
       full,
       {"n1", "Ready,SchedulingDisabled", "control-plane,edge,worker", "90s", "v1.30.2", "10.0.0.1",
        "1.2.3.4", "Debian 12", "6.1", "containerd://1.7"}},
  };
  for (const NodeCase& c : cases) {
    EXPECT_EQ(Cells("Node", c.node), c.cells) << c.name;
  }
}

TEST(ToTableTest, ColumnsAndRowObjects) {
  const json node = {{"kind", "Node"},
                     {"apiVersion", "v1"},
                     {"metadata", {{"name", "n1"}, {"labels", {{"a", "b"}}}}},
                     {"spec", json::object()}};
  const json table =
      ToTable("meta.k8s.io/v1beta1", "Node", {{&node, &node}}, IncludeObject::kMetadata, kNow);
  EXPECT_EQ(table["kind"], "Table");
  EXPECT_EQ(table["apiVersion"], "meta.k8s.io/v1beta1");
  std::vector<std::string> names;
  std::vector<int> priorities;
  for (const json& c : table["columnDefinitions"]) {
    names.push_back(c["name"]);
    priorities.push_back(c["priority"]);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"Name", "Status", "Roles", "Age", "Version",
                                             "Internal-IP", "External-IP", "OS-Image",
                                             "Kernel-Version", "Container-Runtime"}));
  EXPECT_EQ(priorities, (std::vector<int>{0, 0, 0, 0, 0, 1, 1, 1, 1, 1}));
  EXPECT_EQ(table["columnDefinitions"][0]["format"], "name");
  // The age of an object without a creationTimestamp is unknown.
  EXPECT_EQ(table["rows"][0]["cells"][3], "<unknown>");
  EXPECT_EQ(table["rows"][0]["object"], json({{"kind", "PartialObjectMetadata"},
                                              {"apiVersion", "meta.k8s.io/v1beta1"},
                                              {"metadata", node["metadata"]}}));

  EXPECT_EQ(ToTable("meta.k8s.io/v1", "Node", {{&node, &node}}, IncludeObject::kObject,
                    kNow)["rows"][0]["object"],
            node);
  EXPECT_FALSE(
      ToTable("meta.k8s.io/v1", "Node", {{&node, &node}}, IncludeObject::kNone, kNow)["rows"][0]
          .contains("object"));
  // Watch events after the first leave the columns out.
  EXPECT_TRUE(ToTable("meta.k8s.io/v1", "Node", {{&node, &node}}, IncludeObject::kMetadata, kNow,
                      /*headers=*/false)["columnDefinitions"]
                  .is_null());
  // No rows: an empty list.
  EXPECT_EQ(ToTable("meta.k8s.io/v1", "Node", {}, IncludeObject::kMetadata, kNow)["rows"],
            json::array());
}

struct KindColumnsCase {
  std::string kind;
  json object;
  std::vector<std::string> columns;
  json cells;
};

TEST(ToTableTest, OtherKinds) {
  const json meta = {{"name", "x"}, {"creationTimestamp", "2024-01-01T00:00:00Z"}};
  const std::vector<KindColumnsCase> cases = {
      {"Namespace",
       {{"metadata", meta}, {"status", {{"phase", "Active"}}}},
       {"Name", "Status", "Age"},
       {"x", "Active", "90s"}},
      {"PodDisruptionBudget",
       {{"metadata", meta},
        {"spec", {{"minAvailable", "50%"}}},
        {"status", {{"disruptionsAllowed", 2}}}},
       {"Name", "Min Available", "Max Unavailable", "Allowed Disruptions", "Age"},
       {"x", "50%", "N/A", 2, "90s"}},
      {"PriorityClass",
       {{"metadata", meta}, {"value", 1000}, {"globalDefault", true}},
       {"Name", "Value", "Global-Default", "Age", "PreemptionPolicy"},
       {"x", 1000, true, "90s", "PreemptLowerPriority"}},
      {"Lease",
       {{"metadata", meta}, {"spec", {{"holderIdentity", "kestrel-1"}}}},
       {"Name", "Holder", "Age"},
       {"x", "kestrel-1", "90s"}},
      {"Event",
       {{"metadata", meta},
        {"type", "Warning"},
        {"reason", "FailedScheduling"},
        {"message", "0/3 nodes are available"},
        {"lastTimestamp", "2024-01-01T00:00:30Z"},
        {"firstTimestamp", "2024-01-01T00:00:10Z"},
        {"count", 4},
        {"source", {{"component", "default-scheduler"}}},
        {"involvedObject", {{"kind", "Pod"}, {"name", "web-1"}}}},
       {"Last Seen", "Type", "Reason", "Object", "Subobject", "Source", "Message", "First Seen",
        "Count", "Name"},
       {"60s", "Warning", "FailedScheduling", "pod/web-1", "", "default-scheduler",
        "0/3 nodes are available", "80s", 4, "x"}},
      {"Widget", {{"metadata", meta}}, {"Name", "Age"}, {"x", "90s"}},
  };
  for (const KindColumnsCase& c : cases) {
    const json table =
        ToTable("meta.k8s.io/v1", c.kind, {{&c.object, &c.object}}, IncludeObject::kNone, kNow);
    std::vector<std::string> columns;
    for (const json& d : table["columnDefinitions"]) columns.push_back(d["name"]);
    EXPECT_EQ(columns, c.columns) << c.kind;
    EXPECT_EQ(table["rows"][0]["cells"], c.cells) << c.kind;
  }
}

TEST(ParseIncludeObjectTest, KnowsThePolicies) {
  EXPECT_EQ(*ParseIncludeObject(""), IncludeObject::kMetadata);
  EXPECT_EQ(*ParseIncludeObject("Metadata"), IncludeObject::kMetadata);
  EXPECT_EQ(*ParseIncludeObject("Object"), IncludeObject::kObject);
  EXPECT_EQ(*ParseIncludeObject("None"), IncludeObject::kNone);
  absl::StatusOr<IncludeObject> bad = ParseIncludeObject("All");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "Unable to convert to Table as requested: includeObject: Unsupported value: \"All\": "
            "supported values: \"Metadata\", \"None\", \"Object\"");
}

}  // namespace
}  // namespace kestrel::kube::testing
