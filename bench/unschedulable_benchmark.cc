// What a pod that fits nowhere costs against what a schedulable one does,
// on scheduler_perf's Unschedulable cluster (BENCHMARKS.md): 4-CPU nodes,
// a 9-CPU high-priority pod that no node can hold, so every node answers
// UnschedulableAndUnresolvable and preemption has nothing to try. Each
// iteration places one pod with the default profile (preemption included)
// through sim::Host::Place, as scheduler_perf does.
//
//   BM_FitsNowhere/nodes/between: the 9-CPU pod, after `between` default
//     pods were placed (untimed) since the last one, as the workload
//     interleaves them (one per 100).
//   BM_Schedulable/nodes: a default pod, bound, for comparison.
// The first pod of each template, which filters every node, is placed
// before the timing starts: these are the steady-state costs.
//
//   bazel run -c opt //bench:unschedulable_benchmark

#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "benchmark/benchmark.h"
#include "scheduler/profile.h"
#include "sim/cluster.h"
#include "sim/generate.h"
#include "sim/simulator.h"

namespace kestrel {
namespace {

struct Setup {
  sim::Cluster cluster;
  std::unique_ptr<sim::Host> host;
  model::PodPtr large;    // the 9-CPU pod
  model::PodPtr regular;  // a default pod
};

// The Unschedulable workload at `nodes`, with one large and one default pod
// pending to copy from.
bool MakeSetup(int nodes, benchmark::State& state, Setup* out) {
  std::ostringstream text;
  sim::GenerateOptions g{"Unschedulable", nodes, 100, 1, 1, sim::OutputFormat::kProtobuf};
  absl::Status s = sim::Generate(g, text);
  if (!s.ok()) {
    state.SkipWithError(std::string(s.message()).c_str());
    return false;
  }
  auto cluster = sim::LoadContents({{"cluster.pb", std::move(text).str()}});
  if (!cluster.ok()) {
    state.SkipWithError(std::string(cluster.status().message()).c_str());
    return false;
  }
  out->cluster = *std::move(cluster);
  if (out->cluster.pending_pods.size() != 2) {
    state.SkipWithError("expected one large and one default pod pending");
    return false;
  }
  out->large = out->cluster.pending_pods[0];
  out->regular = out->cluster.pending_pods[1];
  sim::SimOptions options;
  options.threads = 2;
  auto host = sim::Host::Create(out->cluster, scheduler::DefaultConfig(), options);
  if (!host.ok()) {
    state.SkipWithError(std::string(host.status().message()).c_str());
    return false;
  }
  out->host = *std::move(host);
  return true;
}

model::PodPtr Copy(const model::PodPtr& pod, int64_t i) {
  auto p = std::make_shared<model::Pod>(*pod);
  p->name = pod->name + "-" + std::to_string(i);
  p->uid = pod->uid + "-" + std::to_string(i);
  return p;
}

void BM_FitsNowhere(benchmark::State& state) {
  const int between = static_cast<int>(state.range(1));
  Setup setup;
  if (!MakeSetup(static_cast<int>(state.range(0)), state, &setup)) return;
  int64_t copies = 0;
  // Untimed: the first pod of each template filters every node.
  setup.host->Place(Copy(setup.large, ++copies));
  setup.host->Place(Copy(setup.regular, ++copies));
  for (auto _ : state) {
    if (between > 0) {
      state.PauseTiming();
      for (int i = 0; i < between; ++i) setup.host->Place(Copy(setup.regular, ++copies));
      state.ResumeTiming();
    }
    scheduler::ScheduleResult r = setup.host->Place(Copy(setup.large, ++copies));
    if (!r.node.empty()) {
      state.SkipWithError("the large pod was placed");
      return;
    }
    benchmark::DoNotOptimize(r);
  }
}

void BM_Schedulable(benchmark::State& state) {
  Setup setup;
  if (!MakeSetup(static_cast<int>(state.range(0)), state, &setup)) return;
  int64_t copies = 0;
  setup.host->Place(Copy(setup.regular, ++copies));  // untimed, as above
  for (auto _ : state) {
    scheduler::ScheduleResult r = setup.host->Place(Copy(setup.regular, ++copies));
    if (r.node.empty()) {
      state.SkipWithError(r.message.c_str());
      return;
    }
    benchmark::DoNotOptimize(r);
  }
}

// Nothing bound between: as many iterations as the benchmark likes. Pods
// placed between fill the cluster: a fixed number of iterations.
BENCHMARK(BM_FitsNowhere)
    ->ArgNames({"nodes", "between"})
    ->Args({5000, 0})
    ->Args({50000, 0})
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_FitsNowhere)
    ->ArgNames({"nodes", "between"})
    ->Args({5000, 1})
    ->Args({5000, 100})
    ->Args({50000, 100})
    ->Iterations(300)
    ->Unit(benchmark::kMicrosecond);

BENCHMARK(BM_Schedulable)
    ->ArgNames({"nodes"})
    ->Arg(5000)
    ->Arg(50000)
    ->Iterations(30000)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace kestrel

BENCHMARK_MAIN();
