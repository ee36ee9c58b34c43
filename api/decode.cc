// The decoder is a descriptor walk over a node tree: yaml-cpp's for YAML,
// api/json_document's (simdjson) for JSON files. One template, two front
// ends, so both read a field by the same rules and fail with the same
// words. Kubernetes protobuf files are parsed by protobuf itself. Everything
// that can go wrong on input becomes an absl::Status; yaml-cpp's exceptions
// stop at this file.

#include "api/decode.h"

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "api/apps.pb.h"
#include "api/batch.pb.h"
#include "api/coordination.pb.h"
#include "api/core.pb.h"
#include "api/json_document.h"
#include "api/policy.pb.h"
#include "api/quantity.h"
#include "api/runtime.pb.h"
#include "api/scheduling.pb.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"
#include "google/protobuf/message.h"
#include "yaml-cpp/anchor.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/yaml.h"

namespace kestrel::api {
namespace {

namespace pb = google::protobuf;
using pb::FieldDescriptor;

// Deeper than any Kubernetes object; stops recursion on hostile input.
constexpr int kMaxDepth = 200;
// Aliases let a small file name a huge tree ("billion laughs"). Real files
// need about one node visit per few bytes, so this only stops expansion.
constexpr int64_t kMinNodeBudget = 1'000'000;
constexpr int64_t kNodeBudgetPerByte = 16;

// What a Kubernetes protobuf object starts with (application/vnd.kubernetes.protobuf).
constexpr absl::string_view kProtobufMagic("k8s\0", 4);

constexpr absl::string_view kQuantity =
    "k8s.io.apimachinery.pkg.api.resource.Quantity";
constexpr absl::string_view kTime = "k8s.io.apimachinery.pkg.apis.meta.v1.Time";
constexpr absl::string_view kMicroTime =
    "k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime";
constexpr absl::string_view kIntOrString =
    "k8s.io.apimachinery.pkg.util.intstr.IntOrString";
constexpr absl::string_view kRawExtension =
    "k8s.io.apimachinery.pkg.runtime.RawExtension";

// Fields that Go embeds with `json:",inline"`: their members appear directly
// in the parent object.
constexpr absl::string_view kInlineFields[] = {
    "k8s.io.api.core.v1.Volume.volumeSource",
};

bool IsInline(const FieldDescriptor* field) {
  for (absl::string_view name : kInlineFields) {
    if (field->full_name() == name) return true;
  }
  return false;
}

// The top-level kinds we decode, with the API group they must come from.
struct KnownKind {
  absl::string_view kind;
  absl::string_view group;
  const pb::Message* prototype;
};

const std::vector<KnownKind>& KnownKinds() {
  namespace core = ::k8s::io::api::core::v1;
  static const auto* kinds = new std::vector<KnownKind>{
      {"Pod", "", &core::Pod::default_instance()},
      {"Node", "", &core::Node::default_instance()},
      {"Namespace", "", &core::Namespace::default_instance()},
      {"Binding", "", &core::Binding::default_instance()},
      {"Event", "", &core::Event::default_instance()},
      {"PriorityClass", "scheduling.k8s.io",
       &::k8s::io::api::scheduling::v1::PriorityClass::default_instance()},
      {"PodDisruptionBudget", "policy",
       &::k8s::io::api::policy::v1::PodDisruptionBudget::default_instance()},
      {"Lease", "coordination.k8s.io",
       &::k8s::io::api::coordination::v1::Lease::default_instance()},
      // Workloads, which the simulator expands into pods.
      {"Deployment", "apps", &::k8s::io::api::apps::v1::Deployment::default_instance()},
      {"ReplicaSet", "apps", &::k8s::io::api::apps::v1::ReplicaSet::default_instance()},
      {"StatefulSet", "apps", &::k8s::io::api::apps::v1::StatefulSet::default_instance()},
      {"DaemonSet", "apps", &::k8s::io::api::apps::v1::DaemonSet::default_instance()},
      {"Job", "batch", &::k8s::io::api::batch::v1::Job::default_instance()},
      {"CronJob", "batch", &::k8s::io::api::batch::v1::CronJob::default_instance()},
  };
  return *kinds;
}

// "policy/v1" -> "policy"; "v1" -> "".
absl::string_view GroupOf(absl::string_view api_version) {
  const size_t slash = api_version.rfind('/');
  return slash == absl::string_view::npos ? "" : api_version.substr(0, slash);
}

// Returns the prototype for kind/apiVersion, or null for kinds we skip. An
// empty apiVersion matches by kind alone.
const pb::Message* PrototypeFor(absl::string_view kind,
                                absl::string_view api_version) {
  for (const KnownKind& known : KnownKinds()) {
    if (known.kind == kind &&
        (api_version.empty() || GroupOf(api_version) == known.group)) {
      return known.prototype;
    }
  }
  return nullptr;
}

// --- Node helpers -----------------------------------------------------------

// The decoder below is a template over the document's node type: YAML::Node
// for YAML (and JSON that yaml-cpp parsed from an API server answer), and
// JsonRef for JSON files parsed by simdjson. Both offer IsNull, IsMap,
// IsSequence, IsScalar, Scalar and iteration (pairs for maps); the rest of
// what differs is in the overloads here.

// A plain scalar is unquoted: `5` may be a number, `"5"` is a string.
bool IsPlainScalar(const YAML::Node& node) {
  return node.IsScalar() && node.Tag() != "!";
}
bool IsPlainScalar(const JsonRef& node) { return node.IsScalar() && !node.IsQuoted(); }

template <typename Node>
std::string Describe(const Node& node) {
  if (node.IsMap()) return "an object";
  if (node.IsSequence()) return "a list";
  if (!node.IsScalar()) return "null";
  // Quoted and escaped, so that an error stays one readable line.
  constexpr size_t kMaxShown = 64;
  const absl::string_view text = node.Scalar();
  return absl::StrCat("\"", absl::CHexEscape(text.substr(0, kMaxShown)),
                      text.size() > kMaxShown ? "...\"" : "\"");
}

// Looks `key` up in a mapping without yaml-cpp's throwing operator[].
template <typename Node>
Node FindKey(const Node& map, absl::string_view key) {
  if (!map.IsMap()) return Node();
  for (const auto& pair : map) {
    if (pair.first.IsScalar() && absl::string_view(pair.first.Scalar()) == key) {
      return pair.second;
    }
  }
  return Node();
}

// The scalar's text escaped for a one-line message; "" for other nodes.
template <typename Node>
std::string ScalarOrEmpty(const Node& node) {
  return node.IsScalar() ? absl::CHexEscape(node.Scalar()) : "";
}

// go-yaml (YAML 1.1) booleans, which Kubernetes accepts, plus JSON's.
bool ParseYamlBool(absl::string_view text, bool* out) {
  static constexpr absl::string_view kTrue[] = {
      "true", "True", "TRUE", "yes", "Yes", "YES", "y", "Y", "on", "On", "ON"};
  static constexpr absl::string_view kFalse[] = {
      "false", "False", "FALSE", "no", "No", "NO", "n", "N", "off", "Off", "OFF"};
  for (absl::string_view t : kTrue) {
    if (text == t) return *out = true, true;
  }
  for (absl::string_view f : kFalse) {
    if (text == f) return *out = false, true;
  }
  return false;
}

// An optional sign and decimal digits, as JSON and YAML integers are.
bool IsIntegerText(absl::string_view text) {
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
  if (text.empty()) return false;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Splits an absl::Time into protobuf-style seconds and non-negative nanos.
void SplitTime(absl::Time t, int64_t* seconds, int32_t* nanos) {
  *seconds = absl::ToUnixSeconds(t);
  *nanos = static_cast<int32_t>(
      absl::ToInt64Nanoseconds(t - absl::FromUnixSeconds(*seconds)));
}

// --- MessageDecoder ---------------------------------------------------------

// A RawExtension's value as text that DecodeInto reads back: flow-style
// YAML from YAML, JSON from JSON.
absl::StatusOr<std::string> Reencode(const YAML::Node& node) {
  YAML::Emitter out;
  out.SetMapFormat(YAML::Flow);
  out.SetSeqFormat(YAML::Flow);
  out << node;
  if (!out.good()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot re-encode: ", out.GetLastError()));
  }
  return std::string(out.c_str(), out.size());
}

void AppendJsonString(absl::string_view text, std::string* out) {
  out->push_back('"');
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out->push_back('\\');
      out->push_back(c);
    } else if (static_cast<unsigned char>(c) < 0x20) {
      absl::StrAppend(out, "\\u00", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
    } else {
      out->push_back(c);
    }
  }
  out->push_back('"');
}

// Depth is bounded by CheckTree before this runs.
void AppendJson(const JsonRef& node, std::string* out) {
  if (node.IsMap()) {
    out->push_back('{');
    bool first = true;
    for (const JsonEntry& member : node) {
      if (!first) out->push_back(',');
      first = false;
      AppendJsonString(member.first.Scalar(), out);
      out->push_back(':');
      AppendJson(member.second, out);
    }
    out->push_back('}');
  } else if (node.IsSequence()) {
    out->push_back('[');
    bool first = true;
    for (const JsonEntry& element : node) {
      if (!first) out->push_back(',');
      first = false;
      AppendJson(element, out);
    }
    out->push_back(']');
  } else if (node.IsQuoted()) {
    AppendJsonString(node.Scalar(), out);
  } else if (node.IsNull()) {
    out->append("null");
  } else {
    out->append(node.Scalar().data(), node.Scalar().size());
  }
}

absl::StatusOr<std::string> Reencode(const JsonRef& node) {
  std::string out;
  AppendJson(node, &out);
  return out;
}

// Decodes one node tree into one message. Errors name the field path.
template <typename Node>
class MessageDecoder {
 public:
  explicit MessageDecoder(int64_t node_budget) : budget_(node_budget) {}

