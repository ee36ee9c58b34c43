#include "predicates/node_affinity/args.h"

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "api/object_validation.h"
#include "api/validation.h"
#include "model/compile.h"

namespace kestrel::predicates {
namespace {

namespace v1 = ::k8s::io::api::core::v1;
using Errors = std::vector<std::string>;

constexpr char kRequiredPath[] = "addedAffinity.requiredDuringSchedulingIgnoredDuringExecution";
constexpr char kPreferredPath[] = "addedAffinity.preferredDuringSchedulingIgnoredDuringExecution";
constexpr char kNodeNameField[] = "metadata.name";

bool IsEmpty(const v1::NodeSelectorTerm& term) {
  return term.matchexpressions().empty() && term.matchfields().empty();
}

// Kestrel compiles matchFields on metadata.name only. Upstream accepts other
// keys in these args and matches them against a field the node does not
// have, that is the empty string: `In [v]` holds iff v is empty, `NotIn [v]`
// iff v is not. Such requirements are resolved here. Returns nullopt when
// one never holds (the term matches no node); a term left without
// requirements gets `metadata.name NotIn [""]`, which every node matches.
std::optional<v1::NodeSelectorTerm> ResolveForeignFields(const v1::NodeSelectorTerm& term) {
  v1::NodeSelectorTerm out = term;
  out.clear_matchfields();
  for (const v1::NodeSelectorRequirement& r : term.matchfields()) {
    if (r.key() == kNodeNameField) {
      *out.add_matchfields() = r;
      continue;
    }
    const bool holds = (r.operator_() == "In") == r.values(0).empty();
    if (!holds) return std::nullopt;
  }
  if (IsEmpty(out) && !IsEmpty(term)) {
    v1::NodeSelectorRequirement* any = out.add_matchfields();
    any->set_key(kNodeNameField);
    any->set_operator_("NotIn");
    any->add_values("");
  }
  return out;
}

// CompileNodeSelector's errors start with the (empty) object name.
absl::Status WithoutObject(const absl::Status& s) {
  return absl::Status(s.code(), absl::StripPrefix(s.message(), ": "));
}

}  // namespace

absl::Status ValidateNodeAffinityArgs(const config::NodeAffinityArgs& args) {
  if (!args.has_addedaffinity()) return absl::OkStatus();
  const v1::NodeAffinity& affinity = args.addedaffinity();
  Errors errs;
  if (affinity.has_requiredduringschedulingignoredduringexecution()) {
    const v1::NodeSelector& ns = affinity.requiredduringschedulingignoredduringexecution();
    for (int i = 0; i < ns.nodeselectorterms_size(); ++i) {
      if (IsEmpty(ns.nodeselectorterms(i))) continue;
      api::NodeSelectorTermParseErrors(
          ns.nodeselectorterms(i), absl::StrCat(kRequiredPath, ".nodeSelectorTerms[", i, "]"),
          errs);
    }
  }
  for (int i = 0; i < affinity.preferredduringschedulingignoredduringexecution_size(); ++i) {
    const v1::PreferredSchedulingTerm& t =
        affinity.preferredduringschedulingignoredduringexecution(i);
    if (t.weight() == 0 || IsEmpty(t.preference())) continue;
    api::NodeSelectorTermParseErrors(t.preference(), absl::StrCat(kPreferredPath, "[", i, "]"),
                                     errs);
  }
  return api::AggregateErrors(errs);
}

absl::StatusOr<AddedAffinity> CompileAddedAffinity(const config::NodeAffinityArgs& args,
                                                   model::Interner& names) {
  if (absl::Status s = ValidateNodeAffinityArgs(args); !s.ok()) return s;
  AddedAffinity out;
  if (!args.has_addedaffinity()) return out;
  const v1::NodeAffinity& affinity = args.addedaffinity();

  if (affinity.has_requiredduringschedulingignoredduringexecution()) {
    v1::NodeSelector resolved;
    for (const v1::NodeSelectorTerm& term :
         affinity.requiredduringschedulingignoredduringexecution().nodeselectorterms()) {
      // Terms are ORed: one that never matches can go.
      if (std::optional<v1::NodeSelectorTerm> t = ResolveForeignFields(term)) {
        *resolved.add_nodeselectorterms() = *std::move(t);
      }
    }
    absl::StatusOr<model::NodeSelector> required =
        model::CompileNodeSelector(resolved, names, kRequiredPath);
    if (!required.ok()) return WithoutObject(required.status());
    out.required = *std::move(required);
  }

  for (int i = 0; i < affinity.preferredduringschedulingignoredduringexecution_size(); ++i) {
    const v1::PreferredSchedulingTerm& t =
        affinity.preferredduringschedulingignoredduringexecution(i);
    if (t.weight() == 0 || IsEmpty(t.preference())) continue;
    std::optional<v1::NodeSelectorTerm> term = ResolveForeignFields(t.preference());
    if (!term) continue;
    v1::NodeSelector one;
    *one.add_nodeselectorterms() = *std::move(term);
    absl::StatusOr<model::NodeSelector> compiled =
        model::CompileNodeSelector(one, names, absl::StrCat(kPreferredPath, "[", i, "]"));
    if (!compiled.ok()) return WithoutObject(compiled.status());
    out.preferred.push_back({t.weight(), std::move(compiled->terms[0])});
  }
  return out;
}

}  // namespace kestrel::predicates
