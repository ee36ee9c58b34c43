// File: discovery.h
//
// The documents a client reads before it touches a resource, for the fake
// API server: kubectl and client-go's discovery map "pods" or "po" to a
// group, version, kind and scope from them, and kubectl checks the server's
// OpenAPI for the query parameters it may send.
//
//   /version              version.Info; gitVersion kServerVersion, the
//                         fake's own (no kube-apiserver of that version
//                         runs behind it)
//   /api                  APIVersions: v1
//   /api/v1               APIResourceList of the core group
//   /apis                 APIGroupList: every other group, one version each
//   /apis/<g>             APIGroup
//   /apis/<g>/<v>         APIResourceList
//   /openapi/v3           the OpenAPI v3 index: a path per group version
//   /openapi/v3/api/v1, /openapi/v3/apis/<g>/<v>
//                         a minimal OpenAPI v3 document per group version:
//                         its paths and operations, each operation with its
//                         x-kubernetes-group-version-kind and query
//                         parameters (fieldValidation among them, which is
//                         what kubectl looks for before it sends one), and
//                         no schemas
//   /openapi/v2           an OpenAPI v2 document without paths or
//                         definitions, as JSON or (OpenApiV2Protobuf) as
//                         the protobuf kubectl asks for: kubectl before
//                         server-side field validation validates against
//                         it, and skips kinds it does not define
//
// So kubectl validates nothing here: neither the v2 nor the v3 documents
// carry schemas (and the server does not enforce fieldValidation=Strict).
// Aggregated discovery (apidiscovery.k8s.io APIGroupDiscoveryList) is not
// served: clients that ask for it list application/json after it and fall
// back to the documents above. Internal to kube/testing.
//
// Example:
//   std::optional<nlohmann::json> doc = Discovery("/api/v1", resources, "127.0.0.1:8080");

#ifndef KESTREL_KUBE_TESTING_DISCOVERY_H_
#define KESTREL_KUBE_TESTING_DISCOVERY_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube::testing {

// The version /version reports: the fake's, one kubectl 1.20 to 1.32
// accepts.
inline constexpr char kServerVersion[] = "v1.32.0";

// The media types of the OpenAPI v2 document as protobuf (gnostic's
// openapi.v2.Document): what kubectl asks for, and the Content-Type of the
// answer (kube-openapi's, which Go's mime package can parse).
inline constexpr char kOpenApiV2ProtobufAccept[] = "com.github.proto-openapi.spec.v2";
inline constexpr char kOpenApiV2Protobuf[] =
    "application/com.github.proto-openapi.spec.v2.v1.0+protobuf";

// OpenApiV2Protobuf()
//
// The /openapi/v2 document encoded as kOpenApiV2Protobuf: swagger "2.0",
// its info, empty paths.
std::string OpenApiV2Protobuf();

// One resource or subresource as discovery lists it (metav1.APIResource).
struct ApiResource {
  std::string group;     // "" for the core group
  std::string version;   // "v1"
  std::string name;      // "pods", or "pods/status" for a subresource
  std::string singular;  // "pod"; "" for subresources, as upstream lists them
  bool namespaced = false;
  std::string kind;  // "Pod"; "Binding" for pods/binding
  // The group and version of `kind` when they are not the resource's own
  // (pods/eviction takes a policy/v1 Eviction).
  std::string kind_group;
  std::string kind_version;
  std::vector<std::string> verbs;
  std::vector<std::string> short_names;
  std::vector<std::string> categories;
};

// Discovery()
//
// The document served at `path` (no query string) for `resources`, or
// nullopt when `path` is not a discovery path or names a group or version
// no resource has. `server_address` ("127.0.0.1:8080") goes into
// APIVersions' serverAddressByClientCIDRs.
std::optional<nlohmann::json> Discovery(absl::string_view path,
                                        const std::vector<ApiResource>& resources,
                                        absl::string_view server_address);

}  // namespace kestrel::kube::testing

#endif  // KESTREL_KUBE_TESTING_DISCOVERY_H_
