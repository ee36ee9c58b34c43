// One scheduling cycle (PreFilter, Filter over every node, PreScore, Score,
// NormalizeScore, select) with the default profile, at 500, 5,000 and 50,000
// nodes. The pod is not assumed, so every iteration sees the same cluster.
//
//   bazel run -c opt //bench:cycle_benchmark -- --benchmark_counters_tabular=true

#include <memory>
#include <string>

#include "benchmark/benchmark.h"
#include "scheduler/plugins.h"
#include "scheduler/profile.h"
#include "scheduler/scheduler.h"

namespace kestrel {
namespace {

constexpr int64_t kGi = int64_t{1} << 30;
constexpr int64_t kMi = int64_t{1} << 20;

// The scheduler_perf node and pod templates (BENCHMARKS.md).
model::NodePtr MakeNode(int i, model::Interner& names) {
  auto n = std::make_shared<model::Node>();
  n->name = "node-" + std::to_string(i);
  n->name_id = names.Intern(n->name);
  n->allocatable.milli_cpu = 4000;
  n->allocatable.memory = 32 * kGi;
  n->allocatable.allowed_pods = 110;
  return n;
}

model::PodPtr MakePod(const std::string& name, const std::string& node) {
  auto p = std::make_shared<model::Pod>();
  p->ns = "sched-0";
  p->name = name;
  p->node_name = node;
  p->scheduler_name = "default-scheduler";
  p->requests.milli_cpu = 100;
  p->requests.memory = 500 * kMi;
  p->non_zero_milli_cpu = 100;
  p->non_zero_memory = 500 * kMi;
  return p;
}

void BM_Cycle(benchmark::State& state) {
  const int nodes = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  model::Interner names;
  cache::Cache cache;
  for (int i = 0; i < nodes; ++i) cache.AddNode(MakeNode(i, names)).IgnoreError();
  // One existing pod on every fifth node, so scores differ.
  for (int i = 0; i < nodes; i += 5) {
    cache.AddPod(MakePod("init-" + std::to_string(i), "node-" + std::to_string(i))).IgnoreError();
  }
  framework::Handle handle;
  handle.interner = &names;
  auto profiles = scheduler::BuildProfiles(scheduler::DefaultConfig(),
                                           scheduler::InTreeRegistry(), handle);
  if (!profiles.ok()) {
    state.SkipWithError(std::string(profiles.status().message()).c_str());
    return;
  }
  scheduler::Scheduler sched(&cache, *std::move(profiles), {1, threads, 0});
  sched.UpdateSnapshot();
  const model::PodPtr pod = MakePod("measured", "");
  const framework::Framework& fw = *sched.ProfileFor(*pod);
  for (auto _ : state) {
    framework::CycleState cycle = sched.NewCycleState();
    scheduler::Diagnosis diagnosis;
    scheduler::ScheduleResult r = sched.SchedulePod(fw, cycle, *pod, &diagnosis);
    benchmark::DoNotOptimize(r);
  }
  state.counters["pods/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.counters["nodes"] = nodes;
  state.counters["threads"] = threads;
}

BENCHMARK(BM_Cycle)
    ->ArgNames({"nodes", "threads"})
    ->Args({500, 1})
    ->Args({500, 2})
    ->Args({5000, 1})
    ->Args({5000, 2})
    ->Args({50000, 1})
    ->Args({50000, 2})
    ->Unit(benchmark::kMicrosecond)
    ->UseRealTime();

}  // namespace
}  // namespace kestrel

BENCHMARK_MAIN();
