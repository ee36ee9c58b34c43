#include "kube/codec.h"

#include <algorithm>
#include <cmath>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "api/decode.h"
#include "api/meta.pb.h"
#include "api/runtime.pb.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/wire_format.h"
#include "google/protobuf/wire_format_lite.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube {
namespace {

namespace pb = google::protobuf;
namespace meta = ::k8s::io::apimachinery::pkg::apis::meta::v1;
namespace runtime = ::k8s::io::apimachinery::pkg::runtime;
using pb::FieldDescriptor;

constexpr absl::string_view kApiPackagePrefix = "k8s.io.api.";
constexpr absl::string_view kMetaPackage = "k8s.io.apimachinery.pkg.apis.meta.v1";

constexpr absl::string_view kQuantity = "k8s.io.apimachinery.pkg.api.resource.Quantity";
constexpr absl::string_view kTime = "k8s.io.apimachinery.pkg.apis.meta.v1.Time";
constexpr absl::string_view kMicroTime = "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime";
constexpr absl::string_view kIntOrString = "k8s.io.apimachinery.pkg.util.intstr.IntOrString";
constexpr absl::string_view kRawExtension = "k8s.io.apimachinery.pkg.runtime.RawExtension";

// Go structs embedded with `json:",inline"` (as in api/decode.cc).
constexpr absl::string_view kInlineFields[] = {
    "k8s.io.api.core.v1.Volume.volumeSource",
};

constexpr absl::string_view kWatchEventTypes[] = {"ADDED", "MODIFIED", "DELETED", "BOOKMARK",
                                                  "ERROR"};

// The first bytes of a body that is not what it should be, quoted.
std::string Quote(absl::string_view bytes) {
  constexpr size_t kShown = 40;
  return absl::StrCat("\"", absl::CHexEscape(bytes.substr(0, kShown)),
                      bytes.size() > kShown ? "...\"" : "\"");
}


// --- Naming objects in protobuf that does not parse -------------------------

// The payloads of the length-delimited occurrences of `field` at the top
// level of `data`; stops at the first malformed tag.
std::vector<absl::string_view> LengthDelimitedFields(absl::string_view data, int field) {
  std::vector<absl::string_view> out;
  pb::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(data.data()),
                              static_cast<int>(data.size()));
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    if (pb::internal::WireFormatLite::GetTagFieldNumber(tag) == field &&
        pb::internal::WireFormatLite::GetTagWireType(tag) ==
            pb::internal::WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length;
      if (!in.ReadVarint32(&length)) break;
      const int offset = in.CurrentPosition();
      if (static_cast<size_t>(offset) + length > data.size()) break;
      out.push_back(data.substr(offset, length));
      if (!in.Skip(static_cast<int>(length))) break;
    } else if (!pb::internal::WireFormatLite::SkipField(&in, tag)) {
      break;
    }
  }
  return out;
}

// "default/web-1" from an object's metadata (field 1), or "" when even that
// does not parse.
std::string NameIn(absl::string_view object) {
  const std::vector<absl::string_view> metadata = LengthDelimitedFields(object, 1);
  meta::ObjectMeta m;
  if (metadata.empty() || !m.ParseFromArray(metadata[0].data(), static_cast<int>(metadata[0].size())) ||
      m.name().empty()) {
    return "";
  }
  return m.namespace_().empty() ? m.name() : absl::StrCat(m.namespace_(), "/", m.name());
}

// Why `raw` does not parse as `type`, naming the object or, for a list, the
// first item that does not parse.
std::string DescribeParseFailure(const pb::Message& prototype, absl::string_view kind,
                                 absl::string_view raw) {
  const FieldDescriptor* items = prototype.GetDescriptor()->FindFieldByName("items");
  if (items != nullptr && items->number() == 2 && items->is_repeated() &&
      items->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    const pb::Message& item_prototype =
        *pb::MessageFactory::generated_factory()->GetPrototype(items->message_type());
    int index = 0;
    for (absl::string_view item : LengthDelimitedFields(raw, 2)) {
      std::unique_ptr<pb::Message> parsed(item_prototype.New());
      if (!parsed->ParseFromArray(item.data(), static_cast<int>(item.size()))) {
        const std::string name = NameIn(item);
        return absl::StrCat(kind, " items[", index, "]: ", items->message_type()->name(),
                            name.empty() ? "" : " ", name, ": malformed protobuf");
      }
      ++index;
    }
  }
  const std::string name = NameIn(raw);
  return absl::StrCat(kind, name.empty() ? "" : " ", name, ": malformed protobuf");
}

