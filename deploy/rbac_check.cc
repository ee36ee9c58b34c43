#include "deploy/rbac_check.h"

#include <algorithm>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "api/decode.h"
#include "yaml-cpp/yaml.h"

namespace kestrel::deploy {
namespace {

constexpr char kRbacGroup[] = "rbac.authorization.k8s.io";
constexpr char kAll[] = "*";

bool Contains(const std::vector<std::string>& v, absl::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

std::string Key(absl::string_view kind, absl::string_view ns, absl::string_view name) {
  return absl::StrCat(kind, "/", ns, "/", name);
}

// Go's %#v of a []string, which upstream's Invalid value errors print.
std::string GoStrings(const std::vector<std::string>& v) {
  std::vector<std::string> quoted;
  for (const auto& s : v) quoted.push_back(absl::StrCat("\"", s, "\""));
  return absl::StrCat("[]string{", absl::StrJoin(quoted, ", "), "}");
}

std::string Quoted(const std::vector<std::string>& v) {
  std::vector<std::string> quoted;
  for (const auto& s : v) quoted.push_back(absl::StrCat("\"", s, "\""));
  return absl::StrJoin(quoted, ", ");
}

// pkg/apis/rbac/validation ValidatePolicyRule; field paths relative to the
// object ("rules[0].verbs").
std::vector<std::string> ValidateRule(const PolicyRule& rule, bool namespaced,
                                      const std::string& path) {
  std::vector<std::string> errs;
  if (rule.verbs.empty()) {
    errs.push_back(
        absl::StrCat(path, ".verbs: Required value: verbs must contain at least one value"));
  }
  if (!rule.non_resource_urls.empty()) {
    if (namespaced) {
      errs.push_back(absl::StrCat(path, ".nonResourceURLs: Invalid value: ",
                                  GoStrings(rule.non_resource_urls),
                                  ": namespaced rules cannot apply to non-resource URLs"));
    }
    if (!rule.api_groups.empty() || !rule.resources.empty() || !rule.resource_names.empty()) {
      errs.push_back(absl::StrCat(
          path, ".nonResourceURLs: Invalid value: ", GoStrings(rule.non_resource_urls),
          ": rules cannot apply to both regular resources and non-resource URLs"));
    }
    return errs;
  }
  if (rule.api_groups.empty()) {
    errs.push_back(absl::StrCat(
        path, ".apiGroups: Required value: resource rules must supply at least one api group"));
  }
  if (rule.resources.empty()) {
    errs.push_back(absl::StrCat(
        path, ".resources: Required value: resource rules must supply at least one resource"));
  }
  return errs;
}

// ValidateRoleBindingSubject.
std::vector<std::string> ValidateSubject(const Subject& s, bool namespaced,
                                         const std::string& path) {
  std::vector<std::string> errs;
  if (s.name.empty()) errs.push_back(absl::StrCat(path, ".name: Required value"));
  if (s.kind == "ServiceAccount") {
    if (!namespaced && s.namespace_.empty()) {
      errs.push_back(absl::StrCat(path, ".namespace: Required value"));
    }
  } else if (s.kind != "User" && s.kind != "Group") {
    errs.push_back(absl::StrCat(path, ".kind: Unsupported value: \"", s.kind,
                                "\": supported values: \"ServiceAccount\", \"User\", \"Group\""));
  }
  return errs;
}

std::string Join(const std::vector<std::string>& errs) { return absl::StrJoin(errs, ", "); }

// serviceaccount.MakeUsername.
std::string ServiceAccountUsername(absl::string_view ns, absl::string_view name) {
  return absl::StrCat("system:serviceaccount:", ns, ":", name);
}

// appliesToUser (pkg/registry/rbac/validation/rule.go).
bool AppliesTo(const UserInfo& user, const Subject& s, const std::string& binding_namespace) {
  if (s.kind == "User") return user.name == s.name;
  if (s.kind == "Group") return Contains(user.groups, s.name);
  if (s.kind == "ServiceAccount") {
    const std::string& ns = s.namespace_.empty() ? binding_namespace : s.namespace_;
    if (ns.empty()) return false;
    return user.name == ServiceAccountUsername(ns, s.name);
  }
  return false;
}

// describeSubject.
std::string DescribeSubject(const Subject& s, const std::string& binding_namespace) {
  if (s.kind == "ServiceAccount") {
    const std::string& ns = s.namespace_.empty() ? binding_namespace : s.namespace_;
    return absl::StrCat(s.kind, " \"", s.name, "/", ns, "\"");
  }
  return absl::StrCat(s.kind, " \"", s.name, "\"");
}

// ---- YAML --------------------------------------------------------------

// Reading one object; every error carries `where_` ("f.yaml: ClusterRole
// \"x\"") and the field path.
class ObjectReader {
 public:
  explicit ObjectReader(std::string where) : where_(std::move(where)) {}

  absl::Status Error(absl::string_view field, absl::string_view message) const {
    return absl::InvalidArgumentError(absl::StrCat(where_, ": ", field, ": ", message));
  }
  absl::Status Errors(const std::vector<std::string>& errs) const {
    return absl::InvalidArgumentError(absl::StrCat(where_, ": ", Join(errs)));
  }

  absl::StatusOr<std::string> String(const YAML::Node& node, absl::string_view field) const {
    if (!node || node.IsNull()) return std::string();
    if (!node.IsScalar()) return Error(field, "must be a string");
    return node.Scalar();
  }

  absl::StatusOr<std::vector<std::string>> Strings(const YAML::Node& node,
                                                   absl::string_view field) const {
    std::vector<std::string> out;
    if (!node || node.IsNull()) return out;
    if (!node.IsSequence()) return Error(field, "must be a list of strings");
    for (size_t i = 0; i < node.size(); ++i) {
      if (!node[i].IsScalar()) {
        return Error(absl::StrCat(field, "[", i, "]"), "must be a string");
      }
      out.push_back(node[i].Scalar());
    }
    return out;
  }

  absl::StatusOr<PolicyRule> Rule(const YAML::Node& node, const std::string& path) const {
    if (!node.IsMap()) return Error(path, "must be an object");
    PolicyRule rule;
    struct Field {
      const char* name;
      std::vector<std::string>* out;
    } fields[] = {{"verbs", &rule.verbs},
                  {"apiGroups", &rule.api_groups},
                  {"resources", &rule.resources},
                  {"resourceNames", &rule.resource_names},
                  {"nonResourceURLs", &rule.non_resource_urls}};
    for (const Field& f : fields) {
      absl::StatusOr<std::vector<std::string>> v =
          Strings(node[f.name], absl::StrCat(path, ".", f.name));
      if (!v.ok()) return v.status();
      *f.out = *std::move(v);
    }
    return rule;
  }

 private:
  std::string where_;
};

absl::Status AddObject(Policy* policy, const YAML::Node& object, const std::string& where) {
  if (!object.IsMap()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": not an object"));
  }
  ObjectReader header(where);
  absl::StatusOr<std::string> api_version = header.String(object["apiVersion"], "apiVersion");
  if (!api_version.ok()) return api_version.status();
  absl::StatusOr<std::string> kind = header.String(object["kind"], "kind");
  if (!kind.ok()) return kind.status();
  if (api_version->empty()) return header.Error("apiVersion", "Required value");
  if (kind->empty()) return header.Error("kind", "Required value");
  const YAML::Node metadata = object["metadata"];
  if (metadata && !metadata.IsNull() && !metadata.IsMap()) {
    return header.Error("metadata", "must be an object");
  }
  absl::StatusOr<std::string> name =
      header.String(metadata ? metadata["name"] : YAML::Node(), "metadata.name");
  if (!name.ok()) return name.status();
  absl::StatusOr<std::string> ns =
      header.String(metadata ? metadata["namespace"] : YAML::Node(), "metadata.namespace");
  if (!ns.ok()) return ns.status();
  if (name->empty()) {
    return ObjectReader(absl::StrCat(where, " (", *kind, ")")).Error("metadata.name",
                                                                      "Required value");
  }
  if (*kind == "List") {
    return header.Error("kind", "a List has no metadata.name; its objects go under items");
  }

