// The scheduler_perf suite: upstream's workloads (BENCHMARKS.md), generated
// as Kubernetes YAML (or JSON, or protobuf: --format), loaded through the
// same decoder and compiler as `kestrel simulate`, then the measured pods
// scheduled one by one with the virtual binder. Init pods arrive bound.
// API-server cost is excluded, unlike upstream's in-process API server: say
// so next to any comparison.
//
//   bazel run -c opt //bench:scheduler_perf -- [--workload=ROW] [--runs=3]
//       [--threads=N] [--nodes=N --init-pods=N --pods=N] [--incremental=false]
//       [--format=yaml|json|protobuf] [--memory] [--list]
//
// One row per workload and size: pods/s (median of the runs), p50/p99
// per-pod latency and the seconds loading took (decode, default, compile;
// not generating) of the median run, peak RSS of the process so far (rows
// run in the order of --list, the 50,000-node ones last), upstream's
// threshold ("-" where upstream has none). --list prints the rows and
// sizes; --workload=ROW runs one row, named as --list names it. --memory
// adds a line per run: the resident set (free heap pages returned first)
// once the cluster is loaded and after the last pod, to tell the per-node
// and per-pod costs apart.

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "scheduler/profile.h"
#include "sim/cluster.h"
#include "sim/format.h"
#include "sim/generate.h"
#include "sim/simulator.h"