// The parts of a runtime.Unknown that decoding needs; `raw` points into the
// body, which is not copied (a PodList can be tens of megabytes).
struct Envelope {
  std::string kind;
  absl::string_view raw;
  std::string content_encoding;
};

// Reads Unknown{typeMeta = 1, raw = 2, contentEncoding = 3, contentType = 4}
// from `data`; false when it is not well-formed protobuf.
bool ReadEnvelope(absl::string_view data, Envelope* envelope) {
  using pb::internal::WireFormatLite;
  pb::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(data.data()),
                              static_cast<int>(data.size()));
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    if (WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED ||
        field < 1 || field > 3) {
      if (!WireFormatLite::SkipField(&in, tag)) return false;
      continue;
    }
    uint32_t length;
    if (!in.ReadVarint32(&length)) return false;
    const size_t offset = static_cast<size_t>(in.CurrentPosition());
    if (offset + length > data.size() || !in.Skip(static_cast<int>(length))) return false;
    const absl::string_view value = data.substr(offset, length);
    if (field == 1) {
      runtime::TypeMeta type;
      if (!type.ParseFromArray(value.data(), static_cast<int>(value.size()))) return false;
      envelope->kind = type.kind();
    } else if (field == 2) {
      envelope->raw = value;
    } else {
      envelope->content_encoding = std::string(value);
    }
  }
  // ReadTag answers 0 both at the end and on a malformed tag.
  return in.ConsumedEntireMessage();
}

// The envelope of a protobuf body: the magic, a well-formed Unknown, no
// content encoding.
absl::Status Unwrap(absl::string_view body, absl::string_view what, Envelope* envelope) {
  if (body.empty()) return absl::InvalidArgumentError(absl::StrCat(what, ": empty body"));
  if (!absl::StartsWith(body, kProtobufMagic)) {
    return absl::InvalidArgumentError(absl::StrCat(
        what, ": not a Kubernetes protobuf message (no k8s\\x00 prefix): ", Quote(body)));
  }
  body.remove_prefix(kProtobufMagic.size());
  if (!ReadEnvelope(body, envelope)) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": malformed protobuf envelope"));
  }
  if (!envelope->content_encoding.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": unsupported content encoding ",
                                                   Quote(envelope->content_encoding)));
  }
  return absl::OkStatus();
}

// --- JSON encoding ----------------------------------------------------------

