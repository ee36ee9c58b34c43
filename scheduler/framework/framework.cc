#include "scheduler/framework/framework.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <optional>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "api/decode.h"
#include "scheduler/framework/nominator.h"

namespace kestrel::framework {
namespace {

// An insertion-ordered set of plugin names.
class OrderedNames {
 public:
  bool Has(const std::string& n) const { return set_.count(n) > 0; }
  void Insert(const std::string& n) {
    if (set_.insert(n).second) list_.push_back(n);
  }
  const std::vector<std::string>& list() const { return list_; }

 private:
  std::set<std::string> set_;
  std::vector<std::string> list_;
};

// Fills one extension point's plugin list with upstream's rules: the plugins
// enabled at that point, then multiPoint's expansion (frameworkImpl's
// updatePluginList + expandMultiPointPlugins).
template <typename T>
absl::Status FillExtensionPoint(absl::string_view type_name, const config::PluginSet& set,
                                const config::PluginSet& multi_point,
                                const std::map<std::string, Plugin*>& instances,
                                std::vector<T*>* out) {
  OrderedNames enabled;
  for (const config::Plugin& p : set.enabled()) {
    auto it = instances.find(p.name());
    if (it == instances.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(type_name, " \"", p.name(), "\" does not exist"));
    }
    if (dynamic_cast<T*>(it->second) == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "plugin \"", p.name(), "\" does not extend ", type_name, " plugin"));
    }
    if (enabled.Has(p.name())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "plugin \"", p.name(), "\" already registered as \"", type_name, "\""));
    }
    enabled.Insert(p.name());
  }

  std::set<std::string> disabled;
  for (const config::Plugin& p : set.disabled()) disabled.insert(p.name());

  OrderedNames result;
  if (disabled.count("*") == 0) {
    OrderedNames overrides;
    OrderedNames from_multi_point;
    for (const config::Plugin& p : multi_point.enabled()) {
      auto it = instances.find(p.name());
      if (it == instances.end()) {
        return absl::InvalidArgumentError(
            absl::StrCat(type_name, " \"", p.name(), "\" does not exist"));
      }
      if (dynamic_cast<T*>(it->second) == nullptr) continue;
      if (disabled.count(p.name()) > 0) continue;
      // Enabled at this point explicitly: that setting wins.
      if (enabled.Has(p.name())) {
        overrides.Insert(p.name());
        continue;
      }
      if (from_multi_point.Has(p.name())) {
        return absl::InvalidArgumentError(absl::StrCat(
            "plugin \"", p.name(), "\" already registered as \"", type_name, "\""));
      }
      from_multi_point.Insert(p.name());
    }
    // Order: explicit overrides, then multiPoint, then the rest of the
    // point's own list.
    for (const auto& n : overrides.list()) result.Insert(n);
    for (const auto& n : from_multi_point.list()) result.Insert(n);
  }
  for (const auto& n : enabled.list()) result.Insert(n);

  for (const auto& n : result.list()) out->push_back(dynamic_cast<T*>(instances.at(n)));
  return absl::OkStatus();
}

void CollectNames(const config::PluginSet& set, std::set<std::string>* names) {
  for (const config::Plugin& p : set.enabled()) names->insert(p.name());
}

// The mask bit of the plugin named `name` in `plugins`, or 0 when absent.
template <typename T, typename NameOf>
uint64_t BitOf(const std::vector<T>& plugins, absl::string_view name, NameOf name_of) {
  for (size_t i = 0; i < plugins.size(); ++i) {
    if (name_of(plugins[i]) == name) return uint64_t{1} << i;
  }
  return 0;
}

// Adds `plugin`'s registrations to `map` (upstream fillEnqueueExtensions,
// then buildQueueingHintMap).
void RegisterEvents(const Plugin& plugin, ClusterEventMap* map) {
  const std::string name(plugin.Name());
  const auto* ext = dynamic_cast<const EnqueueExtensions*>(&plugin);
  if (ext == nullptr) {
    // Which events matter to it is unknown: every event does.
    (*map)[ClusterEvent{EventResource::kWildCard, kAll, {}}].insert(name);
    return;
  }
  bool node_added = false;
  bool node_taint_updated = false;
  for (const ClusterEvent& e : ext->EventsToRegister()) {
    if (e.resource == EventResource::kNode) {
      node_added |= (e.action_type & kAdd) != 0;
      node_taint_updated |= (e.action_type & kUpdateNodeTaint) != 0;
    }
    (*map)[ClusterEvent{e.resource, e.action_type, {}}].insert(name);
  }
  if (node_added && !node_taint_updated) {
    (*map)[ClusterEvent{EventResource::kNode, kUpdateNodeTaint, {}}].insert(name);
  }
}

