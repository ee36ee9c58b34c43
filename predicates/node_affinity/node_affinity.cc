#include "predicates/node_affinity/node_affinity.h"

#include <algorithm>
#include <iterator>
#include <memory>
#include <utility>

#include "scheduler/cache/node_selector_rows.h"
#include "scheduler/cache/snapshot.h"

namespace kestrel::predicates {
namespace {

constexpr char kRowStateKey[] = "PreFilterNodeAffinityRows";

}  // namespace

struct NodeAffinityFilter::RowState : framework::StateData {
  explicit RowState(cache::NodeSelectorRows rows) : rows(std::move(rows)) {}
  std::unique_ptr<framework::StateData> Clone() const override {
    return std::make_unique<RowState>(*this);
  }
  cache::NodeSelectorRows rows;
};

std::optional<std::vector<model::Id>> PinnedNodeNames(const model::Pod& pod) {
  if (!pod.required_node_affinity.has_value() || pod.required_node_affinity->terms.empty()) {
    return std::nullopt;
  }
  std::vector<model::Id> names;
  for (const model::NodeSelectorTerm& term : pod.required_node_affinity->terms) {
    std::optional<std::vector<model::Id>> term_names;
    for (const model::Requirement& r : term.fields) {
      if (r.op != model::SelectorOp::kIn) continue;
      if (!term_names.has_value()) {
        term_names = r.values;
        continue;
      }
      std::vector<model::Id> both;
      std::set_intersection(term_names->begin(), term_names->end(), r.values.begin(),
                            r.values.end(), std::back_inserter(both));
      *term_names = std::move(both);
    }
    // Terms are ORed: one without a name requirement allows every node.
    if (!term_names.has_value()) return std::nullopt;
    std::vector<model::Id> either;
    std::set_union(names.begin(), names.end(), term_names->begin(), term_names->end(),
                   std::back_inserter(either));
    names = std::move(either);
  }
  return names;
}

absl::StatusOr<std::unique_ptr<NodeAffinityFilter>> NodeAffinityFilter::Create(
    const config::NodeAffinityArgs& args, model::Interner& names) {
  absl::StatusOr<AddedAffinity> added = CompileAddedAffinity(args, names);
  if (!added.ok()) return added.status();
  return std::make_unique<NodeAffinityFilter>(std::move(added->required), &names);
}

NodeAffinityFilter::NodeAffinityFilter(std::optional<model::NodeSelector> added_required,
                                       const model::Interner* names)
    : added_required_(std::move(added_required)), names_(names) {}

framework::Status NodeAffinityFilter::PreFilter(framework::CycleState& state,
                                                const model::Pod& pod,
                                                framework::NodeInfoList /*nodes*/) {
  if (!pod.required_node_affinity.has_value() && !added_required_.has_value() &&
      pod.node_selector.empty()) {
    return framework::Status::Skip();
  }
  std::optional<std::vector<model::Id>> pinned = PinnedNodeNames(pod);
  if (pinned.has_value()) {
    if (pinned->empty()) return framework::Status::Unresolvable(kErrReasonConflict);
    std::vector<std::string>& nodes = state.pre_filter_nodes.emplace();
    nodes.reserve(pinned->size());
    for (const model::Id id : *pinned) nodes.emplace_back(names_->Name(id));
  }
  // The rows fast path, when every label requirement compiles.
  if (state.mutable_index() == nullptr || added_required_.has_value()) {
    return framework::Status();
  }
  std::optional<cache::NodeSelectorRows> rows =
      cache::NodeSelectorRows::Compile(*state.mutable_index(), pod);
  if (rows.has_value()) state.Write(kRowStateKey, std::make_unique<RowState>(*std::move(rows)));
  return framework::Status();
}

bool NodeAffinityFilter::Fits(const model::Pod& pod, const model::Node& node) const {
  if (added_required_.has_value() && !added_required_->Matches(node.labels, node.name_id)) {
    return false;
  }
  return model::MatchesRequiredNodeAffinity(pod, node);
}

framework::Status NodeAffinityFilter::Filter(const framework::CycleState& /*state*/,
                                             const model::Pod& pod,
                                             const framework::NodeInfo& node) const {
  const model::Node* n = node.node();
  if (n == nullptr) return framework::Status::Error("node not found");
  if (added_required_.has_value() && !added_required_->Matches(n->labels, n->name_id)) {
    return framework::SharedStatus<framework::Code::kUnschedulableAndUnresolvable, kErrReasonEnforced>();
  }
  if (!model::MatchesRequiredNodeAffinity(pod, *n)) {
    return framework::SharedStatus<framework::Code::kUnschedulableAndUnresolvable, kErrReasonPod>();
  }
  return framework::Status();
}

void NodeAffinityFilter::FilterRows(const framework::CycleState& state, const model::Pod& pod,
                                    const framework::NodeTable& table, size_t begin, size_t end,
                                    uint8_t* passed) const {
  if (const RowState* rows = state.Read<RowState>(kRowStateKey); rows != nullptr) {
    rows->rows.Filter(table, begin, end, passed);
    return;
  }
  for (size_t r = begin; r < end; ++r) {
    if (passed[r]) passed[r] = Fits(pod, *table.infos[r]->node());
  }
}

}  // namespace kestrel::predicates