void AppendJsonString(absl::string_view s, std::string* out) {
  out->push_back('"');
  for (const char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          absl::StrAppendFormat(out, "\\u%04x", static_cast<unsigned char>(c));
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

bool IsInline(const FieldDescriptor* field) {
  for (absl::string_view name : kInlineFields) {
    if (field->full_name() == name) return true;
  }
  return false;
}

class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}

  void Object(const pb::Message& msg, const TypeMeta* type) {
    out_->push_back('{');
    bool first = true;
    if (type != nullptr) {
      Key("apiVersion", &first);
      AppendJsonString(type->api_version, out_);
      Key("kind", &first);
      AppendJsonString(type->kind, out_);
    }
    Fields(msg, &first);
    out_->push_back('}');
  }

 private:
  void Key(absl::string_view name, bool* first) {
    if (!*first) out_->push_back(',');
    *first = false;
    AppendJsonString(name, out_);
    out_->push_back(':');
  }

  void Fields(const pb::Message& msg, bool* first) {
    const pb::Descriptor* d = msg.GetDescriptor();
    const pb::Reflection* r = msg.GetReflection();
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (f->is_repeated() ? r->FieldSize(msg, f) == 0 : !r->HasField(msg, f)) continue;
      if (IsInline(f)) {
        Fields(r->GetMessage(msg, f), first);
        continue;
      }
      Key(f->name(), first);
      if (f->is_map()) {
        Map(msg, f);
      } else if (f->is_repeated()) {
        out_->push_back('[');
        for (int j = 0; j < r->FieldSize(msg, f); ++j) {
          if (j > 0) out_->push_back(',');
          Value(msg, f, j);
        }
        out_->push_back(']');
      } else {
        Value(msg, f, -1);
      }
    }
  }

  // Map entries sorted by key, so that the output is deterministic.
  void Map(const pb::Message& msg, const FieldDescriptor* f) {
    const pb::Reflection* r = msg.GetReflection();
    std::vector<std::pair<std::string, const pb::Message*>> entries;
    for (int j = 0; j < r->FieldSize(msg, f); ++j) {
      const pb::Message& entry = r->GetRepeatedMessage(msg, f, j);
      const FieldDescriptor* key = entry.GetDescriptor()->map_key();
      entries.emplace_back(ScalarText(entry, key, -1), &entry);
    }
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    out_->push_back('{');
    bool first = true;
    for (const auto& [key, entry] : entries) {
      Key(key, &first);
      Value(*entry, entry->GetDescriptor()->map_value(), -1);
    }
    out_->push_back('}');
  }

  // A string, integer or bool field as text (for map keys).
  static std::string ScalarText(const pb::Message& msg, const FieldDescriptor* f, int index) {
    const pb::Reflection* r = msg.GetReflection();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        return index < 0 ? r->GetString(msg, f) : r->GetRepeatedString(msg, f, index);
      case FieldDescriptor::CPPTYPE_INT32:
        return absl::StrCat(index < 0 ? r->GetInt32(msg, f) : r->GetRepeatedInt32(msg, f, index));
      case FieldDescriptor::CPPTYPE_INT64:
        return absl::StrCat(index < 0 ? r->GetInt64(msg, f) : r->GetRepeatedInt64(msg, f, index));
      case FieldDescriptor::CPPTYPE_UINT32:
        return absl::StrCat(index < 0 ? r->GetUInt32(msg, f)
                                      : r->GetRepeatedUInt32(msg, f, index));
      case FieldDescriptor::CPPTYPE_UINT64:
        return absl::StrCat(index < 0 ? r->GetUInt64(msg, f)
                                      : r->GetRepeatedUInt64(msg, f, index));
      case FieldDescriptor::CPPTYPE_BOOL:
        return (index < 0 ? r->GetBool(msg, f) : r->GetRepeatedBool(msg, f, index)) ? "true"
                                                                                    : "false";
      default:
        return "";
    }
  }

  // One value of field `f`: the singular value, or element `index`.
  void Value(const pb::Message& msg, const FieldDescriptor* f, int index) {
    const pb::Reflection* r = msg.GetReflection();
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_MESSAGE:
        Message(index < 0 ? r->GetMessage(msg, f) : r->GetRepeatedMessage(msg, f, index));
        return;
      case FieldDescriptor::CPPTYPE_STRING: {
        const std::string s =
            index < 0 ? r->GetString(msg, f) : r->GetRepeatedString(msg, f, index);
        AppendJsonString(f->type() == FieldDescriptor::TYPE_BYTES ? absl::Base64Escape(s) : s,
                         out_);
        return;
      }
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        const double v = f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE
                             ? (index < 0 ? r->GetDouble(msg, f)
                                          : r->GetRepeatedDouble(msg, f, index))
                             : (index < 0 ? r->GetFloat(msg, f)
                                          : r->GetRepeatedFloat(msg, f, index));
        if (std::isfinite(v)) {
          absl::StrAppendFormat(out_, "%.17g", v);
        } else {
          out_->append("null");
        }
        return;
      }
      case FieldDescriptor::CPPTYPE_ENUM:
        AppendJsonString(
            (index < 0 ? r->GetEnum(msg, f) : r->GetRepeatedEnum(msg, f, index))->name(), out_);
        return;
      default:
        out_->append(ScalarText(msg, f, index));
    }
  }

  // A message, or one of the types whose JSON form is not an object.
  void Message(const pb::Message& m) {
    const pb::Descriptor* d = m.GetDescriptor();
    const pb::Reflection* r = m.GetReflection();
    const absl::string_view type = d->full_name();
    if (type == kQuantity) {
      AppendJsonString(r->GetString(m, d->FindFieldByName("string")), out_);
    } else if (type == kTime || type == kMicroTime) {
      const absl::Time t =
          absl::FromUnixSeconds(r->GetInt64(m, d->FindFieldByName("seconds"))) +
          absl::Nanoseconds(r->GetInt32(m, d->FindFieldByName("nanos")));
      AppendJsonString(type == kTime ? TimeString(t) : MicroTimeString(t), out_);
    } else if (type == kIntOrString) {
      if (r->GetInt64(m, d->FindFieldByName("type")) == 1) {
        AppendJsonString(r->GetString(m, d->FindFieldByName("strVal")), out_);
      } else {
        absl::StrAppend(out_, r->GetInt32(m, d->FindFieldByName("intVal")));
      }
    } else if (type == kRawExtension) {
      // JSON (what an API server sends) goes in as is; anything else, such
      // as api/decode's YAML form, as a string.
      const std::string raw = r->GetString(m, d->FindFieldByName("raw"));
      if (nlohmann::json::accept(raw)) {
        out_->append(raw);
      } else {
        AppendJsonString(raw, out_);
      }
    } else {
      Object(m, nullptr);
    }
  }

  std::string* out_;
};

