// The registry of workloads and the options every one of them needs; the
// workloads themselves are in generate/, one file per family (see
// generate/workloads.h for which holds what).

#include "sim/generate.h"

#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "sim/format.h"
#include "sim/generate/workloads.h"
#include "sim/generate/writer.h"

namespace kestrel::sim {
namespace {

using generate_internal::ClusterWriter;
namespace gen = generate_internal;

struct Workload {
  absl::string_view name;
  gen::WorkloadFn generate;
};

// Sorted by name.
constexpr Workload kWorkloads[] = {
    {"Demo", &gen::Demo},
    {"MixedSchedulingBasePod", &gen::MixedSchedulingBasePod},
    {"PreemptionBasic", &gen::PreemptionBasic},
    {"PreferredTopologySpreading", &gen::PreferredTopologySpreading},
    // BENCHMARKS.md's name for upstream's
    // SchedulingRequiredPodAntiAffinityWithNSSelector; the same workload.
    {"RequiredPodAntiAffinityWithNSSelector",
     &gen::SchedulingRequiredPodAntiAffinityWithNSSelector},
    {"SchedulingBasic", &gen::SchedulingBasic},
    {"SchedulingDaemonset", &gen::SchedulingDaemonset},
    {"SchedulingNodeAffinity", &gen::SchedulingNodeAffinity},
    {"SchedulingPodAffinity", &gen::SchedulingPodAffinity},
    {"SchedulingPodAntiAffinity", &gen::SchedulingPodAntiAffinity},
    {"SchedulingPreferredPodAffinity", &gen::SchedulingPreferredPodAffinity},
    {"SchedulingPreferredPodAntiAffinity",
     &gen::SchedulingPreferredPodAntiAffinity},
    {"SchedulingRequiredPodAntiAffinityWithNSSelector",
     &gen::SchedulingRequiredPodAntiAffinityWithNSSelector},
    {"SchedulingWithNodeInclusionPolicy",
     &gen::SchedulingWithNodeInclusionPolicy},
    {"TopologySpreading", &gen::TopologySpreading},
    {"Unschedulable", &gen::Unschedulable},
};

}  // namespace

std::vector<std::string> WorkloadNames() {
  std::vector<std::string> names;
  for (const Workload& w : kWorkloads) names.emplace_back(w.name);
  return names;
}

absl::Status Generate(const GenerateOptions& options, std::ostream& out) {
  const Workload* workload = nullptr;
  for (const Workload& w : kWorkloads) {
    if (w.name == options.workload) workload = &w;
  }
  if (workload == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown workload \"", options.workload,
        "\"; known workloads: ", absl::StrJoin(WorkloadNames(), ", ")));
  }
  if (options.nodes <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("nodes must be positive, got ", options.nodes));
  }
  if (options.init_pods < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "init pods must not be negative, got ", options.init_pods));
  }
  if (options.pods < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("pods must not be negative, got ", options.pods));
  }
  if (options.format == OutputFormat::kYaml) {
    ClusterWriter writer(out);
    if (absl::Status s = workload->generate(options, writer); !s.ok()) return s;
    return writer.Finish();
  }
  // Other formats are the YAML's objects re-encoded.
  std::ostringstream yaml;
  ClusterWriter writer(yaml);
  if (absl::Status s = workload->generate(options, writer); !s.ok()) return s;
  if (absl::Status s = writer.Finish(); !s.ok()) return s;
  return Reencode(yaml.str(), options.format, out);
}

}  // namespace kestrel::sim
