// File: codec.h
//
// The bodies an API server sends and accepts, in both of its wire formats:
//
//   application/json                     objects and lists as JSON, decoded
//                                        by api/decode (Kubernetes' JSON
//                                        conventions: quantities, times and
//                                        int-or-strings as bare values)
//   application/vnd.kubernetes.protobuf  "k8s\x00", then a runtime.Unknown
//                                        {typeMeta{apiVersion, kind}, raw}
//                                        whose raw is the object's message
//
// and the two forms of a watch stream:
//
//   application/json                     one {"type": ..., "object": {...}}
//                                        per line
//   application/vnd.kubernetes.protobuf;stream=watch
//                                        frames of a 4-byte big-endian
//                                        length and a meta/v1 WatchEvent;
//                                        its object.raw is the object in the
//                                        envelope above
//
// (upstream: apimachinery/pkg/runtime/serializer/protobuf, whose watch
// stream uses the RawSerializer, and apiserver's watch handler, which
// encodes the embedded object with the enveloped one).
//
// Every error names what was being decoded (`what`, typically the request:
// "GET /api/v1/pods") and, where it can, the object.
//
// Example:
//   k8s::io::api::core::v1::PodList pods;
//   RETURN_IF_ERROR(Decode(response.content_type, response.body, &pods, "GET /api/v1/pods"));
//
//   WatchDecoder decoder(*WatchFormatOf(content_type), Pod::default_instance(), what);
//   RETURN_IF_ERROR(decoder.Feed(chunk, [](DecodedEvent e) { ...; return absl::OkStatus(); }));
//   RETURN_IF_ERROR(decoder.Finish());  // at the end of the stream

#ifndef KESTREL_KUBE_CODEC_H_
#define KESTREL_KUBE_CODEC_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/meta.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace kestrel::kube {

inline constexpr char kContentTypeJson[] = "application/json";
inline constexpr char kContentTypeProtobuf[] = "application/vnd.kubernetes.protobuf";
inline constexpr char kContentTypeProtobufWatch[] =
    "application/vnd.kubernetes.protobuf;stream=watch";

// The four bytes before a protobuf-encoded object.
inline constexpr absl::string_view kProtobufMagic("k8s\0", 4);

// Watch frames longer than this are refused, as client-go's streaming
// decoder does (16 MiB).
inline constexpr uint32_t kMaxWatchFrameBytes = 16 * 1024 * 1024;

// Deeper JSON is refused before it is parsed: nlohmann's dump() recurses
// once per level, and api/decode refuses objects nested deeper than 200
// anyway.
inline constexpr int kMaxJsonDepth = 256;

// TimeString() / MicroTimeString()
//
// A metav1.Time and a metav1.MicroTime as the API writes them in JSON:
// "2026-12-06T12:00:00Z" (whole seconds) and "2026-12-06T12:00:00.000000Z".
std::string TimeString(absl::Time t);
std::string MicroTimeString(absl::Time t);

// JsonNestsDeeperThan()
//
// Whether `text` nests JSON objects and arrays deeper than `max`; a scan
// of the bytes that parses nothing, for refusing hostile input first.
bool JsonNestsDeeperThan(absl::string_view text, int max);

// The apiVersion and kind of a Kubernetes type.
struct TypeMeta {
  std::string api_version;  // "v1", "policy/v1", "coordination.k8s.io/v1"
  std::string kind;         // "Pod", "PodList"
};

// TypeMetaOf()
//
// The apiVersion and kind of one of the api/*.proto kinds (messages with
// metadata), from its proto package and name (k8s.io.api.policy.v1.Eviction
// -> policy/v1, Eviction). NotFound for other messages (PodSpec, and what is
// not a Kubernetes API type).
absl::StatusOr<TypeMeta> TypeMetaOf(const google::protobuf::Descriptor* descriptor);

