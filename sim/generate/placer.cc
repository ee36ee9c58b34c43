#include "sim/generate/placer.h"

#include <algorithm>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/string_view.h"
#include "sim/generate/templates.h"

namespace kestrel::sim::generate_internal {
namespace {

const std::string* LabelValue(const Labels& labels, absl::string_view key) {
  for (const auto& [k, v] : labels) {
    if (k == key) return &v;
  }
  return nullptr;
}

bool SelectorMatches(const Labels& match_labels, const Labels& labels) {
  for (const auto& [key, value] : match_labels) {
    const std::string* v = LabelValue(labels, key);
    if (v == nullptr || *v != value) return false;
  }
  return true;
}

bool Tolerates(const Toleration& t, const Taint& taint) {
  if (!t.effect.empty() && t.effect != taint.effect) return false;
  if (!t.key.empty() && t.key != taint.key) return false;
  return t.op == "Exists" || t.value == taint.value;
}

bool ToleratesTaints(const PodTemplate& pod, const NodeTemplate& node) {
  for (const Taint& taint : node.taints) {
    if (taint.effect == "PreferNoSchedule") continue;
    if (std::none_of(
            pod.tolerations.begin(), pod.tolerations.end(),
            [&](const Toleration& t) { return Tolerates(t, taint); })) {
      return false;
    }
  }
  return true;
}

bool RequirementMatches(const NodeRequirement& r, const std::string* value) {
  const bool listed =
      value != nullptr &&
      std::find(r.values.begin(), r.values.end(), *value) != r.values.end();
  if (r.op == "In") return listed;
  if (r.op == "NotIn") return !listed;
  if (r.op == "Exists") return value != nullptr;
  if (r.op == "DoesNotExist") return value == nullptr;
  return false;
}

bool TermMatches(const NodeSelectorTerm& term, absl::string_view node_name,
                 const Labels& labels) {
  if (term.match_expressions.empty() && term.match_fields.empty()) return false;
  for (const NodeRequirement& r : term.match_expressions) {
    if (!RequirementMatches(r, LabelValue(labels, r.key))) return false;
  }
  const std::string name(node_name);
  for (const NodeRequirement& r : term.match_fields) {
    if (r.key != "metadata.name" || !RequirementMatches(r, &name)) return false;
  }
  return true;
}

// nodeSelector and required node affinity.
bool SelectsNode(const PodTemplate& pod, absl::string_view node_name,
                 const Labels& labels) {
  if (!SelectorMatches(pod.node_selector, labels)) return false;
  if (pod.required_node_affinity.empty()) return true;
  return std::any_of(pod.required_node_affinity.begin(),
                     pod.required_node_affinity.end(),
                     [&](const NodeSelectorTerm& t) {
                       return TermMatches(t, node_name, labels);
                     });
}

}  // namespace

void Placer::AddNamespace(const std::string& name, const Labels& labels) {
  namespace_labels_[name] = labels;
}

void Placer::AddNode(std::shared_ptr<const NodeTemplate> node, std::string name,
                     Labels labels) {
  nodes_.push_back(
      {std::move(node), std::move(name), std::move(labels), {}, {}});
}

int Placer::Place(const std::shared_ptr<const PodTemplate>& shared) {
  const PodTemplate& pod = *shared;
  const int n = static_cast<int>(nodes_.size());
  std::vector<SpreadState*> spreading = SpreadStatesOf(shared);
  std::vector<int> min_match;
  for (const SpreadState* s : spreading) {
    int least = 0;
    bool first = true;
    for (const auto& [domain, count] : s->matching) {
      if (first || count < least) least = count;
      first = false;
    }
    min_match.push_back(least);
  }
  for (int step = 0; step < n; ++step) {
    const int i = (cursor_ + step) % n;
    if (Fits(pod, nodes_[i]) && SatisfiesPodAffinity(pod, nodes_[i]) &&
        SatisfiesSpreading(pod, nodes_[i], spreading, min_match)) {
      Record(shared, i);
      cursor_ = (i + 1) % n;
      return i;
    }
  }
  return -1;
}

void Placer::Add(TemplateCounts& counts, const PodTemplate* pod) {
  for (auto& [t, count] : counts) {
    if (t == pod) {
      ++count;
      return;
    }
  }
  counts.emplace_back(pod, 1);
}

bool Placer::Fits(const PodTemplate& pod, const NodeState& node) const {
  const Resources& used = node.used;
  const Resources& cap = node.node->capacity;
  return used.pods + 1 <= cap.pods &&
         used.milli_cpu + pod.requests.milli_cpu <= cap.milli_cpu &&
         used.memory + pod.requests.memory <= cap.memory &&
         used.gpus + pod.requests.gpus <= cap.gpus &&
         ToleratesTaints(pod, *node.node) &&
         SelectsNode(pod, node.name, node.labels);
}

bool Placer::TermSelects(const AffinityTerm& term, const std::string& owner_ns,
                         const PodTemplate& candidate) const {
  const std::string& ns = candidate.namespace_name;
  bool in_namespaces;
  if (term.namespaces.empty() && !term.namespace_selector.has_value()) {
    in_namespaces = ns == owner_ns;
  } else {
    in_namespaces = std::find(term.namespaces.begin(), term.namespaces.end(),
                              ns) != term.namespaces.end();
    if (!in_namespaces && term.namespace_selector.has_value()) {
      auto it = namespace_labels_.find(ns);
      in_namespaces = SelectorMatches(
          *term.namespace_selector,
          it == namespace_labels_.end() ? Labels() : it->second);
    }
  }
  return in_namespaces && SelectorMatches(term.match_labels, candidate.labels);
}

const Placer::TemplateCounts* Placer::PodsInDomain(
    const NodeState& node, const std::string& topology_key) const {
  const std::string* value = LabelValue(node.labels, topology_key);
  if (value == nullptr) return nullptr;
  auto it = domains_.find({topology_key, *value});
  return it == domains_.end() ? nullptr : &it->second;
}

bool Placer::SatisfiesPodAffinity(const PodTemplate& pod,
                                  const NodeState& node) const {
  const std::string& ns = pod.namespace_name;
  // The pod's anti-affinity against pods in the node's domains.
  for (const AffinityTerm& term : pod.required_anti_affinity) {
    const TemplateCounts* there = PodsInDomain(node, term.topology_key);
    if (there == nullptr) continue;
    for (const auto& [t, count] : *there) {
      if (TermSelects(term, ns, *t)) return false;
    }
  }
  // Placed pods' anti-affinity against this pod.
  for (const PodTemplate* other : anti_affinity_templates_) {
    for (const AffinityTerm& term : other->required_anti_affinity) {
      if (!TermSelects(term, other->namespace_name, pod)) continue;
      const TemplateCounts* there = PodsInDomain(node, term.topology_key);
      if (there == nullptr) continue;
      for (const auto& [t, count] : *there) {
        if (t == other) return false;
      }
    }
  }
  if (pod.required_affinity.empty()) return true;
  // Affinity: a pod matching all terms in each term's domain.
  auto matches_all = [&](const PodTemplate& t) {
    return std::all_of(
        pod.required_affinity.begin(), pod.required_affinity.end(),
        [&](const AffinityTerm& term) { return TermSelects(term, ns, t); });
  };
  bool pods_exist = true;
  for (const AffinityTerm& term : pod.required_affinity) {
    if (LabelValue(node.labels, term.topology_key) == nullptr) return false;
    const TemplateCounts* there = PodsInDomain(node, term.topology_key);
    if (there == nullptr ||
        std::none_of(there->begin(), there->end(),
                     [&](const auto& e) { return matches_all(*e.first); })) {
      pods_exist = false;
    }
  }
  if (pods_exist) return true;
  return std::none_of(placed_templates_.begin(), placed_templates_.end(),
                      [&](const auto& t) { return matches_all(*t); }) &&
         matches_all(pod);
}

bool Placer::SatisfiesSpreading(const PodTemplate& pod, const NodeState& node,
                                const std::vector<SpreadState*>& spreading,
                                const std::vector<int>& min_match) const {
  for (size_t k = 0; k < spreading.size(); ++k) {
    const SpreadConstraint& c = *spreading[k]->constraint;
    const std::string* domain = LabelValue(node.labels, c.topology_key);
    if (domain == nullptr) return false;
    auto it = spreading[k]->matching.find(*domain);
    const int matching = it == spreading[k]->matching.end() ? 0 : it->second;
    const int self = SelectorMatches(c.match_labels, pod.labels) ? 1 : 0;
    if (matching + self - min_match[k] > c.max_skew) return false;
  }
  return true;
}

bool Placer::CountsFor(const SpreadState& s, const PodTemplate& placed) const {
  return placed.namespace_name == s.owner->namespace_name &&
         SelectorMatches(s.constraint->match_labels, placed.labels);
}

std::vector<Placer::SpreadState*> Placer::SpreadStatesOf(
    const std::shared_ptr<const PodTemplate>& shared) {
  const PodTemplate& pod = *shared;
  std::vector<SpreadState*> states;
  std::vector<const SpreadConstraint*> hard;
  for (const SpreadConstraint& c : pod.spread_constraints) {
    if (c.when_unsatisfiable == "DoNotSchedule") hard.push_back(&c);
  }
  for (const SpreadConstraint* c : hard) {
    SpreadState* state = nullptr;
    for (SpreadState& s : spread_states_) {
      if (s.owner == shared && s.constraint == c) state = &s;
    }
    if (state == nullptr) {
      SpreadState s{shared, c, {}, {}};
      for (const NodeState& node : nodes_) {
        // Upstream: the node has every hard constraint's key and passes
        // the inclusion policies (nodeAffinityPolicy Honor by default,
        // nodeTaintsPolicy Ignore by default).
        bool eligible = std::all_of(
            hard.begin(), hard.end(), [&](const SpreadConstraint* h) {
              return LabelValue(node.labels, h->topology_key) != nullptr;
            });
        if (c->node_affinity_policy != "Ignore") {
          eligible = eligible && SelectsNode(pod, node.name, node.labels);
        }
        if (c->node_taints_policy == "Honor") {
          eligible = eligible && ToleratesTaints(pod, *node.node);
        }
        s.eligible.push_back(eligible);
        if (!eligible) continue;
        int& matching = s.matching[*LabelValue(node.labels, c->topology_key)];
        for (const auto& [t, count] : node.pods) {
          if (CountsFor(s, *t)) matching += count;
        }
      }
      spread_states_.push_back(std::move(s));
      state = &spread_states_.back();
    }
    states.push_back(state);
  }
  return states;
}

void Placer::Record(const std::shared_ptr<const PodTemplate>& shared, int i) {
  const PodTemplate& pod = *shared;
  NodeState& node = nodes_[i];
  node.used.milli_cpu += pod.requests.milli_cpu;
  node.used.memory += pod.requests.memory;
  node.used.gpus += pod.requests.gpus;
  node.used.pods += 1;
  Add(node.pods, &pod);
  for (const auto& [key, value] : node.labels) {
    Add(domains_[{key, value}], &pod);
  }
  if (std::find(placed_templates_.begin(), placed_templates_.end(), shared) ==
      placed_templates_.end()) {
    placed_templates_.push_back(shared);
    if (!pod.required_anti_affinity.empty()) {
      anti_affinity_templates_.push_back(&pod);
    }
  }
  for (SpreadState& s : spread_states_) {
    if (s.eligible[i] && CountsFor(s, pod)) {
      ++s.matching[*LabelValue(node.labels, s.constraint->topology_key)];
    }
  }
}

}  // namespace kestrel::sim::generate_internal