absl::string_view FilterName(FilterPlugin* const& p) { return p->Name(); }
absl::string_view ScoreName(const WeightedScorePlugin& w) { return w.plugin->Name(); }

}  // namespace

absl::StatusOr<std::unique_ptr<Framework>> Framework::Create(
    const config::KubeSchedulerProfile& profile, const Registry& registry,
    const Handle& handle) {
  std::unique_ptr<Framework> fw(new Framework());
  fw->handle_ = handle;
  fw->handle_.framework = fw.get();
  fw->scheduler_name_ = profile.schedulername();
  fw->percentage_of_nodes_to_score_ = profile.percentageofnodestoscore();
  const config::Plugins& plugins = profile.plugins();

  std::map<std::string, const config::PluginConfig*> plugin_config;
  for (const config::PluginConfig& pc : profile.pluginconfig()) {
    if (!plugin_config.emplace(pc.name(), &pc).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("repeated config for plugin ", pc.name()));
    }
  }

  std::set<std::string> needed;
  for (const config::PluginSet* set :
       {&plugins.preenqueue(), &plugins.queuesort(), &plugins.prefilter(), &plugins.filter(),
        &plugins.postfilter(), &plugins.prescore(), &plugins.score(),
        &plugins.reserve(), &plugins.permit(), &plugins.bind(),
        &plugins.multipoint()}) {
    CollectNames(*set, &needed);
  }

  std::map<std::string, Plugin*> instances;
  for (const std::string& name : needed) {
    const Registry::Entry* entry = registry.Find(name);
    if (entry == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("plugin \"", name, "\" does not exist"));
    }
    std::unique_ptr<google::protobuf::Message> args(entry->default_args->New());
    auto pc = plugin_config.find(name);
    if (pc != plugin_config.end() && !pc->second->args().empty()) {
      absl::Status s = api::DecodeInto(pc->second->args(), args.get(),
                                       absl::StrCat("pluginConfig[", name, "].args"));
      if (!s.ok()) return s;
    }
    absl::StatusOr<std::unique_ptr<Plugin>> plugin = entry->factory(*args, fw->handle_);
    if (!plugin.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "initializing plugin \"", name, "\": ", plugin.status().message()));
    }
    instances[name] = plugin->get();
    fw->owned_.push_back(*std::move(plugin));
  }
  for (const auto& [name, pc] : plugin_config) {
    if (instances.count(name) == 0 && registry.Find(name) == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("pluginConfig for unknown plugin \"", name, "\""));
    }
  }

  const config::PluginSet& mp = plugins.multipoint();
  std::vector<QueueSortPlugin*> queue_sort;
  absl::Status s;
  if (!(s = FillExtensionPoint("PreEnqueuePlugin", plugins.preenqueue(), mp, instances, &fw->pre_enqueue_)).ok()) return s;
  if (!(s = FillExtensionPoint("QueueSortPlugin", plugins.queuesort(), mp, instances, &queue_sort)).ok()) return s;
  if (!(s = FillExtensionPoint("PreFilterPlugin", plugins.prefilter(), mp, instances, &fw->pre_filter_)).ok()) return s;
  if (!(s = FillExtensionPoint("FilterPlugin", plugins.filter(), mp, instances, &fw->filter_)).ok()) return s;
  if (!(s = FillExtensionPoint("PostFilterPlugin", plugins.postfilter(), mp, instances, &fw->post_filter_)).ok()) return s;
  if (!(s = FillExtensionPoint("PreScorePlugin", plugins.prescore(), mp, instances, &fw->pre_score_)).ok()) return s;
  std::vector<ScorePlugin*> score;
  if (!(s = FillExtensionPoint("ScorePlugin", plugins.score(), mp, instances, &score)).ok()) return s;
  if (!(s = FillExtensionPoint("ReservePlugin", plugins.reserve(), mp, instances, &fw->reserve_)).ok()) return s;
  if (!(s = FillExtensionPoint("PermitPlugin", plugins.permit(), mp, instances, &fw->permit_)).ok()) return s;
  if (!(s = FillExtensionPoint("BindPlugin", plugins.bind(), mp, instances, &fw->bind_)).ok()) return s;

  if (queue_sort.size() != 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "only one queue sort plugin required for profile with scheduler name \"",
        fw->scheduler_name_, "\", but got ", queue_sort.size()));
  }
  fw->queue_sort_ = queue_sort[0];
  if (fw->bind_.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "at least one bind plugin is needed for profile with scheduler name \"",
        fw->scheduler_name_, "\""));
  }

  // Weights: the score point's own setting first, then multiPoint's; 0 means 1.
  std::map<std::string, int64_t> weights;
  std::vector<const config::Plugin*> weighted;
  for (const auto& p : plugins.score().enabled()) weighted.push_back(&p);
  for (const auto& p : mp.enabled()) weighted.push_back(&p);
  for (const config::Plugin* p : weighted) {
    if (weights.count(p->name()) > 0) continue;
    int64_t w = p->weight() == 0 ? 1 : p->weight();
    if (w < 0 || w > kMaxWeight) {
      return absl::InvalidArgumentError(absl::StrCat(
          "score plugin \"", p->name(), "\" weight ", w, " is out of range [1, ",
          kMaxWeight, "]"));
    }
    weights[p->name()] = w;
  }
  for (ScorePlugin* sp : score) {
    fw->score_.push_back({sp, weights.count(std::string(sp->Name()))
                                  ? weights[std::string(sp->Name())]
                                  : 1});
  }
  if (fw->filter_.size() > kMaxPluginsPerPoint || fw->score_.size() > kMaxPluginsPerPoint) {
    return absl::InvalidArgumentError(absl::StrCat(
        "profile \"", fw->scheduler_name_, "\" enables more than ", kMaxPluginsPerPoint,
        " filter or score plugins"));
  }
  for (PreFilterPlugin* p : fw->pre_filter_) {
    fw->pre_filter_skip_bit_.push_back(BitOf(fw->filter_, p->Name(), FilterName));
  }
  for (PreScorePlugin* p : fw->pre_score_) {
    fw->pre_score_skip_bit_.push_back(BitOf(fw->score_, p->Name(), ScoreName));
  }
  for (const auto& p : fw->owned_) RegisterEvents(*p, &fw->cluster_event_map_);
  return fw;
}

