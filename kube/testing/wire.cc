#include "kube/testing/wire.h"

#include <initializer_list>
#include <memory>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/container/flat_hash_map.h"
#include "api/coordination.pb.h"
#include "api/core.pb.h"
#include "api/decode.h"
#include "api/events.pb.h"
#include "api/meta.pb.h"
#include "api/policy.pb.h"
#include "api/scheduling.pb.h"
#include "google/protobuf/message.h"
#include "kube/codec.h"
#include "kube/testing/json_util.h"

namespace kestrel::kube::testing {

const char kServedMediaTypes[] = "application/json, application/vnd.kubernetes.protobuf";

namespace {

class JsonWireFormat : public WireFormat {
 public:
  std::string content_type() const override { return "application/json"; }
  // kube-apiserver adds ";stream=watch" for every encoding but JSON.
  std::string watch_content_type() const override { return "application/json"; }
  absl::StatusOr<std::string> EncodeObject(const json& object) const override {
    return Dump(object);
  }
  std::string EncodeWatchEvent(absl::string_view type, const json& object) const override {
    json event = json::object();
    event["type"] = std::string(type);
    event["object"] = object;
    // Go's json.Encoder ends each value with a newline: the JSON framer.
    return absl::StrCat(Dump(event), "\n");
  }
};

// The kinds the protobuf format writes: the api protos that are kinds,
// named by their (apiVersion, kind). Listed rather than looked up in the
// generated pool, so that each is linked in wherever the server is.
const absl::flat_hash_map<std::pair<std::string, std::string>,
                          const google::protobuf::Message*>& ProtobufKinds() {
  static const auto* const kKinds = [] {
    auto* kinds = new absl::flat_hash_map<std::pair<std::string, std::string>,
                                          const google::protobuf::Message*>();
    for (const google::protobuf::Message* prototype : std::initializer_list<
             const google::protobuf::Message*>{
             &k8s::io::api::core::v1::Pod::default_instance(),
             &k8s::io::api::core::v1::PodList::default_instance(),
             &k8s::io::api::core::v1::Node::default_instance(),
             &k8s::io::api::core::v1::NodeList::default_instance(),
             &k8s::io::api::core::v1::Namespace::default_instance(),
             &k8s::io::api::core::v1::NamespaceList::default_instance(),
             &k8s::io::api::core::v1::Binding::default_instance(),
             &k8s::io::api::core::v1::Event::default_instance(),
             &k8s::io::api::core::v1::EventList::default_instance(),
             &k8s::io::api::events::v1::Event::default_instance(),
             &k8s::io::api::events::v1::EventList::default_instance(),
             &k8s::io::api::policy::v1::Eviction::default_instance(),
             &k8s::io::api::policy::v1::PodDisruptionBudget::default_instance(),
             &k8s::io::api::policy::v1::PodDisruptionBudgetList::default_instance(),
             &k8s::io::api::scheduling::v1::PriorityClass::default_instance(),
             &k8s::io::api::scheduling::v1::PriorityClassList::default_instance(),
             &k8s::io::api::coordination::v1::Lease::default_instance(),
             &k8s::io::api::coordination::v1::LeaseList::default_instance(),
             &k8s::io::apimachinery::pkg::apis::meta::v1::Status::default_instance(),
         }) {
      absl::StatusOr<TypeMeta> type = TypeMetaOf(prototype->GetDescriptor());
      if (type.ok()) (*kinds)[{type->api_version, type->kind}] = prototype;
    }
    return kinds;
  }();
  return *kKinds;
}

// A new api proto for `object`'s apiVersion and kind.
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> NewMessageFor(const json& object) {
  const std::string api_version = Str(Member(object, "apiVersion"));
  const std::string kind = Str(Member(object, "kind"));
  const auto it = ProtobufKinds().find(std::make_pair(api_version, kind));
  if (it == ProtobufKinds().end()) {
    // upstream's protobuf serializer: errNotMarshalable.
    return absl::FailedPreconditionError(absl::StrCat(
        "object ", api_version, ", Kind=", kind,
        " does not implement the protobuf marshalling interface and cannot be encoded to a "
        "protobuf message"));
  }
  return std::unique_ptr<google::protobuf::Message>(it->second->New());
}

// `object` as its api proto: the fields api/*.proto has, decoded as every
// reader of JSON in Kestrel decodes them.
absl::StatusOr<std::unique_ptr<google::protobuf::Message>> ToProto(const json& object) {
  absl::StatusOr<std::unique_ptr<google::protobuf::Message>> message = NewMessageFor(object);
  if (!message.ok()) return message.status();
  const std::string kind = Str(Member(object, "kind"));
  absl::Status decoded = api::DecodeJsonInto(object, message->get(), kind);
  if (!decoded.ok()) return decoded;
  return message;
}

class ProtobufWireFormat : public WireFormat {
 public:
  std::string content_type() const override { return kContentTypeProtobuf; }
  std::string watch_content_type() const override { return kContentTypeProtobufWatch; }
  absl::StatusOr<std::string> EncodeObject(const json& object) const override {
    absl::StatusOr<std::unique_ptr<google::protobuf::Message>> message = ToProto(object);
    if (!message.ok()) return message.status();
    return EncodeProtobuf(**message);
  }
  std::string EncodeWatchEvent(absl::string_view type, const json& object) const override {
    absl::StatusOr<std::unique_ptr<google::protobuf::Message>> message = ToProto(object);
    if (!message.ok()) {
      json error = json::object();
      error["apiVersion"] = "v1";
      error["kind"] = "Status";
      error["status"] = "Failure";
      error["message"] = std::string(message.status().message());
      error["reason"] = "InternalError";
      error["code"] = 500;
      return EncodeWatchEvent("ERROR", error);
    }
    absl::StatusOr<std::string> frame =
        EncodeWatchFrame(WatchFormat::kLengthDelimited, type, **message);
    return frame.ok() ? *std::move(frame) : "";
  }
};

}  // namespace

const WireFormat& JsonWire() {
  static const WireFormat* const kJson = new JsonWireFormat();
  return *kJson;
}

const WireFormat& ProtobufWire() {
  static const WireFormat* const kProtobuf = new ProtobufWireFormat();
  return *kProtobuf;
}

std::optional<Negotiated> Negotiate(absl::string_view accept, Servable servable) {
  if (absl::StripAsciiWhitespace(accept).empty()) return Negotiated{&JsonWire(), ""};
  for (absl::string_view range : absl::StrSplit(accept, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(range, ';');
    const std::string type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
    const bool protobuf = type == kContentTypeProtobuf;
    if (protobuf && !servable.protobuf) continue;
    if (!protobuf && type != "application/json" && type != "application/*" && type != "*/*") {
      continue;
    }
    const WireFormat* wire = protobuf ? &ProtobufWire() : &JsonWire();
    // acceptMediaTypeOptions: as, g and v ask for a conversion; the rest
    // (q, stream=watch, pretty, ...) change nothing here.
    bool convert = false;
    std::string as, group, version;
    for (size_t i = 1; i < parts.size(); ++i) {
      std::vector<absl::string_view> kv = absl::StrSplit(parts[i], absl::MaxSplits('=', 1));
      const absl::string_view key = absl::StripAsciiWhitespace(kv[0]);
      const std::string value =
          kv.size() == 2 ? std::string(absl::StripAsciiWhitespace(kv[1])) : std::string();
      if (key == "as") {
        as = value;
      } else if (key == "g") {
        group = value;
      } else if (key == "v") {
        version = value;
      } else {
        continue;
      }
      convert = true;
    }
    if (!convert) return Negotiated{wire, ""};
    // A Table has no protobuf form here: the next range answers.
    if (!protobuf && servable.tables && as == "Table" && group == "meta.k8s.io" &&
        (version == "v1" || version == "v1beta1")) {
      return Negotiated{&JsonWire(), absl::StrCat(group, "/", version)};
    }
  }
  return std::nullopt;
}

}  // namespace kestrel::kube::testing
