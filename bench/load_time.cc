// Times loading cluster files as `kestrel simulate` does (sim::LoadFiles:
// read, decode, default, compile), apart from scheduling:
//
//   bazel run -c opt //bench:load_time -- cluster.json [more files...]
//
// Prints the seconds each phase took and what was loaded. With
// --compare-compile it then decodes the pods again and times compiling
// them one by one (model::CompilePod) against model::PodCompiler, which
// compiles a shared template once. Run it a few times and take the median;
// it measures, it checks nothing.

#include <cstdio>
#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/core.pb.h"
#include "api/decode.h"
#include "api/defaults.h"
#include "model/compile.h"
#include "sim/cluster.h"

namespace {

namespace v1 = ::k8s::io::api::core::v1;

// Seconds to compile every pod of `paths` each on its own, and through a
// PodCompiler; how many the PodCompiler compiled in full.
void CompareCompile(const std::vector<std::string>& paths) {
  std::vector<v1::Pod> pods;
  for (const std::string& path : paths) {
    absl::StatusOr<std::string> content = kestrel::api::ReadFile(path);
    if (!content.ok()) return;
    absl::Status s = kestrel::api::DecodeEach(path, *content, [&](kestrel::api::Object o) {
      if (o.kind == "Pod") {
        pods.push_back(static_cast<const v1::Pod&>(*o.message));
        kestrel::api::DefaultPod(&pods.back(), kestrel::api::DefaultingOptions{});
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return;
  }
  kestrel::model::Interner each_names;
  absl::Time start = absl::Now();
  for (const v1::Pod& pod : pods) (void)kestrel::model::CompilePod(pod, each_names);
  const double each_s = absl::ToDoubleSeconds(absl::Now() - start);
  kestrel::model::Interner shared_names;
  kestrel::model::PodCompiler compiler(shared_names);
  start = absl::Now();
  for (const v1::Pod& pod : pods) (void)compiler.Compile(pod);
  const double shared_s = absl::ToDoubleSeconds(absl::Now() - start);
  std::printf("pods=%zu compile_each_s=%.3f pod_compiler_s=%.3f compiled=%zu reused=%zu\n",
              pods.size(), each_s, shared_s, compiler.compiled(), compiler.reused());
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> paths;
  bool compare_compile = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--compare-compile") {
      compare_compile = true;
    } else {
      paths.push_back(argv[i]);
    }
  }
  if (paths.empty()) {
    std::fprintf(stderr, "usage: load_time [--compare-compile] FILE...\n");
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
  if (compare_compile) CompareCompile(paths);
  return 0;
}
