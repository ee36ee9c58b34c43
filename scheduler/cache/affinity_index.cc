#include "scheduler/cache/affinity_index.h"

#include <algorithm>

namespace kestrel::cache {
namespace {

using model::Id;

// Appends the raw bytes of `v`: signatures are compared, never printed.
void Put(std::string* out, uint32_t v) { out->append(reinterpret_cast<const char*>(&v), 4); }

void PutSelector(std::string* out, const model::LabelSelector& s) {
  Put(out, s.matches_nothing ? 1 : 0);
  Put(out, static_cast<uint32_t>(s.requirements.size()));
  for (const model::Requirement& r : s.requirements) {
    Put(out, r.key);
    Put(out, static_cast<uint32_t>(r.op));
    Put(out, static_cast<uint32_t>(r.values.size()));
    for (Id v : r.values) Put(out, v);
    Put(out, static_cast<uint32_t>(r.number));
    Put(out, static_cast<uint32_t>(static_cast<uint64_t>(r.number) >> 32));
  }
}

void PutClause(std::string* out, const AffinityIndex::Clause& c) {
  Put(out, static_cast<uint32_t>(c.namespaces.size()));
  for (Id ns : c.namespaces) Put(out, ns);
  PutSelector(out, c.namespace_selector);
  PutSelector(out, c.selector);
}

std::string TermSignature(const model::AffinityTerm& t) {
  std::string out;
  PutClause(&out, AffinityIndex::ClauseOf(t));
  Put(&out, t.topology_key);
  return out;
}

}  // namespace

int32_t AffinityIndex::Topology::DomainOf(const model::Node& node) const {
  const Id v = node.labels.Get(key);
  if (v == model::kNoId) return -1;
  auto it = domain_of_value.find(v);
  return it == domain_of_value.end() ? -1 : it->second;
}

const model::Labels& AffinityIndex::NamespaceLabelsOrEmpty(Id ns) const {
  static const model::Labels* const kEmpty = new model::Labels();
  const model::Labels* labels = NamespaceLabelsOf(ns);
  return labels != nullptr ? *labels : *kEmpty;
}

const model::Labels* AffinityIndex::NamespaceLabelsOf(Id ns) const {
  if (namespaces_ == nullptr) return nullptr;
  auto it = namespaces_->find(ns);
  return it == namespaces_->end() ? nullptr : &it->second;
}

bool AffinityIndex::Matches(const std::vector<Clause>& clauses, bool skip_terminating,
                            const model::Pod& pod) const {
  if (skip_terminating && pod.terminating) return false;
  const model::Labels* ns_labels = NamespaceLabelsOf(pod.ns_id);
  for (const Clause& c : clauses) {
    if (!model::SelectsPod(c.namespaces, c.namespace_selector, c.selector, pod.ns_id, pod.labels,
                           ns_labels)) {
      return false;
    }
  }
  return true;
}

void AffinityIndex::BuildTopology(Topology* t) const {
  t->domain_of_row.assign(rows_.size(), -1);
  t->domain_of_value.clear();
  for (size_t r = 0; r < rows_.size(); ++r) {
    const model::Node* node = rows_[r]->node();
    const Id v = node == nullptr ? model::kNoId : node->labels.Get(t->key);
    if (v == model::kNoId) continue;
    auto [it, inserted] =
        t->domain_of_value.emplace(v, static_cast<int32_t>(t->domain_of_value.size()));
    t->domain_of_row[r] = it->second;
  }
}

const AffinityIndex::Topology* AffinityIndex::FindTopology(Id key) const {
  for (const auto& t : topologies_) {
    if (t->key == key) return t.get();
  }
  return nullptr;
}

const AffinityIndex::Topology& AffinityIndex::GetTopology(Id key) {
  if (const Topology* t = FindTopology(key)) return *t;
  auto t = std::make_unique<Topology>();
  t->key = key;
  BuildTopology(t.get());
  topologies_.push_back(std::move(t));
  return *topologies_.back();
}

void AffinityIndex::CountSelection(Selection* s) const {
  s->rows.assign(rows_.size(), 0);
  for (size_t r = 0; r < rows_.size(); ++r) {
    int32_t n = 0;
    for (const model::PodPtr& pod : rows_[r]->pods()) {
      n += Matches(s->clauses, s->skip_terminating, *pod);
    }
    s->rows[r] = n;
  }
}

void AffinityIndex::CountKey(const Selection& s, const Topology& t, KeyCounts* k) {
  k->by_domain.assign(t.num_domains(), 0);
  k->total = 0;
  for (size_t r = 0; r < s.rows.size(); ++r) {
    const int32_t d = t.domain_of_row[r];
    if (d < 0 || s.rows[r] == 0) continue;
    k->by_domain[d] += s.rows[r];
    k->total += s.rows[r];
  }
}

AffinityIndex::SelectionId AffinityIndex::Select(const std::vector<Clause>& clauses,
                                                 bool skip_terminating) {
  std::string signature;
  Put(&signature, skip_terminating ? 1 : 0);
  for (const Clause& c : clauses) PutClause(&signature, c);
  auto it = selection_by_signature_.find(signature);
  if (it != selection_by_signature_.end()) return it->second;
  auto s = std::make_unique<Selection>();
  s->clauses = clauses;
  s->skip_terminating = skip_terminating;
  CountSelection(s.get());
  const SelectionId id = static_cast<SelectionId>(selections_.size());
  selections_.push_back(std::move(s));
  selection_by_signature_.emplace(std::move(signature), id);
  return id;
}

const std::vector<int32_t>& AffinityIndex::DomainCounts(SelectionId id, Id key,
                                                        int64_t* total) {
  Selection& s = *selections_[id];
  for (const auto& k : s.keys) {
    if (k->key == key) {
      if (total != nullptr) *total = k->total;
      return k->by_domain;
    }
  }
  const Topology& t = GetTopology(key);
  auto k = std::make_unique<KeyCounts>();
  k->key = key;
  k->topology = &t;
  CountKey(s, t, k.get());
  if (total != nullptr) *total = k->total;
  s.keys.push_back(std::move(k));
  return s.keys.back()->by_domain;
}

void AffinityIndex::UpdateExistingTerms(const model::Pod& pod, uint32_t row, int sign) {
  auto update = [&](TermKind kind, const model::AffinityTerm& term, int64_t weight) {
    const Topology& t = GetTopology(term.topology_key);
    const int32_t d = t.domain_of_row[row];
    if (d < 0) return;  // upstream counts carriers on nodes with the key only
    TermTable& table = existing_[kind];
    std::string signature = TermSignature(term);
    auto it = table.by_signature.find(signature);
    uint32_t index;
    if (it != table.by_signature.end()) {
      index = it->second;
    } else {
      index = static_cast<uint32_t>(table.terms.size());
      table.terms.push_back({term, std::vector<int64_t>(t.num_domains(), 0), 0});
      table.by_signature.emplace(std::move(signature), index);
    }
    ExistingTerm& e = table.terms[index];
    e.by_domain[d] += sign * weight;
    e.carriers += sign;
  };
  for (const auto& term : pod.required_affinity) update(kRequiredAffinity, term, 1);
  for (const auto& term : pod.required_anti_affinity) update(kRequiredAntiAffinity, term, 1);
  for (const auto& w : pod.preferred_affinity) update(kPreferredAffinity, w.term, w.weight);
  for (const auto& w : pod.preferred_anti_affinity) {
    update(kPreferredAntiAffinity, w.term, w.weight);
  }
}

void AffinityIndex::UpdatePod(const model::Pod& pod, uint32_t row, int sign) {
  for (const auto& s : selections_) {
    if (!Matches(s->clauses, s->skip_terminating, pod)) continue;
    s->rows[row] += sign;
    for (const auto& k : s->keys) {
      const int32_t d = k->topology->domain_of_row[row];
      if (d < 0) continue;
      k->by_domain[d] += sign;
      k->total += sign;
    }
  }
  if (pod.has_pod_affinity) UpdateExistingTerms(pod, row, sign);
}

void AffinityIndex::Rebuild(absl::Span<const framework::NodeInfo* const> rows,
                            const NamespaceLabels* namespaces) {
  rows_ = rows;
  namespaces_ = namespaces;
  for (auto& t : topologies_) BuildTopology(t.get());
  for (auto& s : selections_) {
    CountSelection(s.get());
    for (auto& k : s->keys) CountKey(*s, *k->topology, k.get());
  }
  for (TermTable& table : existing_) {
    table.terms.clear();
    table.by_signature.clear();
  }
  for (size_t r = 0; r < rows_.size(); ++r) {
    for (const model::PodPtr& pod : rows_[r]->pods()) {
      if (pod->has_pod_affinity) UpdateExistingTerms(*pod, static_cast<uint32_t>(r), +1);
    }
  }
}

}  // namespace kestrel::cache
