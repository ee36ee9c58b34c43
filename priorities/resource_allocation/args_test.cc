#include "priorities/resource_allocation/args.h"

#include <string>

#include "gtest/gtest.h"

namespace kestrel::priorities {
namespace {

config::ResourceSpec Spec(const std::string& name, int64_t weight) {
  config::ResourceSpec r;
  r.set_name(name);
  r.set_weight(weight);
  return r;
}

TEST(FitArgsTest, Defaults) {
  config::NodeResourcesFitArgs args;
  SetDefaults(args);
  EXPECT_EQ(args.scoringstrategy().type(), "LeastAllocated");
  ASSERT_EQ(args.scoringstrategy().resources_size(), 2);
  EXPECT_EQ(args.scoringstrategy().resources(0).name(), "cpu");
  EXPECT_EQ(args.scoringstrategy().resources(0).weight(), 1);
  EXPECT_EQ(args.scoringstrategy().resources(1).name(), "memory");
  EXPECT_EQ(args.scoringstrategy().resources(1).weight(), 1);
  EXPECT_TRUE(Validate(args).ok());

  // A given strategy keeps its type and resources; unset weights become 1.
  config::NodeResourcesFitArgs most;
  most.mutable_scoringstrategy()->set_type("MostAllocated");
  config::ResourceSpec* gpu = most.mutable_scoringstrategy()->add_resources();
  gpu->set_name("nvidia.com/gpu");
  SetDefaults(most);
  EXPECT_EQ(most.scoringstrategy().type(), "MostAllocated");
  ASSERT_EQ(most.scoringstrategy().resources_size(), 1);
  EXPECT_EQ(most.scoringstrategy().resources(0).weight(), 1);
}

TEST(FitArgsTest, Validate) {
  struct Case {
    const char* name;
    config::NodeResourcesFitArgs args;
    std::string want;  // empty: valid
  };
  std::vector<Case> cases;
  auto add = [&](const char* name, std::string want, auto edit) {
    config::NodeResourcesFitArgs a;
    SetDefaults(a);
    edit(a);
    cases.push_back({name, a, std::move(want)});
  };
  add("defaults", "", [](auto&) {});
  add("unknown strategy",
      "scoringStrategy.type: Unsupported value: \"Foo\": supported values: "
      "\"LeastAllocated\", \"MostAllocated\", \"RequestedToCapacityRatio\"",
      [](auto& a) { a.mutable_scoringstrategy()->set_type("Foo"); });
  add("weight 101",
      "scoringStrategy.resources[1].weight: Invalid value: 101: resource weight of memory "
      "not in valid range (0, 100]",
      [](auto& a) { a.mutable_scoringstrategy()->mutable_resources(1)->set_weight(101); });
  add("weight 100 is fine", "",
      [](auto& a) { a.mutable_scoringstrategy()->mutable_resources(1)->set_weight(100); });
  add("negative weight",
      "scoringStrategy.resources[0].weight: Invalid value: -1: resource weight of cpu not in "
      "valid range (0, 100]",
      [](auto& a) { a.mutable_scoringstrategy()->mutable_resources(0)->set_weight(-1); });
  add("RequestedToCapacityRatio without shape",
      "scoringStrategy.shape: Required value: at least one point must be specified",
      [](auto& a) { a.mutable_scoringstrategy()->set_type("RequestedToCapacityRatio"); });
  add("shape not increasing, out of range: all reported",
      "[scoringStrategy.shape[1].utilization: Invalid value: 50: values must be sorted in "
      "increasing order, scoringStrategy.shape[0].score: Invalid value: 11: not in valid "
      "range [0, 10], scoringStrategy.shape[2].utilization: Invalid value: 101: not in valid "
      "range [0, 100]]",
      [](auto& a) {
        auto* s = a.mutable_scoringstrategy();
        s->set_type("RequestedToCapacityRatio");
        auto* shape = s->mutable_requestedtocapacityratio()->mutable_shape();
        for (auto [u, sc] : {std::pair{50, 11}, {50, 1}, {101, 2}}) {
          auto* p = shape->Add();
          p->set_utilization(u);
          p->set_score(sc);
        }
      });
  add("valid shape", "", [](auto& a) {
    auto* s = a.mutable_scoringstrategy();
    s->set_type("RequestedToCapacityRatio");
    auto* p = s->mutable_requestedtocapacityratio()->add_shape();
    p->set_utilization(0);
    p->set_score(10);
  });
  add("ignored resource group with a slash",
      "ignoredResourceGroups[0]: Invalid value: \"example.com/foo\": resource group name "
      "can't contain '/'",
      [](auto& a) { a.add_ignoredresourcegroups("example.com/foo"); });
  add("ignored resource with a bad name part",
      "ignoredResources[0]: Invalid value: \"example.com/-foo\": name part must consist of "
      "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
      "character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
      "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
      [](auto& a) { a.add_ignoredresources("example.com/-foo"); });
  add("good ignored names", "", [](auto& a) {
    a.add_ignoredresources("example.com/foo");
    a.add_ignoredresourcegroups("example.com");
  });

  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    absl::Status s = Validate(c.args);
    if (c.want.empty()) {
      EXPECT_TRUE(s.ok()) << s;
    } else {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_EQ(s.message(), c.want);
    }
  }
}

TEST(BalancedAllocationArgsTest, DefaultsAndValidate) {
  config::NodeResourcesBalancedAllocationArgs args;
  SetDefaults(args);
  ASSERT_EQ(args.resources_size(), 2);
  EXPECT_EQ(args.resources(0).name(), "cpu");
  EXPECT_EQ(args.resources(1).name(), "memory");
  EXPECT_TRUE(Validate(args).ok());

  config::NodeResourcesBalancedAllocationArgs bad;
  *bad.add_resources() = Spec("cpu", 1);
  *bad.add_resources() = Spec("cpu", 2);
  EXPECT_EQ(Validate(bad).message(),
            "[resources[1].name: Duplicate value: \"cpu\", resources[1].weight: Invalid value: "
            "2: must be 1]");
}

}  // namespace
}  // namespace kestrel::priorities
