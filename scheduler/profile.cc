#include "scheduler/profile.h"

#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "api/decode.h"
#include "model/interner.h"
#include "yaml-cpp/yaml.h"

namespace kestrel::scheduler {
namespace {

constexpr char kApiVersion[] = "kubescheduler.config.k8s.io/v1";
constexpr char kKind[] = "KubeSchedulerConfiguration";

// Upstream getDefaultPlugins() (pkg/scheduler/apis/config/v1/default_plugins.go).
const std::vector<std::pair<std::string, int>>& UpstreamDefaultPlugins() {
  static const auto* plugins = new std::vector<std::pair<std::string, int>>{
      {"SchedulingGates", 0},
      {"PrioritySort", 0},
      {"NodeUnschedulable", 0},
      {"NodeName", 0},
      {"TaintToleration", 3},
      {"NodeAffinity", 2},
      {"NodePorts", 0},
      {"NodeResourcesFit", 1},
      {"VolumeRestrictions", 0},
      {"NodeVolumeLimits", 0},
      {"VolumeBinding", 0},
      {"VolumeZone", 0},
      {"PodTopologySpread", 2},
      {"InterPodAffinity", 2},
      {"DefaultPreemption", 0},
      {"NodeResourcesBalancedAllocation", 1},
      {"ImageLocality", 1},
      {"DefaultBinder", 0},
  };
  return *plugins;
}

// Upstream mergePluginSet: defaults minus the user's disabled ones, with the
// user's enabled entries replacing defaults of the same name in place and the
// rest appended.
config::PluginSet MergePluginSet(const config::PluginSet& defaults,
                                 const config::PluginSet& custom) {
  std::set<std::string> disabled;
  config::PluginSet out;
  for (const auto& p : custom.disabled()) {
    disabled.insert(p.name());
    out.add_disabled()->set_name(p.name());
  }
  for (const auto& p : defaults.disabled()) {
    disabled.insert(p.name());
    out.add_disabled()->set_name(p.name());
  }
  std::map<std::string, int> custom_index;
  for (int i = 0; i < custom.enabled_size(); ++i) custom_index[custom.enabled(i).name()] = i;
  std::set<int> replaced;
  if (disabled.count("*") == 0) {
    for (const auto& p : defaults.enabled()) {
      if (disabled.count(p.name()) > 0) continue;
      auto it = custom_index.find(p.name());
      if (it != custom_index.end()) {
        *out.add_enabled() = custom.enabled(it->second);
        replaced.insert(it->second);
      } else {
        *out.add_enabled() = p;
      }
    }
  }
  for (int i = 0; i < custom.enabled_size(); ++i) {
    if (replaced.count(i) == 0) *out.add_enabled() = custom.enabled(i);
  }
  return out;
}

// Replaces each pluginConfig[].args object with its YAML text, so the typed
// decode can happen once the plugin (and so its args type) is known.
absl::Status StringifyArgs(YAML::Node root) {
  YAML::Node profiles = root["profiles"];
  if (!profiles || !profiles.IsSequence()) return absl::OkStatus();
  for (size_t i = 0; i < profiles.size(); ++i) {
    YAML::Node pcs = profiles[i]["pluginConfig"];
    if (!pcs || !pcs.IsSequence()) continue;
    for (size_t j = 0; j < pcs.size(); ++j) {
      YAML::Node args = pcs[j]["args"];
      if (!args || args.IsNull()) continue;
      if (!args.IsMap()) {
        return absl::InvalidArgumentError(absl::StrCat(
            "profiles[", i, "].pluginConfig[", j, "].args: must be an object"));
      }
      YAML::Emitter emitter;
      emitter << YAML::Flow << args;
      pcs[j]["args"] = std::string(emitter.c_str());
    }
  }
  return absl::OkStatus();
}

void SetDefaults(config::KubeSchedulerConfiguration* cfg, const config::PluginSet& defaults) {
  if (cfg->profiles_size() == 0) cfg->add_profiles();
  if (!cfg->has_parallelism()) cfg->set_parallelism(kDefaultParallelism);
  for (auto& profile : *cfg->mutable_profiles()) {
    if (profile.schedulername().empty()) profile.set_schedulername(kDefaultSchedulerName);
    config::Plugins* plugins = profile.mutable_plugins();
    *plugins->mutable_multipoint() = MergePluginSet(defaults, plugins->multipoint());
  }
}

}  // namespace

config::KubeSchedulerConfiguration DefaultConfig() {
  // SetDefaults, which BuildProfiles applies, fills in the rest.
  return config::KubeSchedulerConfiguration();
}

config::PluginSet DefaultPlugins(const framework::Registry& registry) {
  config::PluginSet set;
  for (const auto& [name, weight] : UpstreamDefaultPlugins()) {
    if (registry.Find(name) == nullptr) continue;
    config::Plugin* p = set.add_enabled();
    p->set_name(name);
    if (weight > 0) p->set_weight(weight);
  }
  return set;
}

absl::StatusOr<config::KubeSchedulerConfiguration> ParseConfig(absl::string_view file_name,
                                                               absl::string_view content) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(content));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_name, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  }
  if (!root.IsMap()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ": not a ", kKind, " object"));
  }
  const std::string api_version = root["apiVersion"] ? root["apiVersion"].as<std::string>("") : "";
  const std::string kind = root["kind"] ? root["kind"].as<std::string>("") : "";
  if (kind != kKind || api_version != kApiVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_name, ": apiVersion/kind: want ", kApiVersion, " ", kKind, ", got \"",
        api_version, "\" \"", kind, "\""));
  }
  absl::Status s = StringifyArgs(root);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(file_name, ": ", s.message()));
  YAML::Emitter emitter;
  emitter << root;
  config::KubeSchedulerConfiguration cfg;
  s = api::DecodeInto(emitter.c_str(), &cfg, absl::StrCat(file_name, ": ", kKind));
  if (!s.ok()) return s;
  if (cfg.has_percentageofnodestoscore() &&
      (cfg.percentageofnodestoscore() < 0 || cfg.percentageofnodestoscore() > 100)) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_name, ": percentageOfNodesToScore: Invalid value: ",
        cfg.percentageofnodestoscore(), ": not in valid range [0-100]"));
  }
  if (cfg.has_parallelism() && cfg.parallelism() <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_name, ": parallelism: Invalid value: ", cfg.parallelism(),
        ": should be an integer greater than 0"));
  }
  // component-base ValidateClientConnectionConfiguration.
  if (cfg.clientconnection().burst() < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_name, ": clientConnection.burst: Invalid value: ", cfg.clientconnection().burst(),
        ": must be non-negative"));
  }
  return cfg;
}

