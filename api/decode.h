// File: decode.h
// -----------------------------------------------------------------------------
//
// Decodes Kubernetes objects written as YAML or JSON into the protobuf
// messages of api/*.proto. One generic decoder walks the message descriptor
// and matches document keys to upstream's camelCase field names; the only
// per-type knowledge is for the types whose JSON form differs from their
// protobuf shape:
//
//   resource.Quantity   "100m", 2, 1.5Gi    validated by Quantity::Parse
//   meta/v1 Time        "2024-01-02T03:04:05Z"          -> seconds, nanos
//   meta/v1 MicroTime   "2024-01-02T03:04:05.123456Z"   -> seconds, nanos
//   intstr.IntOrString  3 -> {type 0, intVal}, "25%" -> {type 1, strVal}
//   runtime.RawExtension  any value, stored re-serialized in `raw`
//   core/v1 Volume      the VolumeSource fields are inline
//
// Unknown fields are ignored, YAML null leaves a field unset, and a value of
// the wrong type (a string where an integer belongs) is an error. Every error
// is one line naming the file, the object and the field:
//
//   pods.yaml: Pod default/web-1: spec.containers[0].resources.requests.cpu:
//   quantities must match the regular expression '...' (got "1.5.5")
//
// (shown wrapped here). Two front ends feed the one decoder: a file that
// starts with `{` or `[` (after whitespace) is JSON, parsed by simdjson
// (api/json_document.h; no key-length limit, exact number text), and
// anything else is YAML, parsed by yaml-cpp. A `{` file that is not JSON
// but is flow-style YAML is still read as YAML. Syntax errors carry a line
// and column (`pods.yaml:12:3: ...`; `pods.json:3:23: expected ',' or '}'
// ..., found '"'`). No input crashes the decoder: yaml-cpp exceptions are
// caught, nesting is limited, and alias expansion is bounded.
//
// Example:
//
//   absl::StatusOr<std::vector<Object>> objects = DecodeFile("cluster.yaml");
//   if (!objects.ok()) return objects.status();
//   for (const Object& object : *objects) {
//     if (object.kind == "Pod") {
//       const auto& pod = static_cast<const k8s::io::api::core::v1::Pod&>(
//           *object.message);
//       ...
//     }
//   }

#ifndef KESTREL_API_DECODE_H_
#define KESTREL_API_DECODE_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"

namespace kestrel::api {

// One decoded top-level object.
struct Object {
  std::string kind;         // "Pod"
  std::string api_version;  // "v1"
  // A k8s::io::api::core::v1::Pod for kind "Pod", and so on.
  std::unique_ptr<google::protobuf::Message> message;
  // Where it came from, for messages: "pods.yaml: Pod default/web-1".
  std::string origin;
};

// DecodeObjects()
//
// Decodes every object in `content`: a multi-document YAML stream, a JSON
// object, or a `kind: List` (or `PodList`, `NodeList`, ...) whose `items`
// may themselves be lists. Content that starts with `k8s\x00` is
// Kubernetes protobuf (application/vnd.kubernetes.protobuf): a
// runtime.Unknown envelope holding one object, a typed list (PodList, ...),
// or a v1 List whose items are RawExtensions each holding an enveloped
// object, as the API server's protobuf serializer writes them. Known kinds
// are Pod, Node, Namespace, PriorityClass, PodDisruptionBudget, Binding,
// Event, Lease, and the workloads Deployment, ReplicaSet, StatefulSet,
// DaemonSet (apps), Job and CronJob (batch); other kinds (Service,
// ConfigMap, ...) and empty documents are skipped. `file_name` only labels
// errors and origins.
absl::StatusOr<std::vector<Object>> DecodeObjects(absl::string_view file_name,
                                                  absl::string_view content);

// DecodeEach()
//
// DecodeObjects, handing each object to `sink` as soon as it is decoded:
// only one document's tree is held at a time. The first error, from the
// decoder or from `sink`, stops it. `skipped`, when set, is called with the
// kind of every object skipped as one we do not read (not for lists).
absl::Status DecodeEach(absl::string_view file_name, absl::string_view content,
                        const std::function<absl::Status(Object)>& sink,
                        const std::function<void(const std::string& kind)>& skipped = {});

// DecodeFile()
//
// Reads `path` and calls DecodeObjects(). A missing file is NotFound.
// ReadFile()
//
// The contents of `path`; errors name the path (missing, a directory,
// unreadable).
absl::StatusOr<std::string> ReadFile(const std::string& path);

absl::StatusOr<std::vector<Object>> DecodeFile(const std::string& path);

// DecodeInto()
//
// Decodes one YAML or JSON document into `msg`, whatever its type (used for
// configuration files too). `context` prefixes error messages, typically the
// file name. An empty or null document leaves `msg` unchanged.
absl::Status DecodeInto(absl::string_view content,
                        google::protobuf::Message* msg,
                        absl::string_view context);

// DecodeJsonInto()
//
// DecodeInto(value.dump()) for a JSON value that is parsed already (an API
// server's answer or watch event, read with nlohmann::json): the same
// decoding and the same errors, without printing the value and parsing it
// again through the YAML parser, which is most of what DecodeInto costs on
// JSON. Values nested deeper than DecodeInto accepts are refused before
// they are walked.
absl::Status DecodeJsonInto(const nlohmann::json& value, google::protobuf::Message* msg,
                            absl::string_view context);

}  // namespace kestrel::api

#endif  // KESTREL_API_DECODE_H_