// The event types of meta/v1 WatchEvent.
absl::Status CheckEventType(absl::string_view type) {
  for (absl::string_view known : kWatchEventTypes) {
    if (type == known) return absl::OkStatus();
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown watch event type ", Quote(type)));
}

}  // namespace

std::string TimeString(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

std::string MicroTimeString(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", t, absl::UTCTimeZone());
}

bool JsonNestsDeeperThan(absl::string_view text, int max) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

absl::StatusOr<TypeMeta> TypeMetaOf(const pb::Descriptor* descriptor) {
  // Kinds have metadata (ObjectMeta, or ListMeta for lists and Status);
  // PodSpec and the like are parts of kinds.
  const FieldDescriptor* metadata = descriptor->FindFieldByName("metadata");
  if (metadata == nullptr || metadata->message_type() == nullptr ||
      (metadata->message_type()->full_name() != absl::StrCat(kMetaPackage, ".ObjectMeta") &&
       metadata->message_type()->full_name() != absl::StrCat(kMetaPackage, ".ListMeta"))) {
    return absl::NotFoundError(
        absl::StrCat(descriptor->full_name(), " is not a Kubernetes API kind"));
  }
  const absl::string_view package = descriptor->file()->package();
  if (package == kMetaPackage) return TypeMeta{"v1", descriptor->name()};
  if (!absl::StartsWith(package, kApiPackagePrefix)) {
    return absl::NotFoundError(
        absl::StrCat(descriptor->full_name(), " is not a Kubernetes API kind"));
  }
  const std::vector<absl::string_view> parts =
      absl::StrSplit(package.substr(kApiPackagePrefix.size()), '.');
  if (parts.size() != 2) {
    return absl::NotFoundError(
        absl::StrCat(descriptor->full_name(), " is not a Kubernetes API kind"));
  }
  const absl::string_view group = parts[0];
  const absl::string_view version = parts[1];
  if (group == "core") return TypeMeta{std::string(version), descriptor->name()};
  // The groups that predate the ".k8s.io" suffix keep their short names.
  const bool short_name = group == "apps" || group == "batch" || group == "autoscaling" ||
                          group == "policy" || group == "extensions";
  const std::string full_group = group == "rbac"   ? "rbac.authorization.k8s.io"
                                 : short_name ? std::string(group)
                                              : absl::StrCat(group, ".k8s.io");
  return TypeMeta{absl::StrCat(full_group, "/", version), descriptor->name()};
}

bool HasProtobuf(const pb::Descriptor* descriptor) {
  return absl::StartsWith(descriptor->full_name(), "k8s.io.");
}

std::string MediaType(absl::string_view content_type) {
  const absl::string_view type = content_type.substr(0, content_type.find(';'));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(type));
}

