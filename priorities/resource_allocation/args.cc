#include "priorities/resource_allocation/args.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace kestrel::priorities {
namespace {

using Errors = std::vector<std::string>;

constexpr char kQualifiedNameFmt[] =
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used "
    "for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
constexpr char kDns1123SubdomainFmt[] =
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' "
    "or '.', and must start and end with an alphanumeric character (e.g. 'example.com', "
    "regex used for validation is "
    "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

std::string Quote(absl::string_view s) { return absl::StrCat("\"", s, "\""); }

void AddInvalid(Errors& errs, absl::string_view path, absl::string_view value,
                absl::string_view detail) {
  errs.push_back(absl::StrCat(path, ": Invalid value: ", value, ": ", detail));
}

bool IsQualifiedNamePart(absl::string_view s) {
  if (s.empty()) return false;
  auto alnum = [](char c) { return absl::ascii_isalnum(static_cast<unsigned char>(c)); };
  if (!alnum(s.front()) || !alnum(s.back())) return false;
  for (char c : s) {
    if (!alnum(c) && c != '-' && c != '_' && c != '.') return false;
  }
  return true;
}

bool IsDns1123Subdomain(absl::string_view s) {
  if (s.empty() || s.size() > 253) return false;
  for (absl::string_view label : absl::StrSplit(s, '.')) {
    if (label.empty()) return false;
    auto ok_end = [](char c) { return absl::ascii_islower(c) || absl::ascii_isdigit(c); };
    if (!ok_end(label.front()) || !ok_end(label.back())) return false;
    for (char c : label) {
      if (!ok_end(c) && c != '-') return false;
    }
  }
  return true;
}

// Upstream metav1validation.ValidateLabelName (validation.IsQualifiedName).
void ValidateLabelName(absl::string_view name, absl::string_view path, Errors& errs) {
  std::vector<absl::string_view> parts = absl::StrSplit(name, '/');
  absl::string_view local = parts.back();
  if (parts.size() > 2) {
    AddInvalid(errs, path, Quote(name),
               absl::StrCat("a qualified name ", kQualifiedNameFmt,
                            " with an optional DNS subdomain prefix and '/' (e.g. "
                            "'example.com/MyName')"));
    return;
  }
  if (parts.size() == 2) {
    if (parts[0].empty()) {
      AddInvalid(errs, path, Quote(name), "prefix part must be non-empty");
    } else if (parts[0].size() > 253) {
      AddInvalid(errs, path, Quote(name), "prefix part must be no more than 253 characters");
    } else if (!IsDns1123Subdomain(parts[0])) {
      AddInvalid(errs, path, Quote(name), absl::StrCat("prefix part ", kDns1123SubdomainFmt));
    }
  }
  if (local.empty()) {
    AddInvalid(errs, path, Quote(name), "name part must be non-empty");
  } else if (local.size() > 63) {
    AddInvalid(errs, path, Quote(name), "name part must be no more than 63 characters");
  }
  if (!local.empty() && !IsQualifiedNamePart(local)) {
    AddInvalid(errs, path, Quote(name), absl::StrCat("name part ", kQualifiedNameFmt));
  }
}

void ValidateResources(const google::protobuf::RepeatedPtrField<config::ResourceSpec>& resources,
                       absl::string_view path, Errors& errs) {
  for (int i = 0; i < resources.size(); ++i) {
    const config::ResourceSpec& r = resources[i];
    if (r.weight() <= 0 || r.weight() > 100) {
      AddInvalid(errs, absl::StrCat(path, "[", i, "].weight"), absl::StrCat(r.weight()),
                 absl::StrCat("resource weight of ", r.name(), " not in valid range (0, 100]"));
    }
  }
}

void ValidateFunctionShape(
    const google::protobuf::RepeatedPtrField<config::UtilizationShapePoint>& shape,
    absl::string_view path, Errors& errs) {
  if (shape.empty()) {
    errs.push_back(absl::StrCat(path, ": Required value: at least one point must be specified"));
    return;
  }
  for (int i = 1; i < shape.size(); ++i) {
    if (shape[i - 1].utilization() >= shape[i].utilization()) {
      AddInvalid(errs, absl::StrCat(path, "[", i, "].utilization"),
                 absl::StrCat(shape[i].utilization()), "values must be sorted in increasing order");
      break;
    }
  }
  for (int i = 0; i < shape.size(); ++i) {
    const config::UtilizationShapePoint& p = shape[i];
    if (p.utilization() < 0 || p.utilization() > 100) {
      AddInvalid(errs, absl::StrCat(path, "[", i, "].utilization"), absl::StrCat(p.utilization()),
                 "not in valid range [0, 100]");
    }
    if (p.score() < 0 || p.score() > kMaxCustomPriorityScore) {
      AddInvalid(errs, absl::StrCat(path, "[", i, "].score"), absl::StrCat(p.score()),
                 absl::StrCat("not in valid range [0, ", kMaxCustomPriorityScore, "]"));
    }
  }
}

// Upstream utilerrors.Aggregate: one error as is, several as "[a, b]".
absl::Status Aggregate(const Errors& errs) {
  if (errs.empty()) return absl::OkStatus();
  if (errs.size() == 1) return absl::InvalidArgumentError(errs[0]);
  return absl::InvalidArgumentError(absl::StrCat("[", absl::StrJoin(errs, ", "), "]"));
}

void DefaultResources(google::protobuf::RepeatedPtrField<config::ResourceSpec>& resources) {
  if (resources.empty()) {
    for (const char* name : {"cpu", "memory"}) {
      config::ResourceSpec* r = resources.Add();
      r->set_name(name);
      r->set_weight(1);
    }
  }
  for (config::ResourceSpec& r : resources) {
    if (r.weight() == 0) r.set_weight(1);
  }
}

}  // namespace

