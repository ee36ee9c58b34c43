#include "sim/whatif.h"

#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/decode.h"
#include "load/loader.h"
#include "model/priority.h"
#include "scheduler/cache/snapshot.h"

namespace kestrel::sim {

namespace v1 = ::k8s::io::api::core::v1;

absl::StatusOr<std::unique_ptr<WhatIf>> WhatIf::Create(
    Cluster cluster, config::KubeSchedulerConfiguration config) {
  return Build(std::move(cluster), std::move(config),
               [](const WhatIf& w, const SimOptions& options) {
                 return Host::Create(w.cluster_, w.config_, options);
               });
}

absl::StatusOr<std::unique_ptr<WhatIf>> WhatIf::CreateFromCache(
    Cluster cluster, const cache::Cache& state, config::KubeSchedulerConfiguration config) {
  return Build(std::move(cluster), std::move(config),
               [&state](const WhatIf& w, const SimOptions& options) {
                 return Host::CopyOf(state, w.cluster_.names.get(), w.cluster_.pdbs,
                                     w.cluster_.nodes, w.config_, options);
               });
}

absl::StatusOr<std::unique_ptr<WhatIf>> WhatIf::Build(
    Cluster cluster, config::KubeSchedulerConfiguration config,
    const std::function<absl::StatusOr<std::unique_ptr<Host>>(const WhatIf&, const SimOptions&)>&
        make_base) {
  std::unique_ptr<WhatIf> w(new WhatIf());
  w->cluster_ = std::move(cluster);
  w->config_ = std::move(config);
  w->no_preemption_config_ = w->config_;
  // No profiles means upstream's one default profile: name it to disable in it.
  if (w->no_preemption_config_.profiles_size() == 0) w->no_preemption_config_.add_profiles();
  for (auto& profile : *w->no_preemption_config_.mutable_profiles()) {
    profile.mutable_plugins()->mutable_postfilter()->add_disabled()->set_name("*");
  }
  SimOptions base_options;
  base_options.threads = 1;
  auto base = make_base(*w, base_options);
  if (!base.ok()) return base.status();
  w->base_ = *std::move(base);
  // Forks then share the base's pods instead of copying them.
  w->base_->cache().Freeze();
  // Both configs must build; a fork can then fail only on memory.
  auto check = Host::Fork(*w->base_, w->no_preemption_config_, base_options);
  if (!check.ok()) return check.status();
  return w;
}

absl::StatusOr<std::unique_ptr<Host>> WhatIf::Fork(const WhatIfOptions& options,
                                                   bool preemption) const {
  SimOptions sim;
  sim.seed = options.seed;
  sim.threads = std::max(1, options.threads);
  const Host* from = base_.get();
  if (options.from != nullptr) {
    // A state kept by another WhatIf refers to another interner.
    if (options.from->owner_ != this) {
      return absl::InvalidArgumentError("fork_id: the fork was made from another cluster");
    }
    from = options.from->host_.get();
  }
  auto fork = Host::Fork(*from, preemption ? config_ : no_preemption_config_, sim);
  if (!fork.ok()) return fork.status();
  if (absl::Status s = ApplyDelta(options.delta, **fork); !s.ok()) return s;
  return fork;
}

absl::Status WhatIf::ApplyDelta(const ForkDelta& delta, Host& host) const {
  for (size_t i = 0; i < delta.remove_pods.size(); ++i) {
    model::PodPtr pod = host.cache().GetPod(delta.remove_pods[i]);
    if (pod == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("delta.remove_pods[", i, "]: Not found: \"", delta.remove_pods[i], "\""));
    }
    if (absl::Status s = host.Delete(*pod); !s.ok()) return s;
  }
  for (size_t i = 0; i < delta.remove_nodes.size(); ++i) {
    if (!host.RemoveNode(delta.remove_nodes[i]).ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("delta.remove_nodes[", i, "]: Not found: \"", delta.remove_nodes[i], "\""));
    }
  }
  for (size_t i = 0; i < delta.add_nodes.size(); ++i) {
    const std::string field = absl::StrCat("delta.add_nodes[", i, "]");
    absl::StatusOr<model::NodePtr> node =
        load::CompileNodeObject(delta.add_nodes[i], *cluster_.names, model::CompileOptions{});
    if (!node.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": ", node.status().message()));
    }
    const std::string name = (*node)->name;
    if (!host.AddNode(*std::move(node)).ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".metadata.name: Duplicate value: \"", name, "\""));
    }
  }
  for (size_t i = 0; i < delta.add_pods.size(); ++i) {
    const std::string field = absl::StrCat("delta.add_pods[", i, "]");
    v1::Pod api = delta.add_pods[i];
    if (api.spec().nodename().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".spec.nodeName: Required value: pods added to a fork are bound"));
    }
    const model::PriorityRequest request = model::PriorityRequest::FromSpec(api.spec());
    absl::StatusOr<model::PodPtr> pod =
        load::CompilePodObject(api, *cluster_.names, model::CompileOptions{});
    if (!pod.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": ", pod.status().message()));
    }
    model::PodPtr resolved = load::ResolvePriority(cluster_.priority_classes, request,
                                                   load::Admission::kAdmitted, *std::move(pod));
    if (host.cache().GetPod(resolved->Key()) != nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".metadata.name: Duplicate value: \"", resolved->Key(), "\""));
    }
    if (absl::Status s = host.cache().AddPod(std::move(resolved)); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

void WhatIf::Keep(const WhatIfOptions& options, std::unique_ptr<Host> host) const {
  if (options.keep == nullptr) return;
  // Frozen, forks of it share its pods; nothing schedules into it again.
  host->cache().Freeze();
  options.keep->reset(new KeptState(this, std::move(host)));
}

absl::Status WhatIf::CheckUniquePods(const std::vector<model::PodPtr>& pods,
                                     const Host& host) const {
  absl::flat_hash_set<std::string> keys;
  for (size_t i = 0; i < pods.size(); ++i) {
    const std::string key = pods[i]->Key();
    if (!keys.insert(key).second || host.cache().GetPod(key) != nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("pods[", i, "].metadata.name: Duplicate value: \"", key, "\""));
    }
  }
  return absl::OkStatus();
}