  const bool is_role = *kind == "Role" || *kind == "ClusterRole";
  const bool is_binding = *kind == "RoleBinding" || *kind == "ClusterRoleBinding";
  if (!is_role && !is_binding) return absl::OkStatus();
  const bool namespaced = *kind == "Role" || *kind == "RoleBinding";
  const std::string id = namespaced ? absl::StrCat(*ns, "/", *name) : *name;
  ObjectReader r(absl::StrCat(where, ": ", *kind, " \"", id, "\""));
  if (*api_version != absl::StrCat(kRbacGroup, "/v1")) {
    return r.Error("apiVersion", absl::StrCat("Unsupported value: \"", *api_version,
                                              "\": supported values: \"", kRbacGroup, "/v1\""));
  }
  if (namespaced && ns->empty()) return r.Error("metadata.namespace", "Required value");
  if (!namespaced) ns->clear();  // cluster-scoped: the API server drops it

  if (is_role) {
    Role role{*kind, *name, *ns, {}};
    const YAML::Node rules = object["rules"];
    if (rules && !rules.IsNull() && !rules.IsSequence()) {
      return r.Error("rules", "must be a list");
    }
    std::vector<std::string> errs;
    for (size_t i = 0; rules && i < rules.size(); ++i) {
      const std::string path = absl::StrCat("rules[", i, "]");
      absl::StatusOr<PolicyRule> rule = r.Rule(rules[i], path);
      if (!rule.ok()) return rule.status();
      for (std::string& e : ValidateRule(*rule, namespaced, path)) errs.push_back(std::move(e));
      role.rules.push_back(*std::move(rule));
    }
    if (!errs.empty()) return r.Errors(errs);
    absl::Status s = policy->AddRole(std::move(role));
    if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(where, ": ", s.message()));
    return absl::OkStatus();
  }

