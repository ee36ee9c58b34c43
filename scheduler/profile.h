// File: profile.h
//
// Loading and defaulting a KubeSchedulerConfiguration
// (kubescheduler.config.k8s.io/v1), and turning its profiles into Frameworks.
//
// Defaulting follows upstream's v1 SetDefaults: with no profiles, one named
// "default-scheduler"; each profile's plugins are merged with the default
// plugin set (which upstream expresses as `multiPoint`), so a user's
// `disabled` removes defaults ("*" removes them all) and a user's `enabled`
// entry that names a default plugin replaces it in place.
//
// Example:
//   ASSIGN_OR_RETURN(auto cfg, LoadConfig("sched.yaml", InTreeRegistry()));
//   ASSIGN_OR_RETURN(auto profiles, BuildProfiles(cfg, registry, handle));

#ifndef KESTREL_SCHEDULER_PROFILE_H_
#define KESTREL_SCHEDULER_PROFILE_H_

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "api/config/config.pb.h"
#include "scheduler/framework/framework.h"
#include "scheduler/framework/registry.h"

namespace kestrel::scheduler {

inline constexpr char kDefaultSchedulerName[] = "default-scheduler";
inline constexpr int32_t kDefaultParallelism = 16;  // upstream's

// Reads a config file and checks that its profiles build with `registry`
// (plugins exist and extend the points they are enabled at, args decode and
// validate). Errors name the file and the field.
absl::StatusOr<config::KubeSchedulerConfiguration> LoadConfig(const std::string& path,
                                                              const framework::Registry& registry);

// Parses and defaults config YAML; `file_name` is used in error messages.
absl::StatusOr<config::KubeSchedulerConfiguration> ParseConfig(
    absl::string_view file_name, absl::string_view content);

// The configuration with no file: empty, so upstream's defaults apply (one
// "default-scheduler" profile, parallelism 16) when profiles are built.
config::KubeSchedulerConfiguration DefaultConfig();

// Upstream's default plugins (v1 multiPoint, in order, with score weights),
// restricted to those `registry` has.
config::PluginSet DefaultPlugins(const framework::Registry& registry);

// One Framework per profile. Duplicate scheduler names are an error.
absl::StatusOr<std::vector<std::unique_ptr<framework::Framework>>> BuildProfiles(
    const config::KubeSchedulerConfiguration& config, const framework::Registry& registry,
    const framework::Handle& handle);

}  // namespace kestrel::scheduler

#endif  // KESTREL_SCHEDULER_PROFILE_H_
