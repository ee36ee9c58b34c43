#include "kube/testing/standalone.h"

#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "api/decode.h"
#include "yaml-cpp/yaml.h"

namespace kestrel::kube::testing {
namespace {

using json = nlohmann::json;

// The member `key` of `j` if it is a string, else "".
std::string StrField(const json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string MetaField(const json& object, const char* key) {
  if (!object.is_object()) return "";
  auto it = object.find("metadata");
  return it == object.end() ? "" : StrField(*it, key);
}

std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

// As api/decode: deeper than any Kubernetes object, and a bound on alias
// expansion ("billion laughs") that real files stay far below.
constexpr int kMaxDepth = 200;
constexpr int64_t kMinNodeBudget = 1'000'000;
constexpr int64_t kNodeBudgetPerByte = 16;

// The namespaces a new cluster has.
constexpr const char* kSystemNamespaces[] = {"default", "kube-system", "kube-public",
                                             "kube-node-lease"};

// ---------------------------------------------------------------------------
// YAML to JSON, as the API server would have stored the object. The file
// has passed api/decode already; this only keeps all of it, fields the
// decoder does not read included.

bool IsIntegerText(absl::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// [-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?: YAML 1.2's core float.
bool IsFloatText(absl::string_view s) {
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
  size_t i = 0;
  size_t digits = 0;
  while (i < s.size() && absl::ascii_isdigit(s[i])) ++i, ++digits;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && absl::ascii_isdigit(s[i])) ++i, ++digits;
  }
  if (digits == 0) return false;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '-' || s[i] == '+')) ++i;
    size_t exponent = 0;
    while (i < s.size() && absl::ascii_isdigit(s[i])) ++i, ++exponent;
    if (exponent == 0) return false;
  }
  return i == s.size();
}

// A plain (unquoted, untagged) scalar by YAML 1.2's core schema, which is
// also how JSON reads: null, booleans, numbers, else a string.
json ResolvePlain(const std::string& text) {
  if (text.empty() || text == "~" || text == "null" || text == "Null" || text == "NULL") {
    return nullptr;
  }
  if (text == "true" || text == "True" || text == "TRUE") return true;
  if (text == "false" || text == "False" || text == "FALSE") return false;
  if (IsIntegerText(text)) {
    int64_t i;
    if (absl::SimpleAtoi(text, &i)) return i;
  }
  if (IsFloatText(text)) {
    double d;
    if (absl::SimpleAtod(text, &d)) return d;
  }
  return text;
}

class JsonConverter {
 public:
  explicit JsonConverter(int64_t budget) : budget_(budget) {}

  absl::StatusOr<json> Convert(const YAML::Node& node, int depth) {
    if (--budget_ < 0) {
      return absl::InvalidArgumentError("too many nodes (aliases expanded too far)");
    }
    if (depth > kMaxDepth) {
      return absl::InvalidArgumentError(absl::StrCat("nested deeper than ", kMaxDepth));
    }
    switch (node.Type()) {
      case YAML::NodeType::Undefined:
      case YAML::NodeType::Null:
        return json();
      case YAML::NodeType::Scalar: {
        const std::string& tag = node.Tag();
        // "!" marks a quoted scalar; an explicit !!str keeps the text too.
        if (tag == "!" || tag == "tag:yaml.org,2002:str") return node.Scalar();
        return ResolvePlain(node.Scalar());
      }
      case YAML::NodeType::Sequence: {
        json out = json::array();
        for (const YAML::Node& item : node) {
          absl::StatusOr<json> v = Convert(item, depth + 1);
          if (!v.ok()) return v.status();
          out.push_back(*std::move(v));
        }
        return out;
      }
      case YAML::NodeType::Map: {
        json out = json::object();
        for (const auto& entry : node) {
          if (!entry.first.IsScalar()) {
            return absl::InvalidArgumentError("a mapping key is not a string");
          }
          absl::StatusOr<json> v = Convert(entry.second, depth + 1);
          if (!v.ok()) return v.status();
          out[entry.first.Scalar()] = *std::move(v);
        }
        return out;
      }
    }
    return json();
  }

 private:
  int64_t budget_;
};

// A map of strings written with bare scalars (`cpu: 2`, `enabled: true`):
// the decoder took them as strings, and so does the API server.
void Stringify(json& map) {
  if (!map.is_object()) return;
  for (auto& [key, value] : map.items()) {
    if (value.is_number() || value.is_boolean()) value = value.dump();
  }
}