void SetDefaults(config::NodeResourcesFitArgs& args) {
  if (!args.has_scoringstrategy()) {
    args.mutable_scoringstrategy()->set_type(kLeastAllocated);
  }
  DefaultResources(*args.mutable_scoringstrategy()->mutable_resources());
}

void SetDefaults(config::NodeResourcesBalancedAllocationArgs& args) {
  DefaultResources(*args.mutable_resources());
}

absl::Status Validate(const config::NodeResourcesFitArgs& args) {
  Errors errs;
  for (int i = 0; i < args.ignoredresources_size(); ++i) {
    ValidateLabelName(args.ignoredresources(i), absl::StrCat("ignoredResources[", i, "]"), errs);
  }
  for (int i = 0; i < args.ignoredresourcegroups_size(); ++i) {
    const std::string& group = args.ignoredresourcegroups(i);
    const std::string path = absl::StrCat("ignoredResourceGroups[", i, "]");
    if (absl::StrContains(group, '/')) {
      AddInvalid(errs, path, Quote(group), "resource group name can't contain '/'");
    }
    ValidateLabelName(group, path, errs);
  }
  if (args.has_scoringstrategy()) {
    const config::ScoringStrategy& s = args.scoringstrategy();
    if (s.type() != kLeastAllocated && s.type() != kMostAllocated &&
        s.type() != kRequestedToCapacityRatio) {
      errs.push_back(absl::StrCat("scoringStrategy.type: Unsupported value: ", Quote(s.type()),
                                  ": supported values: \"", kLeastAllocated, "\", \"",
                                  kMostAllocated, "\", \"", kRequestedToCapacityRatio, "\""));
    }
    ValidateResources(s.resources(), "scoringStrategy.resources", errs);
    // Upstream validates the shape only when the parameter is present, then
    // fails on a RequestedToCapacityRatio strategy without one; report both as
    // a missing shape.
    if (s.has_requestedtocapacityratio() || s.type() == kRequestedToCapacityRatio) {
      ValidateFunctionShape(s.requestedtocapacityratio().shape(), "scoringStrategy.shape", errs);
    }
  }
  return Aggregate(errs);
}

absl::Status Validate(const config::NodeResourcesBalancedAllocationArgs& args) {
  Errors errs;
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < args.resources_size(); ++i) {
    const config::ResourceSpec& r = args.resources(i);
    if (!seen.insert(r.name()).second) {
      errs.push_back(
          absl::StrCat("resources[", i, "].name: Duplicate value: ", Quote(r.name())));
    }
    if (r.weight() != 1) {
      AddInvalid(errs, absl::StrCat("resources[", i, "].weight"), absl::StrCat(r.weight()),
                 "must be 1");
    }
  }
  return Aggregate(errs);
}

}  // namespace kestrel::priorities
