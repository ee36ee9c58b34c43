#include "priorities/resource_allocation/args.h"

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "api/validation.h"

namespace kestrel::priorities {
namespace {

using Errors = std::vector<std::string>;

void AddInvalid(Errors& errs, absl::string_view path, absl::string_view value,
                absl::string_view detail) {
  errs.push_back(absl::StrCat(path, ": Invalid value: ", value, ": ", detail));
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
    api::ValidateLabelName(args.ignoredresources(i), absl::StrCat("ignoredResources[", i, "]"), errs);
  }
  for (int i = 0; i < args.ignoredresourcegroups_size(); ++i) {
    const std::string& group = args.ignoredresourcegroups(i);
    const std::string path = absl::StrCat("ignoredResourceGroups[", i, "]");
    if (absl::StrContains(group, '/')) {
      AddInvalid(errs, path, api::GoQuote(group), "resource group name can't contain '/'");
    }
    api::ValidateLabelName(group, path, errs);
  }
  if (args.has_scoringstrategy()) {
    const config::ScoringStrategy& s = args.scoringstrategy();
    if (s.type() != kLeastAllocated && s.type() != kMostAllocated &&
        s.type() != kRequestedToCapacityRatio) {
      errs.push_back(absl::StrCat("scoringStrategy.type: Unsupported value: ", api::GoQuote(s.type()),
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
  return api::AggregateErrors(errs);
}

absl::Status Validate(const config::NodeResourcesBalancedAllocationArgs& args) {
  Errors errs;
  absl::flat_hash_set<std::string> seen;
  for (int i = 0; i < args.resources_size(); ++i) {
    const config::ResourceSpec& r = args.resources(i);
    if (!seen.insert(r.name()).second) {
      errs.push_back(
          absl::StrCat("resources[", i, "].name: Duplicate value: ", api::GoQuote(r.name())));
    }
    if (r.weight() != 1) {
      AddInvalid(errs, absl::StrCat("resources[", i, "].weight"), absl::StrCat(r.weight()),
                 "must be 1");
    }
  }
  return api::AggregateErrors(errs);
}

}  // namespace kestrel::priorities
