// Golden tests for `kestrel simulate` and `kestrel explain`: the library
// calls the binary makes, on the clusters of testdata/, compared byte for byte with the
// checked-in outputs (wall-clock figures left out). Beside them, the
// placements and scores are asserted against values worked out by hand from
// upstream kube-scheduler's formulas, so a regenerated golden cannot quietly
// accept a semantic change.
//
// Regenerate the goldens (then review the diff by hand):
//   tools/update_golden.sh
// which runs `bazel run //sim:golden_test -- --update`: the outputs are
// rendered instead of compared, every other test runs as usual, and the
// goldens are written into the source tree ($BUILD_WORKSPACE_DIRECTORY) only
// when every test ran and passed. A hand-checked test that fails (or was
// filtered out) leaves every golden as it was.

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/config/config.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "scheduler/plugins.h"
#include "scheduler/profile.h"
#include "sim/cluster.h"
#include "sim/explain.h"
#include "sim/report.h"
#include "sim/simulator.h"

namespace kestrel::sim {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

// Set by main() for --update.
bool g_update = false;
std::string g_workspace;
// --update: the rendered goldens (path under the workspace -> contents),
// written by main() once every test has passed.
std::map<std::string, std::string>* g_pending = new std::map<std::string, std::string>();

constexpr char kClusterYaml[] = "testdata/small/cluster.yaml";
constexpr char kMostAllocated[] = "testdata/small/most_allocated.yaml";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot open " << path;
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

absl::StatusOr<config::KubeSchedulerConfiguration> Config(const std::string& path) {
  if (path.empty()) return scheduler::DefaultConfig();
  return scheduler::LoadConfig(path, scheduler::InTreeRegistry());
}

SimOptions Options(int threads = 1) {
  SimOptions options;
  options.seed = 1;  // the binary's default
  options.threads = threads;
  return options;
}

absl::StatusOr<Report> RunSimulate(const std::string& cluster_path,
                                   const std::string& config_path, int threads = 1) {
  absl::StatusOr<Cluster> cluster = LoadFiles({cluster_path});
  if (!cluster.ok()) return cluster.status();
  absl::StatusOr<config::KubeSchedulerConfiguration> config = Config(config_path);
  if (!config.ok()) return config.status();
  return Simulate(*cluster, *config, Options(threads));
}

absl::StatusOr<Explanation> RunExplain(const std::string& cluster_path,
                                       const std::string& config_path,
                                       const std::string& pod) {
  absl::StatusOr<Cluster> cluster = LoadFiles({cluster_path});
  if (!cluster.ok()) return cluster.status();
  absl::StatusOr<config::KubeSchedulerConfiguration> config = Config(config_path);
  if (!config.ok()) return config.status();
  return Explain(*cluster, *config, pod, Options());
}

// ---------------------------------------------------------------------------
// Goldens.

enum class Command { kSimulate, kExplain };
enum class Format { kText, kJson };

struct GoldenCase {
  std::string dir;     // testdata/<dir>/cluster.yaml is the cluster
  std::string golden;  // testdata/<dir>/<golden>
  Command command;
  Format format;
  std::string config;  // empty: the default configuration
  std::string pod;     // explain only
};

void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.dir << "/" << c.golden; }

std::string GoldenPath(const GoldenCase& c) {
  return absl::StrCat("testdata/", c.dir, "/", c.golden);
}
std::string ClusterPath(const GoldenCase& c, absl::string_view ext = "yaml") {
  return absl::StrCat("testdata/", c.dir, "/cluster.", ext);
}

// What `kestrel simulate|explain --cluster=testdata/<dir>/cluster.yaml ...`
// prints, without wall-clock figures.
// explain.<name>.golden.<json|txt> for pod "<namespace>/<name>".
std::string ExplainGolden(absl::string_view pod, Format f) {
  return absl::StrCat("explain.", pod.substr(pod.find('/') + 1), ".golden.",
                      f == Format::kJson ? "json" : "txt");
}

// The pending pods of testdata/plugins/cluster.yaml.
constexpr const char* kPluginPods[] = {
    "default/api",       "default/web-blocked", "default/loner",
    "default/tolerant",  "default/spread-3",    "default/spread-soft",
    "default/web-port",  "kube-system/agent-b2", "kube-system/kube-dns-legacy",
    "default/legacy-bad",
};

absl::StatusOr<std::string> Render(const GoldenCase& c, const std::string& cluster_path) {
  if (c.command == Command::kSimulate) {
    absl::StatusOr<Report> report = RunSimulate(cluster_path, c.config);
    if (!report.ok()) return report.status();
    return c.format == Format::kJson ? SimulateJson(*report, /*with_timing=*/false)
                                     : SimulateText(*report, /*placements=*/true,
                                                    /*with_timing=*/false);
  }
  absl::StatusOr<Explanation> e = RunExplain(cluster_path, c.config, c.pod);
  if (!e.ok()) return e.status();
  return c.format == Format::kJson ? ExplainJson(*e) : ExplainText(*e);
}

const std::vector<GoldenCase>& GoldenCases() {
  static const auto* cases = [] {
    auto* out = new std::vector<GoldenCase>{
        {"small", "simulate.golden.json", Command::kSimulate, Format::kJson, "", ""},
        {"small", "simulate.golden.txt", Command::kSimulate, Format::kText, "", ""},
        {"small", "simulate.most_allocated.golden.json", Command::kSimulate, Format::kJson,
         kMostAllocated, ""},
        {"plugins", "simulate.golden.txt", Command::kSimulate, Format::kText, "", ""},
    };
    // Preemption and the critical-addon rescheduler.
    for (const char* dir : {"preemption/high-priority", "preemption/high-priority-pdb",
                            "preemption/never", "critical/kube-dns", "critical/kube-dns-pdb",
                            "critical/legacy-1.4"}) {
      out->push_back({dir, "simulate.golden.json", Command::kSimulate, Format::kJson, "", ""});
      out->push_back({dir, "simulate.golden.txt", Command::kSimulate, Format::kText, "", ""});
    }
    // Workloads expanded into pods (sim/cluster.h).
    out->push_back(
        {"workloads/mixed", "simulate.golden.json", Command::kSimulate, Format::kJson, "", ""});
    out->push_back(
        {"workloads/mixed", "simulate.golden.txt", Command::kSimulate, Format::kText, "", ""});
    for (const char* pod : {"default/with-init", "default/big-batch"}) {
      for (Format f : {Format::kJson, Format::kText}) {
        out->push_back({"small", ExplainGolden(pod, f), Command::kExplain, f, "", pod});
      }
    }
    // Every filter and score plugin of the default profile at work.
    for (const char* pod : kPluginPods) {
      for (Format f : {Format::kJson, Format::kText}) {
        out->push_back({"plugins", ExplainGolden(pod, f), Command::kExplain, f, "", pod});
      }
    }
    return out;
  }();
  return *cases;
}

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {};

std::string CaseName(const ::testing::TestParamInfo<GoldenCase>& info) {
  std::string name;
  for (char ch : info.param.dir + "_" + info.param.golden) {
    if (std::isalnum(static_cast<unsigned char>(ch))) name += ch;
  }
  return name;
}

TEST_P(GoldenTest, MatchesGolden) {
  const GoldenCase& c = GetParam();
  absl::StatusOr<std::string> actual = Render(c, ClusterPath(c));
  ASSERT_TRUE(actual.ok()) << actual.status();
  // Wall-clock figures change from run to run: never in a golden.
  for (const char* timing : {"seconds", "podsPerSecond", "Wall time", "Throughput"}) {
    EXPECT_FALSE(absl::StrContains(*actual, timing)) << GoldenPath(c) << " has " << timing;
  }
  if (g_update) {
    (*g_pending)[GoldenPath(c)] = *actual;
    return;
  }
  EXPECT_EQ(*actual, ReadFile(GoldenPath(c)))
      << "differs from " << GoldenPath(c)
      << "; if the change is intended, check it by hand, then run tools/update_golden.sh";
}

INSTANTIATE_TEST_SUITE_P(Testdata, GoldenTest, ::testing::ValuesIn(GoldenCases()), CaseName);

// The cases whose cluster also exists as a `kind: List` JSON file
// (testdata/<dir>/cluster.json): only testdata/small has one.
std::vector<GoldenCase> ListJsonCases() {
  std::vector<GoldenCase> out;
  for (const GoldenCase& c : GoldenCases()) {
    if (c.dir == "small") out.push_back(c);
  }
  return out;
}

