#include "sim/format.h"

#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "api/decode.h"
#include "api/runtime.pb.h"
#include "kube/codec.h"

namespace kestrel::sim {
namespace {

namespace runtime = ::k8s::io::apimachinery::pkg::runtime;

// A length-delimited field as protobuf writes it: tag, varint length, bytes.
void AppendLengthDelimited(int field, absl::string_view bytes, std::string* out) {
  out->push_back(static_cast<char>((field << 3) | 2));
  size_t n = bytes.size();
  while (n >= 0x80) {
    out->push_back(static_cast<char>((n & 0x7F) | 0x80));
    n >>= 7;
  }
  out->push_back(static_cast<char>(n));
  out->append(bytes.data(), bytes.size());
}

}  // namespace

absl::string_view OutputFormatName(OutputFormat format) {
  switch (format) {
    case OutputFormat::kYaml:
      return "yaml";
    case OutputFormat::kJson:
      return "json";
    case OutputFormat::kProtobuf:
      return "protobuf";
  }
  return "";
}

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view name) {
  for (OutputFormat f : {OutputFormat::kYaml, OutputFormat::kJson, OutputFormat::kProtobuf}) {
    if (name == OutputFormatName(f)) return f;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown format \"", name, "\"; known formats: yaml, json, protobuf"));
}

absl::Status Reencode(absl::string_view yaml, OutputFormat format, std::ostream& out) {
  if (format == OutputFormat::kYaml) {
    out.write(yaml.data(), static_cast<std::streamsize>(yaml.size()));
  } else {
    // JSON: kubectl's List, one item a line. Protobuf: the v1 List's bytes
    // (items, field 2), then its envelope.
    std::string body;
    bool first = true;
    absl::Status s = api::DecodeEach("generated.yaml", yaml, [&](api::Object object) {
      if (format == OutputFormat::kJson) {
        absl::StrAppend(&body, first ? "\n" : ",\n", kube::EncodeJson(*object.message));
      } else {
        absl::StatusOr<std::string> enveloped = kube::EncodeProtobuf(*object.message);
        if (!enveloped.ok()) return enveloped.status();
        runtime::RawExtension item;
        item.set_raw(*std::move(enveloped));
        AppendLengthDelimited(2, item.SerializeAsString(), &body);
      }
      first = false;
      return absl::OkStatus();
    });
    if (!s.ok()) {
      return absl::InternalError(absl::StrCat("generated YAML does not decode: ", s.message()));
    }
    if (format == OutputFormat::kJson) {
      out << "{\"apiVersion\":\"v1\",\"kind\":\"List\",\"items\":[" << body
          << "\n],\"metadata\":{\"resourceVersion\":\"\"}}\n";
    } else {
      runtime::Unknown unknown;
      unknown.mutable_typemeta()->set_apiversion("v1");
      unknown.mutable_typemeta()->set_kind("List");
      unknown.set_raw(std::move(body));
      unknown.set_contentencoding("");
      unknown.set_contenttype("");
      out << absl::string_view("k8s\0", 4) << unknown.SerializeAsString();
    }
  }
  if (!out) return absl::InternalError("write failed");
  return absl::OkStatus();
}

}  // namespace kestrel::sim