  Binding binding{*kind, *name, *ns, "", "", {}};
  const YAML::Node ref = object["roleRef"];
  if (!ref || !ref.IsMap()) return r.Error("roleRef", "Required value");
  absl::StatusOr<std::string> ref_group = r.String(ref["apiGroup"], "roleRef.apiGroup");
  if (!ref_group.ok()) return ref_group.status();
  absl::StatusOr<std::string> ref_kind = r.String(ref["kind"], "roleRef.kind");
  if (!ref_kind.ok()) return ref_kind.status();
  absl::StatusOr<std::string> ref_name = r.String(ref["name"], "roleRef.name");
  if (!ref_name.ok()) return ref_name.status();
  std::vector<std::string> errs;
  // ValidateRoleBinding / ValidateClusterRoleBinding.
  if (*ref_group != kRbacGroup) {
    errs.push_back(absl::StrCat("roleRef.apiGroup: Unsupported value: \"", *ref_group,
                                "\": supported values: \"", kRbacGroup, "\""));
  }
  if (namespaced && *ref_kind != "Role" && *ref_kind != "ClusterRole") {
    errs.push_back(absl::StrCat("roleRef.kind: Unsupported value: \"", *ref_kind,
                                "\": supported values: \"Role\", \"ClusterRole\""));
  }
  if (!namespaced && *ref_kind != "ClusterRole") {
    errs.push_back(absl::StrCat("roleRef.kind: Unsupported value: \"", *ref_kind,
                                "\": supported values: \"ClusterRole\""));
  }
  if (ref_name->empty()) errs.push_back("roleRef.name: Required value");
  binding.role_kind = *ref_kind;
  binding.role_name = *ref_name;
  const YAML::Node subjects = object["subjects"];
  if (subjects && !subjects.IsNull() && !subjects.IsSequence()) {
    return r.Error("subjects", "must be a list");
  }
  for (size_t i = 0; subjects && i < subjects.size(); ++i) {
    const std::string path = absl::StrCat("subjects[", i, "]");
    if (!subjects[i].IsMap()) return r.Error(path, "must be an object");
    Subject s;
    struct Field {
      const char* name;
      std::string* out;
    } fields[] = {{"kind", &s.kind}, {"name", &s.name}, {"namespace", &s.namespace_}};
    for (const Field& f : fields) {
      absl::StatusOr<std::string> v = r.String(subjects[i][f.name], absl::StrCat(path, ".", f.name));
      if (!v.ok()) return v.status();
      *f.out = *std::move(v);
    }
    for (std::string& e : ValidateSubject(s, namespaced, path)) errs.push_back(std::move(e));
    binding.subjects.push_back(std::move(s));
  }
  if (!errs.empty()) return r.Errors(errs);
  absl::Status s = policy->AddBinding(std::move(binding));
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(where, ": ", s.message()));
  return absl::OkStatus();
}