class ListJsonGoldenTest : public ::testing::TestWithParam<GoldenCase> {};

// The `kind: List` JSON form of the same cluster gives the same results.
TEST_P(ListJsonGoldenTest, MatchesGolden) {
  const GoldenCase& c = GetParam();
  absl::StatusOr<std::string> actual = Render(c, ClusterPath(c, "json"));
  ASSERT_TRUE(actual.ok()) << actual.status();
  if (g_update) {
    // The golden is being rewritten: compare with what the YAML gives now.
    absl::StatusOr<std::string> yaml = Render(c, ClusterPath(c));
    ASSERT_TRUE(yaml.ok()) << yaml.status();
    EXPECT_EQ(*actual, *yaml) << ClusterPath(c, "json") << " and " << ClusterPath(c) << " differ";
    return;
  }
  EXPECT_EQ(*actual, ReadFile(GoldenPath(c)));
}

INSTANTIATE_TEST_SUITE_P(Testdata, ListJsonGoldenTest, ::testing::ValuesIn(ListJsonCases()),
                         CaseName);

// Placements must not depend on the number of filter/score threads.
TEST(GoldenFilesTest, ThreadCountDoesNotChangePlacements) {
  absl::StatusOr<Report> one = RunSimulate(kClusterYaml, "", 1);
  absl::StatusOr<Report> two = RunSimulate(kClusterYaml, "", 2);
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(SimulateJson(*one, false), SimulateJson(*two, false));
}

// ---------------------------------------------------------------------------
// Hand-checked against upstream kube-scheduler.
//
// The in-tree plugins with scores are NodeResourcesFit (weight 1) and
// NodeResourcesBalancedAllocation (weight 1). Upstream's default profile also
// scores TaintToleration, NodeAffinity, PodTopologySpread, InterPodAffinity
// and ImageLocality; on this cluster (no taints, no affinities, no images,
// no owners) those add the same amount to every node, so the ranking, and
// thus every placement below, is upstream's.
//
// Cluster state before any pending pod (bound pods, non-zero requests equal
// to requests as every bound pod names cpu and memory; the Succeeded pod
// migrate-once is not counted):
//   node-a         4000m,  8Gi : used 1000m, 2Gi     (coredns-1)
//   node-b         8000m, 16Gi : used 2000m, 4Gi     (db-0)
//   node-small     2000m,  4Gi : 2 of 2 pods         (agent-1, agent-2)
//   node-cordoned  unschedulable
//   node-gpu       4000m, 16Gi, 2 example.com/gpu : nothing
//
// LeastAllocated:  per resource (alloc - req) * 100 / alloc (integer
//                  division), then the weighted average (integer division).
// MostAllocated:   per resource req * 100 / alloc.
// Balanced:        int64((1 - |fcpu - fmem| / 2) * 100), fractions of the
//                  actual requests (no non-zero defaults), capped at 1.

TEST(HandCheckedTest, SimulateLeastAllocated) {
  // web-1 (500m, 1Gi), state as above:
  //   node-a   cpu (4000-1500)*100/4000 = 62  mem (8-3)*100/8 = 62   -> 62
  //            balanced: fcpu .375, fmem .375                         -> 100   total 162
  //   node-b   cpu 5500*100/8000 = 68         mem 11*100/16 = 68     -> 68
  //            balanced: .3125 vs .3125                               -> 100   total 168
  //   node-gpu cpu 3500*100/4000 = 87         mem 15*100/16 = 93     -> 90
  //            balanced: 1 - |.125 - .0625|/2 = .96875                -> 96    total 186
  //   -> node-gpu
  // big-batch (32 cpu) fits nowhere; upstream counts the first failing
  //   filter per node: node-small fails NodeResourcesFit with two reasons.
  // with-init: max(init 3 cpu 1Gi, apps 1 cpu 1Gi) = 3 cpu, 1Gi
  //   node-a   cpu 0, mem 62 -> 31; balanced 1 - |1 - .375|/2 -> 68   total 99
  //   node-b   cpu 37, mem 68 -> 52; balanced 84                      total 136
  //   node-gpu (now with web-1) cpu 500*100/4000=12, mem 14*100/16=87 -> 49;
  //            balanced 1 - |.875 - .125|/2 = .625 -> 62              total 111
  //   -> node-b
  // gpu-job: only node-gpu has example.com/gpu.
  // web-2:  node-a 162, node-b (with with-init) 130, node-gpu (web-1,
  //         gpu-job) 149 -> node-a
  // idle (no requests): node-a 60, node-b 51, node-gpu 70 -> node-gpu
  absl::StatusOr<Report> r = RunSimulate(kClusterYaml, "");
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::pair<std::string, std::string>> got;
  for (const Placement& p : r->placements) got.push_back({p.pod, p.node});
  EXPECT_THAT(got, ElementsAre(Pair("default/web-1", "node-gpu"), Pair("default/big-batch", ""),
                               Pair("default/with-init", "node-b"),
                               Pair("ml/gpu-job", "node-gpu"), Pair("default/web-2", "node-a"),
                               Pair("default/idle", "node-gpu")));
  ASSERT_EQ(r->placements.size(), 6u);
  // Upstream FitError: reasons counted over nodes, sorted as strings
  // ("1 T" < "1 n" < "4 I" byte-wise). Then DefaultPreemption's: the pod
  // asks for more cpu than any node has (Insufficient cpu is then
  // UnschedulableAndUnresolvable) and node-cordoned is cordoned, so preemption
  // could help nowhere.
  EXPECT_EQ(r->placements[1].message,
            "0/5 nodes are available: 1 Too many pods, 1 node(s) were unschedulable, "
            "4 Insufficient cpu. preemption: 0/5 nodes are available: 5 Preemption is not "
            "helpful for scheduling..");
  EXPECT_EQ(r->nodes, 5);
  EXPECT_EQ(r->existing_pods, 5);
  EXPECT_EQ(r->scheduled, 5);
  EXPECT_EQ(r->unschedulable, 1);
}

TEST(HandCheckedTest, SimulateMostAllocated) {
  // web-1 (500m, 1Gi) with MostAllocated:
  //   node-a   cpu 1500*100/4000 = 37   mem 3*100/8 = 37   -> 37; balanced 100  total 137
  //   node-b   cpu 2500*100/8000 = 31   mem 5*100/16 = 31  -> 31; balanced 100  total 131
  //   node-gpu cpu 500*100/4000 = 12    mem 1*100/16 = 6   -> 9;  balanced 96   total 105
  //   -> node-a (LeastAllocated chose node-gpu)
  // with-init then no longer fits node-a (1500m used + 3000m > 4000m):
  //   node-b 46 + 84 = 130, node-gpu 40 + 65 = 105 -> node-b
  // web-2: node-a 50 + 100, node-b 52 + 84, node-gpu 27 + 90 -> node-a
  // idle:  node-a 52, node-b 47, node-gpu 20 -> node-a
  absl::StatusOr<Report> r = RunSimulate(kClusterYaml, kMostAllocated);
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::pair<std::string, std::string>> got;
  for (const Placement& p : r->placements) got.push_back({p.pod, p.node});
  EXPECT_THAT(got, ElementsAre(Pair("default/web-1", "node-a"), Pair("default/big-batch", ""),
                               Pair("default/with-init", "node-b"),
                               Pair("ml/gpu-job", "node-gpu"), Pair("default/web-2", "node-a"),
                               Pair("default/idle", "node-a")));
}

std::map<std::string, const NodeExplanation*> ByNode(const Explanation& e) {
  std::map<std::string, const NodeExplanation*> out;
  for (const NodeExplanation& n : e.nodes) out[n.node] = &n;
  return out;
}

// The score of `plugin` on `node`, or -1 when the plugin did not score.
int64_t ScoreOf(const NodeExplanation& node, const std::string& plugin) {
  for (const auto& [name, score] : node.scores) {
    if (name == plugin) return score;
  }
  return -1;
}

