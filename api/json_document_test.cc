#include "api/json_document.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kestrel::api {
namespace {

TEST(JsonDocumentTest, KeepsOrderDuplicatesAndNumberText) {
  absl::StatusOr<std::unique_ptr<JsonDocument>> doc = JsonDocument::Parse(
      "f.json", R"({"a": [1.50, "x\u00e9\n", true, null, {"b": 1e3}], "a": -0})");
  ASSERT_TRUE(doc.ok()) << doc.status();
  const JsonRef root = (*doc)->root();
  ASSERT_TRUE(root.IsMap());
  EXPECT_EQ(root.size(), 2);
  std::vector<std::string> keys;
  for (const JsonEntry& member : root) keys.emplace_back(member.first.Scalar());
  EXPECT_EQ(keys, (std::vector<std::string>{"a", "a"}));

  const JsonRef list = (*root.begin()).second;
  ASSERT_TRUE(list.IsSequence());
  std::vector<std::string> shown;
  for (const JsonEntry& element : list) {
    if (element.IsMap()) {
      shown.push_back(absl::StrCat("{", (*element.begin()).first.Scalar(), ":",
                                   (*element.begin()).second.Scalar(), "}"));
    } else if (element.IsNull()) {
      shown.push_back("null");
    } else {
      shown.push_back(absl::StrCat(element.IsQuoted() ? "Q" : "P", element.Scalar()));
    }
  }
  EXPECT_EQ(shown, (std::vector<std::string>{"P1.50", "Qx\xC3\xA9\n", "Ptrue", "null",
                                             "{b:1e3}"}));
  EXPECT_FALSE(JsonRef().IsDefined());
  EXPECT_TRUE(JsonRef().IsNull());
}

TEST(JsonDocumentTest, KeysLongerThanYamlCppAllows) {
  const std::string key(2000, 'k');
  absl::StatusOr<std::unique_ptr<JsonDocument>> doc =
      JsonDocument::Parse("f.json", absl::StrCat("{\"", key, "\": \"v\"}"));
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ((*(*doc)->root().begin()).first.Scalar(), key);
}

struct SyntaxCase {
  const char* name;
  std::string content;
  std::string error;
};

class JsonSyntaxTest : public testing::TestWithParam<SyntaxCase> {};

TEST_P(JsonSyntaxTest, SaysWhereAndWhatWasExpected) {
  absl::StatusOr<std::unique_ptr<JsonDocument>> doc =
      JsonDocument::Parse("pods.json", GetParam().content, /*max_depth=*/5);
  ASSERT_FALSE(doc.ok());
  EXPECT_EQ(doc.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(doc.status().message(), GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    Errors, JsonSyntaxTest,
    testing::Values(
        SyntaxCase{"MissingColon", "{\"a\" 1}",
                   "pods.json:1:6: expected a member (\"name\": value), ',' or '}' in an "
                   "object, found '1'"},
        SyntaxCase{"MissingComma", "{\n  \"a\": 1\n  \"b\": 2\n}",
                   "pods.json:3:3: expected a member (\"name\": value), ',' or '}' in an "
                   "object, found '\"'"},
        SyntaxCase{"TrailingComma", "{\"a\":1,}",
                   "pods.json:1:8: expected a member (\"name\": value), ',' or '}' in an "
                   "object, found '}'"},
        SyntaxCase{"ArrayComma", "[1 2]",
                   "pods.json:1:4: expected a value, ',' or ']' in an array, found '2'"},
        SyntaxCase{"Unclosed", "[1, 2",
                   "pods.json:1:6: expected ',' or ']' to close the array, found the end "
                   "of the input"},
        SyntaxCase{"Mismatched", "{\"a\": [1}",
                   "pods.json:1:9: expected ']' to close the array, found '}'"},
        SyntaxCase{"Trailing", "{\"a\": 1} x",
                   "pods.json:1:10: expected the end of the input after the top-level "
                   "value, found 'x'"},
        SyntaxCase{"BadAtom", "{\"a\": tru}",
                   "pods.json:1:7: expected true or false, found 't'"},
        SyntaxCase{"LeadingZero", "{\"a\": 01}",
                   "pods.json:1:7: expected a number like -12, 0.5 or 1e3, found '0'"},
        SyntaxCase{"BadValue", "{\n  \"a\":\n   @}",
                   "pods.json:3:4: expected a value, found '@'"},
        SyntaxCase{"UnclosedString", "{\"a\": \"abc",
                   "pods.json:1:7: expected a string that ends (no closing '\"' before the "
                   "end), found '\"'"},
        SyntaxCase{"BadEscape", "{\"a\": \"\\q\"}",
                   "pods.json:1:7: expected a valid string (escapes as \\n, \\\", \\uXXXX; "
                   "no raw control characters), found '\"'"},
        SyntaxCase{"BadUtf8", "{\"a\": \"\xC3\x28\"}",
                   "pods.json:1:8: expected UTF-8 text, found byte 0xc3"},
        SyntaxCase{"TooDeep", "[[[[[[[1]]]]]]]",
                   "pods.json:1:7: expected at most 5 levels of nesting, found '['"},
        SyntaxCase{"Empty", "  ", "pods.json:1:3: expected a JSON value, found the end of "
                                  "the input"}),
    [](const testing::TestParamInfo<SyntaxCase>& info) { return info.param.name; });

TEST(LooksLikeJsonTest, ObjectsAndArraysAfterWhitespace) {
  EXPECT_TRUE(LooksLikeJson("{}"));
  EXPECT_TRUE(LooksLikeJson(" \n\t[1]"));
  EXPECT_TRUE(LooksLikeJson("\xEF\xBB\xBF{}"));
  EXPECT_FALSE(LooksLikeJson("kind: Pod"));
  EXPECT_FALSE(LooksLikeJson("# comment\n{}"));
  EXPECT_FALSE(LooksLikeJson(absl::string_view("k8s\0", 4)));
  EXPECT_FALSE(LooksLikeJson(""));
}

}  // namespace
}  // namespace kestrel::api
