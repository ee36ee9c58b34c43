// `kestrel generate --format`: the same cluster in YAML, JSON and
// Kubernetes protobuf loads and schedules alike.

#include "sim/format.h"

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "scheduler/profile.h"
#include "sim/cluster.h"
#include "sim/generate.h"
#include "sim/simulator.h"

namespace kestrel::sim {
namespace {

std::string Generated(GenerateOptions options, OutputFormat format) {
  options.format = format;
  std::ostringstream out;
  absl::Status s = Generate(options, out);
  EXPECT_TRUE(s.ok()) << s;
  return out.str();
}

// One line per placement: pod, node, victims, why not.
std::vector<std::string> Placements(const std::string& name, const std::string& content) {
  absl::StatusOr<Cluster> cluster = LoadContents({{name, content}});
  EXPECT_TRUE(cluster.ok()) << name << ": " << cluster.status();
  if (!cluster.ok()) return {};
  absl::StatusOr<Report> report = Simulate(*cluster, scheduler::DefaultConfig(), SimOptions{});
  EXPECT_TRUE(report.ok()) << name << ": " << report.status();
  if (!report.ok()) return {};
  std::vector<std::string> lines;
  for (const Placement& p : report->placements) {
    lines.push_back(absl::StrCat(p.pod, " -> ", p.node, " [", absl::StrJoin(p.victims, ","),
                                 "] ", p.message));
  }
  return lines;
}

TEST(FormatTest, EveryFormatSchedulesAlike) {
  struct Case {
    std::string workload;
    int nodes, init_pods, pods;
  };
  for (const Case& c : std::vector<Case>{{"SchedulingNodeAffinity", 20, 10, 20},
                                         {"SchedulingBasic", 20, 10, 30},
                                         {"SchedulingPodAntiAffinity", 20, 5, 20},
                                         {"TopologySpreading", 20, 10, 20},
                                         {"PreemptionBasic", 10, 20, 10},
                                         {"SchedulingDaemonset", 10, 0, 10}}) {
    GenerateOptions options;
    options.workload = c.workload;
    options.nodes = c.nodes;
    options.init_pods = c.init_pods;
    options.pods = c.pods;
    const std::string yaml = Generated(options, OutputFormat::kYaml);
    const std::string json = Generated(options, OutputFormat::kJson);
    const std::string protobuf = Generated(options, OutputFormat::kProtobuf);
    EXPECT_TRUE(absl::StartsWith(json, "{\"apiVersion\":\"v1\",\"kind\":\"List\""));
    EXPECT_TRUE(absl::StartsWith(protobuf, absl::string_view("k8s\0", 4)));

    const std::vector<std::string> expected = Placements("c.yaml", yaml);
    ASSERT_FALSE(expected.empty()) << c.workload;
    EXPECT_EQ(Placements("c.json", json), expected) << c.workload;
    EXPECT_EQ(Placements("c.pb", protobuf), expected) << c.workload;
  }
}

TEST(FormatTest, UnknownFormatNamesTheKnownOnes) {
  absl::StatusOr<OutputFormat> format = ParseOutputFormat("xml");
  EXPECT_EQ(format.status().message(),
            "unknown format \"xml\"; known formats: yaml, json, protobuf");
}

}  // namespace
}  // namespace kestrel::sim