TEST(HandCheckedTest, ExplainWithInit) {
  // Explain sees the cluster as loaded: bound pods only. with-init requests
  // max(init 3000m/1Gi, apps 500m+500m / 512Mi+512Mi) = 3000m, 1Gi.
  //
  // node-a (4000m, 8Gi; used 1000m, 2Gi):
  //   NodeResourcesFit, LeastAllocated:
  //     cpu    (4000 - (1000+3000)) * 100 / 4000       = 0
  //     memory (8Gi - (2Gi+1Gi)) * 100 / 8Gi = 500/8   = 62   (62.5 truncated)
  //     (0*1 + 62*1) / 2                               = 31
  //   NodeResourcesBalancedAllocation:
  //     fcpu = 4000/4000 = 1, fmem = 3Gi/8Gi = 0.375
  //     (1 - |1 - 0.375| / 2) * 100 = 68.75            -> 68
  //   TaintToleration: no feasible node has a PreferNoSchedule taint, so
  //     every raw count is 0 and the reversed normalization gives 100,
  //     weight 3                                       = 300
  //   ImageLocality: no node lists the pod's images    = 0
  //   total 300 + 31 + 68 + 0 = 399
  // node-b (8000m, 16Gi; used 2000m, 4Gi):
  //   cpu 3000*100/8000 = 37, mem 11*100/16 = 68 -> (37+68)/2 = 52
  //   balanced 1 - |0.625 - 0.3125|/2 = 0.84375   -> 84    total 300+136
  // node-gpu (4000m, 16Gi; nothing):
  //   cpu 1000*100/4000 = 25, mem 15*100/16 = 93 -> (25+93)/2 = 59
  //   balanced 1 - |0.75 - 0.0625|/2 = 0.65625    -> 65    total 300+124
  // node-small: 2 of 2 pods and 250m free: "Too many pods, Insufficient cpu".
  // node-cordoned: "node(s) were unschedulable" (explain runs every filter,
  //   so NodeResourcesFit shows "passed" there).
  //
  // Skipped for this pod (upstream runs neither half): NodeAffinity (no
  // node selector or affinity), NodePorts (no host ports), PodTopologySpread
  // (no constraints, and no Service or controller for the system defaults
  // to select by), InterPodAffinity (no terms, none on existing pods).
  absl::StatusOr<Explanation> e = RunExplain(kClusterYaml, "", "default/with-init");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->pod, "default/with-init");
  EXPECT_EQ(e->selected, "node-b");
  EXPECT_FALSE(e->pre_filter_rejection.has_value());
  // Effective requests: max(init 3000m/1Gi, apps 1000m/1Gi); every
  // container names cpu and memory, so the non-zero ones are the same.
  EXPECT_EQ(e->requests.milli_cpu, 3000);
  EXPECT_EQ(e->requests.memory, int64_t{1} << 30);
  EXPECT_EQ(e->requests.ephemeral_storage, 0);
  EXPECT_TRUE(e->requests.scalar.empty());
  EXPECT_EQ(e->requests.non_zero_milli_cpu, 3000);
  EXPECT_EQ(e->requests.non_zero_memory, int64_t{1} << 30);
  auto nodes = ByNode(*e);
  ASSERT_EQ(nodes.size(), 5u);
  EXPECT_THAT(nodes["node-a"]->scores,
              ElementsAre(Pair("TaintToleration", 300), Pair("NodeResourcesFit", 31),
                          Pair("NodeResourcesBalancedAllocation", 68), Pair("ImageLocality", 0)));
  EXPECT_THAT(nodes["node-a"]->skipped_scores,
              ElementsAre("NodeAffinity", "PodTopologySpread", "InterPodAffinity"));
  EXPECT_EQ(nodes["node-a"]->total, 399);
  EXPECT_THAT(nodes["node-b"]->scores,
              ElementsAre(Pair("TaintToleration", 300), Pair("NodeResourcesFit", 52),
                          Pair("NodeResourcesBalancedAllocation", 84), Pair("ImageLocality", 0)));
  EXPECT_EQ(nodes["node-b"]->total, 436);
  EXPECT_THAT(nodes["node-gpu"]->scores,
              ElementsAre(Pair("TaintToleration", 300), Pair("NodeResourcesFit", 59),
                          Pair("NodeResourcesBalancedAllocation", 65), Pair("ImageLocality", 0)));
  EXPECT_EQ(nodes["node-gpu"]->total, 424);
  EXPECT_FALSE(nodes["node-small"]->feasible);
  EXPECT_THAT(nodes["node-small"]->filters,
              ElementsAre(Pair("NodeUnschedulable", "passed"), Pair("NodeName", "passed"),
                          Pair("TaintToleration", "passed"), Pair("NodeAffinity", "skipped"),
                          Pair("NodePorts", "skipped"),
                          Pair("NodeResourcesFit", "Too many pods, Insufficient cpu"),
                          Pair("PodTopologySpread", "skipped"),
                          Pair("InterPodAffinity", "skipped")));
  EXPECT_TRUE(nodes["node-small"]->scores.empty());
  EXPECT_TRUE(nodes["node-small"]->skipped_scores.empty());
  EXPECT_FALSE(nodes["node-cordoned"]->feasible);
  EXPECT_THAT(nodes["node-cordoned"]->filters,
              ElementsAre(Pair("NodeUnschedulable", "node(s) were unschedulable"),
                          Pair("NodeName", "passed"), Pair("TaintToleration", "passed"),
                          Pair("NodeAffinity", "skipped"), Pair("NodePorts", "skipped"),
                          Pair("NodeResourcesFit", "passed"), Pair("PodTopologySpread", "skipped"),
                          Pair("InterPodAffinity", "skipped")));
}

TEST(HandCheckedTest, ExplainBigBatch) {
  absl::StatusOr<Explanation> e = RunExplain(kClusterYaml, "", "default/big-batch");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->selected, "");
  EXPECT_EQ(e->message,
            "0/5 nodes are available: 1 Too many pods, 1 node(s) were unschedulable, "
            "4 Insufficient cpu.");
  for (const NodeExplanation& n : e->nodes) {
    EXPECT_FALSE(n.feasible) << n.node;
    EXPECT_TRUE(n.scores.empty()) << n.node;
  }
}

// A pod with no requests is scored with upstream's non-zero defaults
// (100m cpu, 200Mi memory); BalancedAllocation skips best-effort pods.
//   node-a   cpu (4000-1100)*100/4000 = 72   mem (8192-2248)*100/8192 = 72  -> 72
//   node-b   cpu (8000-2100)*100/8000 = 73   mem (16384-4296)*100/16384 = 73 -> 73
//   node-gpu cpu (4000-100)*100/4000 = 97    mem (16384-200)*100/16384 = 98  -> 97
TEST(HandCheckedTest, ExplainIdleUsesNonZeroDefaults) {
  absl::StatusOr<Explanation> e = RunExplain(kClusterYaml, "", "default/idle");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->selected, "node-gpu");
  auto nodes = ByNode(*e);
  EXPECT_EQ(ScoreOf(*nodes["node-a"], "NodeResourcesFit"), 72);
  EXPECT_EQ(ScoreOf(*nodes["node-b"], "NodeResourcesFit"), 73);
  EXPECT_EQ(ScoreOf(*nodes["node-gpu"], "NodeResourcesFit"), 97);
  // BalancedAllocation skipped the best-effort pod at PreScore: no score,
  // listed as skipped.
  for (const auto& [name, node] : nodes) {
    if (!node->feasible) continue;
    EXPECT_EQ(ScoreOf(*node, "NodeResourcesBalancedAllocation"), -1) << name;
    EXPECT_THAT(node->skipped_scores,
                ::testing::Contains("NodeResourcesBalancedAllocation")) << name;
  }
  // It requests nothing; scoring counts it as 100m and 200Mi.
  EXPECT_EQ(e->requests.milli_cpu, 0);
  EXPECT_EQ(e->requests.memory, 0);
  EXPECT_EQ(e->requests.non_zero_milli_cpu, 100);
  EXPECT_EQ(e->requests.non_zero_memory, 200 << 20);
}

// Extended resources are among the effective requests, by name.
TEST(HandCheckedTest, ExplainGpuJobRequests) {
  // train: cpu 1, memory 2Gi, example.com/gpu 1.
  absl::StatusOr<Explanation> e = RunExplain(kClusterYaml, "", "ml/gpu-job");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->requests.milli_cpu, 1000);
  EXPECT_EQ(e->requests.memory, int64_t{2} << 30);
  EXPECT_THAT(e->requests.scalar, ElementsAre(Pair("example.com/gpu", 1)));
  EXPECT_EQ(e->selected, "node-gpu");
}

// testdata/plugins: every default plugin, worked out by hand.
constexpr char kPluginsCluster[] = "testdata/plugins/cluster.yaml";