// HasProtobuf()
//
// Whether the API server can exchange `descriptor`'s type as protobuf: the
// built-in Kubernetes types can; custom resources (and anything else that is
// not a k8s.io type) only as JSON.
bool HasProtobuf(const google::protobuf::Descriptor* descriptor);

// MediaType()
//
// The media type of a Content-Type, without parameters, in lower case:
// "application/json; charset=utf-8" -> "application/json".
std::string MediaType(absl::string_view content_type);

// EncodeProtobuf()
//
// The k8s\x00 envelope around `object`, typed by TypeMetaOf. Map entries
// are written sorted by key, as upstream's marshalling writes them, so the
// same object always gives the same bytes.
absl::StatusOr<std::string> EncodeProtobuf(const google::protobuf::Message& object);

// DecodeProtobuf()
//
// Unwraps the envelope and parses the object into `out`. The envelope's kind
// must be `out`'s (a Status where a Pod was expected is an error that quotes
// the Status). Fields that api/*.proto does not have (managedFields, ...)
// are dropped, so that caches do not hold them.
absl::Status DecodeProtobuf(absl::string_view body, google::protobuf::Message* out,
                            absl::string_view what);

// HasUnknownFields()
//
// Whether a `type` message parsed from the protobuf `bytes` would keep
// unknown fields anywhere in it: a field number that `type`, or a message
// type below it (map entries included), does not declare, or a declared
// field in a wire type it does not read. Reads the bytes against the
// descriptors without allocating. Bytes that do not scan answer true.
bool HasUnknownFields(const google::protobuf::Descriptor* type, absl::string_view bytes);

// DiscardUnknownFields()
//
// `message`, just parsed from `bytes`, without the fields api/*.proto does
// not declare (managedFields above all), at any depth: what
// Message::DiscardUnknownFields does, which walks every sub-message by
// reflection and gives each an unknown-field set to clear. That walk cost
// more than the parse itself, so it runs only when HasUnknownFields(bytes)
// finds something to drop.
void DiscardUnknownFields(absl::string_view bytes, google::protobuf::Message* message);

// DecodeProtobufList()
//
// A protobuf list answer (kind `item_kind` + "List") read item by item: its
// ListMeta into `list_meta`, and the bytes of each item, in order, to
// `item`, which parses them into its own type, so that one item that does
// not parse costs only that item. Errors: the envelope, the kind (a Status
// is quoted), the list's own framing.
absl::Status DecodeProtobufList(
    absl::string_view body, absl::string_view item_kind,
    k8s::io::apimachinery::pkg::apis::meta::v1::ListMeta* list_meta,
    const std::function<void(absl::string_view item)>& item, absl::string_view what);

// ItemNameOf()
//
// "namespace/name" from a protobuf object's bytes (its metadata, field 1),
// or "" when not even that parses: names an object that did not decode.
std::string ItemNameOf(absl::string_view object);

// EncodeJson()
//
// `object` as Kubernetes JSON (the inverse of api/decode): apiVersion and
// kind first when TypeMetaOf knows them, then the fields that are set, in
// field order, with upstream's JSON forms for quantities, times,
// int-or-strings and inline fields.
std::string EncodeJson(const google::protobuf::Message& object);

// DecodeJson()
//
// api::DecodeInto with `what` as the context; an empty body is an error.
absl::Status DecodeJson(absl::string_view body, google::protobuf::Message* out,
                        absl::string_view what);

// Decode()
//
// DecodeProtobuf or DecodeJson by the media type of `content_type` (JSON
// when it is empty; YAML is read too). Other media types are errors.
absl::Status Decode(absl::string_view content_type, absl::string_view body,
                    google::protobuf::Message* out, absl::string_view what);

// EncodeFor()
//
// `object` in the media type of `content_type` (protobuf or JSON).
absl::StatusOr<std::string> EncodeFor(absl::string_view content_type,
                                      const google::protobuf::Message& object);

// StatusMessageOf()
//
// The `message` of a Status body in either format ("" when `body` is not a
// Status): what an API server says when a request fails.
std::string StatusMessageOf(absl::string_view body);

