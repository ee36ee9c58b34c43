#include "model/priority.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/validation.h"

namespace kestrel::model {
namespace {

namespace schedv1 = ::k8s::io::api::scheduling::v1;

absl::string_view PolicyName(PreemptionPolicy p) {
  return p == PreemptionPolicy::kNever ? "Never" : "PreemptLowerPriority";
}

// The built-in classes (upstream scheduling.SystemPriorityClasses()).
std::vector<PriorityClass> SystemClasses() {
  return {{kSystemClusterCritical, kSystemCriticalPriority, false,
           PreemptionPolicy::kPreemptLowerPriority},
          {kSystemNodeCritical, kSystemCriticalPriority + 1000, false,
           PreemptionPolicy::kPreemptLowerPriority}};
}

// Upstream scheduling.IsKnownSystemPriorityClass: empty when it is one.
std::string SystemClassError(const PriorityClass& pc) {
  for (const PriorityClass& system : SystemClasses()) {
    if (system.name != pc.name) continue;
    if (system.value != pc.value) {
      return absl::StrCat("value of ", system.name, " PriorityClass must be ", system.value);
    }
    if (system.global_default != pc.global_default) {
      return absl::StrCat("globalDefault of ", system.name, " PriorityClass must be ",
                          system.global_default ? "true" : "false");
    }
    return "";
  }
  return absl::StrCat(pc.name, " is not a known system priority class");
}

std::string Object(absl::string_view name) { return absl::StrCat("PriorityClass ", name); }

// Upstream ValidatePriorityClass, the problems of `pc` (the preemption
// policy is checked where it is parsed).
std::vector<std::string> ValidationErrors(const PriorityClass& pc) {
  std::vector<std::string> errs;
  if (pc.name.empty()) {
    errs.push_back("metadata.name: Required value: name or generateName is required");
  } else {
    for (const std::string& e : api::Dns1123SubdomainErrors(pc.name)) {
      errs.push_back(absl::StrCat("metadata.name: Invalid value: ", api::GoQuote(pc.name), ": ", e));
    }
  }
  if (absl::StartsWith(pc.name, kSystemPriorityClassPrefix)) {
    const std::string err = SystemClassError(pc);
    if (!err.empty()) {
      errs.push_back(absl::StrCat("metadata.name: Forbidden: priority class names with '",
                                  kSystemPriorityClassPrefix,
                                  "' prefix are reserved for system use only. error: ", err));
    }
  } else if (pc.value > kHighestUserDefinablePriority) {
    errs.push_back(absl::StrCat("value: Forbidden: maximum allowed value of a user defined "
                                "priority is ",
                                kHighestUserDefinablePriority));
  }
  return errs;
}

absl::Status Validate(const PriorityClass& pc, std::vector<std::string> errs) {
  std::vector<std::string> more = ValidationErrors(pc);
  errs.insert(errs.begin(), more.begin(), more.end());
  absl::Status s = api::AggregateErrors(errs);
  if (s.ok()) return s;
  return absl::InvalidArgumentError(absl::StrCat(Object(pc.name), ": ", s.message()));
}

}  // namespace

absl::StatusOr<PriorityClass> CompilePriorityClass(const schedv1::PriorityClass& api) {
  PriorityClass pc;
  pc.name = api.metadata().name();
  pc.value = api.value();
  pc.global_default = api.globaldefault();
  std::vector<std::string> errs;
  if (api.preemptionpolicy() == "Never") {
    pc.preemption_policy = PreemptionPolicy::kNever;
  } else if (api.has_preemptionpolicy() && api.preemptionpolicy() != "PreemptLowerPriority") {
    // Upstream ValidatePreemptionPolicy; an empty string is "Required".
    errs.push_back(api.preemptionpolicy().empty()
                       ? std::string("preemptionPolicy: Required value")
                       : absl::StrCat("preemptionPolicy: Unsupported value: ",
                                      api::GoQuote(api.preemptionpolicy()),
                                      ": supported values: \"Never\", \"PreemptLowerPriority\""));
  }
  absl::Status s = Validate(pc, std::move(errs));
  if (!s.ok()) return s;
  return pc;
}

PriorityRequest PriorityRequest::FromSpec(const ::k8s::io::api::core::v1::PodSpec& spec) {
  PriorityRequest r;
  r.class_name = spec.priorityclassname();
  if (spec.has_priority()) r.priority = spec.priority();
  // CompilePod has already rejected values other than these two.
  if (spec.has_preemptionpolicy() && !spec.preemptionpolicy().empty()) {
    r.preemption_policy = spec.preemptionpolicy() == "Never"
                              ? PreemptionPolicy::kNever
                              : PreemptionPolicy::kPreemptLowerPriority;
  }
  return r;
}

PriorityClasses::PriorityClasses() {
  for (PriorityClass& pc : SystemClasses()) classes_.push_back({std::move(pc), true});
}

PriorityClasses::Entry* PriorityClasses::FindEntry(absl::string_view name) {
  for (Entry& e : classes_) {
    if (e.priority_class.name == name) return &e;
  }
  return nullptr;
}

const PriorityClass* PriorityClasses::Find(absl::string_view name) const {
  for (const Entry& e : classes_) {
    if (e.priority_class.name == name) return &e.priority_class;
  }
  return nullptr;
}

const PriorityClass* PriorityClasses::GlobalDefault() const {
  return default_index_ < 0 ? nullptr : &classes_[default_index_].priority_class;
}

absl::Status PriorityClasses::Add(PriorityClass pc) {
  absl::Status s = Validate(pc, {});
  if (!s.ok()) return s;
  Entry* existing = FindEntry(pc.name);
  if (existing != nullptr && !existing->builtin) {
    return absl::InvalidArgumentError(absl::StrCat(
        Object(pc.name), ": metadata.name: Duplicate value: ", api::GoQuote(pc.name)));
  }
  // Upstream validatePriorityClass: one default at most. (Built-ins are
  // never defaults, so replacing one cannot clear the default.)
  if (pc.global_default && default_index_ >= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        Object(pc.name), ": globalDefault: Forbidden: PriorityClass ",
        classes_[default_index_].priority_class.name,
        " is already marked as default. Only one default can exist"));
  }
  if (existing != nullptr) {
    // Validation has checked it matches the built-in.
    *existing = {std::move(pc), false};
    return absl::OkStatus();
  }
  if (pc.global_default) default_index_ = static_cast<int>(classes_.size());
  classes_.push_back({std::move(pc), false});
  return absl::OkStatus();
}