TEST(HandCheckedTest, PluginsClusterPlacements) {
  absl::StatusOr<Report> r = RunSimulate(kPluginsCluster, "");
  ASSERT_TRUE(r.ok()) << r.status();
  std::map<std::string, std::string> got;
  for (const Placement& p : r->placements) got[p.pod] = p.node.empty() ? p.message : p.node;
  // Affinity to app=db (zone z1); node-a2 is tainted.
  EXPECT_EQ(got["default/api"], "node-a1");
  // z1 by affinity, but solo-0's anti-affinity closes z1 to app=web. Each
  // node fails at its first failing filter; the histogram sorts as strings.
  EXPECT_EQ(got["default/web-blocked"],
            "0/6 nodes are available: 1 node(s) didn't match pod affinity rules, "
            "1 node(s) didn't satisfy existing pods anti-affinity rules, "
            "1 node(s) had untolerated taint {dedicated: db}, "
            "1 node(s) had untolerated taint {legacy: yes}, "
            "1 node(s) had untolerated taint {node.kubernetes.io/memory-pressure: }, "
            "1 node(s) were unschedulable. "
            // Only the anti-affinity failure is Unschedulable; nothing on that
            // node has a lower priority than the pod.
            "preemption: 0/6 nodes are available: 1 No preemption victims found for incoming "
            "pod, 5 Preemption is not helpful for scheduling..");
  // node-b1 holds team-a's app=cache (namespaceSelector team=devops).
  EXPECT_EQ(got["default/loner"], "node-a1");
  // Feasible a1, a2, b1. NodeAffinity (disktype DoesNotExist, 10): a2, b1
  // -> 100 x 2; TaintToleration: b1's PreferNoSchedule -> b1 0, others
  // 100 x 3. a2 = 300 + 200 + 97 beats b1 = 0 + 200 + 87.
  EXPECT_EQ(got["default/tolerant"], "node-a2");
  // Zone counts of app=spread: z1 2, z2 1, z3 0 (min 0): only z3 is within
  // maxSkew 1, and node-c1 is cordoned.
  EXPECT_EQ(got["default/spread-3"],
            "0/6 nodes are available: 1 node(s) had untolerated taint {dedicated: db}, "
            "1 node(s) had untolerated taint {legacy: yes}, "
            "1 node(s) had untolerated taint {node.kubernetes.io/memory-pressure: }, "
            "1 node(s) were unschedulable, "
            "2 node(s) didn't match pod topology spread constraints. "
            "preemption: 0/6 nodes are available: 2 No preemption victims found for incoming "
            "pod, 4 Preemption is not helpful for scheduling..");
  EXPECT_EQ(got["default/web-port"], "node-a1");
  EXPECT_EQ(got["kube-system/agent-b2"], "node-b2");
  EXPECT_EQ(got["kube-system/kube-dns-legacy"], "node-x");
  EXPECT_EQ(got["default/legacy-bad"],
            "0/6 nodes are available: invalid legacy annotation: "
            "metadata.annotations[scheduler.alpha.kubernetes.io/affinity]:1:69: illegal flow "
            "end. preemption: 0/6 nodes are available: 6 Preemption is not helpful for "
            "scheduling..");
}

TEST(HandCheckedTest, PluginsClusterScores) {
  // spread-soft, ScheduleAnyway per zone over feasible a1 (z1) and b1 (z2):
  // weight log(2 + 2); raw a1 = round(2 x 1.386) = 3, b1 = round(1.386) = 1;
  // normalized 100 x (3 + 1 - s) / 3: a1 33, b1 100; weight 2.
  absl::StatusOr<Explanation> e = RunExplain(kPluginsCluster, "", "default/spread-soft");
  ASSERT_TRUE(e.ok()) << e.status();
  auto nodes = ByNode(*e);
  EXPECT_EQ(ScoreOf(*nodes["node-a1"], "PodTopologySpread"), 66);
  EXPECT_EQ(ScoreOf(*nodes["node-b1"], "PodTopologySpread"), 200);
  EXPECT_EQ(ScoreOf(*nodes["node-b1"], "TaintToleration"), 0);
  EXPECT_EQ(ScoreOf(*nodes["node-a1"], "TaintToleration"), 300);

  // web-port: nginx:1.25 (300 MiB) is on 2 of 6 nodes: 314572800 x 2/6 =
  // 104857600; (104857600 - 23 MiB) x 100 / (1000 MiB - 23 MiB) = 7.
  e = RunExplain(kPluginsCluster, "", "default/web-port");
  ASSERT_TRUE(e.ok()) << e.status();
  nodes = ByNode(*e);
  EXPECT_EQ(ScoreOf(*nodes["node-a1"], "ImageLocality"), 7);
  EXPECT_FALSE(nodes["node-b1"]->feasible);
  EXPECT_THAT(nodes["node-b1"]->filters,
              ::testing::Contains(
                  Pair("NodePorts", "node(s) didn't have free ports for the requested pod ports")));

  // tolerant: NodeAffinity preferred (weight 10) on a2 and b1 only.
  e = RunExplain(kPluginsCluster, "", "default/tolerant");
  ASSERT_TRUE(e.ok()) << e.status();
  nodes = ByNode(*e);
  EXPECT_EQ(ScoreOf(*nodes["node-a1"], "NodeAffinity"), 0);
  EXPECT_EQ(ScoreOf(*nodes["node-a2"], "NodeAffinity"), 200);
  EXPECT_EQ(ScoreOf(*nodes["node-b1"], "NodeAffinity"), 200);
  EXPECT_EQ(e->selected, "node-a2");
}

// ---------------------------------------------------------------------------
// The explain goldens of testdata/plugins, one anchor each: for at least one
// node, every score plugin's weighted score (or "skipped") and the total,
// worked out from upstream's formulas. The goldens may be regenerated only
// while these hold (tools/update_golden.sh).
//
// Node loads (bound pods). NodeResourcesFit scores with non-zero requests
// (a container that requests nothing counts 100m and 200Mi); allocatable is
// 4000m and 8Gi = 8192Mi on every node:
//   node-a1  db-0 500m/1Gi, solo-0, spread-0, spread-1 (none)
//            non-zero 500+3*100 = 800m, 1024+3*200 = 1624Mi
//   node-b1  web-0 250m/256Mi, cache-0, spread-2 (none)
//            non-zero 250+2*100 = 450m, 256+2*200 = 656Mi
//   others   nothing
// A pod that requests nothing counts 100m/200Mi too. LeastAllocated, per
// resource (alloc - req) * 100 / alloc, then (cpu + mem) / 2, integer
// division throughout:
//   node-a1  cpu (4000-900)*100/4000 = 77   mem (8192-1824)*100/8192 = 77  -> 77
//   node-b1  cpu (4000-550)*100/4000 = 86   mem (8192-856)*100/8192 = 89   -> 87
//   empty    cpu (4000-100)*100/4000 = 97   mem (8192-200)*100/8192 = 97   -> 97
// Skips (upstream framework: the plugin's PreScore returned Skip):
//   NodeResourcesBalancedAllocation: a pod with no requests (best effort).
//   NodeAffinity: no preferred terms.
//   PodTopologySpread: no ScheduleAnyway constraint, and the system defaults
//     select nothing (no Service, ReplicaSet, ... owns the pod).
//   InterPodAffinity: no preferred terms of the pod, and no existing pod's
//     preferred (or, weighted by hardPodAffinityWeight, required) affinity
//     term matching the pod.
// TaintToleration: raw = untolerated PreferNoSchedule taints (node-b1's
//   maintenance=soon only); reversed normalization 100 - 100 * raw / max,
//   or 100 everywhere when max is 0; weight 3.
// ImageLocality: 0 unless the pod's image is on some node (web-port only).

struct NodeAnchor {
  std::string node;
  std::vector<std::pair<std::string, int64_t>> scores;
  std::vector<std::string> skipped;
  int64_t total;
};

void ExpectAnchor(const Explanation& e, const NodeAnchor& want) {
  auto nodes = ByNode(e);
  ASSERT_TRUE(nodes.count(want.node)) << want.node;
  const NodeExplanation& got = *nodes[want.node];
  EXPECT_TRUE(got.feasible) << want.node;
  EXPECT_THAT(got.scores, ::testing::ElementsAreArray(want.scores)) << want.node;
  EXPECT_THAT(got.skipped_scores, ::testing::ElementsAreArray(want.skipped)) << want.node;
  EXPECT_EQ(got.total, want.total) << want.node;
}

