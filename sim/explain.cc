#include "sim/explain.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace kestrel::sim {
namespace {

EffectiveRequests RequestsOf(const model::Pod& pod, const model::Interner& names) {
  EffectiveRequests r;
  r.milli_cpu = pod.requests.milli_cpu;
  r.memory = pod.requests.memory;
  r.ephemeral_storage = pod.requests.ephemeral_storage;
  for (const auto& [id, value] : pod.requests.scalar) {
    r.scalar.emplace_back(std::string(names.Name(id)), value);
  }
  // By name, not by interning order, so the output does not depend on the
  // order objects were read in.
  std::sort(r.scalar.begin(), r.scalar.end());
  r.non_zero_milli_cpu = pod.non_zero_milli_cpu;
  r.non_zero_memory = pod.non_zero_memory;
  return r;
}

}  // namespace

absl::StatusOr<Explanation> ExplainPod(Host& host, const model::Pod& pod) {
  scheduler::Scheduler& sched = host.scheduler();
  const framework::Framework* fw = sched.ProfileFor(pod);
  if (fw == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("Pod ", pod.Key(),
                                                   ": spec.schedulerName: no profile named \"",
                                                   pod.scheduler_name, "\""));
  }
  sched.UpdateSnapshot();
  framework::NodeInfoList nodes = sched.snapshot().nodes();

  Explanation out;
  out.pod = pod.Key();
  out.requests = RequestsOf(pod, *host.names());
  for (const framework::WeightedScorePlugin& p : fw->score_plugins()) {
    out.score_plugins.emplace_back(p.plugin->Name());
  }
  framework::CycleState state = sched.NewCycleState();
  framework::Status pre = sched.RunPreFilter(*fw, state, pod);
  if (pre.code() == framework::Code::kError) return absl::InternalError(pre.Message());
  if (!pre.ok()) out.pre_filter_rejection = {std::string(pre.plugin()), pre.Message()};

  std::vector<const framework::NodeInfo*> feasible;
  for (const framework::NodeInfo* n : nodes) {
    NodeExplanation e;
    e.node = n->node()->name;
    e.feasible = pre.ok();
    // Every enabled filter plugin is listed, whether or not it ran.
    for (const framework::FilterPlugin* f : fw->filter_plugins()) {
      if (!pre.ok()) {
        // Upstream filters no node then; each carries the PreFilter's status.
        e.filters.emplace_back(f->Name(), f->Name() == pre.plugin() ? pre.Message() : kNotRun);
        continue;
      }
      if (fw->ShouldSkipFilter(state, f->Name())) {
        e.filters.emplace_back(f->Name(), kSkipped);
        continue;
      }
      framework::Status s = f->Filter(state, pod, *n);
      if (s.ok()) {
        e.filters.emplace_back(f->Name(), kPassed);
      } else {
        e.feasible = false;
        e.filters.emplace_back(f->Name(), s.Message());
      }
    }
    if (e.feasible) feasible.push_back(n);
    out.nodes.push_back(std::move(e));
  }

  if (!feasible.empty()) {
    framework::CycleState score_state = state.Clone();
    // PreScore registers in the index (a clone cannot): this is the
    // scheduling thread.
    score_state.set_mutable_index(state.mutable_index());
    framework::Status s = fw->RunPreScorePlugins(score_state, pod, feasible);
    scheduler::ScoreTable table;
    table.keep_per_plugin = true;
    if (s.ok()) s = sched.RunScorePlugins(*fw, score_state, pod, feasible, {}, &table);
    if (!s.ok()) out.score_error = s.Message();
    size_t f = 0;
    for (NodeExplanation& e : out.nodes) {
      if (!e.feasible || !s.ok()) continue;
      for (size_t p = 0; p < fw->score_plugins().size(); ++p) {
        const framework::ScorePlugin* plugin = fw->score_plugins()[p].plugin;
        // Skipped at PreScore: upstream does not run it, so it has no score.
        if (fw->ShouldSkipScore(score_state, plugin->Name())) {
          e.skipped_scores.emplace_back(plugin->Name());
          continue;
        }
        e.scores.emplace_back(plugin->Name(), table.by_plugin[p][f].score);
      }
      e.total = table.total[f];
      ++f;
    }
  }
  return out;
}

absl::StatusOr<Explanation> Explain(const Cluster& cluster,
                                    const config::KubeSchedulerConfiguration& config,
                                    const std::string& pod_key, const SimOptions& options) {
  model::PodPtr pod;
  for (const model::PodPtr& p : cluster.pending_pods) {
    if (p->Key() == pod_key) pod = p;
  }
  if (pod == nullptr) {
    return absl::NotFoundError(
        absl::StrCat("--pod: no unbound pod \"", pod_key, "\" in the cluster"));
  }
  auto host = Host::Create(cluster, config, options);
  if (!host.ok()) return host.status();
  auto out = ExplainPod(**host, *pod);
  if (!out.ok()) return out.status();
  // The selection itself: the scheduler's own algorithm, same seed.
  scheduler::Scheduler& sched = (*host)->scheduler();
  framework::CycleState cycle = sched.NewCycleState();
  scheduler::Diagnosis diagnosis;
  scheduler::ScheduleResult r = sched.SchedulePod(*sched.ProfileFor(*pod), cycle, *pod, &diagnosis);
  // An error in the cycle (e.g. at PreScore) leaves the pod unscheduled with
  // that error as upstream's SchedulerError message.
  out->selected = r.node;
  out->message = r.message;
  return out;
}

}  // namespace kestrel::sim