// Tokens of one requests-file line; `""` is the empty string.
std::vector<std::string> Tokens(absl::string_view line) {
  std::vector<std::string> out;
  for (absl::string_view t : absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty())) {
    out.push_back(t == "\"\"" ? "" : std::string(t));
  }
  return out;
}

bool IsLowerWord(absl::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return absl::ascii_islower(c) || absl::ascii_isdigit(c) || c == '-';
  });
}

}  // namespace

UserInfo ServiceAccountUser(absl::string_view namespace_, absl::string_view name) {
  return {ServiceAccountUsername(namespace_, name),
          {"system:serviceaccounts", absl::StrCat("system:serviceaccounts:", namespace_),
           "system:authenticated"}};
}

Request ResourceRequest(absl::string_view verb, absl::string_view api_group,
                        absl::string_view resource, absl::string_view namespace_,
                        absl::string_view name) {
  Request r;
  r.verb = std::string(verb);
  r.api_group = std::string(api_group);
  std::pair<std::string, std::string> parts =
      absl::StrSplit(resource, absl::MaxSplits('/', 1));
  r.resource = parts.first;
  r.subresource = parts.second;
  r.namespace_ = std::string(namespace_);
  r.name = std::string(name);
  return r;
}

Request NonResourceRequest(absl::string_view verb, absl::string_view path) {
  Request r;
  r.verb = std::string(verb);
  r.resource_request = false;
  r.path = std::string(path);
  return r;
}

std::string Describe(const Request& r) {
  if (!r.resource_request) return absl::StrCat(r.verb, " ", r.path);
  std::string out = absl::StrCat(r.verb, " ", r.resource);
  if (!r.subresource.empty()) absl::StrAppend(&out, "/", r.subresource);
  if (!r.api_group.empty()) absl::StrAppend(&out, ".", r.api_group);
  if (!r.name.empty()) absl::StrAppend(&out, " \"", r.name, "\"");
  absl::StrAppend(&out, r.namespace_.empty() ? " (cluster-wide)"
                                             : absl::StrCat(" in namespace ", r.namespace_));
  return out;
}

bool RuleAllows(const PolicyRule& rule, const Request& r) {
  // VerbMatches.
  if (!Contains(rule.verbs, kAll) && !Contains(rule.verbs, r.verb)) return false;
  if (!r.resource_request) {
    // NonResourceURLMatches.
    for (const std::string& url : rule.non_resource_urls) {
      if (url == kAll || url == r.path) return true;
      if (!absl::EndsWith(url, "*")) continue;
      // strings.TrimRight(url, "*"): every trailing "*" goes.
      absl::string_view prefix = url;
      while (absl::ConsumeSuffix(&prefix, "*")) {
      }
      if (absl::StartsWith(r.path, prefix)) return true;
    }
    return false;
  }
  // APIGroupMatches.
  if (!Contains(rule.api_groups, kAll) && !Contains(rule.api_groups, r.api_group)) return false;
  // ResourceMatches, on "<resource>/<subresource>".
  const std::string combined =
      r.subresource.empty() ? r.resource : absl::StrCat(r.resource, "/", r.subresource);
  bool resource = false;
  for (const std::string& res : rule.resources) {
    if (res == kAll || res == combined) {
      resource = true;
      break;
    }
    if (r.subresource.empty()) continue;
    if (res.size() == r.subresource.size() + 2 && absl::StartsWith(res, "*/") &&
        absl::EndsWith(res, r.subresource)) {
      resource = true;
      break;
    }
  }
  if (!resource) return false;
  // ResourceNameMatches.
  return rule.resource_names.empty() || Contains(rule.resource_names, r.name);
}