  absl::Status Decode(const Node& node, pb::Message* msg) {
    path_.clear();
    return DecodeMessage(node, msg, /*depth=*/0);
  }

 private:
  // Appends a path segment for the lifetime of the scope.
  class PathScope {
   public:
    PathScope(std::string* path, absl::string_view field)
        : path_(path), size_(path->size()) {
      if (!path->empty()) path->push_back('.');
      // Map keys are user text; most need no escaping, and this runs for
      // every key of every object.
      if (std::all_of(field.begin(), field.end(), [](char c) {
            return c >= 0x20 && c < 0x7F && c != '"' && c != '\'' && c != '\\';
          })) {
        path->append(field.data(), field.size());
      } else {
        path->append(absl::CHexEscape(field));
      }
    }
    PathScope(std::string* path, int index) : path_(path), size_(path->size()) {
      absl::StrAppend(path, "[", index, "]");
    }
    ~PathScope() { path_->resize(size_); }

   private:
    std::string* path_;
    size_t size_;
  };

  absl::Status Error(absl::string_view message) const {
    return absl::InvalidArgumentError(
        path_.empty() ? std::string(message) : absl::StrCat(path_, ": ", message));
  }

  absl::Status TypeError(absl::string_view expected, const Node& node) const {
    return Error(absl::StrCat("expected ", expected, ", got ", Describe(node)));
  }

