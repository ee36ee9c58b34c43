#include "kube/testing/patch.h"

#include <algorithm>
#include <exception>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "kube/testing/json_util.h"

namespace kestrel::kube::testing {

const char kPatchMediaTypes[] =
    "application/json-patch+json, application/merge-patch+json, "
    "application/strategic-merge-patch+json";

std::optional<PatchType> PatchTypeFor(absl::string_view media_type) {
  if (media_type == "application/merge-patch+json") return PatchType::kMerge;
  if (media_type == "application/json-patch+json") return PatchType::kJson;
  if (media_type == "application/strategic-merge-patch+json") return PatchType::kStrategic;
  return std::nullopt;
}

namespace {

// The lists with patchStrategy "merge", by kind and path ("[]" steps into
// the elements of a list): their patchMergeKey, or "" for a list of
// scalars merged as a set. From the k8s.io/api struct tags.
struct MergeKey {
  const char* kind;  // nullptr: every kind
  const char* path;
  const char* key;
};

constexpr MergeKey kMergeKeys[] = {
    {nullptr, "metadata.ownerReferences", "uid"},
    {nullptr, "metadata.finalizers", ""},
    {"Pod", "spec.containers", "name"},
    {"Pod", "spec.initContainers", "name"},
    {"Pod", "spec.ephemeralContainers", "name"},
    {"Pod", "spec.containers[].ports", "containerPort"},
    {"Pod", "spec.containers[].env", "name"},
    {"Pod", "spec.containers[].volumeMounts", "mountPath"},
    {"Pod", "spec.initContainers[].ports", "containerPort"},
    {"Pod", "spec.initContainers[].env", "name"},
    {"Pod", "spec.initContainers[].volumeMounts", "mountPath"},
    {"Pod", "spec.volumes", "name"},
    {"Pod", "spec.imagePullSecrets", "name"},
    {"Pod", "spec.hostAliases", "ip"},
    {"Pod", "spec.topologySpreadConstraints", "topologyKey"},
    {"Pod", "status.conditions", "type"},
    {"Pod", "status.podIPs", "ip"},
    {"Pod", "status.hostIPs", "ip"},
    {"Node", "spec.podCIDRs", ""},
    {"Node", "status.conditions", "type"},
    {"Node", "status.addresses", "type"},
    {"PodDisruptionBudget", "status.conditions", "type"},
    {"Namespace", "status.conditions", "type"},
};

// The merge key of the list at `path`; nullopt when the list is replaced.
std::optional<std::string> MergeKeyOf(absl::string_view kind, const std::string& path) {
  for (const MergeKey& m : kMergeKeys) {
    if ((m.kind == nullptr || kind == m.kind) && path == m.path) return std::string(m.key);
  }
  return std::nullopt;
}

std::string Child(const std::string& path, const std::string& key) {
  return path.empty() ? key : absl::StrCat(path, ".", key);
}

absl::Status Bad(const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat("invalid strategic merge patch: ", why));
}

// Removes the directive keys of a map that is added as is.
json Clean(json j) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end();) {
      if (absl::StartsWith(it.key(), "$")) {
        it = j.erase(it);
      } else {
        *it = Clean(std::move(*it));
        ++it;
      }
    }
  } else if (j.is_array()) {
    for (json& e : j) e = Clean(std::move(e));
  }
  return j;
}

// Whether element `e` of a keyed list has key value `value`.
bool HasKey(const json& e, const std::string& key, const json& value) {
  return e.is_object() && e.contains(key) && e[key] == value;
}

absl::StatusOr<json> MergeMap(absl::string_view kind, const json& original, const json& patch,
                              const std::string& path);

absl::StatusOr<json> MergeList(absl::string_view kind, const json& original, const json& patch,
                               const std::string& key, const std::string& path) {
  json result = original.is_array() ? original : json::array();
  if (key.empty()) {
    // A set of scalars: add the new ones.
    for (const json& v : patch) {
      if (std::find(result.begin(), result.end(), v) == result.end()) result.push_back(v);
    }
    return result;
  }
  for (const json& e : patch) {
    if (e.is_object() && Str(Member(e, "$patch")) == "replace") {
      json replaced = json::array();
      for (const json& other : patch) {
        if (!(other.is_object() && other.contains("$patch"))) replaced.push_back(Clean(other));
      }
      return replaced;
    }
  }
  for (const json& e : patch) {
    if (!e.is_object() || !e.contains(key)) {
      return Bad(absl::StrCat("an element of ", path, " lacks its merge key \"", key, "\""));
    }
    const json& value = e[key];
    auto found = std::find_if(result.begin(), result.end(),
                              [&](const json& r) { return HasKey(r, key, value); });
    const std::string directive = Str(Member(e, "$patch"));
    if (directive == "delete") {
      result.erase(std::remove_if(result.begin(), result.end(),
                                  [&](const json& r) { return HasKey(r, key, value); }),
                   result.end());
      continue;
    }
    if (!directive.empty()) return Bad(absl::StrCat("unknown $patch \"", directive, "\""));
    if (found != result.end()) {
      absl::StatusOr<json> merged = MergeMap(kind, *found, e, absl::StrCat(path, "[]"));
      if (!merged.ok()) return merged.status();
      *found = *std::move(merged);
    } else {
      result.push_back(Clean(e));
    }
  }
  return result;
}

