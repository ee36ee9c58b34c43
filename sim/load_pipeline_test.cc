// The pipelined load (sim::LoadOptions::pipeline: a large file decoded on a
// thread of its own while the caller compiles) against one thread: the
// same cluster and the same errors. Tagged for the ThreadSanitizer step.

#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "sim/cluster.h"

namespace kestrel::sim {
namespace {

using ::testing::HasSubstr;

std::string Pod(const std::string& name, const std::string& spec_extra) {
  return absl::StrCat("apiVersion: v1\nkind: Pod\nmetadata: {name: ", name,
                      ", namespace: default}\nspec: {", spec_extra,
                      ", containers: [{name: c}]}\n---\n");
}

// A file of `nodes` nodes and as many pods, the i-th pod bound to the i-th
// node, with a ConfigMap (a kind not simulated) every 50 nodes: well over
// the size from which a file is decoded on a thread of its own.
std::string BigFile(int nodes) {
  std::string out;
  for (int i = 0; i < nodes; ++i) {
    absl::StrAppend(&out, "apiVersion: v1\nkind: Node\nmetadata:\n  name: node-", i,
                    "\n  labels: {zone: z", i % 3, ", kubernetes.io/hostname: node-", i,
                    "}\nstatus:\n  allocatable: {cpu: \"4\", memory: 32Gi, pods: \"110\"}\n---\n");
    absl::StrAppend(&out, Pod(absl::StrCat("p", i), absl::StrCat("nodeName: node-", i)));
    if (i % 50 == 0) {
      absl::StrAppend(&out, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c", i, "}\n---\n");
    }
  }
  return out;
}

absl::StatusOr<Cluster> Load(const std::string& content, bool pipeline) {
  LoadOptions options;
  options.pipeline = pipeline;
  return LoadContents({{"big.yaml", content}}, options);
}

std::vector<std::string> Summary(const Cluster& c) {
  std::vector<std::string> out;
  for (const model::NodePtr& n : c.nodes) out.push_back(n->name);
  for (const model::PodPtr& p : c.bound_pods) out.push_back(p->Key() + "@" + p->node_name);
  for (const model::PodPtr& p : c.pending_pods) out.push_back(p->Key());
  for (const std::string& w : c.warnings) out.push_back(w);
  return out;
}

// The same objects in the same order, the same skipped kinds.
TEST(LoadPipelineTest, SameClusterAsOneThread) {
  const std::string big = BigFile(4000);
  ASSERT_GT(big.size(), size_t{1} << 20);
  absl::StatusOr<Cluster> one = Load(big, false);
  absl::StatusOr<Cluster> two = Load(big, true);
  ASSERT_TRUE(one.ok()) << one.status();
  ASSERT_TRUE(two.ok()) << two.status();
  EXPECT_EQ(two->nodes.size(), 4000u);
  EXPECT_EQ(two->bound_pods.size(), 4000u);
  EXPECT_EQ(Summary(*two), Summary(*one));
  ASSERT_FALSE(two->warnings.empty());
  EXPECT_THAT(two->warnings.back(), HasSubstr("ConfigMap (80)"));
}

// The first error in file order, whether found compiling (a duplicate node
// late in the file: the decoder is stopped) or decoding (a document that
// does not parse, after many that do).
TEST(LoadPipelineTest, SameErrorsAsOneThread) {
  const std::string big = BigFile(4000);
  const std::vector<std::pair<std::string, std::string>> bad = {
      {"a duplicate node near the end",
       absl::StrCat(big, "apiVersion: v1\nkind: Node\nmetadata: {name: node-7}\n---\n",
                    BigFile(1))},
      {"a duplicate node near the start",
       absl::StrCat(BigFile(3), "apiVersion: v1\nkind: Node\nmetadata: {name: node-1}\n---\n",
                    big)},
      {"a document that does not parse near the end",
       absl::StrCat(big, "apiVersion: v1\nkind: Node\nmetadata: {name: [\n---\n", BigFile(1))},
      {"a duplicate node before a document that does not parse",
       absl::StrCat(BigFile(10), "apiVersion: v1\nkind: Node\nmetadata: {name: node-3}\n---\n",
                    big, "metadata: {name: [\n")},
  };
  for (const auto& [name, content] : bad) {
    absl::StatusOr<Cluster> a = Load(content, false);
    absl::StatusOr<Cluster> b = Load(content, true);
    ASSERT_FALSE(a.ok()) << name;
    EXPECT_EQ(b.status(), a.status()) << name;
  }
}

}  // namespace
}  // namespace kestrel::sim
