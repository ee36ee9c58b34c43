#include "api/validation.h"

#include "gtest/gtest.h"

namespace kestrel::api {
namespace {

TEST(ValidationTest, GoQuote) {
  EXPECT_EQ(GoQuote("a\"b\\c\n\t\x01"), "\"a\\\"b\\\\c\\n\\t\\x01\"");
}

TEST(ValidationTest, QualifiedNames) {
  EXPECT_TRUE(QualifiedNameErrors("kubernetes.io/hostname").empty());
  EXPECT_TRUE(QualifiedNameErrors("zone").empty());
  // Upstream reports both problems of an empty name part.
  EXPECT_EQ(QualifiedNameErrors("example.com/").size(), 2u);
  EXPECT_EQ(QualifiedNameErrors("/name"), std::vector<std::string>{"prefix part must be non-empty"});
  EXPECT_EQ(QualifiedNameErrors("a/b/c").size(), 1u);
  EXPECT_EQ(QualifiedNameErrors(std::string(64, 'a')),
            std::vector<std::string>{"name part must be no more than 63 characters"});
  EXPECT_EQ(QualifiedNameErrors("-x")[0],
            "name part must consist of alphanumeric characters, '-', '_' or '.', and must start "
            "and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
            "'123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')");
  // A prefix over 253 characters also fails the subdomain format.
  EXPECT_EQ(QualifiedNameErrors(std::string(254, 'A') + "/x").size(), 2u);
}

TEST(ValidationTest, LabelValues) {
  EXPECT_TRUE(LabelValueErrors("").empty());
  EXPECT_TRUE(LabelValueErrors("v1.2_3").empty());
  EXPECT_EQ(LabelValueErrors("bad value").size(), 1u);
}

TEST(ValidationTest, ValidateLabelNameAndAggregate) {
  std::vector<std::string> errs;
  ValidateLabelName("zone", "topologyKey", errs);
  EXPECT_TRUE(errs.empty());
  EXPECT_TRUE(AggregateErrors(errs).ok());
  ValidateLabelName("/x", "topologyKey", errs);
  ASSERT_EQ(errs.size(), 1u);
  EXPECT_EQ(errs[0], "topologyKey: Invalid value: \"/x\": prefix part must be non-empty");
  EXPECT_EQ(AggregateErrors(errs).message(), errs[0]);
  errs.push_back(errs[0]);
  errs.push_back("b: Required value");
  EXPECT_EQ(AggregateErrors(errs).message(),
            "[topologyKey: Invalid value: \"/x\": prefix part must be non-empty, b: Required "
            "value]");
}

}  // namespace
}  // namespace kestrel::api