// Puts the elements of `list` named in `order` first, in that order; the
// others follow as they were.
json Reorder(const json& list, const json& order, const std::optional<std::string>& key) {
  if (!list.is_array() || !order.is_array()) return list;
  json ordered = json::array();
  std::vector<bool> taken(list.size(), false);
  for (const json& o : order) {
    for (size_t i = 0; i < list.size(); ++i) {
      if (taken[i]) continue;
      const bool same =
          key.has_value() && !key->empty() ? HasKey(list[i], *key, Member(o, *key)) : list[i] == o;
      if (same) {
        ordered.push_back(list[i]);
        taken[i] = true;
        break;
      }
    }
  }
  for (size_t i = 0; i < list.size(); ++i) {
    if (!taken[i]) ordered.push_back(list[i]);
  }
  return ordered;
}

absl::StatusOr<json> MergeMap(absl::string_view kind, const json& original, const json& patch,
                              const std::string& path) {
  if (!patch.is_object())
    return Bad(absl::StrCat(path.empty() ? "the patch" : path, " must be a map"));
  const std::string directive = Str(Member(patch, "$patch"));
  if (directive == "replace") return Clean(patch);
  if (!directive.empty()) return Bad(absl::StrCat("unknown $patch \"", directive, "\""));
  json result = original.is_object() ? original : json::object();
  const json& retain = Member(patch, "$retainKeys");
  if (!retain.is_null()) {
    if (!retain.is_array()) return Bad("$retainKeys must be a list");
    for (auto it = result.begin(); it != result.end();) {
      if (std::find(retain.begin(), retain.end(), json(it.key())) == retain.end()) {
        it = result.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string& key = it.key();
    const json& value = *it;
    if (absl::StartsWith(key, "$")) continue;  // directives: read above and below
    const std::string child = Child(path, key);
    if (value.is_null()) {
      result.erase(key);
    } else if (value.is_object()) {
      if (Str(Member(value, "$patch")) == "delete") {
        result.erase(key);
        continue;
      }
      absl::StatusOr<json> merged = MergeMap(kind, Member(result, key), value, child);
      if (!merged.ok()) return merged.status();
      result[key] = *std::move(merged);
    } else if (value.is_array()) {
      const std::optional<std::string> merge_key = MergeKeyOf(kind, child);
      if (!merge_key.has_value()) {
        result[key] = Clean(value);
        continue;
      }
      absl::StatusOr<json> merged = MergeList(kind, Member(result, key), value, *merge_key, child);
      if (!merged.ok()) return merged.status();
      result[key] = *std::move(merged);
    } else {
      result[key] = value;
    }
  }
  // Directives that name a list: removals from a set, then the order.
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    absl::string_view key = it.key();
    if (absl::ConsumePrefix(&key, "$deleteFromPrimitiveList/")) {
      if (!it->is_array()) return Bad("$deleteFromPrimitiveList must be a list");
      json& list = result[std::string(key)];
      if (!list.is_array()) continue;
      list.erase(std::remove_if(list.begin(), list.end(),
                                [&](const json& v) {
                                  return std::find(it->begin(), it->end(), v) != it->end();
                                }),
                 list.end());
    }
  }
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    absl::string_view key = it.key();
    if (absl::ConsumePrefix(&key, "$setElementOrder/")) {
      const std::string list(key);
      if (!it->is_array()) return Bad("$setElementOrder must be a list");
      if (!result.contains(list)) continue;
      result[list] = Reorder(result[list], *it, MergeKeyOf(kind, Child(path, list)));
    }
  }
  return result;
}

}  // namespace

absl::StatusOr<json> ApplyPatch(absl::string_view kind, PatchType type, const json& original,
                                const std::string& body) {
  const json patch = json::parse(body, nullptr, /*allow_exceptions=*/false);
  switch (type) {
    case PatchType::kMerge: {
      if (patch.is_discarded() || !patch.is_object()) {
        return absl::InvalidArgumentError(
            "the body of the request is not a JSON merge patch object");
      }
      json patched = original;
      patched.merge_patch(patch);
      return patched;
    }
    case PatchType::kJson: {
      if (patch.is_discarded() || !patch.is_array()) {
        return absl::InvalidArgumentError("the body of the request is not a JSON patch list");
      }
      try {
        return original.patch(patch);
      } catch (const std::exception& e) {
        // nlohmann reports a malformed operation and one that cannot apply
        // alike; upstream answers 422 for the second, the common case.
        return absl::FailedPreconditionError(e.what());
      }
    }
    case PatchType::kStrategic: {
      if (patch.is_discarded() || !patch.is_object()) {
        return absl::InvalidArgumentError(
            "the body of the request is not a strategic merge patch object");
      }
      return MergeMap(kind, original, patch, "");
    }
  }
  return absl::InvalidArgumentError("unknown patch type");
}

}  // namespace kestrel::kube::testing