Plugin* Framework::plugin(absl::string_view name) const {
  for (const auto& p : owned_) {
    if (p->Name() == name) return p.get();
  }
  return nullptr;
}

Status Framework::RunPreEnqueuePlugins(const model::Pod& pod) const {
  for (const PreEnqueuePlugin* p : pre_enqueue_) {
    Status s = p->PreEnqueue(pod);
    if (!s.ok()) return s.WithPlugin(p->Name());
  }
  return Status();
}

bool Framework::ShouldSkipFilter(const CycleState& state, absl::string_view plugin) const {
  return (state.skip_filter_mask & BitOf(filter_, plugin, FilterName)) != 0;
}

bool Framework::ShouldSkipScore(const CycleState& state, absl::string_view plugin) const {
  return (state.skip_score_mask & BitOf(score_, plugin, ScoreName)) != 0;
}

Status Framework::RunPreFilterPlugins(CycleState& state, const model::Pod& pod,
                                      NodeInfoList nodes) const {
  state.skip_filter_mask = 0;
  state.pre_filter_plugins.clear();
  std::optional<std::vector<std::string>> narrowed;  // unset: every node
  std::vector<absl::string_view> narrowing;          // the plugins that narrowed
  // The last plain Unschedulable: the other PreFilters still run, since
  // preemption will need their state (upstream issue 119770).
  Status unschedulable;
  for (size_t i = 0; i < pre_filter_.size(); ++i) {
    PreFilterPlugin* p = pre_filter_[i];
    state.pre_filter_nodes.reset();
    Status s = p->PreFilter(state, pod, nodes);
    if (s.IsSkip()) {
      // A result beside Skip is ignored, as upstream does.
      state.skip_filter_mask |= pre_filter_skip_bit_[i];
      continue;
    }
    if (!s.ok()) {
      state.pre_filter_nodes.reset();
      if (s.code() == Code::kError) {
        return Status::Error(absl::StrCat("running PreFilter plugin \"", p->Name(),
                                          "\": ", s.Message()))
            .WithPlugin(p->Name());
      }
      if (s.code() == Code::kUnschedulableAndUnresolvable) {
        // Preemption cannot help: no need to run the rest.
        return std::move(s).WithPlugin(p->Name());
      }
      unschedulable = std::move(s).WithPlugin(p->Name());
      continue;
    }
    if (!state.pre_filter_nodes.has_value()) continue;
    std::vector<std::string>& names = *state.pre_filter_nodes;
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    narrowing.push_back(p->Name());
    if (!narrowed.has_value()) {
      narrowed = std::move(names);
    } else {
      std::vector<std::string> both;
      std::set_intersection(narrowed->begin(), narrowed->end(), names.begin(), names.end(),
                            std::back_inserter(both));
      *narrowed = std::move(both);
    }
    if (narrowed->empty()) {
      std::sort(narrowing.begin(), narrowing.end());
      std::string msg =
          narrowing.size() == 1
              ? absl::StrCat("node(s) didn't satisfy plugin ", narrowing[0])
              : absl::StrCat("node(s) didn't satisfy plugin(s) [",
                             absl::StrJoin(narrowing, " "), "] simultaneously");
      state.pre_filter_nodes = std::move(narrowed);
      state.pre_filter_plugins = std::move(narrowing);
      // Upstream gives this status no plugin: the nodes are left out by the
      // plugins together.
      return Status::Unresolvable(std::move(msg));
    }
  }
  std::sort(narrowing.begin(), narrowing.end());
  state.pre_filter_nodes = std::move(narrowed);
  state.pre_filter_plugins = std::move(narrowing);
  return unschedulable;
}