namespace {

// Upstream's generated marshalling writes map entries (labels, annotations,
// resource lists) sorted by key; protobuf's default order is its hash
// order, which differs from run to run. Deterministic serialization sorts
// map keys, so the same object gives the same bytes, as upstream's do.
std::string SerializeSorted(const pb::Message& message) {
  std::string bytes;
  {
    pb::io::StringOutputStream stream(&bytes);
    pb::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    message.SerializeToCodedStream(&coded);
  }
  return bytes;
}

}  // namespace

absl::StatusOr<std::string> EncodeProtobuf(const pb::Message& object) {
  absl::StatusOr<TypeMeta> type = TypeMetaOf(object.GetDescriptor());
  if (!type.ok()) return type.status();
  runtime::Unknown unknown;
  unknown.mutable_typemeta()->set_apiversion(type->api_version);
  unknown.mutable_typemeta()->set_kind(type->kind);
  unknown.set_raw(SerializeSorted(object));
  // Upstream's generated marshalling writes these even when empty.
  unknown.set_contentencoding("");
  unknown.set_contenttype("");
  return absl::StrCat(kProtobufMagic, unknown.SerializeAsString());
}

namespace {

// Deeper than protobuf's own parser goes (its recursion limit is 100).
constexpr int kMaxScanDepth = 100;

bool ScanForUnknownFields(const pb::Descriptor* type, absl::string_view bytes, int depth) {
  if (depth > kMaxScanDepth) return true;
  using pb::internal::WireFormatLite;
  pb::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()),
                              static_cast<int>(bytes.size()));
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return !in.ConsumedEntireMessage();
    const pb::FieldDescriptor* field =
        type->FindFieldByNumber(WireFormatLite::GetTagFieldNumber(tag));
    if (field == nullptr) return true;
    const WireFormatLite::WireType wire_type = WireFormatLite::GetTagWireType(tag);
    // The parser keeps a declared field in a wire type other than its own
    // (or, for a packable repeated field, the packed one) as unknown. An
    // enum value it does not know goes there too (api/*.proto has no
    // enums); groups are not worth reading (nor has it any).
    if (field->type() == pb::FieldDescriptor::TYPE_ENUM ||
        field->type() == pb::FieldDescriptor::TYPE_GROUP) {
      return true;
    }
    const bool packed =
        field->is_packable() && wire_type == WireFormatLite::WIRETYPE_LENGTH_DELIMITED;
    if (!packed && wire_type != pb::internal::WireFormat::WireTypeForFieldType(field->type())) {
      return true;
    }
    if (field->type() != pb::FieldDescriptor::TYPE_MESSAGE) {
      if (!WireFormatLite::SkipField(&in, tag)) return true;
      continue;
    }
    uint32_t length;
    if (!in.ReadVarint32(&length)) return true;
    const size_t offset = static_cast<size_t>(in.CurrentPosition());
    if (offset + length > bytes.size() || !in.Skip(static_cast<int>(length))) return true;
    if (ScanForUnknownFields(field->message_type(), bytes.substr(offset, length), depth + 1)) {
      return true;
    }
  }
}

}  // namespace

bool HasUnknownFields(const pb::Descriptor* type, absl::string_view bytes) {
  return ScanForUnknownFields(type, bytes, 0);
}

void DiscardUnknownFields(absl::string_view bytes, pb::Message* message) {
  if (HasUnknownFields(message->GetDescriptor(), bytes)) message->DiscardUnknownFields();
}

absl::Status DecodeProtobuf(absl::string_view body, pb::Message* out, absl::string_view what) {
  Envelope envelope;
  if (absl::Status s = Unwrap(body, what, &envelope); !s.ok()) return s;
  const std::string& kind = envelope.kind;
  const std::string& want = out->GetDescriptor()->name();
  const absl::string_view raw = envelope.raw;
  if (!kind.empty() && kind != want) {
    meta::Status status;
    if (kind == "Status" && status.ParseFromArray(raw.data(), static_cast<int>(raw.size()))) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": expected a ", want,
                                                     ", got a Status: ", status.message()));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": expected kind ", want, ", got ", Quote(kind)));
  }
  if (!out->ParseFromArray(raw.data(), static_cast<int>(raw.size()))) {
    const std::string description = DescribeParseFailure(*out, want, raw);
    out->Clear();
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", description));
  }
  // Upstream's objects carry fields api/*.proto leaves out (managedFields
  // above all); an informer's cache should not keep them.
  DiscardUnknownFields(raw, out);
  return absl::OkStatus();
}