// explain.api.golden.*: only node-a1 is feasible (zone z1 by affinity to
// app=db, node-a2 tainted).
TEST(HandCheckedTest, PluginsExplainApi) {
  // api requests 100m/128Mi; node-a1:
  //   TaintToleration: raw 0, max 0 -> 100 x 3                         = 300
  //   NodeResourcesFit: cpu (4000-900)*100/4000 = 77,
  //     mem (8192-(1624+128))*100/8192 = 644000/8192 = 78 -> (77+78)/2  = 77
  //   InterPodAffinity: cache-0 (on node-b1) prefers app=api per hostname,
  //     so it runs; node-a1's raw 0 is the only one, max - min = 0 -> 0 x 2 = 0
  //   NodeResourcesBalancedAllocation, actual requests: cpu (500+100)/4000
  //     = 0.15, mem (1024+128)/8192 = 0.140625;
  //     (1 - |0.15 - 0.140625| / 2) * 100 = 99.53                      -> 99
  //   ImageLocality: image "api" is on no node                          = 0
  //   total 300 + 77 + 0 + 99 + 0 = 476
  absl::StatusOr<Explanation> e = RunExplain(kPluginsCluster, "", "default/api");
  ASSERT_TRUE(e.ok()) << e.status();
  ExpectAnchor(*e, {"node-a1",
                    {{"TaintToleration", 300},
                     {"NodeResourcesFit", 77},
                     {"InterPodAffinity", 0},
                     {"NodeResourcesBalancedAllocation", 99},
                     {"ImageLocality", 0}},
                    {"NodeAffinity", "PodTopologySpread"},
                    476});
  EXPECT_EQ(e->requests.milli_cpu, 100);
  EXPECT_EQ(e->requests.memory, 128 << 20);
  EXPECT_EQ(e->selected, "node-a1");
}

// explain.loner.golden.*: only node-a1 is feasible.
TEST(HandCheckedTest, PluginsExplainLoner) {
  // loner requests nothing; node-a1:
  //   TaintToleration 300; NodeResourcesFit 77 (see above);
  //   InterPodAffinity: its preferred anti-affinity to app=db per zone
  //     gives z1 -80; node-a1 is the only node: max - min = 0 -> 0
  //   ImageLocality 0
  //   total 300 + 77 + 0 + 0 = 377
  absl::StatusOr<Explanation> e = RunExplain(kPluginsCluster, "", "default/loner");
  ASSERT_TRUE(e.ok()) << e.status();
  ExpectAnchor(*e, {"node-a1",
                    {{"TaintToleration", 300},
                     {"NodeResourcesFit", 77},
                     {"InterPodAffinity", 0},
                     {"ImageLocality", 0}},
                    {"NodeAffinity", "PodTopologySpread", "NodeResourcesBalancedAllocation"},
                    377});
  EXPECT_EQ(e->selected, "node-a1");
}

// explain.tolerant.golden.*: feasible node-a1, node-a2, node-b1.
TEST(HandCheckedTest, PluginsExplainTolerant) {
  //   TaintToleration: raw a1 0, a2 0 (NoSchedule does not count), b1 1;
  //     max 1: a1 100, a2 100, b1 0; x 3
  //   NodeAffinity: preferred disktype DoesNotExist (weight 10): a1 0,
  //     a2 10, b1 10; normalized to max 10: 0, 100, 100; x 2
  //   NodeResourcesFit: a1 77, a2 97 (empty), b1 87
  //   InterPodAffinity skipped: no preferred terms of its own, and cache-0's
  //     preferred term (app=api) does not match a pod without labels.
  //   a1 300 + 0 + 77 = 377, a2 300 + 200 + 97 = 597, b1 0 + 200 + 87 = 287
  const std::vector<std::string> skipped = {"PodTopologySpread", "InterPodAffinity",
                                            "NodeResourcesBalancedAllocation"};
  absl::StatusOr<Explanation> e = RunExplain(kPluginsCluster, "", "default/tolerant");
  ASSERT_TRUE(e.ok()) << e.status();
  ExpectAnchor(*e, {"node-a1",
                    {{"TaintToleration", 300},
                     {"NodeAffinity", 0},
                     {"NodeResourcesFit", 77},
                     {"ImageLocality", 0}},
                    skipped,
                    377});
  ExpectAnchor(*e, {"node-a2",
                    {{"TaintToleration", 300},
                     {"NodeAffinity", 200},
                     {"NodeResourcesFit", 97},
                     {"ImageLocality", 0}},
                    skipped,
                    597});
  ExpectAnchor(*e, {"node-b1",
                    {{"TaintToleration", 0},
                     {"NodeAffinity", 200},
                     {"NodeResourcesFit", 87},
                     {"ImageLocality", 0}},
                    skipped,
                    287});
  EXPECT_EQ(e->selected, "node-a2");
}

// explain.spread-soft.golden.*: feasible node-a1 (z1) and node-b1 (z2).
TEST(HandCheckedTest, PluginsExplainSpreadSoft) {
  //   PodTopologySpread (ScheduleAnyway, zone, maxSkew 1): the zones of the
  //     feasible nodes, 2, give weight log(2 + 2) = 1.386; app=spread pods
  //     z1 2, z2 1; raw round(count x weight + maxSkew - 1): a1 round(2.77)
  //     = 3, b1 round(1.39) = 1; normalized 100 x (max + min - raw) / max:
  //     a1 100 x 1/3 = 33, b1 100 x 3/3 = 100; x 2 -> 66, 200
  //   TaintToleration a1 300, b1 0; NodeResourcesFit a1 77, b1 87
  //   a1 300 + 77 + 66 + 0 = 443, b1 0 + 87 + 200 + 0 = 287
  // Its Filter is skipped too: no DoNotSchedule constraint.
  const std::vector<std::string> skipped = {"NodeAffinity", "InterPodAffinity",
                                            "NodeResourcesBalancedAllocation"};
  absl::StatusOr<Explanation> e = RunExplain(kPluginsCluster, "", "default/spread-soft");
  ASSERT_TRUE(e.ok()) << e.status();
  ExpectAnchor(*e, {"node-a1",
                    {{"TaintToleration", 300},
                     {"NodeResourcesFit", 77},
                     {"PodTopologySpread", 66},
                     {"ImageLocality", 0}},
                    skipped,
                    443});
  ExpectAnchor(*e, {"node-b1",
                    {{"TaintToleration", 0},
                     {"NodeResourcesFit", 87},
                     {"PodTopologySpread", 200},
                     {"ImageLocality", 0}},
                    skipped,
                    287});
  for (const NodeExplanation& n : e->nodes) {
    EXPECT_THAT(n.filters, ::testing::Contains(Pair("PodTopologySpread", "skipped"))) << n.node;
  }
  EXPECT_EQ(e->selected, "node-a1");
}

// explain.web-port.golden.*: node-b1's port 8080 is taken; only node-a1 fits.
TEST(HandCheckedTest, PluginsExplainWebPort) {
  //   ImageLocality: nginx:1.25 (314572800 bytes) is on 2 of 6 nodes:
  //     314572800 x 2 / 6 = 104857600; (104857600 - 23Mi) x 100 /
  //     (1000Mi - 23Mi) = 8074035200 / 1024458752 = 7
  //   TaintToleration 300; NodeResourcesFit 77
  //   total 300 + 77 + 7 = 384
  absl::StatusOr<Explanation> e = RunExplain(kPluginsCluster, "", "default/web-port");
  ASSERT_TRUE(e.ok()) << e.status();
  ExpectAnchor(*e, {"node-a1",
                    {{"TaintToleration", 300},
                     {"NodeResourcesFit", 77},
                     {"ImageLocality", 7}},
                    {"NodeAffinity", "PodTopologySpread", "InterPodAffinity",
                     "NodeResourcesBalancedAllocation"},
                    384});
  // It has host ports: NodePorts runs everywhere.
  for (const NodeExplanation& n : e->nodes) {
    EXPECT_THAT(n.filters, ::testing::Contains(Pair("NodePorts", ::testing::Ne("skipped"))))
        << n.node;
  }
  EXPECT_EQ(e->selected, "node-a1");
}