std::vector<PolicyRule> BreakdownRule(const PolicyRule& rule) {
  std::vector<PolicyRule> out;
  for (const std::string& group : rule.api_groups) {
    for (const std::string& resource : rule.resources) {
      for (const std::string& verb : rule.verbs) {
        if (rule.resource_names.empty()) {
          out.push_back(PolicyRule{{verb}, {group}, {resource}, {}, {}});
          continue;
        }
        for (const std::string& name : rule.resource_names) {
          out.push_back(PolicyRule{{verb}, {group}, {resource}, {name}, {}});
        }
      }
    }
  }
  for (const std::string& url : rule.non_resource_urls) {
    for (const std::string& verb : rule.verbs) {
      out.push_back(PolicyRule{{verb}, {}, {}, {}, {url}});
    }
  }
  return out;
}

std::string DescribeRule(const PolicyRule& rule) {
  std::vector<std::string> parts;
  auto add = [&parts](const char* name, const std::vector<std::string>& v) {
    if (!v.empty()) parts.push_back(absl::StrCat(name, "=[", Quoted(v), "]"));
  };
  add("verbs", rule.verbs);
  add("apiGroups", rule.api_groups);
  add("resources", rule.resources);
  add("resourceNames", rule.resource_names);
  add("nonResourceURLs", rule.non_resource_urls);
  return absl::StrJoin(parts, " ");
}

absl::Status Policy::AddRole(Role role) {
  std::string key = Key(role.kind, role.namespace_, role.name);
  if (roles_.count(key) > 0) {
    return absl::AlreadyExistsError(absl::StrCat(
        role.kind, " \"", role.namespace_.empty() ? "" : absl::StrCat(role.namespace_, "/"),
        role.name, "\": already added"));
  }
  roles_.emplace(std::move(key), std::move(role));
  return absl::OkStatus();
}

absl::Status Policy::AddBinding(Binding binding) {
  std::string key = Key(binding.kind, binding.namespace_, binding.name);
  if (bindings_.count(key) > 0) {
    return absl::AlreadyExistsError(absl::StrCat(
        binding.kind, " \"",
        binding.namespace_.empty() ? "" : absl::StrCat(binding.namespace_, "/"), binding.name,
        "\": already added"));
  }
  bindings_.emplace(std::move(key), std::move(binding));
  return absl::OkStatus();
}

bool Policy::RemoveRole(absl::string_view kind, absl::string_view namespace_,
                        absl::string_view name) {
  return roles_.erase(Key(kind, namespace_, name)) > 0;
}

const Role* Policy::FindRole(absl::string_view kind, absl::string_view namespace_,
                             absl::string_view name) const {
  auto it = roles_.find(Key(kind, namespace_, name));
  return it == roles_.end() ? nullptr : &it->second;
}

Decision Policy::Authorize(const UserInfo& user, const Request& request) const {
  // VisitRulesFor: every ClusterRoleBinding, then, for a namespaced request,
  // the RoleBindings of its namespace.
  for (const auto& [key, b] : bindings_) {
    const bool cluster = b.kind == "ClusterRoleBinding";
    if (!cluster && (request.namespace_.empty() || b.namespace_ != request.namespace_)) continue;
    const std::string role_ns = b.role_kind == "Role" ? b.namespace_ : "";
    const Role* role = FindRole(b.role_kind, role_ns, b.role_name);
    if (role == nullptr) continue;
    for (const Subject& s : b.subjects) {
      if (!AppliesTo(user, s, b.namespace_)) continue;
      for (const PolicyRule& rule : role->rules) {
        if (!RuleAllows(rule, request)) continue;
        const std::string binding =
            cluster ? absl::StrCat("ClusterRoleBinding \"", b.name, "\"")
                    : absl::StrCat("RoleBinding \"", b.name, "/", b.namespace_, "\"");
        return {true, absl::StrCat("RBAC: allowed by ", binding, " of ", b.role_kind, " \"",
                                   b.role_name, "\" to ", DescribeSubject(s, b.namespace_))};
      }
      break;  // the subject matched; its role's rules do not allow it
    }
  }
  return {false, ""};
}

