#include "scheduler/framework/parallel.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <numeric>
#include <set>
#include <thread>
#include <vector>

#include "gtest/gtest.h"

namespace kestrel::framework {
namespace {

TEST(ParallelizerTest, CoversEveryIndexOnceWhateverTheThreads) {
  for (int threads : {1, 2, 3, 8}) {
    Parallelizer p(threads);
    for (size_t n : {0u, 1u, 63u, 64u, 1000u, 100003u}) {
      std::vector<int> hits(n, 0);
      p.For(n, [&](size_t begin, size_t end) {
        ASSERT_LE(begin, end);
        ASSERT_LE(end, n);
        for (size_t i = begin; i < end; ++i) ++hits[i];
      });
      EXPECT_EQ(std::count(hits.begin(), hits.end(), 1), static_cast<long>(n))
          << "threads=" << threads << " n=" << n;
    }
  }
}

TEST(ParallelizerTest, ManyJobsInARowReuseTheWorkers) {
  Parallelizer p(4);
  std::atomic<int64_t> sum{0};
  for (int job = 0; job < 2000; ++job) {
    p.For(257, [&](size_t begin, size_t end) {
      int64_t local = 0;
      for (size_t i = begin; i < end; ++i) local += static_cast<int64_t>(i);
      sum += local;
    });
  }
  EXPECT_EQ(sum.load(), int64_t{2000} * (256 * 257 / 2));
}

// Two threads, two chunks (of kMinChunk items, one range each): the chunk
// that starts first waits until the other has started, which it only can on
// another thread, so For must hand chunks to its worker.
TEST(ParallelizerTest, ChunksRunOnSeveralThreads) {
  Parallelizer p(2);
  std::mutex mu;
  std::condition_variable started;
  std::set<std::thread::id> threads;
  p.For(256, [&](size_t, size_t) {
    std::unique_lock<std::mutex> l(mu);
    threads.insert(std::this_thread::get_id());
    started.notify_all();
    started.wait(l, [&] { return threads.size() == 2; });
  }, /*min_parallel=*/1);
  EXPECT_EQ(threads.size(), 2u);
}

TEST(ParallelizerTest, ThreadsCountsTheCaller) {
  EXPECT_EQ(Parallelizer(1).threads(), 1);
  EXPECT_EQ(Parallelizer(0).threads(), 1);
  EXPECT_EQ(Parallelizer(3).threads(), 3);
}

}  // namespace
}  // namespace kestrel::framework
