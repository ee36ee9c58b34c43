// File: generate/workloads.h
// -----------------------------------------------------------------------------
//
// Every workload `kestrel generate` knows, by family, each a function that
// writes its objects to a ClusterWriter; sim/generate.cc lists them by name
// (kWorkloads) and checks the options they share before calling one. The
// file that holds a workload, its templates and its comment:
//
//   plain.cc       SchedulingBasic
//   affinity.cc    SchedulingPodAffinity, SchedulingPodAntiAffinity,
//                  SchedulingPreferredPodAffinity,
//                  SchedulingPreferredPodAntiAffinity, SchedulingNodeAffinity,
//                  MixedSchedulingBasePod,
//                  SchedulingRequiredPodAntiAffinityWithNSSelector
//   spreading.cc   TopologySpreading, PreferredTopologySpreading,
//                  SchedulingWithNodeInclusionPolicy
//   daemonset.cc   SchedulingDaemonset
//   preemption.cc  PreemptionBasic, Unschedulable
//   demo.cc        Demo
//
// What they are built from: templates.h (node and pod templates and the
// shared upstream ones), yaml.h (templates as text), placer.h (where init
// pods go), writer.h (the document stream and the helpers workloads share).
// A new workload goes in its family's file, is declared here and listed in
// kWorkloads.

#ifndef KESTREL_SIM_GENERATE_WORKLOADS_H_
#define KESTREL_SIM_GENERATE_WORKLOADS_H_

#include "absl/status/status.h"
#include "sim/generate.h"
#include "sim/generate/writer.h"

namespace kestrel::sim::generate_internal {

// A workload writes its namespaces, nodes, init pods and measured pods, in
// that order. The options are already checked for what every workload
// needs (a known name, positive nodes, non-negative pod counts); a workload
// returns InvalidArgument for what only it rejects.
using WorkloadFn = absl::Status (*)(const GenerateOptions&, ClusterWriter&);

// plain.cc
absl::Status SchedulingBasic(const GenerateOptions& options,
                             ClusterWriter& writer);

// affinity.cc
absl::Status SchedulingPodAntiAffinity(const GenerateOptions& options,
                                       ClusterWriter& writer);
absl::Status SchedulingPodAffinity(const GenerateOptions& options,
                                   ClusterWriter& writer);
absl::Status SchedulingPreferredPodAffinity(const GenerateOptions& options,
                                            ClusterWriter& writer);
absl::Status SchedulingPreferredPodAntiAffinity(const GenerateOptions& options,
                                                ClusterWriter& writer);
absl::Status SchedulingNodeAffinity(const GenerateOptions& options,
                                    ClusterWriter& writer);
absl::Status MixedSchedulingBasePod(const GenerateOptions& options,
                                    ClusterWriter& writer);
absl::Status SchedulingRequiredPodAntiAffinityWithNSSelector(
    const GenerateOptions& options, ClusterWriter& writer);

// spreading.cc
absl::Status TopologySpreading(const GenerateOptions& options,
                               ClusterWriter& writer);
absl::Status PreferredTopologySpreading(const GenerateOptions& options,
                                        ClusterWriter& writer);
absl::Status SchedulingWithNodeInclusionPolicy(const GenerateOptions& options,
                                               ClusterWriter& writer);

// daemonset.cc
absl::Status SchedulingDaemonset(const GenerateOptions& options,
                                 ClusterWriter& writer);

// preemption.cc
absl::Status PreemptionBasic(const GenerateOptions& options,
                             ClusterWriter& writer);
absl::Status Unschedulable(const GenerateOptions& options,
                           ClusterWriter& writer);

// demo.cc
absl::Status Demo(const GenerateOptions& options, ClusterWriter& writer);

}  // namespace kestrel::sim::generate_internal

#endif  // KESTREL_SIM_GENERATE_WORKLOADS_H_
