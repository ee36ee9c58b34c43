#include "predicates/node_affinity/args.h"

#include <string>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "api/validation.h"
#include "model/compile.h"

namespace kestrel::predicates {
namespace {

namespace v1 = ::k8s::io::api::core::v1;
using api::LabelValueErrors;
using api::QualifiedNameErrors;
using Errors = std::vector<std::string>;
using Values = google::protobuf::RepeatedPtrField<std::string>;

constexpr char kRequiredPath[] = "addedAffinity.requiredDuringSchedulingIgnoredDuringExecution";
constexpr char kPreferredPath[] = "addedAffinity.preferredDuringSchedulingIgnoredDuringExecution";
constexpr char kNodeNameField[] = "metadata.name";

constexpr char kSelectorOperators[] =
    "\"In\", \"NotIn\", \"Exists\", \"DoesNotExist\", \"Gt\", \"Lt\"";
constexpr char kFieldSelectorOperators[] = "\"In\", \"NotIn\"";

// Go's %#v of a []string; an empty list reads as the nil slice it decodes to.
std::string SliceRepr(const Values& values) {
  if (values.empty()) return "[]string(nil)";
  std::vector<std::string> quoted;
  for (const std::string& v : values) quoted.push_back(api::GoQuote(v));
  return absl::StrCat("[]string{", absl::StrJoin(quoted, ", "), "}");
}

void AddInvalid(Errors& errs, absl::string_view path, absl::string_view value,
                absl::string_view detail) {
  errs.push_back(absl::StrCat(path, ": Invalid value: ", value, ": ", detail));
}

void AddNotSupported(Errors& errs, absl::string_view path, absl::string_view value,
                     absl::string_view supported) {
  errs.push_back(
      absl::StrCat(path, ": Unsupported value: ", api::GoQuote(value), ": supported values: ", supported));
}

// Go's strconv.ParseInt(s, 10, 64) succeeds.
bool IsInt64(absl::string_view s) {
  absl::string_view digits = s;
  if (!digits.empty() && (digits.front() == '+' || digits.front() == '-')) digits.remove_prefix(1);
  if (digits.empty()) return false;
  for (char c : digits) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  int64_t unused;
  return absl::SimpleAtoi(s, &unused);  // false on overflow
}

// Upstream labels.NewRequirement for a node selector expression at `path`.
void ValidateRequirement(const v1::NodeSelectorRequirement& r, absl::string_view path,
                         Errors& errs) {
  const std::string& op = r.operator_();
  if (op != "In" && op != "NotIn" && op != "Exists" && op != "DoesNotExist" && op != "Gt" &&
      op != "Lt") {
    AddNotSupported(errs, absl::StrCat(path, ".operator"), op, kSelectorOperators);
    return;
  }
  std::vector<std::string> key_errs = QualifiedNameErrors(r.key());
  if (!key_errs.empty()) {
    AddInvalid(errs, absl::StrCat(path, ".key"), api::GoQuote(r.key()), absl::StrJoin(key_errs, "; "));
  }
  const std::string values_path = absl::StrCat(path, ".values");
  if (op == "In" || op == "NotIn") {
    if (r.values().empty()) {
      AddInvalid(errs, values_path, SliceRepr(r.values()),
                 "for 'in', 'notin' operators, values set can't be empty");
    }
  } else if (op == "Exists" || op == "DoesNotExist") {
    if (!r.values().empty()) {
      AddInvalid(errs, values_path, SliceRepr(r.values()),
                 "values set must be empty for exists and does not exist");
    }
  } else {
    if (r.values_size() != 1) {
      AddInvalid(errs, values_path, SliceRepr(r.values()),
                 "for 'Gt', 'Lt' operators, exactly one value is required");
    }
    for (int i = 0; i < r.values_size(); ++i) {
      if (!IsInt64(r.values(i))) {
        AddInvalid(errs, absl::StrCat(values_path, "[", i, "]"), api::GoQuote(r.values(i)),
                   "for 'Gt', 'Lt' operators, the value must be an integer");
      }
    }
  }
  for (int i = 0; i < r.values_size(); ++i) {
    std::vector<std::string> value_errs = LabelValueErrors(r.values(i));
    if (!value_errs.empty()) {
      AddInvalid(errs, absl::StrCat(values_path, "[", i, "][", r.key(), "]"), api::GoQuote(r.values(i)),
                 absl::StrJoin(value_errs, "; "));
    }
  }
}

// Upstream nodeSelectorRequirementsAsFieldSelector at `path`.
void ValidateFieldRequirement(const v1::NodeSelectorRequirement& r, absl::string_view path,
                              Errors& errs) {
  if (r.operator_() != "In" && r.operator_() != "NotIn") {
    AddNotSupported(errs, absl::StrCat(path, ".operator"), r.operator_(), kFieldSelectorOperators);
  } else if (r.values_size() != 1) {
    AddInvalid(errs, absl::StrCat(path, ".values"), SliceRepr(r.values()), "must have one element");
  }
}

bool IsEmpty(const v1::NodeSelectorTerm& term) {
  return term.matchexpressions().empty() && term.matchfields().empty();
}

// Upstream newNodeSelectorTerm at `path`.
void ValidateTerm(const v1::NodeSelectorTerm& term, absl::string_view path, Errors& errs) {
  for (int j = 0; j < term.matchexpressions_size(); ++j) {
    ValidateRequirement(term.matchexpressions(j), absl::StrCat(path, ".matchExpressions[", j, "]"),
                        errs);
  }
  for (int j = 0; j < term.matchfields_size(); ++j) {
    ValidateFieldRequirement(term.matchfields(j), absl::StrCat(path, ".matchFields[", j, "]"),
                             errs);
  }
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
      ValidateTerm(ns.nodeselectorterms(i),
                   absl::StrCat(kRequiredPath, ".nodeSelectorTerms[", i, "]"), errs);
    }
  }
  for (int i = 0; i < affinity.preferredduringschedulingignoredduringexecution_size(); ++i) {
    const v1::PreferredSchedulingTerm& t =
        affinity.preferredduringschedulingignoredduringexecution(i);
    if (t.weight() == 0 || IsEmpty(t.preference())) continue;
    ValidateTerm(t.preference(), absl::StrCat(kPreferredPath, "[", i, "]"), errs);
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
