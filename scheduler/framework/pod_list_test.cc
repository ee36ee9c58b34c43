// PodList against a plain vector under random pushes, removes and copies:
// the same pods in the same order, and copies never see each other's
// changes (the chunks they share are copied before a write).

#include "scheduler/framework/pod_list.h"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kestrel::framework {
namespace {

std::vector<std::string> Names(const PodList& list) {
  std::vector<std::string> out;
  for (const model::PodPtr& p : list) out.push_back(p->name);
  return out;
}

std::vector<std::string> Names(const std::vector<model::PodPtr>& v) {
  std::vector<std::string> out;
  for (const model::PodPtr& p : v) out.push_back(p->name);
  return out;
}

model::PodPtr Pod(int i) {
  auto p = std::make_shared<model::Pod>();
  p->name = "p" + std::to_string(i);
  return p;
}

TEST(PodListTest, MatchesAVectorAndCopiesAreIndependent) {
  std::mt19937_64 rng(3);
  // Two lists that started as copies of each other, each beside the vector
  // it must equal.
  PodList a, b;
  std::vector<model::PodPtr> va, vb;
  int next = 0;
  for (int step = 0; step < 20000; ++step) {
    const int op = static_cast<int>(rng() % 10);
    PodList& list = rng() % 2 == 0 ? a : b;
    std::vector<model::PodPtr>& v = &list == &a ? va : vb;
    if (op < 6) {
      model::PodPtr p = Pod(next++);
      list.push_back(p);
      v.push_back(p);
    } else if (op < 9 && !v.empty()) {
      const size_t i = rng() % v.size();
      list.SwapRemove(i);
      std::swap(v[i], v.back());
      v.pop_back();
    } else {
      // Copy one onto the other: from now on they share every chunk.
      if (&list == &a) {
        b = a;
        vb = va;
      } else {
        a = b;
        va = vb;
      }
    }
    ASSERT_EQ(a.size(), va.size());
    ASSERT_EQ(b.size(), vb.size());
    ASSERT_EQ(a.empty(), va.empty());
    if (step % 97 == 0) {
      ASSERT_EQ(Names(a), Names(va)) << step;
      ASSERT_EQ(Names(b), Names(vb)) << step;
      for (size_t i = 0; i < va.size(); ++i) ASSERT_EQ(a[i], va[i]);
    }
  }
  // Sizes went past several chunks at some point.
  EXPECT_GT(next, 3 * static_cast<int>(PodList::kChunk));
}

TEST(PodListTest, ACopySharesUntilWritten) {
  PodList a;
  for (int i = 0; i < 300; ++i) a.push_back(Pod(i));
  PodList b = a;
  EXPECT_EQ(&a[0], &b[0]);  // the same chunk
  b.SwapRemove(0);          // moves the last pod into chunk 0 of b alone
  EXPECT_NE(&a[0], &b[0]);
  EXPECT_EQ(a[0]->name, "p0");
  EXPECT_EQ(b[0]->name, "p299");
  EXPECT_EQ(a.size(), 300u);
  EXPECT_EQ(b.size(), 299u);
  // A chunk neither changed is still shared.
  EXPECT_EQ(&a[150], &b[150]);
}

}  // namespace
}  // namespace kestrel::framework
