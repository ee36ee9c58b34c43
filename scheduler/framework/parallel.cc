#include "scheduler/framework/parallel.h"

#include <algorithm>
#include <system_error>

#include "absl/time/clock.h"

namespace kestrel::framework {
namespace {

// How long an idle worker spins before it blocks.
constexpr absl::Duration kSpin = absl::Microseconds(200);
// Below this many items a job runs on the caller alone, and no chunk is
// smaller than kMinChunk: handing work to another core costs a few
// microseconds, about what a scheduler does for a thousand nodes.
constexpr size_t kMinParallel = 1024;
constexpr size_t kMinChunk = 128;

}  // namespace

Parallelizer::Parallelizer(int threads) {
  for (int i = 1; i < threads; ++i) {
    try {
      workers_.emplace_back([this] { WorkerLoop(); });
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
    absl::MutexLock l(&mu_);
    stop_ = true;
  }
  for (std::thread& t : workers_) t.join();
}

void Parallelizer::RunChunks(Job& job) {
  for (;;) {
    const size_t begin = job.next.fetch_add(job.chunk);
    if (begin >= job.n) return;
    const size_t end = std::min(job.n, begin + job.chunk);
    (*job.fn)(begin, end);
    if (job.remaining.fetch_sub(end - begin) == end - begin) {
      // The last chunk: wake the caller.
      absl::MutexLock l(&mu_);
    }
  }
}

void Parallelizer::WorkerLoop() {
  struct Wait {
    Parallelizer* self;
    uint64_t seen;
    static bool Ready(Wait* w) ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return w->self->stop_ || w->self->epoch_ != w->seen;
    }
  } wait{this, 0};
  for (;;) {
    const absl::Time spin_until = absl::Now() + kSpin;
    while (published_epoch_.load(std::memory_order_acquire) == wait.seen &&
           !stopping_.load(std::memory_order_relaxed) && absl::Now() < spin_until) {
      for (int i = 0; i < 64; ++i) __builtin_ia32_pause();
    }
    std::shared_ptr<Job> job;
    {
      absl::MutexLock l(&mu_);
      mu_.Await(absl::Condition(&Wait::Ready, &wait));
      if (stop_) return;
      wait.seen = epoch_;
      job = job_;
    }
    if (job != nullptr) RunChunks(*job);
  }
}

void Parallelizer::For(size_t n, const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  // Small jobs, or no workers: not worth waking anyone.
  if (workers_.empty() || n < kMinParallel) {
    fn(0, n);
    return;
  }
  auto job = std::make_shared<Job>();
  job->fn = &fn;
  job->n = n;
  // Several chunks per thread so an uneven chunk does not stall the rest.
  job->chunk = std::max<size_t>(kMinChunk, n / (threads() * 8));
  job->remaining.store(n);
  {
    absl::MutexLock l(&mu_);
    job_ = job;
    ++epoch_;
    published_epoch_.store(epoch_, std::memory_order_release);
  }
  RunChunks(*job);
  absl::MutexLock l(&mu_);
  mu_.Await(absl::Condition(
      +[](Job* j) { return j->remaining.load() == 0; }, job.get()));
  job_.reset();
}

}  // namespace kestrel::framework
