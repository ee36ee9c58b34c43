#include "kube/testing/selectors.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "api/validation.h"
#include "kube/testing/json_util.h"

namespace kestrel::kube::testing {

bool Matches(const std::vector<Requirement>& requirements, const json& labels) {
  for (const Requirement& r : requirements) {
    const json& v = Member(labels, r.key);
    const bool has = v.is_string();
    const bool listed =
        has && std::find(r.values.begin(), r.values.end(), v.get<std::string>()) != r.values.end();
    switch (r.op) {
      case Requirement::Op::kIn:
        if (!listed) return false;
        break;
      case Requirement::Op::kNotIn:
        if (listed) return false;
        break;
      case Requirement::Op::kExists:
        if (!has) return false;
        break;
      case Requirement::Op::kDoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

absl::StatusOr<std::vector<Requirement>> FromLabelSelector(const json& selector) {
  if (!selector.is_object()) return absl::InvalidArgumentError("selector is not an object");
  std::vector<Requirement> out;
  const json& match_labels = Member(selector, "matchLabels");
  if (!match_labels.is_null()) {
    if (!match_labels.is_object()) return absl::InvalidArgumentError("bad matchLabels");
    for (auto it = match_labels.begin(); it != match_labels.end(); ++it) {
      if (!it->is_string()) return absl::InvalidArgumentError("bad matchLabels");
      out.push_back({it.key(), Requirement::Op::kIn, {it->get<std::string>()}});
    }
  }
  const json& expressions = Member(selector, "matchExpressions");
  if (!expressions.is_null()) {
    if (!expressions.is_array()) return absl::InvalidArgumentError("bad matchExpressions");
    for (const json& e : expressions) {
      Requirement r;
      r.key = Str(Member(e, "key"));
      if (r.key.empty()) return absl::InvalidArgumentError("matchExpressions: key is required");
      const json& values = Member(e, "values");
      if (!values.is_null() && !values.is_array()) {
        return absl::InvalidArgumentError("matchExpressions: values must be a list");
      }
      for (const json& v : values) {
        if (!v.is_string()) return absl::InvalidArgumentError("matchExpressions: bad value");
        r.values.push_back(v.get<std::string>());
      }
      const std::string op = Str(Member(e, "operator"));
      if (op == "In" || op == "NotIn") {
        r.op = op == "In" ? Requirement::Op::kIn : Requirement::Op::kNotIn;
        if (r.values.empty()) {
          return absl::InvalidArgumentError("matchExpressions: In and NotIn need values");
        }
      } else if (op == "Exists" || op == "DoesNotExist") {
        r.op = op == "Exists" ? Requirement::Op::kExists : Requirement::Op::kDoesNotExist;
        if (!r.values.empty()) {
          return absl::InvalidArgumentError("matchExpressions: Exists and DoesNotExist take none");
        }
      } else {
        return absl::InvalidArgumentError(absl::StrCat("matchExpressions: bad operator ", op));
      }
      out.push_back(std::move(r));
    }
  }
  return out;
}

namespace {

// Splits `s` at the commas outside parentheses.
std::vector<std::string> SplitTerms(absl::string_view s) {
  std::vector<std::string> out(1);
  int depth = 0;
  for (char c : s) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.emplace_back();
    } else {
      out.back().push_back(c);
    }
  }
  return out;
}

// The fields upstream lets a list select on, per kind (each kind's
// GetAttrs / SelectableFields), and where each is in the stored JSON
// object. Returns "" for a field the kind does not support.
std::string FieldPath(absl::string_view kind, absl::string_view api_version, bool namespaced,
                      const std::string& field) {
  if (field == "metadata.name") return field;
  if (field == "metadata.namespace") return namespaced ? field : "";
  if (kind == "Event" && api_version == "events.k8s.io/v1") {
    // pkg/apis/events/v1 AddFieldLabelConversionsForEvent.
    absl::string_view f = field;
    if (absl::ConsumePrefix(&f, "regarding.")) {
      for (const char* sub :
           {"kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"}) {
        if (f == sub) return absl::StrCat("involvedObject.", f);
      }
      return "";
    }
    if (field == "reportingController") return "reportingComponent";
    return field == "reason" || field == "type" ? field : "";
  }
  if (kind == "Node") return field == "spec.unschedulable" ? field : "";
  if (kind == "Pod") {
    for (const char* f :
         {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
          "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"}) {
      if (field == f) return field;
    }
    return "";
  }
  if (kind == "Event") {
    if (field == "source") return "source.component";
    for (const char* f :
         {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
          "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
          "involvedObject.fieldPath", "reason", "reportingComponent", "type"}) {
      if (field == f) return field;
    }
    return "";
  }
  if (kind == "Namespace") return field == "status.phase" ? field : "";
  return "";
}

// The value a field selector compares: strings as they are, booleans as
// "true" / "false" (false when absent), anything else absent as "".
std::string FieldValue(const json& object, const std::string& path) {
  const json* v = &object;
  for (absl::string_view part : absl::StrSplit(path, '.')) v = &Member(*v, std::string(part));
  if (v->is_boolean()) return v->get<bool>() ? "true" : "false";
  if (v->is_null() && (path == "spec.unschedulable" || path == "spec.hostNetwork")) {
    return "false";
  }
  if (v->is_string()) return v->get<std::string>();
  return v->is_null() ? "" : Dump(*v);
}

}  // namespace

absl::StatusOr<std::vector<Requirement>> ParseLabelSelector(absl::string_view selector) {
  std::vector<Requirement> out;
  if (absl::StripAsciiWhitespace(selector).empty()) return out;
  for (const std::string& raw : SplitTerms(selector)) {
    absl::string_view term = absl::StripAsciiWhitespace(raw);
    const absl::Status bad =
        absl::InvalidArgumentError(absl::StrCat("unable to parse requirement: \"", term, "\""));
    Requirement r;
    size_t at;
    if (absl::ConsumePrefix(&term, "!")) {
      r.key = std::string(absl::StripAsciiWhitespace(term));
      r.op = Requirement::Op::kDoesNotExist;
    } else if ((at = term.find('=')) != absl::string_view::npos) {
      absl::string_view key = term.substr(0, at);
      absl::string_view value = term.substr(at + 1);
      r.op = Requirement::Op::kIn;
      if (absl::ConsumeSuffix(&key, "!")) {
        r.op = Requirement::Op::kNotIn;
      } else {
        absl::ConsumePrefix(&value, "=");
      }
      r.key = std::string(absl::StripAsciiWhitespace(key));
      r.values.emplace_back(absl::StripAsciiWhitespace(value));
    } else if ((at = term.find_first_of(" \t(")) != absl::string_view::npos) {
      r.key = std::string(term.substr(0, at));
      absl::string_view rest = absl::StripAsciiWhitespace(term.substr(at));
      if (absl::ConsumePrefix(&rest, "notin")) {
        r.op = Requirement::Op::kNotIn;
      } else if (absl::ConsumePrefix(&rest, "in")) {
        r.op = Requirement::Op::kIn;
      } else {
        return bad;
      }
      rest = absl::StripAsciiWhitespace(rest);
      if (!absl::ConsumePrefix(&rest, "(") || !absl::ConsumeSuffix(&rest, ")")) return bad;
      for (absl::string_view v : absl::StrSplit(rest, ',')) {
        r.values.emplace_back(absl::StripAsciiWhitespace(v));
        if (r.values.back().empty()) return bad;
      }
    } else {
      r.key = std::string(term);
      r.op = Requirement::Op::kExists;
    }
    // Upstream's label key and value rules (labels.NewRequirement).
    if (!api::QualifiedNameErrors(r.key).empty()) return bad;
    for (const std::string& v : r.values) {
      if (!api::LabelValueErrors(v).empty()) return bad;
    }
    out.push_back(std::move(r));
  }
  return out;
}

absl::StatusOr<std::vector<FieldRequirement>> ParseFieldSelector(absl::string_view kind,
                                                                 absl::string_view api_version,
                                                                 bool namespaced,
                                                                 absl::string_view selector) {
  std::vector<FieldRequirement> out;
  if (absl::StripAsciiWhitespace(selector).empty()) return out;
  for (absl::string_view term : absl::StrSplit(selector, ',')) {
    const size_t at = term.find('=');
    if (at == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid selector: '", selector, "'; can't understand '", term, "'"));
    }
    FieldRequirement r;
    absl::string_view field = term.substr(0, at);
    absl::string_view value = term.substr(at + 1);
    if (absl::ConsumeSuffix(&field, "!")) {
      r.equal = false;
    } else {
      absl::ConsumePrefix(&value, "=");
    }
    const std::string label(absl::StripAsciiWhitespace(field));
    r.field = FieldPath(kind, api_version, namespaced, label);
    r.value = std::string(absl::StripAsciiWhitespace(value));
    if (r.field.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("field label not supported: ", label));
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool FieldsMatch(const std::vector<FieldRequirement>& requirements, const json& object) {
  for (const FieldRequirement& r : requirements) {
    if ((FieldValue(object, r.field) == r.value) != r.equal) return false;
  }
  return true;
}

bool Selector::Matches(const json& object) const {
  return kestrel::kube::testing::Matches(labels, Member(Member(object, "metadata"), "labels")) &&
         FieldsMatch(fields, object);
}

}  // namespace kestrel::kube::testing