  // Charges one node visit and checks the nesting depth.
  absl::Status Enter(int depth) {
    if (depth > kMaxDepth) {
      return Error(absl::StrCat("nested deeper than ", kMaxDepth, " levels"));
    }
    if (--budget_ < 0) {
      return Error("document expands to too many nodes (alias expansion?)");
    }
    return absl::OkStatus();
  }

  absl::Status DecodeMessage(const Node& node, pb::Message* msg, int depth);
  absl::Status DecodeKey(absl::string_view key, const Node& value,
                         pb::Message* msg, int depth);
  absl::Status DecodeField(const Node& node, pb::Message* msg,
                           const FieldDescriptor* field, int depth);
  absl::Status DecodeRepeated(const Node& node, pb::Message* msg,
                              const FieldDescriptor* field, int depth);
  absl::Status DecodeMap(const Node& node, pb::Message* msg,
                         const FieldDescriptor* field, int depth);
  absl::Status DecodeValue(const Node& node, pb::Message* msg,
                           const FieldDescriptor* field, int depth);
  absl::Status DecodeScalar(const Node& node, pb::Message* msg,
                            const FieldDescriptor* field);

  // Types whose JSON form is not an object.
  absl::Status DecodeQuantity(const Node& node, pb::Message* msg);
  absl::Status DecodeTime(const Node& node, pb::Message* msg);
  absl::Status DecodeIntOrString(const Node& node, pb::Message* msg);
  absl::Status DecodeRawExtension(const Node& node, pb::Message* msg,
                                  int depth);
  // Walks a subtree only to charge its size and depth.
  absl::Status CheckTree(const Node& node, int depth);

  template <typename T>
  absl::Status ParseInteger(const Node& node, absl::string_view type_name,
                            T* out) const;