absl::StatusOr<model::PodPtr> WhatIf::CompilePod(v1::Pod pod, absl::string_view field) const {
  // Upstream's validatePodSpec requires containers; a pod without any has
  // no requests to place, so it is a mistake of the asker, not a pod.
  // Named as the compiler names objects: "Pod <namespace>/<name>".
  const std::string object =
      absl::StrCat("Pod ", pod.metadata().namespace_().empty() ? "default" : pod.metadata().namespace_(),
                   "/", pod.metadata().name());
  if (pod.spec().containers_size() == 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", object, ": spec.containers: Required value"));
  }
  if (!pod.spec().nodename().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", object, ": spec.nodeName: Invalid value: \"",
                     pod.spec().nodename(), "\": must be empty: the pod is to be scheduled"));
  }
  const model::PriorityRequest request = model::PriorityRequest::FromSpec(pod.spec());
  absl::StatusOr<model::PodPtr> compiled =
      load::CompilePodObject(pod, *cluster_.names, model::CompileOptions{});
  if (!compiled.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", compiled.status().message()));
  }
  return load::ResolvePriority(cluster_.priority_classes, request, load::Admission::kAdmit,
                               *std::move(compiled));
}

absl::StatusOr<std::vector<model::PodPtr>> WhatIf::CompilePodFile(
    const std::string& path) const {
  absl::StatusOr<std::string> content = api::ReadFile(path);
  if (!content.ok()) return content.status();
  std::vector<model::PodPtr> out;
  absl::Status s = api::DecodeEach(path, *content, [&](api::Object obj) -> absl::Status {
    if (obj.kind != "Pod") {
      return absl::InvalidArgumentError(
          absl::StrCat(obj.origin, ": kind: Unsupported value: \"", obj.kind, "\": want Pod"));
    }
    auto pod = CompilePod(static_cast<const v1::Pod&>(*obj.message), path);
    if (!pod.ok()) return pod.status();
    out.push_back(*std::move(pod));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<std::vector<Placement>> WhatIf::Place(const std::vector<model::PodPtr>& pods,
                                                     const WhatIfOptions& options) const {
  auto fork = Fork(options, options.preemption);
  if (!fork.ok()) return fork.status();
  Host& host = **fork;
  if (absl::Status s = CheckUniquePods(pods, host); !s.ok()) return s;
  const std::vector<model::PodPtr> order = SchedulingOrder(pods);
  std::vector<Placement> out;
  out.reserve(order.size());
  for (const model::PodPtr& pod : order) {
    if (options.interrupt) {
      if (absl::Status s = options.interrupt(); !s.ok()) return s;
    }
    scheduler::ScheduleResult r = host.Place(pod);
    Placement p;
    p.pod = pod->Key();
    p.node = r.node;
    p.message = r.node.empty() ? r.message : "";
    p.nominated_node = r.node.empty() ? r.nominated_node : "";
    for (const model::PodPtr& v : r.victims) p.victims.push_back(v->Key());
    out.push_back(std::move(p));
  }
  Keep(options, *std::move(fork));
  return out;
}

absl::StatusOr<Explanation> WhatIf::Explain(const model::PodPtr& pod,
                                            const WhatIfOptions& options) const {
  auto fork = Fork(options, options.preemption);
  if (!fork.ok()) return fork.status();
  absl::StatusOr<Explanation> out = ExplainAndSelect(**fork, *pod);
  if (out.ok()) Keep(options, *std::move(fork));
  return out;
}

absl::StatusOr<CapacityResult> WhatIf::Capacity(const model::PodPtr& pod, int64_t limit,
                                                const WhatIfOptions& options) const {
  auto fork = Fork(options, /*preemption=*/false);
  if (!fork.ok()) return fork.status();
  Host& host = **fork;
  CapacityResult out;
  absl::flat_hash_map<std::string, int64_t> per_node;
  for (int64_t i = 1; limit <= 0 || i <= limit; ++i) {
    if (options.interrupt) {
      if (absl::Status s = options.interrupt(); !s.ok()) return s;
    }
    auto copy = std::make_shared<model::Pod>(*pod);
    copy->name = absl::StrCat(pod->name, "-", i);
    copy->uid.clear();
    if (host.cache().GetPod(copy->Key()) != nullptr) {
      return absl::InvalidArgumentError(absl::StrCat(
          "metadata.name: copy ", i, " of the template would be \"", copy->Key(),
          "\", a pod the cluster has; rename the template"));
    }
    scheduler::ScheduleResult r = host.Schedule(copy);
    if (r.node.empty()) {
      out.stopped_by = r.message;
      break;
    }
    ++out.count;
    ++per_node[r.node];
  }
  for (const model::NodePtr& n : host.nodes()) {
    auto it = per_node.find(n->name);
    if (it != per_node.end()) out.per_node.emplace_back(n->name, it->second);
  }
  Keep(options, *std::move(fork));
  return out;
}

absl::StatusOr<std::vector<NodeTemplate>> ReadNodeTemplates(const std::string& path,
                                                            int64_t default_max_count) {
  absl::StatusOr<std::string> content = api::ReadFile(path);
  if (!content.ok()) return content.status();
  std::vector<NodeTemplate> out;
  absl::Status s = api::DecodeEach(path, *content, [&](api::Object obj) -> absl::Status {
    if (obj.kind != "Node") {
      return absl::InvalidArgumentError(
          absl::StrCat(obj.origin, ": kind: Unsupported value: \"", obj.kind, "\": want Node"));
    }
    NodeTemplate t;
    t.node = static_cast<const v1::Node&>(*obj.message);
    t.name = t.node.metadata().name();
    t.max_count = default_max_count;
    const auto& annotations = t.node.metadata().annotations();
    if (auto it = annotations.find(kMaxCountAnnotation); it != annotations.end()) {
      if (!absl::SimpleAtoi(it->second, &t.max_count) || t.max_count < 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(obj.origin, ": metadata.annotations[", kMaxCountAnnotation,
                         "]: Invalid value: \"", it->second, "\": must be a positive integer"));
      }
    }
    out.push_back(std::move(t));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return out;
}

absl::StatusOr<model::NodePtr> WhatIf::TemplateNode(const NodeTemplate& t, int64_t index) const {
  v1::Node node = t.node;
  const std::string name = absl::StrCat(t.name, "-", index);
  node.mutable_metadata()->set_name(name);
  (*node.mutable_metadata()->mutable_labels())["kubernetes.io/hostname"] = name;
  return load::CompileNodeObject(node, *cluster_.names, model::CompileOptions{});
}

absl::Status WhatIf::CheckNodeTemplate(const NodeTemplate& t, absl::string_view field) const {
  if (t.name.empty())
    return absl::InvalidArgumentError(absl::StrCat(field, ".name: Required value"));
  // The new nodes' names, <name>-<i>, must be DNS subdomains; a DNS label
  // as the stem keeps them so.
  const bool label = t.name.size() <= 63 && absl::ascii_isalnum(t.name.front()) &&
                     absl::ascii_isalnum(t.name.back()) &&
                     std::all_of(t.name.begin(), t.name.end(), [](char c) {
                       return (absl::ascii_isalnum(c) && !absl::ascii_isupper(c)) || c == '-';
                     });
  if (!label) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".name: Invalid value: \"", t.name,
        "\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or "
        "'-', and must start and end with an alphanumeric character"));
  }
  if (t.max_count < 1) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".max_count: Invalid value: ", t.max_count, ": must be greater than or equal to 1"));
  }
  absl::StatusOr<model::NodePtr> node = TemplateNode(t, 1);
  if (!node.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".node: ", node.status().message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<ScaleUpResult> WhatIf::ScaleUp(const std::vector<model::PodPtr>& pods,
                                              const std::vector<NodeTemplate>& templates,
                                              const WhatIfOptions& options) const {
  if (options.keep != nullptr) {
    return absl::InvalidArgumentError(
        "keep_fork: ScaleUp keeps no fork: each template is evaluated on a fork of its own");
  }
  if (templates.empty()) return absl::InvalidArgumentError("node_templates: Required value");
  absl::flat_hash_set<std::string> names;
  for (size_t i = 0; i < templates.size(); ++i) {
    const std::string field = absl::StrCat("node_templates[", i, "]");
    if (absl::Status s = CheckNodeTemplate(templates[i], field); !s.ok()) return s;
    if (!names.insert(templates[i].name).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".name: Duplicate value: \"", templates[i].name, "\""));
    }
  }
  std::vector<model::PodPtr> order;
  ScaleUpResult out;
  absl::flat_hash_set<std::string> placed_by_some;
  // The cluster as it is, once: the pods that fit it are placed on this
  // fork, which every template's fork then copies.
  auto existing = Fork(options, /*preemption=*/false);
  if (!existing.ok()) return existing.status();
  if (absl::Status s = CheckUniquePods(pods, **existing); !s.ok()) return s;
  if (pods.empty()) {
    // The cluster's pending pods, less those a kept fork has placed.
    for (const model::PodPtr& p : cluster_.pending_pods) {
      if ((*existing)->cache().GetPod(p->Key()) == nullptr) order.push_back(p);
    }
  } else {
    order = pods;
  }
  order = SchedulingOrder(std::move(order));
  std::vector<model::PodPtr> remaining;
  for (const model::PodPtr& pod : order) {
    if (options.interrupt) {
      if (absl::Status s = options.interrupt(); !s.ok()) return s;
    }
    scheduler::ScheduleResult r = (*existing)->Schedule(pod);
    if (r.node.empty()) {
      remaining.push_back(pod);
    } else {
      Placement p;
      p.pod = pod->Key();
      p.node = r.node;
      out.fit_existing.push_back(std::move(p));
    }
  }
  SimOptions sim;
  sim.seed = options.seed;
  sim.threads = std::max(1, options.threads);
  for (size_t t = 0; t < templates.size(); ++t) {
    const NodeTemplate& tmpl = templates[t];
    auto fork = Host::Fork(**existing, no_preemption_config_, sim);
    if (!fork.ok()) return fork.status();
    Host& host = **fork;
    TemplateScaleUp answer;
    answer.name = tmpl.name;
    absl::flat_hash_map<std::string, size_t> new_node_index;
    for (const model::PodPtr& pod : remaining) {
      if (options.interrupt) {
        if (absl::Status s = options.interrupt(); !s.ok()) return s;
      }
      scheduler::ScheduleResult r = host.Schedule(pod);
      if (r.node.empty()) {
        if (static_cast<int64_t>(answer.nodes.size()) >= tmpl.max_count) {
          answer.max_count_reached = true;
        } else {
          const int64_t index = static_cast<int64_t>(answer.nodes.size()) + 1;
          absl::StatusOr<model::NodePtr> node = TemplateNode(tmpl, index);
          if (!node.ok()) return node.status();
          const std::string name = (*node)->name;
          if (absl::Status s = host.AddNode(*std::move(node)); !s.ok()) {
            return absl::InvalidArgumentError(absl::StrCat(
                "node_templates[", t, "].name: new node \"", name,
                "\" would have the name of a node the cluster has; rename the template"));
          }
          r = host.Schedule(pod);
          if (r.node.empty()) {
            // The pod fits no new node either: the node is not needed.
            if (absl::Status s = host.RemoveNode(name); !s.ok()) return s;
          } else {
            new_node_index[name] = answer.nodes.size();
            answer.nodes.push_back(NewNode{name, {}});
          }
        }
      }
      if (r.node.empty()) {
        answer.unplaced.push_back(Unplaced{pod->Key(), r.message});
        continue;
      }
      placed_by_some.insert(pod->Key());
      auto it = new_node_index.find(r.node);
      if (it != new_node_index.end()) answer.nodes[it->second].pods.push_back(pod->Key());
    }
    answer.nodes_needed = static_cast<int64_t>(answer.nodes.size());
    out.templates.push_back(std::move(answer));
  }
  for (const Unplaced& u : out.templates.front().unplaced) {
    if (placed_by_some.count(u.pod) == 0) out.no_template.push_back(u);
  }
  return out;
}

