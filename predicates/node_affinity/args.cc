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
#include "model/compile.h"

namespace kestrel::predicates {
namespace {

namespace v1 = ::k8s::io::api::core::v1;
using Errors = std::vector<std::string>;
using Values = google::protobuf::RepeatedPtrField<std::string>;

constexpr char kRequiredPath[] = "addedAffinity.requiredDuringSchedulingIgnoredDuringExecution";
constexpr char kPreferredPath[] = "addedAffinity.preferredDuringSchedulingIgnoredDuringExecution";
constexpr char kNodeNameField[] = "metadata.name";

// The messages of upstream k8s.io/apimachinery/pkg/util/validation.
constexpr char kQualifiedNameErrMsg[] =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
    "alphanumeric character";
constexpr char kQualifiedNameFmt[] = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
constexpr char kLabelValueErrMsg[] =
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or "
    "'.', and must start and end with an alphanumeric character";
constexpr char kLabelValueFmt[] = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
constexpr char kDns1123SubdomainErrMsg[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or "
    "'.', and must start and end with an alphanumeric character";
constexpr char kDns1123SubdomainFmt[] =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
constexpr char kSelectorOperators[] =
    "\"In\", \"NotIn\", \"Exists\", \"DoesNotExist\", \"Gt\", \"Lt\"";
constexpr char kFieldSelectorOperators[] = "\"In\", \"NotIn\"";

// Upstream validation.RegexError.
std::string RegexError(absl::string_view msg, absl::string_view fmt,
                       std::vector<absl::string_view> examples) {
  std::string out = absl::StrCat(msg, " (e.g. ");
  for (size_t i = 0; i < examples.size(); ++i) {
    if (i > 0) absl::StrAppend(&out, " or ");
    absl::StrAppend(&out, "'", examples[i], "', ");
  }
  absl::StrAppend(&out, "regex used for validation is '", fmt, "')");
  return out;
}

std::string MaxLenError(int n) { return absl::StrCat("must be no more than ", n, " characters"); }

// Go's %q for the strings we meet: quotes, backslashes and control bytes
// escaped.
std::string Quote(absl::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          absl::StrAppendFormat(&out, "\\x%02x", c);
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// Go's %#v of a []string; an empty list reads as the nil slice it decodes to.
std::string SliceRepr(const Values& values) {
  if (values.empty()) return "[]string(nil)";
  std::vector<std::string> quoted;
  for (const std::string& v : values) quoted.push_back(Quote(v));
  return absl::StrCat("[]string{", absl::StrJoin(quoted, ", "), "}");
}

void AddInvalid(Errors& errs, absl::string_view path, absl::string_view value,
                absl::string_view detail) {
  errs.push_back(absl::StrCat(path, ": Invalid value: ", value, ": ", detail));
}

void AddNotSupported(Errors& errs, absl::string_view path, absl::string_view value,
                     absl::string_view supported) {
  errs.push_back(
      absl::StrCat(path, ": Unsupported value: ", Quote(value), ": supported values: ", supported));
}

bool IsAlnum(char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); }

// ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]
bool MatchesQualifiedName(absl::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

// [a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*
bool MatchesDns1123Subdomain(absl::string_view s) {
  auto lower_alnum = [](char c) { return absl::ascii_islower(c) || absl::ascii_isdigit(c); };
  for (absl::string_view label : absl::StrSplit(s, '.')) {
    if (label.empty() || !lower_alnum(label.front()) || !lower_alnum(label.back())) return false;
    for (char c : label) {
      if (!lower_alnum(c) && c != '-') return false;
    }
  }
  return true;
}

// Upstream validation.IsQualifiedName (label keys).
std::vector<std::string> QualifiedNameErrors(absl::string_view value) {
  std::vector<std::string> errs;
  std::vector<absl::string_view> parts = absl::StrSplit(value, '/');
  absl::string_view name;
  if (parts.size() == 1) {
    name = parts[0];
  } else if (parts.size() == 2) {
    absl::string_view prefix = parts[0];
    name = parts[1];
    if (prefix.empty()) {
      errs.push_back("prefix part must be non-empty");
    } else {
      if (prefix.size() > 253) errs.push_back(absl::StrCat("prefix part ", MaxLenError(253)));
      if (!MatchesDns1123Subdomain(prefix)) {
        errs.push_back(absl::StrCat(
            "prefix part ",
            RegexError(kDns1123SubdomainErrMsg, kDns1123SubdomainFmt, {"example.com"})));
      }
    }
  } else {
    errs.push_back(absl::StrCat(
        "a qualified name ",
        RegexError(kQualifiedNameErrMsg, kQualifiedNameFmt, {"MyName", "my.name", "123-abc"}),
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"));
    return errs;
  }
  if (name.empty()) {
    errs.push_back("name part must be non-empty");
  } else if (name.size() > 63) {
    errs.push_back(absl::StrCat("name part ", MaxLenError(63)));
  }
  if (!MatchesQualifiedName(name)) {
    errs.push_back(absl::StrCat("name part ", RegexError(kQualifiedNameErrMsg, kQualifiedNameFmt,
                                                         {"MyName", "my.name", "123-abc"})));
  }
  return errs;
}

// Upstream validation.IsValidLabelValue.
std::vector<std::string> LabelValueErrors(absl::string_view value) {
  std::vector<std::string> errs;
  if (value.size() > 63) errs.push_back(MaxLenError(63));
  if (!value.empty() && !MatchesQualifiedName(value)) {
    errs.push_back(RegexError(kLabelValueErrMsg, kLabelValueFmt, {"MyValue", "my_value", "12345"}));
  }
  return errs;
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
    AddInvalid(errs, absl::StrCat(path, ".key"), Quote(r.key()), absl::StrJoin(key_errs, "; "));
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
        AddInvalid(errs, absl::StrCat(values_path, "[", i, "]"), Quote(r.values(i)),
                   "for 'Gt', 'Lt' operators, the value must be an integer");
      }
    }
  }
  for (int i = 0; i < r.values_size(); ++i) {
    std::vector<std::string> value_errs = LabelValueErrors(r.values(i));
    if (!value_errs.empty()) {
      AddInvalid(errs, absl::StrCat(values_path, "[", i, "][", r.key(), "]"), Quote(r.values(i)),
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

// Upstream errors.Flatten(errors.NewAggregate(errs)).Error(): one error as
// is, several as "[a, b]" with duplicates dropped.
absl::Status Aggregate(const Errors& errs) {
  if (errs.empty()) return absl::OkStatus();
  if (errs.size() == 1) return absl::InvalidArgumentError(errs[0]);
  Errors unique;
  absl::flat_hash_set<std::string> seen;
  for (const std::string& e : errs) {
    if (seen.insert(e).second) unique.push_back(e);
  }
  if (unique.size() == 1) return absl::InvalidArgumentError(unique[0]);
  return absl::InvalidArgumentError(absl::StrCat("[", absl::StrJoin(unique, ", "), "]"));
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
  return Aggregate(errs);
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