namespace kestrel {
namespace {

struct Workload {
  // The row's name: the workload's, with /<nodes>Nodes after it for a size
  // other than upstream's (as upstream names its sizes).
  const char* row;
  // sim::Generate()'s workload.
  const char* name;
  int nodes;
  int init_pods;
  int pods;
  int upstream_threshold;  // pods/s upstream's CI accepts; 0: none
};

// BENCHMARKS.md's workloads at upstream's performance sizes (the
// `threshold` rows of scheduler_perf's performance-config.yaml files). The
// counts are sim::Generate()'s: init pods are the total, and
// SchedulingDaemonset adds scheduler-perf-node to its 15000 nodes.
const Workload kWorkloads[] = {
    {"SchedulingBasic", "SchedulingBasic", 5000, 1000, 10000, 680},
    {"SchedulingPodAntiAffinity", "SchedulingPodAntiAffinity", 5000, 1000, 2000, 60},
    {"SchedulingPodAffinity", "SchedulingPodAffinity", 5000, 5000, 5000, 35},
    {"SchedulingPreferredPodAffinity", "SchedulingPreferredPodAffinity", 5000, 5000, 5000, 90},
    {"SchedulingPreferredPodAntiAffinity", "SchedulingPreferredPodAntiAffinity", 5000, 5000, 5000, 90},
    {"SchedulingNodeAffinity", "SchedulingNodeAffinity", 5000, 5000, 10000, 220},
    {"TopologySpreading", "TopologySpreading", 5000, 5000, 5000, 460},
    {"PreferredTopologySpreading", "PreferredTopologySpreading", 5000, 5000, 5000, 340},
    // 2000 of each of its five init templates.
    {"MixedSchedulingBasePod", "MixedSchedulingBasePod", 5000, 10000, 5000, 140},
    // 100 namespaces of 40 init pods.
    {"RequiredPodAntiAffinityWithNSSelector", "RequiredPodAntiAffinityWithNSSelector", 6000, 4000, 2000, 24},
    // 4000 default nodes and 1000 tainted ones.
    {"SchedulingWithNodeInclusionPolicy", "SchedulingWithNodeInclusionPolicy", 5000, 0, 4000, 270},
    {"SchedulingDaemonset", "SchedulingDaemonset", 15000, 0, 30000, 1100},
    {"PreemptionBasic", "PreemptionBasic", 1000, 4000, 1000, 0},
    // Plus a 9-CPU pod before every 100th measured pod.
    {"Unschedulable", "Unschedulable", 5000, 100, 10000, 590},
    // Beyond upstream's sizes, so no upstream threshold: 50,000 nodes, 50,000
    // init pods, 100,000 measured pods (issue 14's large cluster).
    {"SchedulingBasic/50000Nodes", "SchedulingBasic", 50000, 50000, 100000, 0},
    {"SchedulingNodeAffinity/50000Nodes", "SchedulingNodeAffinity", 50000, 50000, 100000, 0},
};

std::string Threshold(int pods_per_second) {
  return pods_per_second > 0 ? std::to_string(pods_per_second) : "-";
}

struct RunResult {
  double load_seconds = 0;
  double rss_loaded_mib = 0;     // after loading, the text released
  double rss_scheduled_mib = 0;  // after the last measured pod
  double pods_per_second = 0;
  double p50_us = 0;
  double p99_us = 0;
  int scheduled = 0;
};

double PeakRssMiB() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss / 1024.0;
}

// The resident set now (VmRSS), in MiB; 0 where /proc cannot be read.
// Free heap pages go back to the system first: what loading decoded and
// freed would otherwise count as the cluster's.
double CurrentRssMiB() {
  malloc_trim(0);
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long pages = 0, resident = 0;
  const int read = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  return read == 2 ? resident * (sysconf(_SC_PAGESIZE) / 1024.0) / 1024.0 : 0;
}

// With `memory`, the resident set is read once loaded and after the last
// pod, the heap trimmed first; outside the timed loop either way.
bool RunOnce(const Workload& w, uint64_t seed, int threads, bool incremental,
             sim::OutputFormat format, bool memory, RunResult* out) {
  std::vector<std::pair<std::string, std::string>> files(1);
  {
    std::ostringstream text;
    sim::GenerateOptions g{w.name, w.nodes, w.init_pods, w.pods, seed, format};
    absl::Status s = sim::Generate(g, text);
    if (!s.ok()) {
      std::cerr << "generate " << w.row << ": " << s << "\n";
      return false;
    }
    // The name only labels messages: the front end is chosen by content.
    files[0] = {absl::StrCat(w.name, ".", sim::OutputFormatName(format)),
                std::move(text).str()};
  }
  const absl::Time load_start = absl::Now();
  auto cluster = sim::LoadContents(files);
  out->load_seconds = absl::ToDoubleSeconds(absl::Now() - load_start);
  // The text is not the scheduler's: give it back before scheduling.
  files.clear();
  files.shrink_to_fit();
  if (!cluster.ok()) {
    std::cerr << "load " << w.name << ": " << cluster.status() << "\n";
    return false;
  }
  sim::SimOptions options{seed, threads};
  options.incremental = incremental;
  auto host = sim::Host::Create(*cluster, scheduler::DefaultConfig(), options);
  if (!host.ok()) {
    std::cerr << "host: " << host.status() << "\n";
    return false;
  }
  if (cluster->pending_pods.empty()) {
    std::cerr << w.name << ": no pods to schedule\n";
    return false;
  }
  if (memory) out->rss_loaded_mib = CurrentRssMiB();
  std::vector<double> latencies;
  latencies.reserve(cluster->pending_pods.size());
  const absl::Time start = absl::Now();
  for (const model::PodPtr& pod : cluster->pending_pods) {
    const absl::Time t0 = absl::Now();
    // Place: a preemptor is scheduled again at once, its victims gone.
    scheduler::ScheduleResult r = (*host)->Place(pod);
    latencies.push_back(absl::ToDoubleMicroseconds(absl::Now() - t0));
    if (!r.node.empty()) ++out->scheduled;
  }
  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  if (memory) out->rss_scheduled_mib = CurrentRssMiB();
  std::sort(latencies.begin(), latencies.end());
  out->pods_per_second = latencies.size() / seconds;
  out->p50_us = latencies[latencies.size() / 2];
  out->p99_us = latencies[std::min(latencies.size() - 1, latencies.size() * 99 / 100)];
  return true;
}

int Main(int argc, char** argv) {
  std::string only;
  bool list = false;
  int runs = 3, threads = 0, nodes = 0, init_pods = -1, pods = 0;
  bool incremental = true;
  bool memory = false;
  sim::OutputFormat format = sim::OutputFormat::kYaml;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&](const char* prefix, int* out) {
      if (!absl::StartsWith(arg, prefix)) return false;
      return absl::SimpleAtoi(arg.substr(strlen(prefix)), out);
    };
    if (absl::StartsWith(arg, "--workload=")) {
      only = arg.substr(strlen("--workload="));
    } else if (absl::StartsWith(arg, "--format=")) {
      absl::StatusOr<sim::OutputFormat> f =
          sim::ParseOutputFormat(arg.substr(strlen("--format=")));
      if (!f.ok()) {
        std::cerr << "--format: " << f.status().message() << "\n";
        return 2;
      }
      format = *f;
    } else if (arg == "--memory") {
      memory = true;
    } else if (arg == "--list") {
      list = true;
    } else if (arg == "--incremental=false" || arg == "--incremental=true") {
      incremental = arg == "--incremental=true";
    } else if (!value("--runs=", &runs) && !value("--threads=", &threads) &&
               !value("--nodes=", &nodes) && !value("--init-pods=", &init_pods) &&
               !value("--pods=", &pods)) {
      std::cerr << "unknown or malformed flag " << arg << "\n";
      return 2;
    }
  }
  if (list) {
    std::printf("%-48s %7s %9s %9s %10s\n", "workload", "nodes", "init", "measured",
                "upstream");
    for (const Workload& w : kWorkloads) {
      std::printf("%-48s %7d %9d %9d %10s\n", w.row, w.nodes, w.init_pods, w.pods,
                  Threshold(w.upstream_threshold).c_str());
    }
    return 0;
  }
  bool found = only.empty();
  for (const Workload& w : kWorkloads) found = found || only == w.row;
  if (!found) {
    std::cerr << "unknown workload " << only << "; --list shows them\n";
    return 2;
  }
  const int hw_threads = threads > 0 ? threads : static_cast<int>(std::thread::hardware_concurrency());
  std::printf("# kestrel scheduler_perf: %d run(s) per workload, median reported; threads=%d; "
              "seed=1; 100%% of nodes evaluated; virtual binder (no API server); "
              "incremental=%s; format=%s\n",
              runs, hw_threads, incremental ? "true" : "false",
              std::string(sim::OutputFormatName(format)).c_str());
  std::printf("%-48s %7s %9s %9s %10s %9s %9s %8s %9s %10s\n", "workload", "nodes", "init",
              "measured", "pods/s", "p50(us)", "p99(us)", "load(s)", "rss(MiB)", "upstream");
  for (Workload w : kWorkloads) {
    if (!only.empty() && only != w.row) continue;
    if (nodes > 0) w.nodes = nodes;
    if (init_pods >= 0) w.init_pods = init_pods;
    if (pods > 0) w.pods = pods;
    std::vector<RunResult> results;
    for (int r = 0; r < runs; ++r) {
      RunResult res;
      if (!RunOnce(w, 1, threads, incremental, format, memory, &res)) return 1;
      if (memory) {
        std::printf("# %s run %d: rss %.0f MiB loaded (host created, text released), "
                    "%.0f MiB after scheduling, %.0f MiB peak so far\n",
                    w.row, r + 1, res.rss_loaded_mib, res.rss_scheduled_mib, PeakRssMiB());
      }
      results.push_back(res);
    }
    std::sort(results.begin(), results.end(), [](const RunResult& a, const RunResult& b) {
      return a.pods_per_second < b.pods_per_second;
    });
    const RunResult& median = results[results.size() / 2];
    std::printf("%-48s %7d %9d %9d %10.0f %9.1f %9.1f %8.2f %9.0f %10s\n", w.row, w.nodes,
                w.init_pods, w.pods, median.pods_per_second, median.p50_us, median.p99_us,
                median.load_seconds, PeakRssMiB(), Threshold(w.upstream_threshold).c_str());
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace kestrel

int main(int argc, char** argv) { return kestrel::Main(argc, argv); }