absl::Status Policy::AddYaml(absl::string_view file_name, absl::string_view content) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(content));
  } catch (const YAML::Exception& e) {
    return absl::InvalidArgumentError(
        absl::StrCat(file_name, ":", e.mark.line + 1, ":", e.mark.column + 1, ": ", e.msg));
  }
  int index = 0;
  for (const YAML::Node& doc : docs) {
    ++index;
    if (!doc || doc.IsNull()) continue;  // an empty document between "---"
    const std::string where = absl::StrCat(file_name, ": document ", index);
    if (doc.IsMap() && doc["kind"] && doc["kind"].IsScalar() && doc["kind"].Scalar() == "List") {
      const YAML::Node items = doc["items"];
      if (items && !items.IsNull() && !items.IsSequence()) {
        return absl::InvalidArgumentError(absl::StrCat(where, ": items: must be a list"));
      }
      for (size_t i = 0; items && i < items.size(); ++i) {
        absl::Status s = AddObject(this, items[i], absl::StrCat(where, ": items[", i, "]"));
        if (!s.ok()) return s;
      }
      continue;
    }
    absl::Status s = AddObject(this, doc, where);
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::Status Policy::AddFile(const std::string& path) {
  absl::StatusOr<std::string> content = api::ReadFile(path);
  if (!content.ok()) return content.status();
  return AddYaml(path, *content);
}

absl::StatusOr<std::vector<RequestLine>> ParseRequests(absl::string_view file_name,
                                                       absl::string_view content) {
  std::vector<RequestLine> out;
  std::string section;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(content, '\n')) {
    ++number;
    const size_t hash = line.find('#');
    if (hash != absl::string_view::npos) line = line.substr(0, hash);
    line = absl::StripAsciiWhitespace(line);
    if (line.empty()) continue;
    auto error = [&](absl::string_view message) {
      return absl::InvalidArgumentError(absl::StrCat(file_name, ":", number, ": ", message));
    };
    if (absl::ConsumePrefix(&line, "[")) {
      if (!absl::ConsumeSuffix(&line, "]") || !IsLowerWord(line)) {
        return error("a section header reads [name], in lower case");
      }
      section = std::string(line);
      continue;
    }
    const std::vector<std::string> t = Tokens(line);
    if (!IsLowerWord(t[0])) return error(absl::StrCat("verb \"", t[0], "\": want lower case"));
    RequestLine rl;
    rl.line = number;
    rl.section = section;
    if (t.size() == 2 && absl::StartsWith(t[1], "/")) {
      rl.request = NonResourceRequest(t[0], t[1]);
    } else if (t.size() == 4 || t.size() == 5) {
      if (t[2].empty()) return error("the resource is empty");
      if (absl::StartsWith(t[2], "/") || absl::EndsWith(t[2], "/") ||
          std::count(t[2].begin(), t[2].end(), '/') > 1) {
        return error(absl::StrCat("resource \"", t[2], "\": want resource or resource/subresource"));
      }
      rl.request = ResourceRequest(t[0], t[1], t[2], t[3], t.size() == 5 ? t[4] : "");
    } else {
      return error(
          "want `verb group resource[/subresource] namespace [name]` or `verb /path` "
          "(\"\" for an empty group or namespace)");
    }
    out.push_back(std::move(rl));
  }
  return out;
}

}  // namespace kestrel::deploy