// explain.agent-b2.golden.*: pinned to node-b2 by matchFields.
TEST(HandCheckedTest, PluginsExplainAgentB2) {
  //   TaintToleration: memory-pressure is NoSchedule (and tolerated): raw 0,
  //     max 0 -> 100 x 3 = 300
  //   NodeResourcesFit: empty node -> 97
  //   NodeAffinity skipped at PreScore (required terms only); its Filter ran.
  //   PodTopologySpread skipped: a DaemonSet is not among the owners the
  //     system defaults select by.
  //   total 300 + 97 + 0 = 397
  absl::StatusOr<Explanation> e = RunExplain(kPluginsCluster, "", "kube-system/agent-b2");
  ASSERT_TRUE(e.ok()) << e.status();
  ExpectAnchor(*e, {"node-b2",
                    {{"TaintToleration", 300},
                     {"NodeResourcesFit", 97},
                     {"ImageLocality", 0}},
                    {"NodeAffinity", "PodTopologySpread", "InterPodAffinity",
                     "NodeResourcesBalancedAllocation"},
                    397});
  auto nodes = ByNode(*e);
  EXPECT_THAT(nodes["node-b2"]->filters, ::testing::Contains(Pair("NodeAffinity", "passed")));
  // Its PreFilterResult names node-b2 alone: the others are left out,
  // filtered by nothing, as upstream's findNodesThatFitPod does.
  EXPECT_EQ(nodes["node-a1"]->excluded, "node(s) didn't satisfy plugin(s) [NodeAffinity]");
  EXPECT_FALSE(nodes["node-a1"]->feasible);
  EXPECT_THAT(nodes["node-a1"]->filters, ::testing::Contains(Pair("NodeAffinity", "not run")));
  EXPECT_THAT(nodes["node-a1"]->filters,
              ::testing::Contains(Pair("PodTopologySpread", "skipped")));
  EXPECT_EQ(nodes["node-b2"]->excluded, "");
  EXPECT_EQ(e->selected, "node-b2");
}

// explain.kube-dns-legacy.golden.*: feasible node-a1, node-b1, node-x.
TEST(HandCheckedTest, PluginsExplainKubeDnsLegacy) {
  //   TaintToleration: raw a1 0, b1 1, x 0 (legacy=yes is NoSchedule, and
  //     tolerated); max 1: 100, 0, 100; x 3
  //   NodeAffinity (legacy annotation): preferred hostname In [node-x],
  //     weight 100: x 100, others 0; normalized to max 100; x 2 -> 200
  //   NodeResourcesFit: a1 77, b1 87, x 97 (empty)
  //   InterPodAffinity skipped at PreScore: only required terms of its own.
  //   a1 300 + 0 + 77 = 377, b1 0 + 0 + 87 = 87, x 300 + 200 + 97 = 597
  const std::vector<std::string> skipped = {"PodTopologySpread", "InterPodAffinity",
                                            "NodeResourcesBalancedAllocation"};
  absl::StatusOr<Explanation> e =
      RunExplain(kPluginsCluster, "", "kube-system/kube-dns-legacy");
  ASSERT_TRUE(e.ok()) << e.status();
  ExpectAnchor(*e, {"node-x",
                    {{"TaintToleration", 300},
                     {"NodeAffinity", 200},
                     {"NodeResourcesFit", 97},
                     {"ImageLocality", 0}},
                    skipped,
                    597});
  ExpectAnchor(*e, {"node-b1",
                    {{"TaintToleration", 0},
                     {"NodeAffinity", 0},
                     {"NodeResourcesFit", 87},
                     {"ImageLocality", 0}},
                    skipped,
                    87});
  EXPECT_EQ(e->selected, "node-x");
}

// ---------------------------------------------------------------------------
// Every enabled plugin is listed, skipped or not.

// The default profile's filter and score plugins (upstream
// getDefaultPlugins, the volume plugins aside), in order.
const std::vector<std::string>& DefaultFilterPlugins() {
  static const auto* names = new std::vector<std::string>{
      "NodeUnschedulable", "NodeName",          "TaintToleration", "NodeAffinity",
      "NodePorts",         "NodeResourcesFit",  "PodTopologySpread", "InterPodAffinity"};
  return *names;
}
const std::vector<std::string>& DefaultScorePlugins() {
  static const auto* names = new std::vector<std::string>{
      "TaintToleration",  "NodeAffinity",
      "NodeResourcesFit", "PodTopologySpread",
      "InterPodAffinity", "NodeResourcesBalancedAllocation",
      "ImageLocality"};
  return *names;
}

TEST(ExplainTest, EveryEnabledPluginAppearsForEveryNode) {
  for (const GoldenCase& c : GoldenCases()) {
    if (c.command != Command::kExplain || c.format != Format::kJson) continue;
    absl::StatusOr<Explanation> e = RunExplain(ClusterPath(c), c.config, c.pod);
    ASSERT_TRUE(e.ok()) << c.pod << ": " << e.status();
    EXPECT_EQ(e->score_plugins, DefaultScorePlugins()) << c.pod;
    for (const NodeExplanation& n : e->nodes) {
      std::vector<std::string> filters;
      for (const auto& [plugin, verdict] : n.filters) filters.push_back(plugin);
      EXPECT_EQ(filters, DefaultFilterPlugins()) << c.pod << " on " << n.node;
      // Scored or skipped, each exactly once, on feasible nodes only.
      std::vector<std::string> scored;
      for (const auto& [plugin, score] : n.scores) scored.push_back(plugin);
      scored.insert(scored.end(), n.skipped_scores.begin(), n.skipped_scores.end());
      std::sort(scored.begin(), scored.end());
      std::vector<std::string> want;
      if (n.feasible) want = DefaultScorePlugins();
      std::sort(want.begin(), want.end());
      EXPECT_EQ(scored, want) << c.pod << " on " << n.node;
    }
  }
}

// A pod with no node affinity: NodeAffinity's PreFilter and PreScore both
// return Skip, so upstream runs neither its Filter nor its Score.
TEST(ExplainTest, NoNodeAffinityShowsNodeAffinitySkipped) {
  absl::StatusOr<Explanation> e = RunExplain(kPluginsCluster, "", "default/api");
  ASSERT_TRUE(e.ok()) << e.status();
  for (const NodeExplanation& n : e->nodes) {
    EXPECT_THAT(n.filters, ::testing::Contains(Pair("NodeAffinity", "skipped"))) << n.node;
  }
  const std::string text = ExplainText(*e);
  EXPECT_THAT(text, ::testing::HasSubstr("  filter NodeAffinity: skipped\n"));
  EXPECT_THAT(text, ::testing::HasSubstr("  score  NodeAffinity: skipped\n"));
  // Text lists the score plugins in profile order, skipped ones in place.
  EXPECT_THAT(text, ::testing::HasSubstr("  score  TaintToleration: 300\n"
                                         "  score  NodeAffinity: skipped\n"
                                         "  score  NodeResourcesFit: 77\n"));
}

// JSON keeps `scores` a map of integers and lists PreScore skips apart.
TEST(ExplainTest, JsonListsSkippedScoresApart) {
  absl::StatusOr<Explanation> e = RunExplain(kClusterYaml, "", "default/with-init");
  ASSERT_TRUE(e.ok()) << e.status();
  const nlohmann::json j = nlohmann::json::parse(ExplainJson(*e));
  // value() rather than operator[]: a missing key is a failure, not an abort.
  const nlohmann::json a = j["nodes"]["node-a"];
  const nlohmann::json none;
  for (const auto& [plugin, score] : a["scores"].items()) {
    EXPECT_TRUE(score.is_number_integer()) << plugin;
  }
  EXPECT_EQ(a.value("skipped", none),
            nlohmann::json::array({"NodeAffinity", "PodTopologySpread", "InterPodAffinity"}));
  EXPECT_EQ(a["filters"].value("NodePorts", none), "skipped");
  // Infeasible: no scores, nothing skipped.
  EXPECT_EQ(j["nodes"]["node-small"].value("skipped", none), nlohmann::json::array());
  EXPECT_EQ(j.value("requests", none),
            nlohmann::json({{"milliCPU", 3000},
                            {"memory", int64_t{1} << 30},
                            {"ephemeralStorage", 0},
                            {"scalarResources", nlohmann::json::object()}}));
  EXPECT_EQ(j.value("nonZeroRequests", none),
            nlohmann::json({{"milliCPU", 3000}, {"memory", int64_t{1} << 30}}));
  EXPECT_FALSE(j.contains("preFilterRejection"));
}

