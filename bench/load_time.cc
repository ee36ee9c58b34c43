// Times loading cluster files as `kestrel simulate` does (sim::LoadFiles:
// read, decode, default, compile), apart from scheduling:
//
//   bazel run -c opt //bench:load_time -- cluster.json [more files...]
//
// Prints the seconds each phase took and what was loaded. Run it a few
// times and take the median; it measures, it checks nothing.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/decode.h"
#include "sim/cluster.h"

int main(int argc, char** argv) {
  std::vector<std::string> paths(argv + 1, argv + argc);
  if (paths.empty()) {
    std::fprintf(stderr, "usage: load_time FILE...\n");
    return 2;
  }
  // Reading alone, so that the rest is decode and compile.
  absl::Time start = absl::Now();
  size_t bytes = 0;
  for (const std::string& path : paths) {
    absl::StatusOr<std::string> content = kestrel::api::ReadFile(path);
    if (!content.ok()) {
      std::fprintf(stderr, "%s\n", std::string(content.status().message()).c_str());
      return 2;
    }
    bytes += content->size();
  }
  const double read_s = absl::ToDoubleSeconds(absl::Now() - start);

  start = absl::Now();
  absl::StatusOr<kestrel::sim::Cluster> cluster = kestrel::sim::LoadFiles(paths);
  const double load_s = absl::ToDoubleSeconds(absl::Now() - start);
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", std::string(cluster.status().message()).c_str());
    return 2;
  }
  std::printf("bytes=%zu read_s=%.3f load_s=%.3f nodes=%zu bound_pods=%zu pending_pods=%zu\n",
              bytes, read_s, load_s, cluster->nodes.size(), cluster->bound_pods.size(),
              cluster->pending_pods.size());
  return 0;
}
