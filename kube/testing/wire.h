// File: wire.h
//
// How the fake API server writes objects, lists and watch events on the
// wire: the one place an encoding plugs in. JSON is the one served today,
// as kube-apiserver writes it: an object or list is one JSON document, a
// watch stream is one WatchEvent per line ({"type":"ADDED","object":{...}}
// then "\n") in a chunked response with Content-Type application/json.
//
// TODO(protobuf): the Kubernetes protobuf encoding is a second WireFormat:
// Content-Type application/vnd.kubernetes.protobuf (";stream=watch" on
// watches), each object the 4 bytes "k8s\x00" then a runtime.Unknown
// envelope (typeMeta, raw), each watch event a 4-byte big-endian length
// then a versioned WatchEvent. It is built beside this file on top of the
// protobuf codec in kube/; once it exists, Negotiate() returns it for an
// Accept header that prefers it, and nothing else in the server changes.
// Internal to kube/testing.

#ifndef KESTREL_KUBE_TESTING_WIRE_H_
#define KESTREL_KUBE_TESTING_WIRE_H_

#include <optional>
#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube::testing {

class WireFormat {
 public:
  virtual ~WireFormat() = default;

  // The Content-Type of an object, list or Status answer.
  virtual std::string content_type() const = 0;
  // The Content-Type of a watch stream.
  virtual std::string watch_content_type() const = 0;
  // An object, a list or a Status, as a response body.
  virtual std::string EncodeObject(const nlohmann::json& object) const = 0;
  // One watch event, framed: what one chunk of the stream carries.
  virtual std::string EncodeWatchEvent(absl::string_view type,
                                       const nlohmann::json& object) const = 0;
};

// The JSON encoding.
const WireFormat& JsonWire();

// The media types Negotiate() can answer with, for a 406's message.
extern const char kServedMediaTypes[];

// What an Accept header settled on: the encoding, and whether the answer
// is the object (or list) itself or a meta.k8s.io Table of it, the form
// `kubectl get` asks for with
// "application/json;as=Table;v=v1;g=meta.k8s.io,...,application/json".
struct Negotiated {
  const WireFormat* wire = nullptr;
  // "meta.k8s.io/v1" or "meta.k8s.io/v1beta1" when a Table was asked
  // for; "" for the object itself.
  std::string table_api_version;

  bool table() const { return !table_api_version.empty(); }
};

// Negotiate()
//
// The first media range of an Accept header that is served, in the order
// the header lists them (q values are not weighed): JSON for
// application/json, application/* and */*, or an empty header. A range
// that asks for a conversion (the `as`, `g` and `v` parameters) is served
// only when `tables` is true and it names a Table of meta.k8s.io v1 or
// v1beta1, as upstream's endpoint restrictions allow for resource GETs;
// other conversions (aggregated discovery's APIGroupDiscoveryList,
// PartialObjectMetadata) are skipped, so the client's next range answers.
// nullopt when no range is served (a 406).
std::optional<Negotiated> Negotiate(absl::string_view accept, bool tables);

}  // namespace kestrel::kube::testing

#endif  // KESTREL_KUBE_TESTING_WIRE_H_
