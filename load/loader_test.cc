// The loader (load/loader.h): add, update and delete of each kind applied
// to the cache; bad objects refused without changing anything; a relist's
// re-add changes nothing.

#include "load/loader.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/decode.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kestrel::load {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::unique_ptr<google::protobuf::Message> Decode(const std::string& yaml) {
  std::unique_ptr<google::protobuf::Message> out;
  absl::Status s = api::DecodeEach("test.yaml", yaml, [&](api::Object o) {
    out = std::move(o.message);
    return absl::OkStatus();
  });
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

std::string NodeYaml(const std::string& name, const std::string& cpu = "2") {
  return absl::StrCat("kind: Node\napiVersion: v1\nmetadata: {name: ", name,
                      "}\nstatus: {allocatable: {cpu: \"", cpu, "\", pods: \"110\"}}\n");
}

std::string PodYaml(const std::string& name, const std::string& node,
                    const std::string& extra_status = "phase: Running",
                    const std::string& extra_meta = "") {
  return absl::StrCat("kind: Pod\napiVersion: v1\nmetadata: {name: ", name,
                      ", namespace: default", extra_meta, "}\nspec:\n",
                      node.empty() ? "" : absl::StrCat("  nodeName: ", node, "\n"),
                      "  containers: [{name: c, image: i, resources: {requests: {cpu: 500m}}}]\n",
                      "status: {", extra_status, "}\n");
}

class LoaderTest : public ::testing::Test {
 protected:
  absl::Status Add(const std::string& yaml) { return loader_.Add(*Decode(yaml)); }
  absl::Status Update(const std::string& old_yaml, const std::string& new_yaml) {
    return loader_.Update(*Decode(old_yaml), *Decode(new_yaml));
  }
  absl::Status Delete(const std::string& yaml) { return loader_.Delete(*Decode(yaml)); }

  std::vector<std::string> NodeNames() {
    std::vector<std::string> out;
    for (const model::NodePtr& n : loader_.Nodes()) out.push_back(n->name);
    return out;
  }
  std::vector<std::string> Pending() {
    std::vector<std::string> out;
    for (const model::PodPtr& p : loader_.PendingPods()) out.push_back(p->Key());
    return out;
  }
  // The node the cache has the pod on; "-" when the cache has no such pod.
  std::string CachedOn(const std::string& key) {
    model::PodPtr p = cache_.GetPod(key);
    return p == nullptr ? "-" : p->node_name;
  }

  cache::Cache cache_;
  model::Interner names_;
  Loader loader_{&cache_, &names_};
};

TEST_F(LoaderTest, NodesAreAddedUpdatedAndDeleted) {
  ASSERT_TRUE(Add(NodeYaml("n1")).ok());
  ASSERT_TRUE(Add(NodeYaml("n2")).ok());
  EXPECT_THAT(NodeNames(), ElementsAre("n1", "n2"));
  ASSERT_TRUE(Update(NodeYaml("n1"), NodeYaml("n1", "4")).ok());
  EXPECT_EQ(loader_.GetNode("n1")->allocatable.milli_cpu, 4000);
  ASSERT_TRUE(Delete(NodeYaml("n2")).ok());
  EXPECT_THAT(NodeNames(), ElementsAre("n1"));
  // Deleting what is not there does nothing.
  EXPECT_TRUE(Delete(NodeYaml("n2")).ok());
}

TEST_F(LoaderTest, PodStatesFollowTheirObject) {
  ASSERT_TRUE(Add(NodeYaml("n1")).ok());
  ASSERT_TRUE(Add(NodeYaml("n2")).ok());
  struct Step {
    std::string what;
    std::string yaml;  // the pod as the server has it now; empty: deleted
    std::string cached_on;
    std::vector<std::string> pending;
  };
  const std::string pending = PodYaml("p", "", "phase: Pending");
  const std::vector<Step> steps = {
      {"created unbound", pending, "-", {"default/p"}},
      {"bound", PodYaml("p", "n1"), "n1", {}},
      {"relabelled on the same node", PodYaml("p", "n1", "phase: Running", ", labels: {a: b}"),
       "n1", {}},
      {"on another node (remove and add)", PodYaml("p", "n2"), "n2", {}},
      {"terminating: still counts", PodYaml("p", "n2", "phase: Running",
                                            ", deletionTimestamp: \"2024-01-01T00:00:00Z\""),
       "n2", {}},
      {"finished: removed", PodYaml("p", "n2", "phase: Succeeded"), "-", {}},
      {"deleted", "", "-", {}},
  };
  std::string last;
  for (const Step& step : steps) {
    SCOPED_TRACE(step.what);
    if (step.yaml.empty()) {
      ASSERT_TRUE(Delete(last).ok());
    } else if (last.empty()) {
      ASSERT_TRUE(Add(step.yaml).ok());
    } else {
      ASSERT_TRUE(Update(last, step.yaml).ok());
    }
    EXPECT_EQ(CachedOn("default/p"), step.cached_on);
    EXPECT_EQ(Pending(), step.pending);
    if (!step.yaml.empty()) last = step.yaml;
  }
  EXPECT_TRUE(CachedOn("default/p") == "-");
}

TEST_F(LoaderTest, TerminatingPodIsMarked) {
  ASSERT_TRUE(Add(NodeYaml("n1")).ok());
  ASSERT_TRUE(Add(PodYaml("p", "n1", "phase: Running",
                          ", deletionTimestamp: \"2024-01-01T00:00:00Z\""))
                  .ok());
  ASSERT_NE(cache_.GetPod("default/p"), nullptr);
  EXPECT_TRUE(cache_.GetPod("default/p")->terminating);
}