absl::Status DecodeProtobufList(absl::string_view body, absl::string_view item_kind,
                                meta::ListMeta* list_meta,
                                const std::function<void(absl::string_view item)>& item,
                                absl::string_view what) {
  Envelope envelope;
  if (absl::Status s = Unwrap(body, what, &envelope); !s.ok()) return s;
  const std::string want = absl::StrCat(item_kind, "List");
  const absl::string_view raw = envelope.raw;
  if (envelope.kind != want) {
    meta::Status status;
    if (envelope.kind == "Status" &&
        status.ParseFromArray(raw.data(), static_cast<int>(raw.size()))) {
      return absl::InvalidArgumentError(absl::StrCat(what, ": expected a ", want,
                                                     ", got a Status: ", status.message()));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(what, ": expected kind ", want, ", got ", Quote(envelope.kind)));
  }
  // List{metadata = 1, items = 2}: walked field by field, so that one item
  // that does not parse costs only that item.
  pb::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(raw.data()),
                              static_cast<int>(raw.size()));
  using pb::internal::WireFormatLite;
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) break;
    const int field = WireFormatLite::GetTagFieldNumber(tag);
    if (WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED ||
        (field != 1 && field != 2)) {
      if (!WireFormatLite::SkipField(&in, tag)) break;
      continue;
    }
    uint32_t length;
    if (!in.ReadVarint32(&length)) break;
    const size_t offset = static_cast<size_t>(in.CurrentPosition());
    if (offset + length > raw.size() || !in.Skip(static_cast<int>(length))) break;
    const absl::string_view value = raw.substr(offset, length);
    if (field == 1) {
      if (!list_meta->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
        return absl::InvalidArgumentError(absl::StrCat(what, ": ", want, ": malformed metadata"));
      }
    } else {
      item(value);
    }
  }
  if (!in.ConsumedEntireMessage()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": ", want, ": malformed protobuf"));
  }
  return absl::OkStatus();
}

std::string ItemNameOf(absl::string_view object) { return NameIn(object); }

std::string EncodeJson(const pb::Message& object) {
  std::string out;
  JsonWriter writer(&out);
  absl::StatusOr<TypeMeta> type = TypeMetaOf(object.GetDescriptor());
  writer.Object(object, type.ok() ? &*type : nullptr);
  return out;
}

absl::Status DecodeJson(absl::string_view body, pb::Message* out, absl::string_view what) {
  if (absl::StripAsciiWhitespace(body).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(what, ": empty body"));
  }
  return api::DecodeInto(body, out, what);
}

absl::Status Decode(absl::string_view content_type, absl::string_view body, pb::Message* out,
                    absl::string_view what) {
  const std::string media = MediaType(content_type);
  if (media == kContentTypeProtobuf) return DecodeProtobuf(body, out, what);
  if (media.empty() || media == kContentTypeJson || media == "application/yaml") {
    return DecodeJson(body, out, what);
  }
  return absl::InvalidArgumentError(absl::StrCat(what, ": unexpected content type ",
                                                 Quote(content_type), ", body ", Quote(body)));
}

absl::StatusOr<std::string> EncodeFor(absl::string_view content_type, const pb::Message& object) {
  const std::string media = MediaType(content_type);
  if (media == kContentTypeProtobuf) return EncodeProtobuf(object);
  if (media == kContentTypeJson) return EncodeJson(object);
  return absl::InvalidArgumentError(
      absl::StrCat("cannot encode as ", Quote(content_type)));
}

std::string StatusMessageOf(absl::string_view body) {
  if (absl::StartsWith(body, kProtobufMagic)) {
    meta::Status status;
    return DecodeProtobuf(body, &status, "").ok() ? status.message() : "";
  }
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_object() && j.value("kind", "") == "Status" && j.contains("message") &&
      j["message"].is_string()) {
    return j["message"].get<std::string>();
  }
  return "";
}

