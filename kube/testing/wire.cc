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

const WireFormat* Negotiate(absl::string_view accept) {
  if (absl::StripAsciiWhitespace(accept).empty()) return &JsonWire();
  for (absl::string_view range : absl::StrSplit(accept, ',')) {
    // Parameters (";q=0.9", ";stream=watch", ";as=Table") are not weighed.
    std::vector<absl::string_view> parts = absl::StrSplit(range, absl::MaxSplits(';', 1));
    const std::string type = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
    if (type == "application/json" || type == "application/*" || type == "*/*") {
      return &JsonWire();
    }
    // TODO(protobuf): "application/vnd.kubernetes.protobuf" picks the
    // protobuf WireFormat here, in the order the header lists them.
  }
  return nullptr;
}

}  // namespace kestrel::kube::testing
