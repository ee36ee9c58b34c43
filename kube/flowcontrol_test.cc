// Tests for kube/flowcontrol.h on a fake clock: client-go's token bucket
// (x/time/rate) semantics, and that one bucket serves many threads.

#include "kube/flowcontrol.h"

#include <algorithm>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kube/fake_clock.h"

namespace kestrel::kube {
namespace {

using ::testing::ElementsAre;

TEST(TokenBucketTest, BurstThenOneEveryOneOverQps) {
  AutoAdvanceClock clock;
  TokenBucket bucket(/*qps=*/4, /*burst=*/3, &clock);
  // The bucket starts full: three tokens now.
  EXPECT_EQ(bucket.Reserve(), absl::ZeroDuration());
  EXPECT_EQ(bucket.Reserve(), absl::ZeroDuration());
  EXPECT_EQ(bucket.Reserve(), absl::ZeroDuration());
  // Then each reservation queues 1/qps behind the one before.
  EXPECT_EQ(bucket.Reserve(), absl::Milliseconds(250));
  EXPECT_EQ(bucket.Reserve(), absl::Milliseconds(500));
  // After 1s the debt of two tokens is paid and two more have come.
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(bucket.Reserve(), absl::ZeroDuration());
  EXPECT_EQ(bucket.Reserve(), absl::ZeroDuration());
  EXPECT_EQ(bucket.Reserve(), absl::Milliseconds(250));
}

TEST(TokenBucketTest, RefillStopsAtBurst) {
  AutoAdvanceClock clock;
  TokenBucket bucket(/*qps=*/10, /*burst=*/2, &clock);
  clock.Advance(absl::Hours(1));
  EXPECT_EQ(bucket.Reserve(), absl::ZeroDuration());
  EXPECT_EQ(bucket.Reserve(), absl::ZeroDuration());
  EXPECT_EQ(bucket.Reserve(), absl::Milliseconds(100));
}

TEST(TokenBucketTest, AcceptSleepsTheWait) {
  AutoAdvanceClock clock;
  TokenBucket bucket(/*qps=*/2, /*burst=*/1, &clock);
  bucket.Accept();
  bucket.Accept();
  bucket.Accept();
  // Each wait moved the fake time, so each Accept waited 1/qps.
  EXPECT_THAT(clock.waits(), ElementsAre(absl::Milliseconds(500), absl::Milliseconds(500)));
}

TEST(TokenBucketTest, BurstBelowOneIsOne) {
  AutoAdvanceClock clock;
  TokenBucket bucket(/*qps=*/1, /*burst=*/0, &clock);
  EXPECT_EQ(bucket.burst(), 1);
  EXPECT_EQ(bucket.Reserve(), absl::ZeroDuration());
  EXPECT_EQ(bucket.Reserve(), absl::Seconds(1));
}

// Many threads share one bucket: the total wait handed out is what a single
// caller would have got for the same number of tokens.
TEST(TokenBucketTest, SharedByThreads) {
  AutoAdvanceClock clock;
  TokenBucket bucket(/*qps=*/100, /*burst=*/10, &clock);
  constexpr int kThreads = 8;
  constexpr int kEach = 5;  // 40 tokens: 10 from the burst, 30 reserved ahead
  std::vector<absl::Duration> waits(kThreads * kEach);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) waits[t * kEach + i] = bucket.Reserve();
    });
  }
  for (std::thread& t : threads) t.join();
  std::sort(waits.begin(), waits.end());
  for (int i = 0; i < kThreads * kEach; ++i) {
    EXPECT_EQ(waits[i], i < 10 ? absl::ZeroDuration() : absl::Milliseconds(10 * (i - 9)))
        << "token " << i;
  }
}

}  // namespace
}  // namespace kestrel::kube