// --- Watch streams ----------------------------------------------------------

absl::StatusOr<WatchFormat> WatchFormatOf(absl::string_view content_type) {
  const std::string media = MediaType(content_type);
  if (media == kContentTypeProtobuf) return WatchFormat::kLengthDelimited;
  if (media == kContentTypeJson) return WatchFormat::kJsonLines;
  return absl::InvalidArgumentError(
      absl::StrCat("not a watch stream: content type ", Quote(content_type)));
}

absl::StatusOr<std::string> EncodeWatchFrame(WatchFormat format, absl::string_view type,
                                             const pb::Message& object) {
  if (format == WatchFormat::kJsonLines) {
    std::string out = "{\"type\":";
    AppendJsonString(type, &out);
    absl::StrAppend(&out, ",\"object\":", EncodeJson(object), "}\n");
    return out;
  }
  absl::StatusOr<std::string> raw = EncodeProtobuf(object);
  if (!raw.ok()) return raw.status();
  meta::WatchEvent event;
  event.set_type(std::string(type));
  event.mutable_object()->set_raw(*std::move(raw));
  const std::string bytes = event.SerializeAsString();
  const uint32_t n = static_cast<uint32_t>(bytes.size());
  const char length[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                          static_cast<char>(n >> 8), static_cast<char>(n)};
  return absl::StrCat(absl::string_view(length, 4), bytes);
}

WatchDecoder::WatchDecoder(WatchFormat format, const pb::Message& prototype, std::string what)
    : format_(format), prototype_(prototype), what_(std::move(what)) {}

std::string WatchDecoder::EventContext() const {
  return absl::StrCat(what_, ": event ", events_ + 1);
}

absl::Status WatchDecoder::Feed(absl::string_view chunk, const Sink& sink) {
  if (!failed_.ok()) return failed_;
  // Drop what was consumed once it is most of the buffer, so a long stream
  // neither grows the buffer nor copies it for every chunk.
  if (start_ > 0 && start_ * 2 >= buffer_.size()) {
    buffer_.erase(0, start_);
    start_ = 0;
  }
  const size_t scanned = buffer_.size();  // no newline before this
  buffer_.append(chunk.data(), chunk.size());
  size_t scan_from = scanned;
  while (failed_.ok()) {
    const absl::string_view pending = absl::string_view(buffer_).substr(start_);
    absl::string_view frame;
    if (format_ == WatchFormat::kLengthDelimited) {
      if (pending.size() < 4) break;
      const uint32_t length = (static_cast<uint32_t>(static_cast<uint8_t>(pending[0])) << 24) |
                              (static_cast<uint32_t>(static_cast<uint8_t>(pending[1])) << 16) |
                              (static_cast<uint32_t>(static_cast<uint8_t>(pending[2])) << 8) |
                              static_cast<uint32_t>(static_cast<uint8_t>(pending[3]));
      if (length > kMaxWatchFrameBytes) {
        failed_ = absl::InvalidArgumentError(absl::StrCat(
            EventContext(), ": a frame of ", length,
            " bytes: object to decode was longer than maximum allowed size (",
            kMaxWatchFrameBytes, ")"));
        break;
      }
      if (pending.size() - 4 < length) break;
      frame = pending.substr(4, length);
      start_ += 4 + length;
    } else {
      const size_t newline = buffer_.find('\n', std::max(scan_from, start_));
      if (newline == std::string::npos) break;
      frame = absl::string_view(buffer_).substr(start_, newline - start_);
      start_ = newline + 1;
      scan_from = start_;
      if (absl::StripAsciiWhitespace(frame).empty()) continue;
    }
    failed_ = DecodeFrame(frame, sink);
  }
  return failed_;
}

