// File: patch.h
//
// The PATCH bodies the fake API server applies: JSON merge patch (RFC
// 7386), JSON patch (RFC 6902) and strategic merge patch, the last with
// the patchMergeKey / patchStrategy of the lists a scheduler and its tests
// touch (pod and node conditions keyed by type, containers by name, ...;
// see kMergeKeys in patch.cc) and the directives `$patch` (replace,
// delete), `$setElementOrder/<list>`, `$deleteFromPrimitiveList/<list>`
// and `$retainKeys`. Every other list is replaced, as upstream does for
// lists without a strategy. Internal to kube/testing.

#ifndef KESTREL_KUBE_TESTING_PATCH_H_
#define KESTREL_KUBE_TESTING_PATCH_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube::testing {

enum class PatchType { kMerge, kJson, kStrategic };

// The patch type a Content-Type media type names; nullopt for others
// (apply patches included).
std::optional<PatchType> PatchTypeFor(absl::string_view media_type);

// The media types PatchTypeFor accepts, for a 415's message.
extern const char kPatchMediaTypes[];

// ApplyPatch()
//
// `original` (an object of kind `kind`) with `body` applied. InvalidArgument
// when the body is not a patch of that type (a 400 upstream);
// FailedPrecondition when a JSON patch operation cannot be applied (a 422).
absl::StatusOr<nlohmann::json> ApplyPatch(absl::string_view kind, PatchType type,
                                          const nlohmann::json& original, const std::string& body);

}  // namespace kestrel::kube::testing

#endif  // KESTREL_KUBE_TESTING_PATCH_H_