TEST_F(LoaderTest, ReAddAfterARelistChangesNothing) {
  ASSERT_TRUE(Add(NodeYaml("n1")).ok());
  ASSERT_TRUE(Add(PodYaml("p", "n1")).ok());
  ASSERT_TRUE(Add(PodYaml("q", "", "phase: Pending")).ok());
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(Add(NodeYaml("n1")).ok());
    ASSERT_TRUE(Add(PodYaml("p", "n1")).ok());
    ASSERT_TRUE(Add(PodYaml("q", "", "phase: Pending")).ok());
  }
  EXPECT_THAT(NodeNames(), ElementsAre("n1"));
  EXPECT_EQ(CachedOn("default/p"), "n1");
  EXPECT_THAT(Pending(), ElementsAre("default/q"));
  // The cache counts p once: removing it once leaves nothing.
  ASSERT_TRUE(Delete(PodYaml("p", "n1")).ok());
  EXPECT_EQ(CachedOn("default/p"), "-");
}

TEST_F(LoaderTest, BadObjectsAreErrorsNamingThemAndChangeNothing) {
  ASSERT_TRUE(Add(NodeYaml("n1")).ok());
  // A node update that does not compile leaves the node as it was.
  std::string bad_node = NodeYaml("n1");
  bad_node += "spec: {taints: [{key: k, effect: Sometimes}]}\n";
  absl::Status s = Update(NodeYaml("n1"), bad_node);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("n1"));
  EXPECT_THAT(s.message(), HasSubstr("spec.taints[0].effect"));
  EXPECT_TRUE(loader_.GetNode("n1")->taints.empty());
  // A pod that does not compile is not loaded; the next one is.
  s = Add(absl::StrCat("kind: Pod\napiVersion: v1\nmetadata: {name: bad, namespace: default}\n",
                       "spec: {nodeName: n1, containers: [{name: c, image: i}],\n",
                       "  affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution:",
                       " {nodeSelectorTerms: [{matchExpressions: [{key: k, operator: Bad}]}]}}}}\n"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("default/bad"));
  EXPECT_EQ(CachedOn("default/bad"), "-");
  EXPECT_TRUE(Add(PodYaml("good", "n1")).ok());
  EXPECT_EQ(CachedOn("default/good"), "n1");
}

TEST_F(LoaderTest, NamespacesBudgetsAndPriorityClasses) {
  ASSERT_TRUE(Add("kind: Namespace\napiVersion: v1\nmetadata: {name: team, labels: {a: b}}\n").ok());
  ASSERT_TRUE(Delete("kind: Namespace\napiVersion: v1\nmetadata: {name: team}\n").ok());
  const std::string budget =
      "kind: PodDisruptionBudget\napiVersion: policy/v1\nmetadata: {name: web, namespace: "
      "default}\nspec: {minAvailable: 1, selector: {matchLabels: {app: web}}}\n"
      "status: {disruptionsAllowed: 1}\n";
  ASSERT_TRUE(Add(budget).ok());
  ASSERT_EQ(loader_.Pdbs().size(), 1u);
  EXPECT_EQ(loader_.pdb_lister()->ListPdbs()[0]->disruptions_allowed, 1);
  ASSERT_TRUE(Delete(budget).ok());
  EXPECT_THAT(loader_.Pdbs(), IsEmpty());

  const std::string high =
      "kind: PriorityClass\napiVersion: scheduling.k8s.io/v1\nmetadata: {name: high}\n"
      "value: 1000\n";
  ASSERT_TRUE(Add(high).ok());
  // A pod naming it without spec.priority gets its value; one that sets
  // spec.priority (admitted by a server) keeps it.
  ASSERT_TRUE(Add(absl::StrCat("kind: Pod\napiVersion: v1\nmetadata: {name: a, namespace: "
                               "default}\nspec: {priorityClassName: high, containers: [{name: c, "
                               "image: i}]}\n"))
                  .ok());
  ASSERT_TRUE(Add(absl::StrCat("kind: Pod\napiVersion: v1\nmetadata: {name: b, namespace: "
                               "default}\nspec: {priorityClassName: gone, priority: 7, "
                               "containers: [{name: c, image: i}]}\n"))
                  .ok());
  EXPECT_EQ(loader_.GetPendingPod("default/a")->priority, 1000);
  EXPECT_EQ(loader_.GetPendingPod("default/b")->priority, 7);
  EXPECT_TRUE(loader_.GetPendingPod("default/b")->invalid_reason.empty());
  ASSERT_TRUE(Delete(high).ok());
  EXPECT_EQ(loader_.priority_classes().Find("high"), nullptr);
  // A second globalDefault is refused; the first stays.
  ASSERT_TRUE(Add("kind: PriorityClass\napiVersion: scheduling.k8s.io/v1\nmetadata: {name: d1}\n"
                  "value: 5\nglobalDefault: true\n")
                  .ok());
  EXPECT_FALSE(Add("kind: PriorityClass\napiVersion: scheduling.k8s.io/v1\nmetadata: {name: d2}\n"
                   "value: 6\nglobalDefault: true\n")
                   .ok());
  EXPECT_EQ(loader_.priority_classes().GlobalDefault()->name, "d1");
}

}  // namespace
}  // namespace kestrel::load
