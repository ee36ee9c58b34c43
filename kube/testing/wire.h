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

// Negotiate()
//
// The encoding an Accept header asks for: JSON when the header is empty or
// accepts application/json (or application/*, */*); nullptr when it
// accepts nothing served (a 406).
const WireFormat* Negotiate(absl::string_view accept);

}  // namespace kestrel::kube::testing

#endif  // KESTREL_KUBE_TESTING_WIRE_H_
