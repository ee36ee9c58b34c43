// The Parallelizer's overhead and scaling on a pure compute loop, apart from
// any scheduling work:
//
//   bazel run -c opt //bench:parallel_benchmark

#include <cstdint>
#include <vector>

#include "benchmark/benchmark.h"
#include "scheduler/framework/parallel.h"

namespace kestrel {
namespace {

void BM_For(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  framework::Parallelizer p(static_cast<int>(state.range(1)));
  std::vector<int64_t> out(n);
  for (auto _ : state) {
    p.For(n, [&](size_t begin, size_t end) {
      for (size_t i = begin; i < end; ++i) {
        int64_t x = static_cast<int64_t>(i);
        for (int k = 0; k < 8; ++k) x = (x * 2654435761) % 1000003;
        out[i] = x;
      }
    });
    benchmark::DoNotOptimize(out.data());
  }
}

BENCHMARK(BM_For)
    ->ArgNames({"n", "threads"})
    ->ArgsProduct({{500, 5000, 50000}, {1, 2}})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
}  // namespace kestrel

BENCHMARK_MAIN();