// ---------------------------------------------------------------------------
// Watch streams

// One event as decoded from a watch stream (the reflector's kube::WatchEvent,
// list_watch.h, is built from it).
// ADDED, MODIFIED, DELETED and BOOKMARK carry an object of the watched
// type (a BOOKMARK only its metadata.resourceVersion); ERROR carries a
// meta/v1 Status (an expired resourceVersion is code 410).
struct DecodedEvent {
  std::string type;
  std::unique_ptr<google::protobuf::Message> object;
};

enum class WatchFormat {
  kJsonLines,         // application/json
  kLengthDelimited,   // application/vnd.kubernetes.protobuf;stream=watch
};

// WatchFormatOf()
//
// The framing of a watch response by its Content-Type. An API server
// answers application/vnd.kubernetes.protobuf (with or without
// ;stream=watch) or application/json; anything else is an error.
absl::StatusOr<WatchFormat> WatchFormatOf(absl::string_view content_type);

// EncodeWatchFrame()
//
// One event as the server writes it: a JSON line, or a length-prefixed
// WatchEvent whose object is in the protobuf envelope. For tests and test
// servers.
absl::StatusOr<std::string> EncodeWatchFrame(WatchFormat format, absl::string_view type,
                                             const google::protobuf::Message& object);

// An incremental decoder of one watch stream: bytes go in as they arrive,
// in chunks of any size, and each complete event comes out once. Frames
// that fail to decode, and a stream that ends inside a frame, are errors
// naming `what`.
//
// Thread-compatible: one stream, one thread.
class WatchDecoder {
 public:
  using Sink = std::function<absl::Status(DecodedEvent)>;

  // `prototype`: the watched type (Pod::default_instance() for a watch on
  // pods); it must outlive the decoder.
  WatchDecoder(WatchFormat format, const google::protobuf::Message& prototype, std::string what);

  // Feed()
  //
  // Appends `chunk` and hands every event it completes to `sink`, in order.
  // The first error (the decoder's or the sink's) is returned, and the
  // decoder is then unusable.
  absl::Status Feed(absl::string_view chunk, const Sink& sink);

  // Finish()
  //
  // The stream ended: an error if it ended inside a frame. A JSON stream's
  // last event needs no newline (client-go's JSON framing reads objects,
  // not lines): when the bytes after the last newline are a whole JSON
  // value and `sink` is given, they are decoded as the last frame.
  absl::Status Finish(const Sink& sink = nullptr);

  // OnBadFrame()
  //
  // From now on, a frame that arrived whole but does not decode (not an
  // event, an unknown type, an object with a wrong field) is handed to
  // `on_bad_frame` with its error, and decoding goes on with the next frame
  // unless it answers an error. Framing errors (a frame over the size
  // limit, a stream that ends inside a frame) still end the stream.
  void OnBadFrame(std::function<absl::Status(absl::Status)> on_bad_frame) {
    on_bad_frame_ = std::move(on_bad_frame);
  }

  // Frames decoded so far, bad ones included.
  int64_t events() const { return events_; }

 private:
  absl::Status DecodeFrame(absl::string_view frame, const Sink& sink);
  absl::Status DecodeJsonFrame(absl::string_view line, DecodedEvent* event);
  absl::Status DecodeProtobufFrame(absl::string_view frame, DecodedEvent* event);
  absl::Status MakeEvent(std::string type, DecodedEvent* event) const;
  // "GET /api/v1/pods?watch=1: event 3"
  std::string EventContext() const;

  WatchFormat format_;
  const google::protobuf::Message& prototype_;
  std::string what_;
  std::string buffer_;
  size_t start_ = 0;  // of the unconsumed bytes in buffer_
  int64_t events_ = 0;
  absl::Status failed_;
  std::function<absl::Status(absl::Status)> on_bad_frame_;
};

}  // namespace kestrel::kube

#endif  // KESTREL_KUBE_CODEC_H_