absl::StatusOr<config::KubeSchedulerConfiguration> LoadConfig(const std::string& path,
                                                              const framework::Registry& registry) {
  absl::StatusOr<std::string> content = api::ReadFile(path);
  if (!content.ok()) return content.status();
  absl::StatusOr<config::KubeSchedulerConfiguration> cfg = ParseConfig(path, *content);
  if (!cfg.ok()) return cfg;
  // Build the profiles once, with throwaway names, to report what is wrong
  // with them against this file.
  model::Interner scratch;
  framework::Handle handle;
  handle.interner = &scratch;
  auto profiles = BuildProfiles(*cfg, registry, handle);
  if (!profiles.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": ", profiles.status().message()));
  }
  return cfg;
}

absl::StatusOr<std::vector<std::unique_ptr<framework::Framework>>> BuildProfiles(
    const config::KubeSchedulerConfiguration& input, const framework::Registry& registry,
    const framework::Handle& handle) {
  config::KubeSchedulerConfiguration cfg = input;
  SetDefaults(&cfg, DefaultPlugins(registry));
  std::vector<std::unique_ptr<framework::Framework>> out;
  std::set<std::string> names;
  for (int i = 0; i < cfg.profiles_size(); ++i) {
    config::KubeSchedulerProfile profile = cfg.profiles(i);
    if (!names.insert(profile.schedulername()).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          "profiles[", i, "].schedulerName: Duplicate value: \"", profile.schedulername(), "\""));
    }
    if (!profile.has_percentageofnodestoscore() && cfg.has_percentageofnodestoscore()) {
      profile.set_percentageofnodestoscore(cfg.percentageofnodestoscore());
    }
    auto fw = framework::Framework::Create(profile, registry, handle);
    if (!fw.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("profiles[", i, "] (", profile.schedulername(), "): ",
                       fw.status().message()));
    }
    out.push_back(*std::move(fw));
  }
  return out;
}

}  // namespace kestrel::scheduler