Status Framework::RunFilterPlugins(const CycleState& state, const model::Pod& pod,
                                   const NodeInfo& node, uint64_t exclude) const {
  const uint64_t skip = state.skip_filter_mask | exclude;
  for (size_t i = 0; i < filter_.size(); ++i) {
    const FilterPlugin* p = filter_[i];
    if ((skip >> i) & 1) continue;
    Status s = p->Filter(state, pod, node);
    if (!s.ok()) {
      if (!s.IsRejected()) {
        return Status::Error(absl::StrCat("running \"", p->Name(),
                                          "\" filter plugin: ", s.Message()))
            .WithPlugin(p->Name());
      }
      return std::move(s).WithPlugin(p->Name());
    }
  }
  return Status();
}

Status Framework::RunPreScorePlugins(CycleState& state, const model::Pod& pod,
                                     NodeInfoList feasible) const {
  state.skip_score_mask = 0;
  for (size_t i = 0; i < pre_score_.size(); ++i) {
    PreScorePlugin* p = pre_score_[i];
    Status s = p->PreScore(state, pod, feasible);
    if (s.IsSkip()) {
      state.skip_score_mask |= pre_score_skip_bit_[i];
      continue;
    }
    if (!s.ok()) {
      return Status::Error(absl::StrCat("running PreScore plugin \"", p->Name(),
                                        "\": ", s.Message()))
          .WithPlugin(p->Name());
    }
  }
  return Status();
}

Status Framework::RunReservePlugins(CycleState& state, const model::Pod& pod,
                                    const std::string& node_name) const {
  for (ReservePlugin* p : reserve_) {
    Status s = p->Reserve(state, pod, node_name);
    if (!s.ok()) return std::move(s).WithPlugin(p->Name());
  }
  return Status();
}

void Framework::RunUnreservePlugins(CycleState& state, const model::Pod& pod,
                                    const std::string& node_name) const {
  // Upstream runs Unreserve in reverse order.
  for (auto it = reserve_.rbegin(); it != reserve_.rend(); ++it) {
    (*it)->Unreserve(state, pod, node_name);
  }
}

Status Framework::RunPermitPlugins(CycleState& state, const model::Pod& pod,
                                   const std::string& node_name) const {
  for (PermitPlugin* p : permit_) {
    absl::Duration timeout;
    Status s = p->Permit(state, pod, node_name, &timeout);
    // The offline hosts have no one to approve a waiting pod later: Wait is
    // reported to the caller as is.
    if (!s.ok()) return std::move(s).WithPlugin(p->Name());
  }
  return Status();
}

Status Framework::RunBindPlugins(CycleState& state, const model::Pod& pod,
                                 const std::string& node_name) const {
  for (BindPlugin* p : bind_) {
    Status s = p->Bind(state, pod, node_name);
    if (s.IsSkip()) continue;
    return std::move(s).WithPlugin(p->Name());
  }
  return Status::Error("no bind plugin bound the pod");
}