absl::StatusOr<ResolvedPriority> PriorityClasses::Resolve(const PriorityRequest& request) const {
  ResolvedPriority out;
  if (request.class_name.empty()) {
    out.priority = kDefaultPriorityWhenNoDefaultClassExists;
    if (const PriorityClass* dpc = GlobalDefault()) {
      out.class_name = dpc->name;
      out.priority = dpc->value;
      out.preemption_policy = dpc->preemption_policy;
    }
  } else {
    const PriorityClass* pc = Find(request.class_name);
    if (pc == nullptr) {
      return absl::NotFoundError(
          absl::StrCat("no PriorityClass with name ", request.class_name, " was found"));
    }
    out.class_name = pc->name;
    out.priority = pc->value;
    out.preemption_policy = pc->preemption_policy;
  }
  if (request.priority.has_value() && *request.priority != out.priority) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the integer value of priority (", *request.priority,
        ") must not be provided in pod spec; priority admission controller computed ",
        out.priority, " from the given PriorityClass name"));
  }
  if (request.preemption_policy.has_value() && *request.preemption_policy != out.preemption_policy) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the string value of PreemptionPolicy (", PolicyName(*request.preemption_policy),
        ") must not be provided in pod spec; priority admission controller computed ",
        PolicyName(out.preemption_policy), " from the given PriorityClass name"));
  }
  return out;
}

bool IsCritical(const Pod& pod, absl::string_view system_namespace) {
  if (pod.priority >= kSystemCriticalPriority) return true;
  return pod.critical_annotation && pod.ns == system_namespace;
}

}  // namespace kestrel::model
