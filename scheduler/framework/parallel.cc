#include "scheduler/framework/parallel.h"

#include <pthread.h>

#include <algorithm>
#include <system_error>

#include "absl/time/clock.h"

namespace kestrel::framework {
namespace {

// How long an idle worker spins before it blocks.
constexpr absl::Duration kSpin = absl::Microseconds(200);
// No chunk is smaller than this.
constexpr size_t kMinChunk = 128;

}  // namespace

Parallelizer::Parallelizer(int threads) {
  for (int i = 1; i < threads; ++i) {
    try {
      workers_.emplace_back([this, i] {
        pthread_setname_np(pthread_self(), "kestrel-par");
        WorkerLoop(i);
      });
    } catch (const std::system_error&) {
      // The system has no thread to spare: run with the ones we got (at
      // least the caller's). Results do not depend on the thread count.
      break;
    }
  }
}

Parallelizer::~Parallelizer() {
  stopping_.store(true);
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  job_posted_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void Parallelizer::RunChunks(Job& job, int home) {
  const size_t num_ranges = job.ranges.size();
  for (size_t k = 0; k < num_ranges; ++k) {
    Range& range = job.ranges[(home + k) % num_ranges];
    for (;;) {
      const size_t begin = range.next.fetch_add(job.chunk);
      if (begin >= range.end) break;
      const size_t end = std::min(range.end, begin + job.chunk);
      (*job.fn)(begin, end);
      if (job.remaining.fetch_sub(end - begin) == end - begin) {
        // The last chunk: wake the caller. Taking the lock first means the
        // caller either has not checked `remaining` yet or already waits.
        { std::lock_guard<std::mutex> l(mu_); }
        job_finished_.notify_all();
      }
    }
  }
}

void Parallelizer::WorkerLoop(int home) {
  uint64_t seen = 0;
  for (;;) {
    const absl::Time spin_until = absl::Now() + kSpin;
    while (published_epoch_.load(std::memory_order_acquire) == seen &&
           !stopping_.load(std::memory_order_relaxed) && absl::Now() < spin_until) {
      for (int i = 0; i < 64; ++i) __builtin_ia32_pause();
    }
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> l(mu_);
      job_posted_.wait(l, [&] { return stop_ || epoch_ != seen; });
      if (stop_) return;
      seen = epoch_;
      job = job_;
    }
    if (job != nullptr) RunChunks(*job, home);
  }
}

void Parallelizer::For(size_t n, const std::function<void(size_t, size_t)>& fn,
                       size_t min_parallel) {
  if (n == 0) return;
  // Small jobs, or no workers: not worth waking anyone.
  if (workers_.empty() || n < std::max(min_parallel, kMinChunk)) {
    fn(0, n);
    return;
  }
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  const size_t t = static_cast<size_t>(threads());
  // A few chunks per range, so a thread that finishes early can help.
  job->chunk = std::max<size_t>(kMinChunk, n / (t * 4));
  job->ranges = std::vector<Range>(t);
  for (size_t i = 0; i < t; ++i) {
    job->ranges[i].next.store(n * i / t, std::memory_order_relaxed);
    job->ranges[i].end = n * (i + 1) / t;
  }
  job->remaining.store(n);
  {
    std::lock_guard<std::mutex> l(mu_);
    job_ = job;
    ++epoch_;
    published_epoch_.store(epoch_, std::memory_order_release);
  }
  job_posted_.notify_all();
  RunChunks(*job, 0);
  std::unique_lock<std::mutex> l(mu_);
  job_finished_.wait(l, [&] { return job->remaining.load() == 0; });
  job_.reset();
}

}  // namespace kestrel::framework