  std::string path_;
  // DecodeKey's lookups, per message type and key, for the whole stream:
  // the field, or the inline field whose message has it, or neither.
  struct KeyField {
    const FieldDescriptor* field = nullptr;
    const FieldDescriptor* inline_field = nullptr;
  };
  using KeyFields = absl::flat_hash_map<std::string, KeyField>;
  KeyField Lookup(const pb::Descriptor* descriptor, absl::string_view key);
  absl::flat_hash_map<const pb::Descriptor*, KeyFields> key_fields_;
  int64_t budget_;
};

template <typename Node>
absl::Status MessageDecoder<Node>::DecodeMessage(const Node& node,
                                           pb::Message* msg, int depth) {
  if (absl::Status s = Enter(depth); !s.ok()) return s;
  const absl::string_view type = msg->GetDescriptor()->full_name();
  if (type == kQuantity) return DecodeQuantity(node, msg);
  if (type == kTime || type == kMicroTime) return DecodeTime(node, msg);
  if (type == kIntOrString) return DecodeIntOrString(node, msg);
  if (type == kRawExtension) return DecodeRawExtension(node, msg, depth);

  if (!node.IsMap()) return TypeError("an object", node);
  for (const auto& pair : node) {
    if (!pair.first.IsScalar()) continue;  // Not a field name: ignore.
    absl::Status s = DecodeKey(pair.first.Scalar(), pair.second, msg, depth);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

// Matches one key to a field, looking through inline fields too. Unknown keys
// are ignored, as the API server's decoder does by default.
template <typename Node>
typename MessageDecoder<Node>::KeyField MessageDecoder<Node>::Lookup(
    const pb::Descriptor* descriptor, absl::string_view key) {
  KeyFields& fields = key_fields_[descriptor];
  if (auto it = fields.find(key); it != fields.end()) return it->second;
  KeyField found;
  const std::string name(key);
  found.field = descriptor->FindFieldByName(name);
  for (int i = 0; found.field == nullptr && found.inline_field == nullptr &&
                  i < descriptor->field_count();
       ++i) {
    const FieldDescriptor* inline_field = descriptor->field(i);
    if (IsInline(inline_field) && inline_field->message_type()->FindFieldByName(name) != nullptr) {
      found.inline_field = inline_field;
    }
  }
  return fields.emplace(name, found).first->second;
}

// Matches one key to a field, looking through inline fields too. Unknown keys
// are ignored, as the API server's decoder does by default.
template <typename Node>
absl::Status MessageDecoder<Node>::DecodeKey(absl::string_view key,
                                       const Node& value,
                                       pb::Message* msg, int depth) {
  const KeyField found = Lookup(msg->GetDescriptor(), key);
  if (found.field != nullptr) {
    PathScope scope(&path_, key);
    return DecodeField(value, msg, found.field, depth);
  }
  if (found.inline_field != nullptr) {
    pb::Message* inner = msg->GetReflection()->MutableMessage(msg, found.inline_field);
    return DecodeKey(key, value, inner, depth);
  }
  return absl::OkStatus();
}

template <typename Node>
absl::Status MessageDecoder<Node>::DecodeField(const Node& node,
                                         pb::Message* msg,
                                         const FieldDescriptor* field,
                                         int depth) {
  if (node.IsNull()) return absl::OkStatus();  // null: leave unset.
  if (field->is_map()) return DecodeMap(node, msg, field, depth + 1);
  if (field->is_repeated()) return DecodeRepeated(node, msg, field, depth + 1);
  return DecodeValue(node, msg, field, depth);
}

template <typename Node>
absl::Status MessageDecoder<Node>::DecodeRepeated(const Node& node,
                                            pb::Message* msg,
                                            const FieldDescriptor* field,
                                            int depth) {
  if (absl::Status s = Enter(depth); !s.ok()) return s;
  if (!node.IsSequence()) return TypeError("a list", node);
  // Each element is charged: a list of scalars is where aliases multiply
  // cheaply (DecodeMessage charges message elements itself).
  const bool scalars = field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE;
  int index = 0;
  for (const auto& element : node) {
    PathScope scope(&path_, index++);
    if (scalars) {
      if (absl::Status s = Enter(depth + 1); !s.ok()) return s;
    }
    if (absl::Status s = DecodeValue(element, msg, field, depth); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

template <typename Node>
absl::Status MessageDecoder<Node>::DecodeMap(const Node& node, pb::Message* msg,
                                       const FieldDescriptor* field, int depth) {
  if (absl::Status s = Enter(depth); !s.ok()) return s;
  if (!node.IsMap()) return TypeError("an object", node);
  const pb::Reflection* reflection = msg->GetReflection();
  for (const auto& pair : node) {
    if (!pair.first.IsScalar()) return TypeError("a string key", pair.first);
    PathScope scope(&path_, pair.first.Scalar());
    pb::Message* entry = reflection->AddMessage(msg, field);
    const pb::Descriptor* entry_type = entry->GetDescriptor();
    if (absl::Status s = DecodeScalar(pair.first, entry, entry_type->map_key());
        !s.ok()) {
      return s;
    }
    if (pair.second.IsNull()) continue;  // null value: the zero value.
    if (absl::Status s = DecodeValue(pair.second, entry, entry_type->map_value(), depth);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// Sets a singular field, or appends to a repeated one.
template <typename Node>
absl::Status MessageDecoder<Node>::DecodeValue(const Node& node,
                                         pb::Message* msg,
                                         const FieldDescriptor* field,
                                         int depth) {
  if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
    return DecodeScalar(node, msg, field);
  }
  const pb::Reflection* reflection = msg->GetReflection();
  pb::Message* child = field->is_repeated() ? reflection->AddMessage(msg, field)
                                            : reflection->MutableMessage(msg, field);
  if (node.IsNull()) return absl::OkStatus();  // A null list element.
  return DecodeMessage(node, child, depth + 1);
}

template <typename Node>
template <typename T>
absl::Status MessageDecoder<Node>::ParseInteger(const Node& node,
                                          absl::string_view type_name,
                                          T* out) const {
  if (!IsPlainScalar(node) || !IsIntegerText(node.Scalar())) {
    return TypeError(absl::StrCat("an integer (", type_name, ")"), node);
  }
  if (!absl::SimpleAtoi(node.Scalar(), out)) {
    return Error(absl::StrCat("value ", node.Scalar(), " is out of range for ",
                              type_name));
  }
  return absl::OkStatus();
}

template <typename Node>
absl::Status MessageDecoder<Node>::DecodeScalar(const Node& node,
                                          pb::Message* msg,
                                          const FieldDescriptor* field) {
  const pb::Reflection* r = msg->GetReflection();
  const bool add = field->is_repeated();
  if (node.IsNull()) {
    // A null map key reads as "", but a null list element has no value to
    // append without shifting the indexes that later errors name.
    if (add) return TypeError("a value", node);
    return absl::OkStatus();
  }
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (absl::Status s = ParseInteger(node, "int32", &v); !s.ok()) return s;
      add ? r->AddInt32(msg, field, v) : r->SetInt32(msg, field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v;
      if (absl::Status s = ParseInteger(node, "int64", &v); !s.ok()) return s;
      add ? r->AddInt64(msg, field, v) : r->SetInt64(msg, field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v;
      if (absl::Status s = ParseInteger(node, "uint32", &v); !s.ok()) return s;
      add ? r->AddUInt32(msg, field, v) : r->SetUInt32(msg, field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v;
      if (absl::Status s = ParseInteger(node, "uint64", &v); !s.ok()) return s;
      add ? r->AddUInt64(msg, field, v) : r->SetUInt64(msg, field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double v;
      if (!IsPlainScalar(node) || !absl::SimpleAtod(node.Scalar(), &v)) {
        return TypeError("a number", node);
      }
      if (field->cpp_type() == FieldDescriptor::CPPTYPE_FLOAT) {
        add ? r->AddFloat(msg, field, static_cast<float>(v))
            : r->SetFloat(msg, field, static_cast<float>(v));
      } else {
        add ? r->AddDouble(msg, field, v) : r->SetDouble(msg, field, v);
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool v;
      if (!IsPlainScalar(node) || !ParseYamlBool(node.Scalar(), &v)) {
        return TypeError("a boolean", node);
      }
      add ? r->AddBool(msg, field, v) : r->SetBool(msg, field, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const pb::EnumValueDescriptor* value =
          node.IsScalar() ? field->enum_type()->FindValueByName(std::string(node.Scalar()))
                          : nullptr;
      if (value == nullptr) return TypeError(field->enum_type()->name(), node);
      add ? r->AddEnum(msg, field, value) : r->SetEnum(msg, field, value);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      // Kubernetes' JSON is strict about `name: 123`; we accept any scalar
      // for a string, which loses nothing.
      if (!node.IsScalar()) return TypeError("a string", node);
      std::string v(node.Scalar());
      if (field->type() == FieldDescriptor::TYPE_BYTES &&
          !absl::Base64Unescape(node.Scalar(), &v)) {
        return TypeError("base64 data", node);
      }
      add ? r->AddString(msg, field, std::move(v))
          : r->SetString(msg, field, std::move(v));
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      break;
  }
  return Error("unsupported field type");
}

template <typename Node>
absl::Status MessageDecoder<Node>::DecodeQuantity(const Node& node,
                                            pb::Message* msg) {
  // "100m" and 0.5 are both quantities: any scalar, quoted or not.
  if (!node.IsScalar()) return TypeError("a quantity", node);
  absl::StatusOr<Quantity> quantity = Quantity::Parse(node.Scalar());
  if (!quantity.ok()) {
    return Error(absl::StrCat(quantity.status().message(), " (got ",
                              Describe(node), ")"));
  }
  const FieldDescriptor* text = msg->GetDescriptor()->FindFieldByName("string");
  msg->GetReflection()->SetString(msg, text, std::string(node.Scalar()));
  return absl::OkStatus();
}

template <typename Node>
absl::Status MessageDecoder<Node>::DecodeTime(const Node& node,
                                        pb::Message* msg) {
  absl::Time t;
  std::string err;
  if (!node.IsScalar() ||
      !absl::ParseTime(absl::RFC3339_full, node.Scalar(), &t, &err)) {
    return TypeError("an RFC 3339 time like \"2024-01-02T03:04:05Z\"", node);
  }
  int64_t seconds;
  int32_t nanos;
  SplitTime(t, &seconds, &nanos);
  const pb::Descriptor* d = msg->GetDescriptor();
  const pb::Reflection* r = msg->GetReflection();
  r->SetInt64(msg, d->FindFieldByName("seconds"), seconds);
  r->SetInt32(msg, d->FindFieldByName("nanos"), nanos);
  return absl::OkStatus();
}

template <typename Node>
absl::Status MessageDecoder<Node>::DecodeIntOrString(const Node& node,
                                               pb::Message* msg) {
  if (!node.IsScalar()) return TypeError("an integer or a string", node);
  const pb::Descriptor* d = msg->GetDescriptor();
  const pb::Reflection* r = msg->GetReflection();
  if (IsPlainScalar(node) && IsIntegerText(node.Scalar())) {
    int32_t v;
    if (absl::Status s = ParseInteger(node, "int32", &v); !s.ok()) return s;
    r->SetInt64(msg, d->FindFieldByName("type"), 0);
    r->SetInt32(msg, d->FindFieldByName("intVal"), v);
    return absl::OkStatus();
  }
  r->SetInt64(msg, d->FindFieldByName("type"), 1);
  r->SetString(msg, d->FindFieldByName("strVal"), std::string(node.Scalar()));
  return absl::OkStatus();
}

template <typename Node>
absl::Status MessageDecoder<Node>::CheckTree(const Node& node, int depth) {
  if (absl::Status s = Enter(depth); !s.ok()) return s;
  if (node.IsMap()) {
    for (const auto& pair : node) {
      if (absl::Status s = CheckTree(pair.first, depth + 1); !s.ok()) return s;
      if (absl::Status s = CheckTree(pair.second, depth + 1); !s.ok()) return s;
    }
  } else if (node.IsSequence()) {
    for (const auto& element : node) {
      if (absl::Status s = CheckTree(element, depth + 1); !s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

template <typename Node>
absl::Status MessageDecoder<Node>::DecodeRawExtension(const Node& node,
                                                pb::Message* msg, int depth) {
  // The emitter recurses without limits; an alias can even make a cycle.
  if (absl::Status s = CheckTree(node, depth); !s.ok()) return s;
  absl::StatusOr<std::string> text = Reencode(node);
  if (!text.ok()) return Error(text.status().message());
  const FieldDescriptor* raw = msg->GetDescriptor()->FindFieldByName("raw");
  msg->GetReflection()->SetString(msg, raw, *std::move(text));
  return absl::OkStatus();
}

// --- Documents and objects --------------------------------------------------

// Builds node trees from parser events. It stands in for yaml-cpp's
// LoadAll(), which loops forever on some malformed streams (e.g. `{"a"},`):
// owning the loop lets us stop a parser that makes no progress.
class TreeBuilder : public YAML::EventHandler {
 public:
  // YAML::Node's operator= writes through to the node it refers to, so
  // this class rebinds handles with reset() and copy construction only.
  YAML::Node TakeRoot() {
    YAML::Node root(root_);
    root_.reset();
    return root;
  }

  void OnDocumentStart(const YAML::Mark&) override {
    root_.reset();
    stack_.clear();
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t anchor) override {
    Add(Anchor(YAML::Node(YAML::NodeType::Null), anchor));
  }
  void OnAlias(const YAML::Mark&, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    Add(it == anchors_.end() ? YAML::Node() : it->second);
  }
  void OnScalar(const YAML::Mark&, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    YAML::Node node(value);
    node.SetTag(tag);  // "!" marks a quoted scalar, "?" a plain one.
    Add(Anchor(node, anchor));
  }
  void OnSequenceStart(const YAML::Mark&, const std::string& tag,
                       YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    Open(YAML::NodeType::Sequence, tag, anchor);
  }
  void OnSequenceEnd() override { Close(); }
  void OnMapStart(const YAML::Mark&, const std::string& tag, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    Open(YAML::NodeType::Map, tag, anchor);
  }
  void OnMapEnd() override { Close(); }

 private:
  struct Frame {
    YAML::Node node;
    YAML::Node key;
    bool has_key = false;
  };

  // Registered before the children, as yaml-cpp does: `&a [*a]` is a cycle.
  YAML::Node Anchor(YAML::Node node, YAML::anchor_t anchor) {
    if (anchor != YAML::NullAnchor) {
      anchors_.erase(anchor);
      anchors_.emplace(anchor, node);
    }
    return node;
  }

  void Open(YAML::NodeType::value type, const std::string& tag,
            YAML::anchor_t anchor) {
    YAML::Node node(type);
    node.SetTag(tag);
    stack_.push_back({Anchor(node, anchor), YAML::Node(), false});
  }

  void Close() {
    if (stack_.empty()) return;
    YAML::Node node = stack_.back().node;
    stack_.pop_back();
    Add(node);
  }

  void Add(const YAML::Node& value) {
    if (stack_.empty()) {
      root_.reset(value);
      return;
    }
    Frame& top = stack_.back();
    if (top.node.IsSequence()) {
      top.node.push_back(value);
    } else if (!top.has_key) {
      top.key.reset(value);
      top.has_key = true;
    } else {
      top.node.force_insert(top.key, value);  // O(1); lookups come later.
      top.has_key = false;
    }
  }

  YAML::Node root_;
  std::vector<Frame> stack_;
  std::map<YAML::anchor_t, YAML::Node> anchors_;
};

// Parses a YAML stream one document at a time, handing each to `fn` before
// the next is parsed, so only one document's tree is in memory. Syntax
// errors become "file:line:col: message".
absl::Status ParseStream(absl::string_view file_name, absl::string_view content,
                         const std::function<absl::Status(const YAML::Node&)>& fn) {
  try {
    std::istringstream input{std::string(content)};
    YAML::Parser parser(input);
    TreeBuilder builder;
    size_t documents = 0;
    while (parser.HandleNextDocument(builder)) {
      // Every real document consumes input; more documents than bytes means
      // the parser is stuck.
      if (++documents > content.size() + 1) {
        return absl::InvalidArgumentError(
            absl::StrCat(file_name, ": malformed YAML stream"));
      }
      if (absl::Status s = fn(builder.TakeRoot()); !s.ok()) return s;
    }
    return absl::OkStatus();
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) {
      return absl::InvalidArgumentError(absl::StrCat(file_name, ": ", e.msg));
    }
    return absl::InvalidArgumentError(absl::StrCat(
        file_name, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ": ", e.what()));
  }
}

// Splits documents and lists into objects and decodes the known kinds.
template <typename Node>
class ObjectCollector {
 public:
  // Hands each decoded object to `sink`.
  ObjectCollector(absl::string_view file_name, int64_t node_budget,
                  const std::function<absl::Status(Object)>& sink,
                  const std::function<void(const std::string&)>& skipped)
      : file_name_(file_name), decoder_(node_budget), sink_(sink), skipped_(skipped) {}

  // `where` names the node when it has no name: "document 2", "... items[3]".
  absl::Status Collect(const Node& node, const std::string& where, int depth);

 private:
  absl::Status CollectList(const Node& node, const std::string& where,
                           int depth);
  std::string Label(absl::string_view kind, const Node& node,
                    const std::string& where) const;

  std::string file_name_;
  MessageDecoder<Node> decoder_;
  const std::function<absl::Status(Object)>& sink_;
  const std::function<void(const std::string&)>& skipped_;
};

// "Pod default/web-1", "Node n1", or "Pod (document 2)" without a name.
template <typename Node>
std::string ObjectCollector<Node>::Label(absl::string_view kind,
                                   const Node& node,
                                   const std::string& where) const {
  const Node metadata = FindKey(node, "metadata");
  const std::string name = ScalarOrEmpty(FindKey(metadata, "name"));
  const std::string ns = ScalarOrEmpty(FindKey(metadata, "namespace"));
  if (name.empty()) return absl::StrCat(kind, " (", where, ")");
  if (ns.empty()) return absl::StrCat(kind, " ", name);
  return absl::StrCat(kind, " ", ns, "/", name);
}

template <typename Node>
absl::Status ObjectCollector<Node>::Collect(const Node& node,
                                      const std::string& where, int depth) {
  if (node.IsNull()) return absl::OkStatus();
  if (depth > kMaxDepth) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_name_, ": ", where, ": lists nested deeper than ", kMaxDepth));
  }
  if (!node.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_name_, ": ", where, ": expected an object, got ", Describe(node)));
  }
  const Node kind_node = FindKey(node, "kind");
  if (!kind_node.IsScalar() || kind_node.Scalar().empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name_, ": ", where, ": missing \"kind\""));
  }
  const std::string kind = absl::CHexEscape(kind_node.Scalar());
  const std::string api_version = ScalarOrEmpty(FindKey(node, "apiVersion"));

  const pb::Message* prototype = PrototypeFor(kind, api_version);
  if (prototype == nullptr) {
    if (absl::EndsWith(kind, "List")) return CollectList(node, where, depth);
    // A kind the scheduler does not read.
    if (skipped_) skipped_(kind);
    return absl::OkStatus();
  }
  Object object;
  object.kind = kind;
  object.api_version = api_version;
  object.origin = absl::StrCat(file_name_, ": ", Label(kind, node, where));
  object.message.reset(prototype->New());
  if (absl::Status s = decoder_.Decode(node, object.message.get()); !s.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(object.origin, ": ", s.message()));
  }
  return sink_(std::move(object));
}

template <typename Node>
absl::Status ObjectCollector<Node>::CollectList(const Node& node,
                                          const std::string& where, int depth) {
  const Node items = FindKey(node, "items");
  if (items.IsNull() || !items.IsDefined()) return absl::OkStatus();
  if (!items.IsSequence()) {
    return absl::InvalidArgumentError(absl::StrCat(
        file_name_, ": ", where, ": items: expected a list, got ", Describe(items)));
  }
  int index = 0;
  for (const auto& item : items) {
    const std::string item_where = absl::StrCat(where, " items[", index++, "]");
    if (absl::Status s = Collect(item, item_where, depth + 1); !s.ok()) return s;
  }
  return absl::OkStatus();
}

int64_t NodeBudget(absl::string_view content) {
  return kMinNodeBudget + kNodeBudgetPerByte * static_cast<int64_t>(content.size());
}

// --- Protobuf ---------------------------------------------------------------

// "Pod ns/name" from a decoded message's metadata, as Label does for trees.
std::string MessageLabel(absl::string_view kind, const pb::Message& msg,
                         const std::string& where) {
  const FieldDescriptor* metadata = msg.GetDescriptor()->FindFieldByName("metadata");
  std::string name, ns;
  if (metadata != nullptr && metadata->message_type() != nullptr) {
    const pb::Message& meta = msg.GetReflection()->GetMessage(msg, metadata);
    const pb::Descriptor* d = meta.GetDescriptor();
    if (const FieldDescriptor* f = d->FindFieldByName("name")) {
      name = absl::CHexEscape(meta.GetReflection()->GetString(meta, f));
    }
    if (const FieldDescriptor* f = d->FindFieldByName("namespace")) {
      ns = absl::CHexEscape(meta.GetReflection()->GetString(meta, f));
    }
  }
  if (name.empty()) return absl::StrCat(kind, " (", where, ")");
  if (ns.empty()) return absl::StrCat(kind, " ", name);
  return absl::StrCat(kind, " ", ns, "/", name);
}

// The bytes of every field-2 entry of a list message (`items` in v1 List
// and in every typed list), in order; false when the bytes do not scan.
bool ListItems(absl::string_view list, std::vector<absl::string_view>* items) {
  using pb::internal::WireFormatLite;
  pb::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(list.data()),
                              static_cast<int>(list.size()));
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return in.ConsumedEntireMessage();
    if (WireFormatLite::GetTagFieldNumber(tag) == 2 &&
        WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED) {
      uint32_t length;
      if (!in.ReadVarint32(&length)) return false;
      const int at = in.CurrentPosition();
      if (length > list.size() - static_cast<size_t>(at)) return false;
      items->push_back(list.substr(at, length));
      if (!in.Skip(static_cast<int>(length))) return false;
    } else if (!WireFormatLite::SkipField(&in, tag)) {
      return false;
    }
  }
}

// Decodes one `k8s\x00` envelope (runtime.Unknown) and what it holds: a
// known kind, a typed list of one (PodList, ...), or a v1 List whose items
// are RawExtensions, each an enveloped object of its own.
absl::Status DecodeEnvelope(absl::string_view file_name, absl::string_view content,
                            const std::string& where, int depth,
                            const std::function<absl::Status(Object)>& sink,
                            const std::function<void(const std::string&)>& skipped) {
  auto error = [&](absl::string_view message) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ": ", where, ": ", message));
  };
  if (depth > kMaxDepth) return error(absl::StrCat("lists nested deeper than ", kMaxDepth));
  ::k8s::io::apimachinery::pkg::runtime::Unknown unknown;
  const absl::string_view body = content.substr(kProtobufMagic.size());
  if (!unknown.ParseFromArray(body.data(), static_cast<int>(body.size()))) {
    return error("the protobuf envelope (runtime.Unknown) does not parse");
  }
  if (!unknown.contentencoding().empty()) {
    return error(absl::StrCat("unsupported contentEncoding \"",
                              absl::CHexEscape(unknown.contentencoding()), "\""));
  }
  const std::string kind = absl::CHexEscape(unknown.typemeta().kind());
  const std::string api_version = absl::CHexEscape(unknown.typemeta().apiversion());
  if (kind.empty()) return error("missing \"kind\" in the protobuf envelope");
  const std::string& raw = unknown.raw();

  if (const pb::Message* prototype = PrototypeFor(kind, api_version)) {
    Object object;
    object.kind = kind;
    object.api_version = api_version;
    object.message.reset(prototype->New());
    if (!object.message->ParseFromString(raw)) {
      return error(absl::StrCat(kind, " does not parse as protobuf"));
    }
    object.origin = absl::StrCat(file_name, ": ", MessageLabel(kind, *object.message, where));
    return sink(std::move(object));
  }
  if (!absl::EndsWith(kind, "List")) {  // A kind we skip.
    if (skipped) skipped(kind);
    return absl::OkStatus();
  }

  std::vector<absl::string_view> items;
  if (!ListItems(raw, &items)) return error(absl::StrCat(kind, " does not parse as protobuf"));
  const absl::string_view item_kind = absl::string_view(kind).substr(0, kind.size() - 4);
  const pb::Message* item_prototype =
      item_kind.empty() ? nullptr : PrototypeFor(item_kind, api_version);
  if (!item_kind.empty() && item_prototype == nullptr) return absl::OkStatus();
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string item_where = absl::StrCat(where, " items[", i, "]");
    if (item_prototype != nullptr) {
      // A typed list: each item is the message itself.
      Object object;
      object.kind = std::string(item_kind);
      object.api_version = api_version;
      object.message.reset(item_prototype->New());
      if (!object.message->ParseFromArray(items[i].data(), static_cast<int>(items[i].size()))) {
        return absl::InvalidArgumentError(absl::StrCat(
            file_name, ": ", item_where, ": ", item_kind, " does not parse as protobuf"));
      }
      object.origin =
          absl::StrCat(file_name, ": ", MessageLabel(item_kind, *object.message, item_where));
      if (absl::Status s = sink(std::move(object)); !s.ok()) return s;
      continue;
    }
    // A v1 List: each item is a RawExtension holding an enveloped object.
    ::k8s::io::apimachinery::pkg::runtime::RawExtension extension;
    if (!extension.ParseFromArray(items[i].data(), static_cast<int>(items[i].size())) ||
        !absl::StartsWith(extension.raw(), kProtobufMagic)) {
      return absl::InvalidArgumentError(absl::StrCat(
          file_name, ": ", item_where, ": expected an object in the protobuf envelope"));
    }
    if (absl::Status s =
            DecodeEnvelope(file_name, extension.raw(), item_where, depth + 1, sink, skipped);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status DecodeStream(absl::string_view file_name, absl::string_view content,
                          const std::function<absl::Status(Object)>& sink,
                          const std::function<void(const std::string&)>& skipped) {
  if (absl::StartsWith(content, kProtobufMagic)) {
    return DecodeEnvelope(file_name, content, "document 1", 0, sink, skipped);
  }
  auto decode_yaml = [&] {
    ObjectCollector<YAML::Node> collector(file_name, NodeBudget(content), sink, skipped);
    size_t index = 0;
    return ParseStream(file_name, content, [&](const YAML::Node& document) {
      return collector.Collect(document, absl::StrCat("document ", ++index), 0);
    });
  };
  if (!LooksLikeJson(content)) return decode_yaml();
  // One JSON value: simdjson parses it, the same rules decode it.
  absl::StatusOr<std::unique_ptr<JsonDocument>> document =
      JsonDocument::Parse(file_name, content);
  if (!document.ok()) {
    // Flow-style YAML starts with `{` too (a RawExtension re-encoded from
    // YAML is written so); only when yaml-cpp cannot read it either is the
    // file bad, and then it is reported as the JSON it looked like.
    if (ParseStream(file_name, content, [](const YAML::Node&) {
          return absl::OkStatus();
        }).ok()) {
      return decode_yaml();
    }
    return document.status();
  }
  ObjectCollector<JsonRef> collector(file_name, NodeBudget(content), sink, skipped);
  return collector.Collect((*document)->root(), "document 1", 0);
}

}  // namespace

absl::Status DecodeEach(absl::string_view file_name, absl::string_view content,
                        const std::function<absl::Status(Object)>& sink,
                        const std::function<void(const std::string& kind)>& skipped) {
  // yaml-cpp reports misuse (e.g. of a malformed alias) by throwing from
  // node accessors too, not only from the parser.
  try {
    return DecodeStream(file_name, content, sink, skipped);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(file_name, ": ", e.what()));
  }
}

absl::StatusOr<std::vector<Object>> DecodeObjects(absl::string_view file_name,
                                                  absl::string_view content) {
  std::vector<Object> objects;
  absl::Status s = DecodeEach(file_name, content, [&](Object o) {
    objects.push_back(std::move(o));
    return absl::OkStatus();
  });
  if (!s.ok()) return s;
  return objects;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  if (std::filesystem::is_directory(path, error)) {
    return absl::InvalidArgumentError(absl::StrCat(path, ": is a directory"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(path, ": cannot open file"));
  std::stringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return absl::DataLossError(absl::StrCat(path, ": read failed"));
  return buffer.str();
}

absl::StatusOr<std::vector<Object>> DecodeFile(const std::string& path) {
  absl::StatusOr<std::string> content = ReadFile(path);
  if (!content.ok()) return content.status();
  return DecodeObjects(path, *content);
}

absl::Status DecodeInto(absl::string_view content, pb::Message* msg,
                        absl::string_view context) {
  try {
    std::vector<YAML::Node> non_empty;
    absl::Status s = ParseStream(context, content, [&](const YAML::Node& document) {
      if (!document.IsNull()) non_empty.push_back(document);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    if (non_empty.empty()) return absl::OkStatus();
    if (non_empty.size() > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          context, ": expected one document, found ", non_empty.size()));
    }
    MessageDecoder<YAML::Node> decoder(NodeBudget(content));
    if (absl::Status s = decoder.Decode(non_empty[0], msg); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(context, ": ", s.message()));
    }
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": ", e.what()));
  }
}

namespace {

// The node a YAML parser builds for the JSON text of `value`: strings are
// quoted scalars (tag "!"), numbers and booleans plain ones (tag "?"), null
// a null node; objects and arrays keep their order. false past `depth`.
bool ToYaml(const nlohmann::json& value, int depth, YAML::Node* out) {
  if (depth > kMaxDepth) return false;
  switch (value.type()) {
    case nlohmann::json::value_t::object: {
      YAML::Node map(YAML::NodeType::Map);
      map.SetTag("?");
      for (auto it = value.begin(); it != value.end(); ++it) {
        YAML::Node child;
        if (!ToYaml(it.value(), depth + 1, &child)) return false;
        YAML::Node key(it.key());
        key.SetTag("!");
        map.force_insert(key, child);
      }
      out->reset(map);
      return true;
    }
    case nlohmann::json::value_t::array: {
      YAML::Node seq(YAML::NodeType::Sequence);
      seq.SetTag("?");
      for (const nlohmann::json& item : value) {
        YAML::Node child;
        if (!ToYaml(item, depth + 1, &child)) return false;
        seq.push_back(child);
      }
      out->reset(seq);
      return true;
    }
    case nlohmann::json::value_t::string: {
      YAML::Node scalar(value.get_ref<const std::string&>());
      scalar.SetTag("!");
      out->reset(scalar);
      return true;
    }
    case nlohmann::json::value_t::null:
    case nlohmann::json::value_t::discarded:
      out->reset(YAML::Node(YAML::NodeType::Null));
      return true;
    default: {
      // Numbers and booleans as JSON prints them, which is how they were
      // written (nlohmann keeps integers exact and floats round-trip).
      YAML::Node scalar(value.dump());
      scalar.SetTag("?");
      out->reset(scalar);
      return true;
    }
  }
}

}  // namespace

absl::Status DecodeJsonInto(const nlohmann::json& value, pb::Message* msg,
                            absl::string_view context) {
  if (value.is_null()) return absl::OkStatus();
  try {
    YAML::Node root;
    if (!ToYaml(value, 0, &root)) {
      return absl::InvalidArgumentError(
          absl::StrCat(context, ": nested deeper than ", kMaxDepth, " levels"));
    }
    MessageDecoder<YAML::Node> decoder(kMinNodeBudget);
    if (absl::Status s = decoder.Decode(root, msg); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(context, ": ", s.message()));
    }
    return absl::OkStatus();
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat(context, ": ", e.what()));
  }
}

}  // namespace kestrel::api