TEST(ExplainTest, TextShowsEffectiveRequests) {
  absl::StatusOr<Explanation> e = RunExplain(kClusterYaml, "", "ml/gpu-job");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_THAT(ExplainText(*e),
              ::testing::StartsWith("Pod ml/gpu-job\n"
                                    "Requests: cpu 1000m, memory 2Gi, ephemeral-storage 0, "
                                    "example.com/gpu 1\n"
                                    "Non-zero requests (scoring): cpu 1000m, memory 2Gi\n"));
  e = RunExplain(kClusterYaml, "", "default/idle");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_THAT(ExplainText(*e),
              ::testing::StartsWith("Pod default/idle\n"
                                    "Requests: cpu 0m, memory 0, ephemeral-storage 0\n"
                                    "Non-zero requests (scoring): cpu 100m, memory 200Mi\n"));
}

// A PreFilter rejection: upstream filters no node, and every node carries
// the PreFilter's status. The rejecting plugin's slot has the reason, the
// other filters were not run.
TEST(ExplainTest, PreFilterRejectionListsEveryFilterAsNotRun) {
  // Two matchFields names that cannot both hold: NodeAffinity's PreFilter
  // finds no node name left (upstream errReasonConflict).
  absl::StatusOr<Cluster> cluster = LoadContents({{"pinned.yaml", R"(
apiVersion: v1
kind: Node
metadata: {name: n1}
status: {allocatable: {cpu: "1", memory: 1Gi, pods: "10"}}
---
apiVersion: v1
kind: Pod
metadata: {name: pinned, namespace: default}
spec:
  containers: [{name: c, image: busybox}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms:
        - matchFields:
          - {key: metadata.name, operator: In, values: [n1]}
          - {key: metadata.name, operator: In, values: [n2]}
)"}});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  absl::StatusOr<Explanation> e =
      Explain(*cluster, scheduler::DefaultConfig(), "default/pinned", Options());
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_TRUE(e->pre_filter_rejection.has_value());
  EXPECT_EQ(e->pre_filter_rejection->plugin, "NodeAffinity");
  EXPECT_EQ(e->pre_filter_rejection->message, "pod affinity terms conflict");
  ASSERT_EQ(e->nodes.size(), 1u);
  EXPECT_FALSE(e->nodes[0].feasible);
  EXPECT_THAT(e->nodes[0].filters,
              ElementsAre(Pair("NodeUnschedulable", "not run"), Pair("NodeName", "not run"),
                          Pair("TaintToleration", "not run"),
                          Pair("NodeAffinity", "pod affinity terms conflict"),
                          Pair("NodePorts", "not run"), Pair("NodeResourcesFit", "not run"),
                          Pair("PodTopologySpread", "not run"),
                          Pair("InterPodAffinity", "not run")));
  EXPECT_THAT(ExplainText(*e),
              ::testing::HasSubstr("PreFilter NodeAffinity rejected the pod: pod affinity "
                                   "terms conflict\n"));
  const nlohmann::json j = nlohmann::json::parse(ExplainJson(*e));
  EXPECT_EQ(j.value("preFilterRejection", nlohmann::json()),
            nlohmann::json({{"plugin", "NodeAffinity"}, {"message", "pod affinity terms conflict"}}));
}

// A preferred node-affinity term that does not parse fails NodeAffinity's
// PreScore (upstream returns framework.AsStatus(err)): with two feasible
// nodes the cycle errors and the pod is not placed; with one, upstream does
// not score and places it. Explain shows the error instead of failing.
TEST(ExplainTest, ScoringErrorIsShownNotFatal) {
  absl::StatusOr<Cluster> cluster = LoadFiles({"testdata/affinity-parse-errors/cluster.yaml"});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  const std::string error_prefix =
      "running PreScore plugin \"NodeAffinity\": [0].matchExpressions[0].values[0][zone]: "
      "Invalid value: \"a b\": a valid label must be";
  absl::StatusOr<Explanation> two =
      Explain(*cluster, scheduler::DefaultConfig(), "default/preferred-bad-value", Options());
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_THAT(two->score_error, ::testing::StartsWith(error_prefix));
  EXPECT_EQ(two->selected, "");
  EXPECT_THAT(two->message, ::testing::StartsWith(error_prefix));
  for (const NodeExplanation& n : two->nodes) {
    EXPECT_TRUE(n.feasible) << n.node;
    EXPECT_TRUE(n.scores.empty()) << n.node;
  }
  EXPECT_THAT(ExplainText(*two), ::testing::HasSubstr("\nScoring failed: " + error_prefix));
  const nlohmann::json j = nlohmann::json::parse(ExplainJson(*two));
  EXPECT_THAT(j.value("scoreError", ""), ::testing::StartsWith(error_prefix));
  EXPECT_THAT(j.value("message", ""), ::testing::StartsWith(error_prefix));
  EXPECT_TRUE(j["selected"].is_null());

  absl::StatusOr<Explanation> one = Explain(*cluster, scheduler::DefaultConfig(),
                                            "default/preferred-bad-value-one-node", Options());
  ASSERT_TRUE(one.ok()) << one.status();
  EXPECT_THAT(one->score_error, ::testing::HasSubstr("Invalid value: \"-1\""));
  EXPECT_EQ(one->selected, "node-a");
}

// A pod whose legacy annotation does not parse is rejected before any
// plugin: no plugin's slot carries the reason; the pod-level line does.
TEST(ExplainTest, InvalidPodListsEveryFilterAsNotRun) {
  absl::StatusOr<Explanation> e = RunExplain(kPluginsCluster, "", "default/legacy-bad");
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_TRUE(e->pre_filter_rejection.has_value());
  EXPECT_EQ(e->pre_filter_rejection->plugin, "");
  EXPECT_THAT(e->pre_filter_rejection->message,
              ::testing::StartsWith("invalid legacy annotation: "));
  for (const NodeExplanation& n : e->nodes) {
    for (const auto& [plugin, verdict] : n.filters) {
      EXPECT_EQ(verdict, "not run") << n.node << " " << plugin;
    }
  }
  EXPECT_THAT(ExplainText(*e), ::testing::HasSubstr("\nPreFilter rejected the pod: invalid "
                                                    "legacy annotation: "));
}

// ---------------------------------------------------------------------------
// Preemption and the rescheduler, checked by hand (each cluster file's
// header works the expected outcome out).

struct Outcome {
  std::string node;  // empty: unschedulable
  std::vector<std::string> victims;
};

std::map<std::string, Outcome> Outcomes(const Report& r) {
  std::map<std::string, Outcome> out;
  for (const Placement& p : r.placements) out[p.pod] = {p.node, p.victims};
  return out;
}

std::vector<std::string> EventLines(const Report& r) {
  std::vector<std::string> out;
  for (const SimEvent& e : r.events) {
    out.push_back(absl::StrCat("+", absl::FormatDuration(e.at), " ", e.event.object, " ",
                               e.event.reason));
  }
  return out;
}

TEST(HandCheckedTest, HighPriorityPodPreemptsTheLowestPriorityVictim) {
  absl::StatusOr<Report> r = RunSimulate("testdata/preemption/high-priority/cluster.yaml", "");
  ASSERT_TRUE(r.ok()) << r.status();
  auto got = Outcomes(*r);
  EXPECT_EQ(got["default/urgent"].node, "node-2");
  EXPECT_THAT(got["default/urgent"].victims, ElementsAre("default/low-c"));
  EXPECT_EQ(r->preempted, 1);
  EXPECT_EQ(r->evicted, 0);
}

TEST(HandCheckedTest, PdbSendsThePreemptorToTheOtherNode) {
  absl::StatusOr<Report> r =
      RunSimulate("testdata/preemption/high-priority-pdb/cluster.yaml", "");
  ASSERT_TRUE(r.ok()) << r.status();
  auto got = Outcomes(*r);
  EXPECT_EQ(got["default/urgent"].node, "node-1");
  EXPECT_THAT(got["default/urgent"].victims, ElementsAre("default/mid-b"));
}

TEST(HandCheckedTest, PreemptionPolicyNeverDoesNotPreempt) {
  absl::StatusOr<Report> r = RunSimulate("testdata/preemption/never/cluster.yaml", "");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->placements.size(), 1u);
  EXPECT_EQ(r->placements[0].node, "");
  EXPECT_TRUE(r->placements[0].victims.empty());
  EXPECT_EQ(r->placements[0].message,
            "0/2 nodes are available: 2 Insufficient cpu. preemption: not eligible due to "
            "preemptionPolicy=Never..");
}

TEST(HandCheckedTest, KubeDnsLandsWhereTheFewestPodsAreEvicted) {
  absl::StatusOr<Report> r = RunSimulate("testdata/critical/kube-dns/cluster.yaml", "");
  ASSERT_TRUE(r.ok()) << r.status();
  auto got = Outcomes(*r);
  EXPECT_EQ(got["kube-system/kube-dns"].node, "node-2");
  EXPECT_THAT(got["kube-system/kube-dns"].victims, ElementsAre("default/batch-1"));
  // Kept off node-2 while it was tainted; in once the taint was released.
  EXPECT_EQ(got["default/late"].node, "node-2");
  EXPECT_EQ(r->placements[0].at, absl::Seconds(140));
  EXPECT_THAT(EventLines(*r),
              ElementsAre("+2m10s Node node-2 AddedTaint",
                          "+2m10s Pod default/batch-1 DeletedByRescheduler",
                          "+2m20s Node node-2 RemovedTaint"));
}

TEST(HandCheckedTest, KubeDnsWithPdbClearsTheOtherNode) {
  absl::StatusOr<Report> r = RunSimulate("testdata/critical/kube-dns-pdb/cluster.yaml", "");
  ASSERT_TRUE(r.ok()) << r.status();
  auto got = Outcomes(*r);
  EXPECT_EQ(got["kube-system/kube-dns"].node, "node-1");
  EXPECT_THAT(got["kube-system/kube-dns"].victims,
              ElementsAre("default/web-2", "default/web-3"));
  EXPECT_EQ(got["default/late"].node, "");
  EXPECT_EQ(r->evicted, 2);
}

TEST(HandCheckedTest, ReschedulerOffLeavesKubeDnsPending) {
  absl::StatusOr<Cluster> cluster = LoadFiles({"testdata/critical/kube-dns/cluster.yaml"});
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  SimOptions options = Options();
  options.rescheduler = false;
  absl::StatusOr<Report> r = Simulate(*cluster, scheduler::DefaultConfig(), options);
  ASSERT_TRUE(r.ok()) << r.status();
  auto got = Outcomes(*r);
  EXPECT_EQ(got["kube-system/kube-dns"].node, "");
  EXPECT_TRUE(r->events.empty());
  EXPECT_EQ(r->evicted, 0);
}

TEST(HandCheckedTest, Legacy14Manifest) {
  absl::StatusOr<Report> r = RunSimulate("testdata/critical/legacy-1.4/cluster.yaml", "");
  ASSERT_TRUE(r.ok()) << r.status();
  auto got = Outcomes(*r);
  EXPECT_EQ(got["kube-system/heapster"].node, "node-b");
  EXPECT_THAT(got["kube-system/heapster"].victims, ElementsAre("default/app-3"));
  EXPECT_EQ(got["default/filler"].node, "node-b");
  EXPECT_EQ(got["kube-system/dashboard"].node, "");
  EXPECT_THAT(EventLines(*r),
              ElementsAre("+2m Node node-b RemovedTaint",  // the stale taint
                          "+2m10s Node node-b AddedTaint",
                          "+2m10s Pod default/app-3 DeletedByRescheduler",
                          "+2m10s Pod kube-system/dashboard PodDoestFitAnyNode",
                          "+2m20s Node node-b RemovedTaint",
                          "+2m20s Pod kube-system/dashboard PodDoestFitAnyNode",
                          "+2m30s Pod kube-system/dashboard PodDoestFitAnyNode"));
}

// testdata/workloads/mixed, worked out by hand. Nodes n1 and n2 have 2
// cpus; gpu is tainted, cordoned is cordoned. Before the run n1 holds api's
// running pod (500m).
//   agent (DaemonSet, 100m): the controller targets n1, n2 and cordoned
//     (its pods tolerate node.kubernetes.io/unschedulable), not gpu; each
//     pod's matchFields term puts it on its node.
//   api (Deployment, 2 replicas, 1 running): one pod created; n1 600m used,
//     n2 100m: LeastAllocated and the system default spreading pick n2.
//   web (3 x 300m): the nodes end at n1 1200m, n2 900m (in some order).
//   db (StatefulSet, OrderedReady, 3 x 1000m): db-0 fits only n2 (1100m
//     free); db-1 fits nowhere (n1 800m free, n2 100m); db-2 is never
//     created.
//   report (Job, parallelism 3, completions 2: 2 pods of 100m): n1.
//   backup (CronJob): listed, not expanded.
TEST(GoldenFilesTest, WorkloadsMixedByHand) {
  absl::StatusOr<Report> r = RunSimulate("testdata/workloads/mixed/cluster.yaml", "");
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<std::string> got;
  for (const Placement& p : r->placements) {
    std::string pod = p.pod;
    // Generated names: keep the owner's part.
    if (absl::StartsWith(pod, "kube-system/agent-")) pod = "kube-system/agent-*";
    if (absl::StartsWith(pod, "default/web-")) pod = "default/web-*";
    if (absl::StartsWith(pod, "default/api-")) pod = "default/api-*";
    if (absl::StartsWith(pod, "default/report-")) pod = "default/report-*";
    got.push_back(absl::StrCat(pod, " ", p.node.empty() ? "-" : p.node));
  }
  ASSERT_EQ(got.size(), 12u);
  EXPECT_THAT(std::vector<std::string>(got.begin(), got.begin() + 4),
              ElementsAre("kube-system/agent-* n1", "kube-system/agent-* n2",
                          "kube-system/agent-* cordoned", "default/api-* n2"));
  EXPECT_THAT(std::vector<std::string>(got.begin() + 7, got.end()),
              ElementsAre("default/db-0 n2", "default/db-1 -", "default/db-2 -",
                          "default/report-* n1", "default/report-* n1"));
  EXPECT_TRUE(absl::StrContains(r->placements[8].message, "2 Insufficient cpu"));
  EXPECT_EQ(r->placements[9].message,
            "not created yet: its StatefulSet (podManagementPolicy OrderedReady) creates it "
            "once default/db-1 is Running and Ready");
  std::vector<std::string> summaries;
  for (const WorkloadExpansion& w : r->workloads) summaries.push_back(w.Summary());
  EXPECT_THAT(summaries,
              ElementsAre("daemonset/kube-system/agent: 3 pods created (targets 3 of 4 nodes)",
                          "deployment/api: 1 pod already in the cluster; 1 created",
                          "deployment/web: 3 pods created", "statefulset/db: 3 pods created",
                          "job/report: 2 pods created",
                          "cronjob/backup: not expanded; its Jobs are created on a schedule"));
}

}  // namespace
}  // namespace kestrel::sim

