#include "model/interner.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace kestrel::model {
namespace {

TEST(InternerTest, SameStringSameId) {
  Interner names;
  const Id a = names.Intern("zone");
  const Id b = names.Intern("region");
  EXPECT_NE(a, b);
  EXPECT_EQ(names.Intern("zone"), a);
  EXPECT_EQ(names.Find("region"), b);
  EXPECT_EQ(names.Find("rack"), kNoId);
  EXPECT_EQ(names.Name(a), "zone");
  EXPECT_EQ(names.size(), 2u);
}

TEST(InternerTest, NamesStayValidAcrossChunks) {
  Interner names;
  const Id first = names.Intern("first");
  const absl::string_view view = names.Name(first);
  for (int i = 0; i < 10000; ++i) names.Intern(absl::StrCat("label-", i));
  EXPECT_EQ(view.data(), names.Name(first).data());
  EXPECT_EQ(names.Name(names.Find("label-9999")), "label-9999");
}

// The what-if service compiles requests into the cluster's interner while
// other requests read names: four threads intern overlapping strings and
// read every name they got back. Each string gets one id, every id names its
// string. Under ThreadSanitizer (./test.sh), a data race fails the test.
TEST(InternerTest, ConcurrentInternAndName) {
  Interner names;
  constexpr int kThreads = 4;
  constexpr int kStrings = 6000;
  std::vector<std::vector<Id>> got(kThreads, std::vector<Id>(kStrings));
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kStrings; ++i) {
        // Each thread walks the strings from its own offset, so threads both
        // add new strings and find strings others added.
        const int k = (i + t * 1500) % kStrings;
        const std::string s = absl::StrCat("s", k);
        const Id id = names.Intern(s);
        got[t][k] = id;
        EXPECT_EQ(names.Name(id), s);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  EXPECT_EQ(names.size(), static_cast<size_t>(kStrings));
  for (int t = 1; t < kThreads; ++t) EXPECT_EQ(got[t], got[0]);
}

}  // namespace
}  // namespace kestrel::model
