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

TEST(ValidationTest, Dns1123Labels) {
  EXPECT_TRUE(Dns1123LabelErrors("team-a").empty());
  EXPECT_EQ(Dns1123LabelErrors("team.a"), std::vector<std::string>{"must not contain dots"});
  EXPECT_EQ(Dns1123LabelErrors("Team"),
            std::vector<std::string>{
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
                "'-', and must start and end with an alphanumeric character (e.g. 'my-name',  or "
                "'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"});
  EXPECT_EQ(Dns1123LabelErrors(std::string(64, 'a')),
            std::vector<std::string>{"must be no more than 63 characters"});
}

TEST(ValidationTest, ParseGoInt64) {
  int64_t v = 0;
  EXPECT_TRUE(ParseGoInt64("-42", &v));
  EXPECT_EQ(v, -42);
  EXPECT_TRUE(ParseGoInt64("+7", &v));
  EXPECT_EQ(v, 7);
  // strconv.ParseInt takes no spaces, underscores or overflow.
  for (const char* bad : {"", "+", " 5", "5 ", "1_000", "0x10", "9223372036854775808", "1.0"}) {
    EXPECT_FALSE(ParseGoInt64(bad, &v)) << bad;
  }
}

TEST(ValidationTest, FieldErrors) {
  EXPECT_EQ(InvalidError("a.b", "\"x\"", "bad"), "a.b: Invalid value: \"x\": bad");
  EXPECT_EQ(RequiredError("a"), "a: Required value");
  EXPECT_EQ(RequiredError("a", "why"), "a: Required value: why");
  EXPECT_EQ(ForbiddenError("a", "why"), "a: Forbidden: why");
  EXPECT_EQ(NotSupportedError("a", "\"x\"", {"B", "A"}),
            "a: Unsupported value: \"x\": supported values: \"B\", \"A\"");
  EXPECT_EQ(DuplicateError("a[1]", "\"x\""), "a[1]: Duplicate value: \"x\"");
  EXPECT_EQ(InclusiveRangeError(1, 65535), "must be between 1 and 65535, inclusive");
}

}  // namespace
}  // namespace kestrel::api