void StringifyResources(json& containers) {
  if (!containers.is_array()) return;
  for (json& c : containers) {
    if (!c.is_object() || !c.contains("resources")) continue;
    json& resources = c["resources"];
    if (!resources.is_object()) continue;
    for (const char* field : {"requests", "limits"}) {
      if (resources.contains(field)) Stringify(resources[field]);
    }
  }
}

// What the API server would have given the object: label and quantity
// values as strings, a phase for pods and namespaces.
void Tidy(const std::string& kind, json& object) {
  if (object.contains("metadata") && object["metadata"].is_object()) {
    json& meta = object["metadata"];
    for (const char* field : {"labels", "annotations"}) {
      if (meta.contains(field)) Stringify(meta[field]);
    }
  }
  json* spec = object.contains("spec") && object["spec"].is_object() ? &object["spec"] : nullptr;
  json* status =
      object.contains("status") && object["status"].is_object() ? &object["status"] : nullptr;
  if (kind == "Pod") {
    if (spec != nullptr) {
      for (const char* field : {"nodeSelector", "overhead"}) {
        if (spec->contains(field)) Stringify((*spec)[field]);
      }
      for (const char* field : {"containers", "initContainers"}) {
        if (spec->contains(field)) StringifyResources((*spec)[field]);
      }
    }
    if (status == nullptr || StrField(*status, "phase").empty()) {
      if (!object["status"].is_object()) object["status"] = json::object();
      object["status"]["phase"] = "Pending";
    }
  } else if (kind == "Node") {
    if (status != nullptr) {
      for (const char* field : {"capacity", "allocatable"}) {
        if (status->contains(field)) Stringify((*status)[field]);
      }
    }
  } else if (kind == "Namespace") {
    if (status == nullptr || StrField(*status, "phase").empty()) {
      if (!object["status"].is_object()) object["status"] = json::object();
      object["status"]["phase"] = "Active";
    }
  }
}

// Looks `key` up in a mapping without operator[], which hands out invalid
// nodes that throw when looked at.
YAML::Node FindKey(const YAML::Node& map, absl::string_view key) {
  if (!map.IsDefined() || !map.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  for (const auto& entry : map) {
    if (entry.first.IsScalar() && entry.first.Scalar() == key) return entry.second;
  }
  return YAML::Node(YAML::NodeType::Undefined);
}

std::string Scalar(const YAML::Node& map, const char* key) {
  const YAML::Node v = FindKey(map, key);
  return v.IsDefined() && v.IsScalar() ? v.Scalar() : "";
}

// "Pod default/web-1", "Node n1", or "Pod (document 2)": as api/decode
// names objects.
std::string Label(const std::string& kind, const YAML::Node& node, const std::string& where) {
  const YAML::Node meta = FindKey(node, "metadata");
  const std::string name = Scalar(meta, "name");
  const std::string ns = Scalar(meta, "namespace");
  if (name.empty()) return absl::StrCat(kind, " (", where, ")");
  if (ns.empty()) return absl::StrCat(kind, " ", name);
  return absl::StrCat(kind, " ", ns, "/", name);
}

// "policy/v1" -> "policy"; "v1" -> "".
std::string GroupOf(const std::string& api_version) {
  const size_t slash = api_version.rfind('/');
  return slash == std::string::npos ? "" : api_version.substr(0, slash);
}

class Collector {
 public:
  Collector(std::string file, int64_t budget, std::vector<LoadedObject>* out,
            std::vector<std::string>* warnings)
      : file_(std::move(file)), converter_(budget), out_(out), warnings_(warnings) {}

  absl::Status Collect(const YAML::Node& node, const std::string& where, int depth) {
    if (!node.IsDefined() || node.IsNull()) return absl::OkStatus();
    if (depth > kMaxDepth || !node.IsMap()) return absl::OkStatus();  // api/decode refused these
    const std::string kind = Scalar(node, "kind");
    const std::string api_version = Scalar(node, "apiVersion");
    const std::optional<StoredKind> k = StoredKindOf(kind);
    const bool known =
        k.has_value() && (api_version.empty() || GroupOf(api_version) == GroupOf(k->api_version));
    const std::string origin = absl::StrCat(file_, ": ", Label(kind, node, where));
    if (!known) {
      if (absl::EndsWith(kind, "List")) {
        const YAML::Node items = FindKey(node, "items");
        if (!items.IsDefined() || !items.IsSequence()) return absl::OkStatus();
        int index = 0;
        for (const YAML::Node& item : items) {
          const std::string item_where = absl::StrCat(where, " items[", index++, "]");
          if (absl::Status s = Collect(item, item_where, depth + 1); !s.ok()) return s;
        }
        return absl::OkStatus();
      }
      warnings_->push_back(absl::StrCat(origin, ": ", api_version, " ", kind,
                                        " is not served by the in-memory API server; skipped"));
      return absl::OkStatus();
    }
    absl::StatusOr<json> object = converter_.Convert(node, depth);
    if (!object.ok()) {
      return absl::InvalidArgumentError(absl::StrCat(origin, ": ", object.status().message()));
    }
    Tidy(kind, *object);
    out_->push_back({origin, *std::move(object)});
    return absl::OkStatus();
  }

 private:
  std::string file_;
  JsonConverter converter_;
  std::vector<LoadedObject>* out_;
  std::vector<std::string>* warnings_;
};

absl::Status WriteFileAtomically(const std::string& path, const std::string& content) {
  const std::string tmp = absl::StrCat(path, ".tmp");
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << content;
    f.close();
    if (!f) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag --kubeconfig-out: cannot write ", path, ": ", std::strerror(errno)));
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string why = std::strerror(errno);
    std::remove(tmp.c_str());
    return absl::InvalidArgumentError(
        absl::StrCat("flag --kubeconfig-out: cannot write ", path, ": ", why));
  }
  return absl::OkStatus();
}

