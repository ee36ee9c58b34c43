#include "kube/testing/discovery.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "kube/testing/json_util.h"
#include "util/hash/fnv.h"

namespace kestrel::kube::testing {
namespace {

std::string GroupVersion(const std::string& group, const std::string& version) {
  return group.empty() ? version : absl::StrCat(group, "/", version);
}

// "/api/v1" or "/apis/<g>/<v>".
std::string Prefix(const std::string& group, const std::string& version) {
  return group.empty() ? absl::StrCat("/api/", version)
                       : absl::StrCat("/apis/", group, "/", version);
}

json VersionInfo() {
  std::string minor;
  std::vector<std::string> parts = absl::StrSplit(kServerVersion, '.');
  if (parts.size() >= 2) minor = parts[1];
  return {{"major", "1"},    {"minor", minor},     {"gitVersion", kServerVersion},
          {"gitCommit", ""}, {"gitTreeState", ""}, {"buildDate", "1970-01-01T00:00:00Z"},
          {"goVersion", ""}, {"compiler", ""},     {"platform", "linux/amd64"}};
}

// The groups other than the core one, in the order resources name them,
// each with its versions in order.
std::vector<std::pair<std::string, std::vector<std::string>>> Groups(
    const std::vector<ApiResource>& resources) {
  std::vector<std::pair<std::string, std::vector<std::string>>> out;
  for (const ApiResource& r : resources) {
    if (r.group.empty()) continue;
    auto it =
        std::find_if(out.begin(), out.end(), [&](const auto& g) { return g.first == r.group; });
    if (it == out.end()) {
      out.push_back({r.group, {}});
      it = out.end() - 1;
    }
    if (std::find(it->second.begin(), it->second.end(), r.version) == it->second.end()) {
      it->second.push_back(r.version);
    }
  }
  return out;
}

json ApiGroup(const std::string& name, const std::vector<std::string>& versions) {
  json list = json::array();
  for (const std::string& v : versions) {
    list.push_back({{"groupVersion", GroupVersion(name, v)}, {"version", v}});
  }
  json group = {{"name", name}, {"versions", list}, {"preferredVersion", list[0]}};
  return group;
}

json ResourceList(const std::string& group, const std::string& version,
                  const std::vector<ApiResource>& resources) {
  json list = json::array();
  for (const ApiResource& r : resources) {
    if (r.group != group || r.version != version) continue;
    json entry = {{"name", r.name},
                  {"singularName", r.singular},
                  {"namespaced", r.namespaced},
                  {"kind", r.kind},
                  {"verbs", r.verbs}};
    if (!r.kind_group.empty() || !r.kind_version.empty()) {
      entry["group"] = r.kind_group;
      entry["version"] = r.kind_version;
    }
    if (!r.short_names.empty()) entry["shortNames"] = r.short_names;
    if (!r.categories.empty()) entry["categories"] = r.categories;
    list.push_back(std::move(entry));
  }
  return {{"kind", "APIResourceList"},
          {"apiVersion", "v1"},
          {"groupVersion", GroupVersion(group, version)},
          {"resources", std::move(list)}};
}

bool HasGroupVersion(const std::vector<ApiResource>& resources, const std::string& group,
                     const std::string& version) {
  for (const ApiResource& r : resources) {
    if (r.group == group && r.version == version) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------
// OpenAPI v3: the paths and operations, enough for kubectl's
// QueryParamVerifierV3 (a PATCH operation of the kind that lists the
// parameter).

json QueryParameter(const std::string& name) {
  return {{"name", name}, {"in", "query"}, {"schema", {{"type", "string"}}}};
}

json Operation(const ApiResource& r, const std::string& action, const std::string& id) {
  json gvk = {{"group", r.kind_group.empty() && r.kind_version.empty() ? r.group : r.kind_group},
              {"version", r.kind_version.empty() ? r.version : r.kind_version},
              {"kind", r.kind}};
  json op = {{"operationId", id},
             {"x-kubernetes-action", action},
             {"x-kubernetes-group-version-kind", gvk},
             {"responses", {{"200", {{"description", "OK"}}}}}};
  json params = json::array();
  if (action == "post" || action == "put" || action == "patch") {
    for (const char* name : {"dryRun", "fieldManager", "fieldValidation"}) {
      params.push_back(QueryParameter(name));
    }
    if (action == "patch") params.push_back(QueryParameter("force"));
  } else if (action == "list" || action == "watchlist") {
    for (const char* name : {"labelSelector", "fieldSelector", "limit", "continue",
                             "resourceVersion", "resourceVersionMatch", "timeoutSeconds", "watch",
                             "allowWatchBookmarks", "sendInitialEvents"}) {
      params.push_back(QueryParameter(name));
    }
  } else if (action == "delete") {
    for (const char* name : {"dryRun", "gracePeriodSeconds", "propagationPolicy"}) {
      params.push_back(QueryParameter(name));
    }
  }
  op["parameters"] = std::move(params);
  return op;
}

json PathParameter(const std::string& name) {
  return {{"name", name}, {"in", "path"}, {"required", true}, {"schema", {{"type", "string"}}}};
}

bool Has(const ApiResource& r, const std::string& verb) {
  return std::find(r.verbs.begin(), r.verbs.end(), verb) != r.verbs.end();
}

// "readCoreV1NamespacedPodStatus"-like ids, unique within the document.
std::string OperationId(const std::string& verb, const ApiResource& r) {
  std::string id = verb;
  for (absl::string_view part : absl::StrSplit(r.name, absl::ByAnyChar("/."))) {
    if (part.empty()) continue;
    id += absl::StrCat(std::string(1, static_cast<char>(std::toupper(part[0]))), part.substr(1));
  }
  return id;
}

json OpenApiDocument(const std::string& group, const std::string& version,
                     const std::vector<ApiResource>& resources) {
  json paths = json::object();
  const std::string prefix = Prefix(group, version);
  for (const ApiResource& r : resources) {
    if (r.group != group || r.version != version) continue;
    std::vector<std::string> parts = absl::StrSplit(r.name, '/');
    const std::string plural = parts[0];
    const std::string sub = parts.size() > 1 ? parts[1] : "";
    const std::string scope = r.namespaced ? "/namespaces/{namespace}" : "";
    json scope_params = json::array();
    if (r.namespaced) scope_params.push_back(PathParameter("namespace"));
    if (sub.empty()) {
      json collection = json::object();
      collection["parameters"] = scope_params;
      if (Has(r, "list")) collection["get"] = Operation(r, "list", OperationId("list", r));
      if (Has(r, "create")) collection["post"] = Operation(r, "post", OperationId("create", r));
      paths[absl::StrCat(prefix, scope, "/", plural)] = std::move(collection);
      if (r.namespaced && Has(r, "list")) {
        paths[absl::StrCat(prefix, "/", plural)] = {
            {"get", Operation(r, "list", OperationId("listAllNamespaces", r))}};
      }
    }
    json item = json::object();
    json item_params = scope_params;
    item_params.push_back(PathParameter("name"));
    item["parameters"] = std::move(item_params);
    const std::string suffix = sub.empty() ? "" : "/" + sub;
    if (Has(r, "get")) item["get"] = Operation(r, "get", OperationId("read", r));
    if (Has(r, "update")) item["put"] = Operation(r, "put", OperationId("replace", r));
    if (Has(r, "patch")) item["patch"] = Operation(r, "patch", OperationId("patch", r));
    if (Has(r, "delete")) item["delete"] = Operation(r, "delete", OperationId("delete", r));
    if (!sub.empty() && Has(r, "create")) {
      item["post"] = Operation(r, "post", OperationId("create", r));
    }
    paths[absl::StrCat(prefix, scope, "/", plural, "/{name}", suffix)] = std::move(item);
  }
  return {{"openapi", "3.0.0"},
          {"info", {{"title", "Kubernetes"}, {"version", kServerVersion}}},
          {"paths", std::move(paths)},
          {"components", {{"schemas", json::object()}}}};
}

// FNV-1a: a stable hash for the index's URLs, which clients cache by.
std::string Hash(const std::string& text) {
  return absl::StrFormat("%016X", util::Fnv1a64(text));
}

json OpenApiIndex(const std::vector<ApiResource>& resources) {
  json paths = json::object();
  std::set<std::pair<std::string, std::string>> seen;
  for (const ApiResource& r : resources) {
    if (!seen.insert({r.group, r.version}).second) continue;
    const std::string key = Prefix(r.group, r.version).substr(1);  // "api/v1"
    const std::string doc = Dump(OpenApiDocument(r.group, r.version, resources));
    paths[key] = {{"serverRelativeURL", absl::StrCat("/openapi/v3/", key, "?hash=", Hash(doc))}};
  }
  return {{"paths", std::move(paths)}};
}

json OpenApiV2() {
  return {{"swagger", "2.0"},
          {"info", {{"title", "Kubernetes"}, {"version", kServerVersion}}},
          {"paths", json::object()},
          {"definitions", json::object()}};
}

// A length-delimited protobuf field (wire type 2) with a one-byte length.
std::string Field(int number, const std::string& bytes) {
  return absl::StrCat(std::string(1, static_cast<char>(number << 3 | 2)),
                      std::string(1, static_cast<char>(bytes.size())), bytes);
}

}  // namespace

std::string OpenApiV2Protobuf() {
  // openapi.v2.Document: swagger = 1, info = 2 (Info: title = 1,
  // version = 2), paths = 8.
  const std::string info = Field(1, "Kubernetes") + Field(2, kServerVersion);
  return Field(1, "2.0") + Field(2, info) + Field(8, "");
}

std::optional<json> Discovery(absl::string_view path, const std::vector<ApiResource>& resources,
                              absl::string_view server_address) {
  std::vector<std::string> s = absl::StrSplit(path, '/', absl::SkipEmpty());
  if (s.size() == 1 && s[0] == "version") return VersionInfo();
  if (s.size() == 1 && s[0] == "api") {
    std::vector<std::string> versions;
    for (const ApiResource& r : resources) {
      if (r.group.empty() &&
          std::find(versions.begin(), versions.end(), r.version) == versions.end()) {
        versions.push_back(r.version);
      }
    }
    return json{{"kind", "APIVersions"},
                {"versions", versions},
                {"serverAddressByClientCIDRs",
                 json::array({{{"clientCIDR", "0.0.0.0/0"},
                               {"serverAddress", std::string(server_address)}}})}};
  }
  if (s.size() == 2 && s[0] == "api" && HasGroupVersion(resources, "", s[1])) {
    return ResourceList("", s[1], resources);
  }
  const auto groups = Groups(resources);
  if (s.size() == 1 && s[0] == "apis") {
    json list = json::array();
    for (const auto& [name, versions] : groups) list.push_back(ApiGroup(name, versions));
    return json{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", std::move(list)}};
  }
  if (s.size() == 2 && s[0] == "apis") {
    for (const auto& [name, versions] : groups) {
      if (name != s[1]) continue;
      json group = ApiGroup(name, versions);
      group["kind"] = "APIGroup";
      group["apiVersion"] = "v1";
      return group;
    }
    return std::nullopt;
  }
  if (s.size() == 3 && s[0] == "apis" && HasGroupVersion(resources, s[1], s[2])) {
    return ResourceList(s[1], s[2], resources);
  }
  if (s.size() == 2 && s[0] == "openapi" && s[1] == "v2") return OpenApiV2();
  if (s.size() >= 2 && s[0] == "openapi" && s[1] == "v3") {
    if (s.size() == 2) return OpenApiIndex(resources);
    if (s.size() == 4 && s[2] == "api" && HasGroupVersion(resources, "", s[3])) {
      return OpenApiDocument("", s[3], resources);
    }
    if (s.size() == 5 && s[2] == "apis" && HasGroupVersion(resources, s[3], s[4])) {
      return OpenApiDocument(s[3], s[4], resources);
    }
  }
  return std::nullopt;
}

}  // namespace kestrel::kube::testing
