// The HTML report's data against `kestrel simulate --output=json`: one run,
// both renderings, the same placements, messages, counts and events; the
// report's observer does not change placements; workloads, reason
// histograms and the compact explain records.

#include "sim/html_report.h"

#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "scheduler/profile.h"
#include "sim/cluster.h"
#include "sim/generate.h"
#include "sim/report.h"
#include "sim/simulator.h"

namespace kestrel::sim {
namespace {

using nlohmann::json;

// `kestrel generate --workload=Demo`, small: zones, workloads, unschedulable
// pods, and many nodes tied at the best score, so that the scheduler draws
// on its randomness (the testdata clusters rarely tie).
constexpr char kDemo[] = "generated Demo";

// Every scenario of testdata/ with something to show: unschedulable pods,
// preemption (with and without a budget), the rescheduler's evictions and
// taints, pods bound to a node that is gone.
const char* const kClusters[] = {
    "testdata/small/cluster.yaml",
    "testdata/small/missing_node.yaml",
    "testdata/plugins/cluster.yaml",
    "testdata/preemption/high-priority/cluster.yaml",
    "testdata/preemption/high-priority-pdb/cluster.yaml",
    "testdata/preemption/never/cluster.yaml",
    "testdata/critical/kube-dns/cluster.yaml",
    "testdata/critical/kube-dns-pdb/cluster.yaml",
    "testdata/critical/legacy-1.4/cluster.yaml",
    kDemo,
};

struct SimRun {
  Cluster cluster;
  Report report;
  std::unique_ptr<ReportRecorder> recorder;
};


absl::StatusOr<Cluster> Load(const std::string& path) {
  if (path != kDemo) return LoadFiles({path});
  GenerateOptions options;
  options.workload = "Demo";
  options.nodes = 60;
  options.init_pods = 60;
  options.pods = 150;
  std::ostringstream yaml;
  if (absl::Status s = Generate(options, yaml); !s.ok()) return s;
  return LoadContents({{"demo.yaml", yaml.str()}});
}

SimRun Simulated(const std::string& path, const HtmlReportOptions& options, bool observe = true) {
  SimRun run;
  absl::StatusOr<Cluster> cluster = Load(path);
  EXPECT_TRUE(cluster.ok()) << path << ": " << cluster.status();
  if (!cluster.ok()) return run;
  run.cluster = *std::move(cluster);
  run.recorder = std::make_unique<ReportRecorder>(options, run.cluster.pending_pods.size());
  SimOptions sim;
  sim.threads = 1;
  if (observe) sim.observer = run.recorder.get();
  absl::StatusOr<Report> report = Simulate(run.cluster, scheduler::DefaultConfig(), sim);
  EXPECT_TRUE(report.ok()) << path << ": " << report.status();
  if (report.ok()) run.report = *std::move(report);
  return run;
}

// The JSON in the page's <script type="application/json" id="kestrel-data">.
json EmbeddedData(const std::string& page) {
  const std::string open = "<script type=\"application/json\" id=\"kestrel-data\">";
  const size_t begin = page.find(open);
  EXPECT_NE(begin, std::string::npos);
  if (begin == std::string::npos) return json();
  EXPECT_EQ(page.find(open, begin + 1), std::string::npos) << "two data elements";
  const size_t start = begin + open.size();
  const size_t end = page.find("</script>", start);
  EXPECT_NE(end, std::string::npos);
  return json::parse(page.substr(start, end - start));
}

TEST(HtmlReportTest, EmbeddedDataAgreesWithJsonOutput) {
  for (const char* path : kClusters) {
    SCOPED_TRACE(path);
    HtmlReportOptions options;
    SimRun run = Simulated(path, options);
    const json want = json::parse(SimulateJson(run.report));
    const json got = EmbeddedData(HtmlReport(run.cluster, run.report, *run.recorder, options));
    ASSERT_TRUE(got.is_object());
    const json& strings = got["strings"];
    const json& pods = got["pods"];
    const json& nodes = got["nodes"]["name"];

    const json& placements = want["placements"];
    ASSERT_EQ(pods["name"].size(), placements.size());
    // nominated and victims are sparse: [[pod index, value]...].
    std::map<size_t, json> nominated, victims;
    for (const json& e : pods["nominated"]) nominated[e[0].get<size_t>()] = e[1];
    for (const json& e : pods["victims"]) victims[e[0].get<size_t>()] = e[1];
    for (size_t i = 0; i < placements.size(); ++i) {
      const json& p = placements[i];
      SCOPED_TRACE(p["pod"].get<std::string>());
      EXPECT_EQ(pods["name"][i], p["pod"]);
      const int node = pods["node"][i].get<int>();
      if (p["node"].is_null()) {
        EXPECT_EQ(node, -1);
        EXPECT_EQ(strings[pods["message"][i].get<int>()], p["message"]);
      } else {
        ASSERT_GE(node, 0);
        EXPECT_EQ(nodes[node], p["node"]);
        EXPECT_EQ(pods["message"][i], -1);
      }
      if (p.contains("nominatedNode")) {
        EXPECT_EQ(nominated[i], p["nominatedNode"]);
      } else {
        EXPECT_EQ(nominated.count(i), 0u);
      }
      if (p.contains("victims")) {
        EXPECT_EQ(victims[i], p["victims"]);
      } else {
        EXPECT_EQ(victims.count(i), 0u);
      }
      absl::Duration at;
      if (p.contains("at")) {
        ASSERT_TRUE(absl::ParseDuration(p["at"].get<std::string>(), &at));
      }
      EXPECT_EQ(pods["at"][i].get<double>(), absl::ToDoubleSeconds(at));
    }

    const json& summary = want["summary"];
    for (const char* key : {"scheduled", "unschedulable", "preempted", "evicted"}) {
      EXPECT_EQ(got["summary"][key], summary[key]) << key;
    }
    EXPECT_EQ(got["summary"]["onUnknownNodes"], summary.value("onUnknownNodes", 0));
    EXPECT_EQ(got["summary"]["nodes"], run.cluster.nodes.size());
    EXPECT_EQ(got["summary"]["podsToPlace"], placements.size());

    const json& events = want["events"];
    ASSERT_EQ(got["events"].size(), events.size());
    for (size_t i = 0; i < events.size(); ++i) {
      const json& e = got["events"][i];
      absl::Duration at;
      ASSERT_TRUE(absl::ParseDuration(events[i]["at"].get<std::string>(), &at));
      EXPECT_EQ(e[0].get<double>(), absl::ToDoubleSeconds(at));
      EXPECT_EQ(strings[e[1].get<int>()], events[i]["object"]);
      EXPECT_EQ(strings[e[2].get<int>()], events[i]["type"]);
      EXPECT_EQ(strings[e[3].get<int>()], events[i]["reason"]);
      EXPECT_EQ(strings[e[4].get<int>()], events[i]["message"]);
    }

    // The bars add up to the unschedulable pods' reasons.
    int64_t bar_nodes = 0;
    for (const json& bar : got["fitReasons"]) bar_nodes += bar[3].get<int64_t>();
    int64_t reason_nodes = 0;
    for (const Placement& p : run.report.placements) {
      for (const scheduler::ReasonCount& r : p.fit_reasons) reason_nodes += r.nodes;
    }
    EXPECT_EQ(bar_nodes, reason_nodes);

    // Every node has a cell's worth of data, before and after.
    for (const char* when : {"before", "after"}) {
      for (const char* column : {"cpu", "mem", "pods"}) {
        EXPECT_EQ(got["nodes"][when][column].size(), run.cluster.nodes.size()) << when << column;
      }
    }
  }
}

// The scenarios cover what the comparison above must see.
TEST(HtmlReportTest, ScenariosCoverEveryKindOfPlacement) {
  int unschedulable = 0, preempted = 0, evicted = 0, events = 0, nominated = 0;
  for (const char* path : kClusters) {
    SimRun run = Simulated(path, HtmlReportOptions());
    unschedulable += run.report.unschedulable;
    preempted += run.report.preempted;
    evicted += run.report.evicted;
    events += static_cast<int>(run.report.events.size());
    for (const Placement& p : run.report.placements) nominated += !p.nominated_node.empty();
  }
  EXPECT_GT(unschedulable, 0);
  EXPECT_GT(preempted, 0);
  EXPECT_GT(evicted, 0);
  EXPECT_GT(events, 0);
}

// Explaining pods during the run (every pod here) leaves every placement,
// message and event as it is without the report.
TEST(HtmlReportTest, RecordingDoesNotChangePlacements) {
  HtmlReportOptions every_pod;
  every_pod.sampled_records = 1 << 20;  // stride 1
  for (const char* path : kClusters) {
    SCOPED_TRACE(path);
    SimRun with = Simulated(path, every_pod);
    SimRun without = Simulated(path, every_pod, /*observe=*/false);
    EXPECT_EQ(SimulateJson(with.report, /*with_timing=*/false),
              SimulateJson(without.report, /*with_timing=*/false));
    EXPECT_EQ(with.recorder->records().size() + with.recorder->explain_errors().size(),
              with.report.placements.size());
  }
}

// The histogram a placement carries is the FitError message's own.
TEST(HtmlReportTest, FitReasonsMatchTheMessage) {
  int checked = 0, with_plugin = 0;
  for (const char* path : kClusters) {
    SimRun run = Simulated(path, HtmlReportOptions());
    for (const Placement& p : run.report.placements) {
      if (p.node.empty() && !p.fit_reasons.empty()) {
        SCOPED_TRACE(p.pod);
        std::vector<std::string> parts;
        for (const scheduler::ReasonCount& r : p.fit_reasons) {
          parts.push_back(absl::StrCat(r.nodes, " ", r.reason));
        }
        std::sort(parts.begin(), parts.end());
        const std::string histogram = absl::StrCat(
            "0/", run.report.nodes, " nodes are available: ", absl::StrJoin(parts, ", "), ".");
        // A PreFilter rejection stands alone in the message, counted on
        // every node in the histogram.
        const scheduler::ReasonCount& first = p.fit_reasons.front();
        const bool pre_filter =
            p.fit_reasons.size() == 1 && first.nodes == run.report.nodes &&
            absl::StartsWith(p.message, absl::StrCat("0/", run.report.nodes,
                                                     " nodes are available: ", first.reason, "."));
        EXPECT_TRUE(absl::StartsWith(p.message, histogram) || pre_filter)
            << p.message << "\nvs " << histogram;
        for (const scheduler::ReasonCount& r : p.fit_reasons) with_plugin += !r.plugin.empty();
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 0);
  EXPECT_GT(with_plugin, 0);
}

TEST(HtmlReportTest, PageIsSelfContained) {
  HtmlReportOptions options;
  SimRun run = Simulated("testdata/critical/kube-dns/cluster.yaml", options);
  const std::string page = HtmlReport(run.cluster, run.report, *run.recorder, options);
  EXPECT_EQ(page.find("/*KESTREL_DATA*/"), std::string::npos);
  // Nothing to fetch: no external scripts, styles, images or fonts.
  for (const char* fetch : {"src=", "<link", "@import", "url(", "https://"}) {
    EXPECT_EQ(page.find(fetch), std::string::npos) << fetch;
  }
  // The only http:// is the SVG namespace, which is a name, not a fetch.
  size_t http = 0;
  for (size_t at = page.find("http://"); at != std::string::npos; at = page.find("http://", at + 1)) {
    EXPECT_EQ(page.substr(at, 26), "http://www.w3.org/2000/svg");
    ++http;
  }
  EXPECT_EQ(http, 1u);
}

TEST(HtmlReportTest, DataCannotCloseItsScriptElement) {
  HtmlReportOptions options;
  SimRun run = Simulated("testdata/small/cluster.yaml", options);
  ASSERT_FALSE(run.report.placements.empty());
  run.report.placements[0].node.clear();
  run.report.placements[0].message = "</script><script>alert(1)</script><!--";
  const std::string page = HtmlReport(run.cluster, run.report, *run.recorder, options);
  EXPECT_EQ(page.find("alert(1)</script>"), std::string::npos);
  const json data = EmbeddedData(page);
  EXPECT_EQ(data["strings"][data["pods"]["message"][0].get<int>()],
            "</script><script>alert(1)</script><!--");
}

TEST(HtmlReportTest, NodesGroupByLabel) {
  struct Case {
    std::string group_by;
    std::vector<std::string> groups;
    std::vector<int> node_groups;  // node-a, node-b, node-small, node-cordoned, node-gpu
  };
  const std::vector<Case> cases = {
      {"topology.kubernetes.io/zone", {"zone-1", "zone-2"}, {0, 0, 1, 1, 1}},
      // Only node-a has it: the others are "(none)".
      {"kubernetes.io/os", {"(none)", "linux"}, {1, 0, 0, 0, 0}},
      {"no-such-label", {"(none)"}, {0, 0, 0, 0, 0}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.group_by);
    HtmlReportOptions options;
    options.group_by = c.group_by;
    SimRun run = Simulated("testdata/small/cluster.yaml", options);
    const json data = json::parse(HtmlReportData(run.cluster, run.report, *run.recorder, options));
    EXPECT_EQ(data["groupBy"], c.group_by);
    EXPECT_EQ(data["groups"], json(c.groups));
    EXPECT_EQ(data["nodes"]["group"], json(c.node_groups));
  }
}

// Pods on nodes after the run: those before, plus the placed ones, less
// the victims.
TEST(HtmlReportTest, UsageBeforeAndAfter) {
  for (const char* path : kClusters) {
    SCOPED_TRACE(path);
    SimRun run = Simulated(path, HtmlReportOptions());
    int before = 0, after = 0;
    for (const ReportRecorder::NodeUsage& u : run.recorder->before()) before += u.pods;
    for (const ReportRecorder::NodeUsage& u : run.recorder->after()) after += u.pods;
    EXPECT_EQ(before, run.report.existing_pods);
    EXPECT_EQ(after, before + run.report.scheduled - run.report.preempted - run.report.evicted);
  }
}

model::Pod PodWith(model::Interner& names, std::vector<model::OwnerRef> owners,
                   std::vector<std::pair<std::string, std::string>> labels) {
  model::Pod pod;
  pod.ns = "default";
  pod.name = "p";
  pod.owners = std::move(owners);
  std::vector<model::Label> l;
  for (const auto& [k, v] : labels) l.push_back({names.Intern(k), names.Intern(v), std::nullopt});
  pod.labels = model::Labels(std::move(l));
  return pod;
}

TEST(HtmlReportTest, WorkloadOf) {
  model::Interner names;
  struct Case {
    std::string name;
    std::vector<model::OwnerRef> owners;
    std::vector<std::pair<std::string, std::string>> labels;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"deployment's replica set", {{"ReplicaSet", "web-5d8f7c9b4", true}},
       {{"pod-template-hash", "5d8f7c9b4"}}, "Deployment default/web"},
      {"replica set without the hash label", {{"ReplicaSet", "web-5d8f7c9b4", true}}, {},
       "ReplicaSet default/web-5d8f7c9b4"},
      {"hash that is not the name's suffix", {{"ReplicaSet", "web", true}},
       {{"pod-template-hash", "5d8f7c9b4"}}, "ReplicaSet default/web"},
      {"stateful set", {{"StatefulSet", "db", true}}, {{"app", "db"}}, "StatefulSet default/db"},
      {"not the controller", {{"ReplicaSet", "x", false}, {"Job", "j", true}}, {},
       "Job default/j"},
      {"no controller: the app label", {{"ReplicaSet", "x", false}}, {{"app", "web"}},
       "app=web in default"},
      {"k8s-app label", {}, {{"k8s-app", "kube-dns"}}, "k8s-app=kube-dns in default"},
      {"nothing", {}, {{"tier", "web"}}, ""},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(WorkloadOf(PodWith(names, c.owners, c.labels), names), c.want) << c.name;
  }
}

}  // namespace
}  // namespace kestrel::sim