// "5 Node, 9 Pod", kinds in the order they first came.
std::string Summary(const std::vector<LoadedObject>& objects) {
  std::vector<std::pair<std::string, int>> counts;
  for (const LoadedObject& o : objects) {
    const std::string kind = StrField(o.object, "kind");
    auto it =
        std::find_if(counts.begin(), counts.end(), [&](const auto& c) { return c.first == kind; });
    if (it == counts.end()) {
      counts.push_back({kind, 1});
    } else {
      ++it->second;
    }
  }
  std::vector<std::string> parts;
  for (const auto& [kind, n] : counts) parts.push_back(absl::StrCat(n, " ", kind));
  return absl::StrJoin(parts, ", ");
}

}  // namespace

absl::StatusOr<int> ParseListen(absl::string_view listen) {
  const auto bad = [&](absl::string_view why) {
    return absl::InvalidArgumentError(absl::StrCat("flag --listen: \"", listen, "\": ", why));
  };
  const size_t colon = listen.rfind(':');
  if (colon == absl::string_view::npos) return bad("want 127.0.0.1:PORT");
  const absl::string_view host = listen.substr(0, colon);
  if (host != "127.0.0.1" && host != "localhost") {
    return bad(
        "the in-memory API server listens on 127.0.0.1 only (it has no authentication); want "
        "127.0.0.1:PORT");
  }
  int port;
  if (!absl::SimpleAtoi(listen.substr(colon + 1), &port) || port < 0 || port > 65535) {
    return bad("want 127.0.0.1:PORT, PORT a number from 0 (any free port) to 65535");
  }
  return port;
}

absl::StatusOr<std::vector<LoadedObject>> ReadObjects(const std::vector<std::string>& paths,
                                                      std::vector<std::string>* warnings) {
  std::vector<LoadedObject> out;
  for (const std::string& path : paths) {
    absl::StatusOr<std::string> content = api::ReadFile(path);
    if (!content.ok()) return content.status();
    // Validation first, with the decoder's messages.
    if (absl::StatusOr<std::vector<api::Object>> decoded = api::DecodeObjects(path, *content);
        !decoded.ok()) {
      return decoded.status();
    }
    Collector collector(path, kMinNodeBudget + kNodeBudgetPerByte * content->size(), &out,
                        warnings);
    try {
      // LoadAll can loop on some malformed streams; api/decode has parsed
      // this one already, with its own guard.
      std::vector<YAML::Node> documents = YAML::LoadAll(*content);
      for (size_t i = 0; i < documents.size(); ++i) {
        absl::Status s = collector.Collect(documents[i], absl::StrCat("document ", i + 1), 0);
        if (!s.ok()) return s;
      }
    } catch (const YAML::Exception& e) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
    }
  }
  return out;
}

std::string Kubeconfig(const std::string& server_url) {
  return absl::StrCat(
      "# Written by `kestrel apiserver`: its in-memory API server, plain HTTP on loopback.\n"
      "apiVersion: v1\n"
      "kind: Config\n"
      "clusters:\n"
      "- name: kestrel\n"
      "  cluster:\n"
      "    server: ",
      server_url,
      "\n"
      "users:\n"
      "- name: kestrel\n"
      "  user: {}\n"
      "contexts:\n"
      "- name: kestrel\n"
      "  context:\n"
      "    cluster: kestrel\n"
      "    user: kestrel\n"
      "    namespace: default\n"
      "current-context: kestrel\n"
      "preferences: {}\n");
}

