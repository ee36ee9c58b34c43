#include "cmd/flags.h"

#include "gtest/gtest.h"

namespace kestrel::cmd {
namespace {

TEST(FlagsTest, ParsesValuesAndBooleans) {
  auto f = Flags::Parse({"--cluster=a.yaml", "--summary", "--seed=7", "--qps=2.5"},
                        {"cluster", "summary", "seed", "qps"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->Get("cluster"), "a.yaml");
  EXPECT_EQ(f->Get("summary"), "true");
  EXPECT_EQ(*f->Int("seed", 1), 7);
  EXPECT_EQ(*f->Int("missing", 3), 3);
  EXPECT_EQ(*f->Double("qps", 1), 2.5);
  EXPECT_EQ(*f->Double("missing", -1), -1);
}

TEST(FlagsTest, Rejects) {
  const std::set<std::string> known = {"a", "n"};
  EXPECT_FALSE(Flags::Parse({"--b=1"}, known).ok());
  EXPECT_FALSE(Flags::Parse({"positional"}, known).ok());
  EXPECT_FALSE(Flags::Parse({"--a=1", "--a=2"}, known).ok());
  auto f = Flags::Parse({"--n=x"}, known);
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->Int("n", 0).ok());
  EXPECT_EQ(f->Double("n", 0).status().message(), "flag --n: \"x\" is not a number");
  EXPECT_FALSE(f->Required("a").ok());
}

TEST(FlagsTest, RepeatableFlagsKeepEveryValueInOrder) {
  auto f = Flags::Parse({"--load=a.yaml", "--listen=x", "--load=b.json", "--load=c.yaml"},
                        {"load", "listen"}, {"load"});
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->All("load"), (std::vector<std::string>{"a.yaml", "b.json", "c.yaml"}));
  EXPECT_EQ(f->Get("load"), "c.yaml");
  EXPECT_EQ(f->All("listen"), std::vector<std::string>{"x"});
  EXPECT_TRUE(f->All("missing").empty());
  // Only the flags named repeatable may repeat.
  auto twice = Flags::Parse({"--listen=x", "--listen=y"}, {"load", "listen"}, {"load"});
  ASSERT_FALSE(twice.ok());
  EXPECT_EQ(twice.status().message(), "flag --listen given twice");
}

}  // namespace
}  // namespace kestrel::cmd