absl::Status WatchDecoder::Finish(const Sink& sink) {
  if (!failed_.ok()) return failed_;
  const absl::string_view pending = absl::string_view(buffer_).substr(start_);
  if (format_ == WatchFormat::kJsonLines) {
    const absl::string_view rest = absl::StripAsciiWhitespace(pending);
    if (rest.empty()) return absl::OkStatus();
    if (sink != nullptr && !JsonNestsDeeperThan(rest, kMaxJsonDepth) && nlohmann::json::accept(rest)) {
      start_ = buffer_.size();
      failed_ = DecodeFrame(rest, sink);
      return failed_;
    }
    failed_ = absl::DataLossError(absl::StrCat(EventContext(), ": the stream ended inside the event (",
                                               pending.size(), " bytes after the last newline)"));
    return failed_;
  }
  if (pending.empty()) return absl::OkStatus();
  if (pending.size() < 4) {
    failed_ = absl::DataLossError(absl::StrCat(EventContext(),
                                               ": the stream ended inside a frame's length (",
                                               pending.size(), " of 4 bytes)"));
    return failed_;
  }
  const uint32_t length = (static_cast<uint32_t>(static_cast<uint8_t>(pending[0])) << 24) |
                          (static_cast<uint32_t>(static_cast<uint8_t>(pending[1])) << 16) |
                          (static_cast<uint32_t>(static_cast<uint8_t>(pending[2])) << 8) |
                          static_cast<uint32_t>(static_cast<uint8_t>(pending[3]));
  failed_ = absl::DataLossError(absl::StrCat(EventContext(), ": the stream ended inside the frame (",
                                             pending.size() - 4, " of ", length, " bytes)"));
  return failed_;
}

absl::Status WatchDecoder::DecodeFrame(absl::string_view frame, const Sink& sink) {
  DecodedEvent event;
  absl::Status s = format_ == WatchFormat::kJsonLines ? DecodeJsonFrame(frame, &event)
                                                      : DecodeProtobufFrame(frame, &event);
  if (!s.ok()) {
    if (on_bad_frame_ == nullptr) return s;
    ++events_;
    return on_bad_frame_(std::move(s));
  }
  ++events_;
  return sink(std::move(event));
}

absl::Status WatchDecoder::MakeEvent(std::string type, DecodedEvent* event) const {
  if (absl::Status s = CheckEventType(type); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(EventContext(), ": ", s.message()));
  }
  event->object.reset(type == "ERROR" ? new meta::Status() : prototype_.New());
  event->type = std::move(type);
  return absl::OkStatus();
}

absl::Status WatchDecoder::DecodeJsonFrame(absl::string_view line, DecodedEvent* event) {
  if (JsonNestsDeeperThan(line, kMaxJsonDepth)) {
    return absl::InvalidArgumentError(absl::StrCat(
        EventContext(), ": a watch event nested deeper than ", kMaxJsonDepth, " levels"));
  }
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("type") || !j["type"].is_string() || !j.contains("object") ||
      !j["object"].is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(
        EventContext(), ": not a watch event {\"type\": ..., \"object\": {...}}: ", Quote(line)));
  }
  if (absl::Status s = MakeEvent(j["type"].get<std::string>(), event); !s.ok()) return s;
  // "GET ...: event 3: MODIFIED Pod ns/web-1"
  std::string context = absl::StrCat(EventContext(), ": ", event->type, " ",
                                     event->object->GetDescriptor()->name());
  if (const auto meta = j["object"].find("metadata"); meta != j["object"].end() && meta->is_object()) {
    const auto name = meta->find("name");
    const auto ns = meta->find("namespace");
    if (name != meta->end() && name->is_string()) {
      absl::StrAppend(&context, " ",
                      ns != meta->end() && ns->is_string() && !ns->get<std::string>().empty()
                          ? absl::StrCat(ns->get<std::string>(), "/")
                          : "",
                      name->get<std::string>());
    }
  }
  return api::DecodeJsonInto(j["object"], event->object.get(), context);
}

absl::Status WatchDecoder::DecodeProtobufFrame(absl::string_view frame, DecodedEvent* event) {
  meta::WatchEvent wire;
  if (!wire.ParseFromArray(frame.data(), static_cast<int>(frame.size()))) {
    return absl::InvalidArgumentError(
        absl::StrCat(EventContext(), ": malformed WatchEvent: ", Quote(frame)));
  }
  if (absl::Status s = MakeEvent(wire.type(), event); !s.ok()) return s;
  return DecodeProtobuf(wire.object().raw(), event->object.get(), EventContext());
}

}  // namespace kestrel::kube