int main(int argc, char** argv) {
  std::vector<char*> args;
  for (int i = 0; i < argc; ++i) {
    if (std::string(argv[i]) == "--update") {
      kestrel::sim::g_update = true;
    } else {
      args.push_back(argv[i]);
    }
  }
  if (kestrel::sim::g_update) {
    const char* ws = std::getenv("BUILD_WORKSPACE_DIRECTORY");
    if (ws == nullptr) {
      std::cerr << "--update needs BUILD_WORKSPACE_DIRECTORY: run it with "
                   "`bazel run //sim:golden_test -- --update` (tools/update_golden.sh)\n";
      return 2;
    }
    kestrel::sim::g_workspace = ws;
  }
  int n = static_cast<int>(args.size());
  ::testing::InitGoogleTest(&n, args.data());
  const int result = RUN_ALL_TESTS();
  if (!kestrel::sim::g_update) return result;

  // A golden is written only when the hand-checked tests vouch for it: every
  // test must have run (no --gtest_filter) and passed.
  const ::testing::UnitTest& unit = *::testing::UnitTest::GetInstance();
  std::string refusal;
  if (result != 0 || unit.failed_test_count() > 0) {
    refusal = absl::StrCat(unit.failed_test_count(), " test(s) failed");
  } else if (unit.test_to_run_count() != unit.total_test_count() ||
             unit.skipped_test_count() > 0) {
    refusal = absl::StrCat("only ", unit.successful_test_count(), " of ",
                           unit.total_test_count(), " tests ran");
  }
  if (!refusal.empty()) {
    std::cerr << "--update: " << refusal << "; not writing "
              << kestrel::sim::g_pending->size() << " golden file(s), all left as they were\n";
    return 1;
  }
  for (const auto& [path, contents] : *kestrel::sim::g_pending) {
    const std::string full = absl::StrCat(kestrel::sim::g_workspace, "/", path);
    std::ofstream out(full, std::ios::binary | std::ios::trunc);
    out << contents;
    out.close();
    if (!out) {
      std::cerr << "--update: cannot write " << full << "\n";
      return 1;
    }
    std::cerr << "wrote " << full << "\n";
  }
  return 0;
}