Status Framework::RunPostFilterPlugins(CycleState& state, const model::Pod& pod,
                                       const NodeToStatus& filtered,
                                       PostFilterResult* result) const {
  // As upstream: the first success or UnschedulableAndUnresolvable ends the
  // run with its result; past rejections, the last result that nominates
  // (or clears a nomination) is the one returned.
  Status last = Status::Unschedulable("no PostFilter plugin");
  for (PostFilterPlugin* p : post_filter_) {
    PostFilterResult r;
    Status s = p->PostFilter(state, pod, filtered, &r);
    if (s.ok() || s.code() == Code::kUnschedulableAndUnresolvable) {
      *result = std::move(r);
      return std::move(s).WithPlugin(p->Name());
    }
    if (s.code() == Code::kError) {
      *result = PostFilterResult();
      return std::move(s).WithPlugin(p->Name());
    }
    if (r.mode != NominatingMode::kNoop) *result = std::move(r);
    last = std::move(s).WithPlugin(p->Name());
  }
  return last;
}

Status Framework::RunPreFilterExtensionAddPod(CycleState& state,
                                              const model::Pod& pod_to_schedule,
                                              const model::PodPtr& pod_to_add,
                                              const NodeInfo& node) const {
  for (size_t i = 0; i < pre_filter_.size(); ++i) {
    if ((state.skip_filter_mask & pre_filter_skip_bit_[i]) != 0) continue;
    if (!pre_filter_[i]->HasExtensions()) continue;
    Status s = pre_filter_[i]->AddPod(state, pod_to_schedule, pod_to_add, node);
    if (!s.ok()) {
      return Status::Error(absl::StrCat("running AddPod on PreFilter plugin \"",
                                        pre_filter_[i]->Name(), "\": ", s.Message()))
          .WithPlugin(pre_filter_[i]->Name());
    }
  }
  return Status();
}

Status Framework::RunPreFilterExtensionRemovePod(CycleState& state,
                                                 const model::Pod& pod_to_schedule,
                                                 const model::Pod& pod_to_remove,
                                                 const NodeInfo& node) const {
  for (size_t i = 0; i < pre_filter_.size(); ++i) {
    if ((state.skip_filter_mask & pre_filter_skip_bit_[i]) != 0) continue;
    if (!pre_filter_[i]->HasExtensions()) continue;
    Status s = pre_filter_[i]->RemovePod(state, pod_to_schedule, pod_to_remove, node);
    if (!s.ok()) {
      return Status::Error(absl::StrCat("running RemovePod on PreFilter plugin \"",
                                        pre_filter_[i]->Name(), "\": ", s.Message()))
          .WithPlugin(pre_filter_[i]->Name());
    }
  }
  return Status();
}

bool Framework::HasPreFilterExtensions(const CycleState& state) const {
  for (size_t i = 0; i < pre_filter_.size(); ++i) {
    if ((state.skip_filter_mask & pre_filter_skip_bit_[i]) != 0) continue;
    if (pre_filter_[i]->HasExtensions()) return true;
  }
  return false;
}

std::vector<model::PodPtr> Framework::NominatedPodsToAdd(const model::Pod& pod,
                                                         const NodeInfo& node) const {
  std::vector<model::PodPtr> out;
  if (handle_.nominator == nullptr || handle_.nominator->empty() || node.node() == nullptr) {
    return out;
  }
  for (const model::PodPtr& p : handle_.nominator->PodsOn(node.node()->name)) {
    if (p->priority >= pod.priority && !(p->ns == pod.ns && p->name == pod.name)) {
      out.push_back(p);
    }
  }
  return out;
}

Status Framework::RunFilterPluginsWithNominatedPods(const CycleState& state,
                                                    const model::Pod& pod,
                                                    const NodeInfo& node) const {
  std::vector<model::PodPtr> nominated = NominatedPodsToAdd(pod, node);
  if (nominated.empty()) return RunFilterPlugins(state, pod, node);
  // Pass one: as if the nominated pods were there.
  NodeInfo with = node;
  // The state changes only through extensions; without any, it is shared.
  const bool extensions = HasPreFilterExtensions(state);
  CycleState with_state = extensions ? state.Clone() : CycleState();
  for (const model::PodPtr& p : nominated) {
    with.AddPod(p);
    if (!extensions) continue;
    Status s = RunPreFilterExtensionAddPod(with_state, pod, p, with);
    if (!s.ok()) return s;
  }
  Status s = RunFilterPlugins(extensions ? with_state : state, pod, with);
  if (!s.ok()) return s;
  // Pass two: as the node is now.
  return RunFilterPlugins(state, pod, node);
}

}  // namespace kestrel::framework
