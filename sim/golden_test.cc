// Golden tests for `kestrel simulate` and `kestrel explain`: the library
// calls the binary makes, on testdata/small, compared byte for byte with the
// checked-in outputs (wall-clock figures left out). Beside them, the
// placements and scores are asserted against values worked out by hand from
// upstream kube-scheduler's formulas, so a regenerated golden cannot quietly
// accept a semantic change.
//
// Regenerate the goldens (then review the diff by hand):
//   tools/update_golden.sh
// which runs `bazel run //sim:golden_test -- --update`: the outputs are
// written into the source tree ($BUILD_WORKSPACE_DIRECTORY) instead of
// compared, and the hand-checked tests still run.

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

constexpr char kClusterYaml[] = "testdata/small/cluster.yaml";
constexpr char kClusterJson[] = "testdata/small/cluster.json";
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
  std::string golden;  // testdata/small/<golden>
  Command command;
  Format format;
  std::string config;  // empty: the default configuration
  std::string pod;     // explain only
};

void PrintTo(const GoldenCase& c, std::ostream* os) { *os << c.golden; }

std::string GoldenPath(const GoldenCase& c) { return absl::StrCat("testdata/small/", c.golden); }

// What `kestrel simulate|explain --cluster=testdata/small/cluster.yaml ...`
// prints, without wall-clock figures.
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
  static const auto* cases = new std::vector<GoldenCase>{
      {"simulate.golden.json", Command::kSimulate, Format::kJson, "", ""},
      {"simulate.golden.txt", Command::kSimulate, Format::kText, "", ""},
      {"simulate.most_allocated.golden.json", Command::kSimulate, Format::kJson, kMostAllocated,
       ""},
      {"explain.with-init.golden.json", Command::kExplain, Format::kJson, "", "default/with-init"},
      {"explain.with-init.golden.txt", Command::kExplain, Format::kText, "", "default/with-init"},
      {"explain.big-batch.golden.json", Command::kExplain, Format::kJson, "", "default/big-batch"},
      {"explain.big-batch.golden.txt", Command::kExplain, Format::kText, "", "default/big-batch"},
  };
  return *cases;
}

class GoldenTest : public ::testing::TestWithParam<GoldenCase> {};

TEST_P(GoldenTest, MatchesGolden) {
  const GoldenCase& c = GetParam();
  absl::StatusOr<std::string> actual = Render(c, kClusterYaml);
  ASSERT_TRUE(actual.ok()) << actual.status();
  if (g_update) {
    const std::string path = absl::StrCat(g_workspace, "/", GoldenPath(c));
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    ASSERT_TRUE(out.good()) << "cannot write " << path;
    out << *actual;
    std::cerr << "wrote " << path << "\n";
    return;
  }
  EXPECT_EQ(*actual, ReadFile(GoldenPath(c)))
      << "differs from " << GoldenPath(c)
      << "; if the change is intended, check it by hand, then run tools/update_golden.sh";
}

// The `kind: List` JSON form of the same cluster gives the same results.
TEST_P(GoldenTest, ListJsonMatchesGolden) {
  if (g_update) GTEST_SKIP() << "update mode";
  const GoldenCase& c = GetParam();
  absl::StatusOr<std::string> actual = Render(c, kClusterJson);
  ASSERT_TRUE(actual.ok()) << actual.status();
  EXPECT_EQ(*actual, ReadFile(GoldenPath(c)));
}

INSTANTIATE_TEST_SUITE_P(Small, GoldenTest, ::testing::ValuesIn(GoldenCases()),
                         [](const ::testing::TestParamInfo<GoldenCase>& info) {
                           std::string name;
                           for (char ch : info.param.golden) {
                             if (std::isalnum(static_cast<unsigned char>(ch))) name += ch;
                           }
                           return name;
                         });

