#include "scheduler/queue/priority_sort.h"

#include <memory>

#include "gtest/gtest.h"

namespace kestrel::queue {
namespace {

framework::QueuedPodInfo Info(int32_t priority, int64_t seconds, int64_t seq) {
  auto pod = std::make_shared<model::Pod>();
  pod->priority = priority;
  return {pod, absl::FromUnixSeconds(seconds), seq, 0};
}

TEST(PrioritySortTest, Table) {
  struct Case {
    const char* name;
    framework::QueuedPodInfo a, b;
    bool want;
  };
  const Case cases[] = {
      {"higher priority first", Info(100, 5, 2), Info(1, 1, 1), true},
      {"lower priority later", Info(1, 1, 1), Info(100, 5, 2), false},
      {"equal priority: earlier first", Info(5, 1, 2), Info(5, 2, 1), true},
      {"equal priority, later timestamp", Info(5, 2, 1), Info(5, 1, 2), false},
      {"full tie: sequence decides", Info(5, 1, 1), Info(5, 1, 2), true},
      {"negative priority", Info(-1, 0, 0), Info(0, 9, 9), false},
  };
  PrioritySort sort;
  for (const Case& c : cases) {
    EXPECT_EQ(sort.Less(c.a, c.b), c.want) << c.name;
  }
}

}  // namespace
}  // namespace kestrel::queue