absl::StatusOr<std::unique_ptr<Standalone>> Standalone::Start(const StandaloneOptions& options,
                                                              std::ostream& out,
                                                              std::ostream& err) {
  absl::StatusOr<int> port = ParseListen(options.listen);
  if (!port.ok()) return port.status();
  std::vector<std::string> warnings;
  absl::StatusOr<std::vector<LoadedObject>> objects = ReadObjects(options.load, &warnings);
  if (!objects.ok()) return objects.status();
  for (const std::string& w : warnings) err << "kestrel apiserver: warning: " << w << "\n";

  FakeApiServerOptions server_options;
  server_options.port = *port;
  absl::StatusOr<std::unique_ptr<FakeApiServer>> server = FakeApiServer::Start(server_options);
  if (!server.ok()) return server.status();
  std::unique_ptr<Standalone> standalone(new Standalone(*std::move(server)));
  FakeApiServer& api = standalone->server();

  // The namespaces first: a new cluster's, and those the objects live in,
  // unless a file defines them.
  std::set<std::string> defined;
  std::vector<std::string> namespaces(std::begin(kSystemNamespaces), std::end(kSystemNamespaces));
  for (const LoadedObject& o : *objects) {
    const std::string kind = StrField(o.object, "kind");
    if (kind == "Namespace") defined.insert(MetaField(o.object, "name"));
    const std::optional<StoredKind> k = StoredKindOf(kind);
    const std::string ns = MetaField(o.object, "namespace");
    if (k.has_value() && k->namespaced && !ns.empty() &&
        std::find(namespaces.begin(), namespaces.end(), ns) == namespaces.end()) {
      namespaces.push_back(ns);
    }
  }
  for (const std::string& ns : namespaces) {
    if (defined.count(ns) > 0) continue;
    json object = {{"kind", "Namespace"},
                   {"apiVersion", "v1"},
                   {"metadata", {{"name", ns}}},
                   {"spec", {{"finalizers", {"kubernetes"}}}},
                   {"status", {{"phase", "Active"}}}};
    if (absl::Status s = api.Create(Dump(object)); !s.ok()) return s;
  }
  for (const LoadedObject& o : *objects) {
    if (absl::Status s = api.Create(Dump(o.object)); !s.ok()) {
      return absl::Status(s.code(), absl::StrCat(o.origin, ": ", s.message()));
    }
  }

  const std::string url = api.url();
  out << "kestrel apiserver: serving " << url << " (in memory, loopback only)\n";
  if (!objects->empty()) {
    out << "kestrel apiserver: loaded " << objects->size() << " objects: " << Summary(*objects)
        << "\n";
  }
  if (!options.kubeconfig_out.empty()) {
    if (absl::Status s = WriteFileAtomically(options.kubeconfig_out, Kubeconfig(url)); !s.ok()) {
      return s;
    }
    out << "kestrel apiserver: kubeconfig written to " << options.kubeconfig_out << "; try\n"
        << "  kubectl --kubeconfig=" << options.kubeconfig_out << " get nodes\n";
  } else {
    out << "kestrel apiserver: no --kubeconfig-out; try\n"
        << "  kubectl --server=" << url << " get nodes\n";
  }
  out << "kestrel apiserver: stop with Ctrl-C (SIGINT) or SIGTERM" << std::endl;
  return standalone;
}

int Standalone::Tick() {
  // A deletion is a write: without one since the last tick there is
  // nothing to finish, and the pods need not be scanned (under the write
  // lock) ten times a second.
  const int64_t version = server_->resource_version();
  if (version == last_version_) return 0;
  last_version_ = version;
  return server_->FinishDeletions();
}

absl::Status RunStandalone(const StandaloneOptions& options, std::ostream& out, std::ostream& err) {
  // Blocked before the server's threads start, so they inherit the mask
  // and the signals wait here for sigtimedwait.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  sigset_t previous;
  pthread_sigmask(SIG_BLOCK, &stop, &previous);
  absl::StatusOr<std::unique_ptr<Standalone>> standalone = Standalone::Start(options, out, err);
  if (!standalone.ok()) {
    pthread_sigmask(SIG_SETMASK, &previous, nullptr);
    return standalone.status();
  }
  int signal = 0;
  while (signal != SIGINT && signal != SIGTERM) {
    const timespec tick = {0, 100 * 1000 * 1000};
    signal = sigtimedwait(&stop, nullptr, &tick);
    (*standalone)->Tick();
  }
  err << "kestrel apiserver: " << (signal == SIGINT ? "interrupted" : "terminated")
      << "; shutting down\n";
  standalone->reset();
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return absl::OkStatus();
}

}  // namespace kestrel::kube::testing
