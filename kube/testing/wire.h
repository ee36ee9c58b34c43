// File: wire.h
//
// How the fake API server writes objects, lists and watch events on the
// wire: the one place an encoding plugs in. Two are served, as
// kube-apiserver writes them:
//
//   JSON      an object or list is one JSON document, a watch stream is one
//             WatchEvent per line ({"type":"ADDED","object":{...}} then
//             "\n") in a chunked response with Content-Type
//             application/json. The default.
//   protobuf  Content-Type application/vnd.kubernetes.protobuf
//             (";stream=watch" on watches): each object the 4 bytes
//             "k8s\x00" then a runtime.Unknown envelope (typeMeta, raw),
//             each watch event a 4-byte big-endian length then a versioned
//             WatchEvent, as kube/codec encodes them. Only the kinds that
//             api/*.proto has (and their lists, and Status).
//
// The server stores objects as JSON; the protobuf format decodes each into
// its api proto (api/decode) and encodes that, so both formats carry the
// same fields. Internal to kube/testing.

#ifndef KESTREL_KUBE_TESTING_WIRE_H_
#define KESTREL_KUBE_TESTING_WIRE_H_

#include <optional>
#include <string>

#include "absl/status/statusor.h"
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
  // An object, a list or a Status, as a response body. An error when the
  // format cannot carry it (a kind without a protobuf message): the server
  // then answers 500 with that message, as upstream's serializer does.
  virtual absl::StatusOr<std::string> EncodeObject(const nlohmann::json& object) const = 0;
  // One watch event, framed: what one chunk of the stream carries.
  virtual std::string EncodeWatchEvent(absl::string_view type,
                                       const nlohmann::json& object) const = 0;
};

// The JSON encoding.
const WireFormat& JsonWire();

// The Kubernetes protobuf encoding. An object whose apiVersion and kind
// have no api proto (a Table, a discovery document) cannot be written in
// it: Negotiate() does not pick it for those answers, and should one reach
// it anyway it is written as a protobuf Status 500 that says so, as
// upstream's protobuf serializer refuses such objects.
const WireFormat& ProtobufWire();

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

// What the answer to a request can be, besides JSON.
struct Servable {
  // A meta.k8s.io Table (resource GETs).
  bool tables = false;
  // protobuf: answers whose kinds have api protos (resource requests, not
  // discovery documents).
  bool protobuf = false;
};

// Negotiate()
//
// The first media range of an Accept header that is served, in the order
// the header lists them (q values are not weighed): JSON for
// application/json, application/* and */*, or an empty header; protobuf
// for application/vnd.kubernetes.protobuf (with or without
// ;stream=watch) when `servable.protobuf`, never as a conversion. A range
// that asks for a conversion (the `as`, `g` and `v` parameters) is served
// only when `servable.tables` is true and it names a Table of meta.k8s.io v1 or
// v1beta1, as upstream's endpoint restrictions allow for resource GETs;
// other conversions (aggregated discovery's APIGroupDiscoveryList,
// PartialObjectMetadata) are skipped, so the client's next range answers.
// nullopt when no range is served (a 406).
std::optional<Negotiated> Negotiate(absl::string_view accept, Servable servable);

}  // namespace kestrel::kube::testing

#endif  // KESTREL_KUBE_TESTING_WIRE_H_
