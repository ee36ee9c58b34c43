#include "predicates/testing/upstream.h"

#include <cmath>
#include <string>
#include <vector>

#include "api/decode.h"
#include "gtest/gtest.h"

namespace kestrel::testing::upstream {
namespace {

// The reference's own matchers, on the cases upstream's documentation and
// tests spell out. (The plugins' table tests check the references on whole
// hand-worked clusters.)

template <typename T>
T Decode(const std::string& yaml) {
  T out;
  absl::Status s = api::DecodeInto(yaml, &out, "test");
  EXPECT_TRUE(s.ok()) << s;
  return out;
}

LabelMap Labels(std::vector<std::pair<std::string, std::string>> kv) {
  LabelMap out;
  for (auto& [k, v] : kv) out[k] = v;
  return out;
}

TEST(UpstreamReferenceTest, SelectorMatches) {
  struct Case {
    std::string selector;  // "" for nil
    LabelMap labels;
    bool want;
  };
  const std::vector<Case> cases = {
      {"", Labels({{"app", "web"}}), false},  // nil selects nothing
      {"{}", Labels({}), true},                // empty selects everything
      {"{matchLabels: {app: web}}", Labels({{"app", "web"}}), true},
      {"{matchLabels: {app: web}}", Labels({{"app", "db"}}), false},
      {"{matchLabels: {app: web}}", Labels({}), false},
      {"{matchExpressions: [{key: app, operator: In, values: [a, web]}]}", Labels({{"app", "web"}}),
       true},
      {"{matchExpressions: [{key: app, operator: In, values: [a]}]}", Labels({}), false},
      {"{matchExpressions: [{key: app, operator: NotIn, values: [a]}]}", Labels({}), true},
      {"{matchExpressions: [{key: app, operator: NotIn, values: [a]}]}", Labels({{"app", "a"}}),
       false},
      {"{matchExpressions: [{key: app, operator: Exists}]}", Labels({{"app", ""}}), true},
      {"{matchExpressions: [{key: app, operator: DoesNotExist}]}", Labels({{"app", ""}}), false},
      {"{matchExpressions: [{key: app, operator: Gt, values: ['1']}]}", Labels({{"app", "2"}}),
       false},  // not a label selector operator
      {"{matchLabels: {app: web}, matchExpressions: [{key: tier, operator: Exists}]}",
       Labels({{"app", "web"}}), false},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.selector);
    if (c.selector.empty()) {
      EXPECT_EQ(SelectorMatches(nullptr, c.labels), c.want);
    } else {
      const auto s = Decode<metav1::LabelSelector>(c.selector);
      EXPECT_EQ(SelectorMatches(&s, c.labels), c.want);
    }
  }
}

TEST(UpstreamReferenceTest, RequiredNodeAffinityAndTaints) {
  const auto node = Decode<v1::Node>(
      "metadata: {name: n1, labels: {zone: z1, cores: '16'}}\n"
      "spec: {taints: [{key: a, value: x, effect: NoSchedule}, {key: b, effect: "
      "PreferNoSchedule}]}");
  struct Case {
    std::string spec;
    bool affinity;     // MatchesRequiredNodeAffinity
    bool untolerated;  // HasUntoleratedDoNotScheduleTaint
  };
  const std::string required =
      "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: "
      "{nodeSelectorTerms: ";
  const std::vector<Case> cases = {
      {"{}", true, true},
      {"{nodeSelector: {zone: z1}}", true, true},
      {"{nodeSelector: {zone: z2}}", false, true},
      // Terms are ORed; an empty term matches nothing.
      {"{" + required + "[{}, {matchExpressions: [{key: zone, operator: In, values: [z1]}]}]}}}}",
       true, true},
      {"{" + required + "[{}]}}}}", false, true},
      {"{" + required + "[{matchExpressions: [{key: cores, operator: Gt, values: ['8']}]}]}}}}",
       true, true},
      {"{" + required + "[{matchExpressions: [{key: cores, operator: Lt, values: ['8']}]}]}}}}",
       false, true},
      {"{" + required +
           "[{matchFields: [{key: metadata.name, operator: NotIn, values: [n1]}]}]}}}}",
       false, true},
      // Tolerations: Equal compares values; Exists without a key tolerates
      // all; PreferNoSchedule taints never count.
      {"{tolerations: [{key: a, value: x}]}", true, false},
      {"{tolerations: [{key: a, operator: Equal, value: y}]}", true, true},
      {"{tolerations: [{operator: Exists}]}", true, false},
      {"{tolerations: [{key: a, operator: Exists, effect: NoExecute}]}", true, true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.spec);
    const auto pod = Decode<v1::Pod>("metadata: {name: p}\nspec: " + c.spec);
    EXPECT_EQ(MatchesRequiredNodeAffinity(pod, node), c.affinity);
    EXPECT_EQ(HasUntoleratedDoNotScheduleTaint(pod, node), c.untolerated);
  }
}

TEST(UpstreamReferenceTest, GoMathLog) {
  // math.Log(2) is Ln2; log(3) is where glibc and Go part.
  EXPECT_EQ(GoMathLog(2), 0.693147180559945309417232121458176568);
  ASSERT_TRUE(GoMathLog(3).has_value());
  EXPECT_NEAR(*GoMathLog(3), std::log(3.0), 1e-15);
  EXPECT_FALSE(GoMathLog(2000).has_value());  // not in the table
  EXPECT_GT(GoMathLogTable().size(), 1300u);
}

}  // namespace
}  // namespace kestrel::testing::upstream