absl::string_view ActionName(DrainedPod::Action action) {
  switch (action) {
    case DrainedPod::Action::kMoved:
      return "moved";
    case DrainedPod::Action::kUnplaced:
      return "unplaced";
    case DrainedPod::Action::kStays:
      return "stays";
    case DrainedPod::Action::kBlocked:
      return "blocked";
  }
  return "unknown";
}

namespace {

const model::OwnerRef* ControllerOf(const model::Pod& pod) {
  for (const model::OwnerRef& o : pod.owners) {
    if (o.controller) return &o;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<std::vector<NodeDrain>> WhatIf::Drain(const std::vector<std::string>& nodes,
                                                     const DrainOptions& drain,
                                                     const WhatIfOptions& options) const {
  auto fork = Fork(options, /*preemption=*/false);
  if (!fork.ok()) return fork.status();
  Host& host = **fork;
  absl::flat_hash_map<std::string, size_t> drained;  // node -> index in `out`
  std::vector<NodeDrain> out;
  for (size_t i = 0; i < nodes.size(); ++i) {
    const std::string field = absl::StrCat("nodes[", i, "]");
    if (nodes[i].empty()) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": Required value"));
    }
    const bool known = std::any_of(host.nodes().begin(), host.nodes().end(),
                                   [&](const model::NodePtr& n) { return n->name == nodes[i]; });
    if (!known) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": Not found: \"", nodes[i], "\""));
    }
    if (!drained.emplace(nodes[i], out.size()).second) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": Duplicate value: \"", nodes[i], "\""));
    }
    out.push_back(NodeDrain{nodes[i], true, {}});
  }
  if (out.empty()) return absl::InvalidArgumentError("nodes: Required value");
  // The pods of each node, in the order the node took them (cluster order
  // for the loaded cluster), before anything changes.
  cache::Snapshot before;
  host.cache().UpdateSnapshot(&before);
  // Cordon all first: no evicted pod may land on a node being drained.
  const std::vector<model::NodePtr> all_nodes = host.nodes();
  for (const model::NodePtr& n : all_nodes) {
    if (drained.count(n->name) == 0) continue;
    auto cordoned = std::make_shared<model::Node>(*n);
    cordoned->unschedulable = true;
    if (absl::Status s = host.UpdateNode(std::move(cordoned)); !s.ok()) return s;
  }
  // Disruptions each budget still allows, spent as pods are evicted
  // (evicting replaces the host's budgets with spent copies: keep these).
  const std::vector<model::PdbPtr> pdbs = host.pdbs();
  absl::flat_hash_map<const model::PodDisruptionBudget*, int32_t> allowed;
  for (const model::PdbPtr& pdb : pdbs) allowed[pdb.get()] = pdb->disruptions_allowed;
  struct Evicted {
    model::PodPtr pod;  // unbound, to schedule again
    size_t node;        // index in `out`
    size_t slot;        // index in out[node].pods
  };
  std::vector<Evicted> evicted;
  for (NodeDrain& node : out) {
    const framework::NodeInfo* info = before.Get(node.node);
    if (info == nullptr) continue;
    for (const model::PodPtr& pod : info->pods()) {
      DrainedPod d;
      d.pod = pod->Key();
      const model::OwnerRef* controller = ControllerOf(*pod);
      std::vector<const model::PodDisruptionBudget*> budgets;
      for (const model::PdbPtr& pdb : pdbs) {
        if (pdb->Selects(*pod)) budgets.push_back(pdb.get());
      }
      if (pod->mirror) {
        d.action = DrainedPod::Action::kStays;
        d.reason = "mirror pod: the kubelet runs it from a file on the node";
      } else if (controller != nullptr && controller->kind == "DaemonSet") {
        d.action = DrainedPod::Action::kStays;
        d.reason =
            absl::StrCat("DaemonSet pod: daemonset/", controller->name, " runs it on every node");
      } else if (controller == nullptr) {
        // cluster-autoscaler's NotReplicated, in its words.
        d.action = DrainedPod::Action::kBlocked;
        d.reason = absl::StrCat(pod->Key(), " is not replicated");
      } else if (!pod->empty_dir_volumes.empty() && !drain.delete_local_data) {
        // cluster-autoscaler's LocalStorageRequested, in its words.
        d.action = DrainedPod::Action::kBlocked;
        d.reason =
            absl::StrCat("pod with local storage present: ", pod->name, " (emptyDir volume \"",
                         pod->empty_dir_volumes.front(), "\"; allow with delete_local_data)");
      } else if (budgets.size() > 1) {
        d.action = DrainedPod::Action::kBlocked;
        d.reason =
            "This pod has more than one PodDisruptionBudget, which the eviction "
            "subresource does not support.";
      } else if (budgets.size() == 1 && allowed[budgets[0]] <= 0) {
        d.action = DrainedPod::Action::kBlocked;
        d.reason = absl::StrCat("evicting it would violate PodDisruptionBudget ", budgets[0]->ns,
                                "/", budgets[0]->name, " (no disruption allowed)");
      } else {
        if (budgets.size() == 1) --allowed[budgets[0]];
        if (absl::Status s = host.Delete(*pod); !s.ok()) return s;
        auto copy = std::make_shared<model::Pod>(*pod);
        copy->node_name.clear();
        copy->nominated_node_name.clear();
        evicted.push_back(
            Evicted{std::move(copy), static_cast<size_t>(&node - out.data()), node.pods.size()});
      }
      if (d.action == DrainedPod::Action::kBlocked) node.drainable = false;
      node.pods.push_back(std::move(d));
    }
  }
  // The controllers recreate the evicted pods; the scheduler takes them by
  // priority, then in eviction order.
  std::stable_sort(evicted.begin(), evicted.end(), [](const Evicted& a, const Evicted& b) {
    return a.pod->priority > b.pod->priority;
  });
  for (const Evicted& e : evicted) {
    if (options.interrupt) {
      if (absl::Status s = options.interrupt(); !s.ok()) return s;
    }
    scheduler::ScheduleResult r = host.Schedule(e.pod);
    DrainedPod& d = out[e.node].pods[e.slot];
    if (r.node.empty()) {
      d.action = DrainedPod::Action::kUnplaced;
      d.reason = r.message;
      out[e.node].drainable = false;
    } else {
      d.action = DrainedPod::Action::kMoved;
      d.node = r.node;
    }
  }
  Keep(options, *std::move(fork));
  return out;
}

}  // namespace kestrel::sim