TEST(GoldenFilesTest, CarryNoWallClockFigures) {
  for (const GoldenCase& c : GoldenCases()) {
    const std::string golden = ReadFile(GoldenPath(c));
    EXPECT_FALSE(absl::StrContains(golden, "seconds")) << c.golden;
    EXPECT_FALSE(absl::StrContains(golden, "podsPerSecond")) << c.golden;
    EXPECT_FALSE(absl::StrContains(golden, "Wall time")) << c.golden;
    EXPECT_FALSE(absl::StrContains(golden, "Throughput")) << c.golden;
  }
}

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
  // ("1 T" < "1 n" < "4 I" byte-wise). No " preemption: ..." part:
  // DefaultPreemption is not in the registry yet.
  EXPECT_EQ(r->placements[1].message,
            "0/5 nodes are available: 1 Too many pods, 1 node(s) were unschedulable, "
            "4 Insufficient cpu.");
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
  //   total 31 + 68 = 99
  // node-b (8000m, 16Gi; used 2000m, 4Gi):
  //   cpu 3000*100/8000 = 37, mem 11*100/16 = 68 -> (37+68)/2 = 52
  //   balanced 1 - |0.625 - 0.3125|/2 = 0.84375   -> 84    total 136
  // node-gpu (4000m, 16Gi; nothing):
  //   cpu 1000*100/4000 = 25, mem 15*100/16 = 93 -> (25+93)/2 = 59
  //   balanced 1 - |0.75 - 0.0625|/2 = 0.65625    -> 65    total 124
  // node-small: 2 of 2 pods and 250m free: "Too many pods, Insufficient cpu".
  // node-cordoned: "node(s) were unschedulable" (explain runs every filter,
  //   so NodeResourcesFit shows "passed" there).
  absl::StatusOr<Explanation> e = RunExplain(kClusterYaml, "", "default/with-init");
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(e->pod, "default/with-init");
  EXPECT_EQ(e->selected, "node-b");
  auto nodes = ByNode(*e);
  ASSERT_EQ(nodes.size(), 5u);
  EXPECT_THAT(nodes["node-a"]->scores,
              ElementsAre(Pair("NodeResourcesFit", 31), Pair("NodeResourcesBalancedAllocation", 68)));
  EXPECT_EQ(nodes["node-a"]->total, 99);
  EXPECT_THAT(nodes["node-b"]->scores,
              ElementsAre(Pair("NodeResourcesFit", 52), Pair("NodeResourcesBalancedAllocation", 84)));
  EXPECT_EQ(nodes["node-b"]->total, 136);
  EXPECT_THAT(nodes["node-gpu"]->scores,
              ElementsAre(Pair("NodeResourcesFit", 59), Pair("NodeResourcesBalancedAllocation", 65)));
  EXPECT_EQ(nodes["node-gpu"]->total, 124);
  EXPECT_FALSE(nodes["node-small"]->feasible);
  EXPECT_THAT(nodes["node-small"]->filters,
              ElementsAre(Pair("NodeUnschedulable", "passed"), Pair("NodeName", "passed"),
                          Pair("NodeResourcesFit", "Too many pods, Insufficient cpu")));
  EXPECT_FALSE(nodes["node-cordoned"]->feasible);
  EXPECT_THAT(nodes["node-cordoned"]->filters,
              ElementsAre(Pair("NodeUnschedulable", "node(s) were unschedulable"),
                          Pair("NodeName", "passed"), Pair("NodeResourcesFit", "passed")));
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
  EXPECT_EQ(nodes["node-a"]->scores.at(0), std::make_pair(std::string("NodeResourcesFit"),
                                                          int64_t{72}));
  EXPECT_EQ(nodes["node-b"]->scores.at(0), std::make_pair(std::string("NodeResourcesFit"),
                                                          int64_t{73}));
  EXPECT_EQ(nodes["node-gpu"]->scores.at(0), std::make_pair(std::string("NodeResourcesFit"),
                                                            int64_t{97}));
  // BalancedAllocation skipped the best-effort pod at PreScore: no score.
  for (const auto& [name, node] : nodes) {
    if (node->feasible) EXPECT_EQ(node->scores.size(), 1u) << name;
  }
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
  return RUN_ALL_TESTS();
}
