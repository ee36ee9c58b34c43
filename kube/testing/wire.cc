#include "kube/testing/wire.h"

#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "kube/testing/json_util.h"

namespace kestrel::kube::testing {

const char kServedMediaTypes[] = "application/json";

namespace {

class JsonWireFormat : public WireFormat {
 public:
  std::string content_type() const override { return "application/json"; }
  // kube-apiserver adds ";stream=watch" for every encoding but JSON.
  std::string watch_content_type() const override { return "application/json"; }
  std::string EncodeObject(const json& object) const override { return Dump(object); }
  std::string EncodeWatchEvent(absl::string_view type, const json& object) const override {
    json event = json::object();
    event["type"] = std::string(type);
    event["object"] = object;
    // Go's json.Encoder ends each value with a newline: the JSON framer.
    return absl::StrCat(Dump(event), "\n");
  }
};

}  // namespace

const WireFormat& JsonWire() {
  static const WireFormat* const kJson = new JsonWireFormat();
  return *kJson;
}

std::optional<Negotiated> Negotiate(absl::string_view accept, bool tables) {
  if (absl::StripAsciiWhitespace(accept).empty()) return Negotiated{&JsonWire(), ""};
  for (absl::string_view range : absl::StrSplit(accept, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(range, ';');
    const std::string type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
    if (type != "application/json" && type != "application/*" && type != "*/*") {
      // TODO(protobuf): "application/vnd.kubernetes.protobuf" picks the
      // protobuf WireFormat here, in the order the header lists them.
      continue;
    }
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
    if (!convert) return Negotiated{&JsonWire(), ""};
    if (tables && as == "Table" && group == "meta.k8s.io" &&
        (version == "v1" || version == "v1beta1")) {
      return Negotiated{&JsonWire(), absl::StrCat(group, "/", version)};
    }
  }
  return std::nullopt;
}

}  // namespace kestrel::kube::testing
