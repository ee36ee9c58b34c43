// File: rbac_check.h
//
// An offline evaluator of Kubernetes RBAC, for checking that the manifests in
// deploy/ give `kestrel scheduler` what it asks the API server for, and no
// more. It answers allowed/denied as kube-apiserver's RBAC authorizer does
// (plugin/pkg/auth/authorizer/rbac/rbac.go RuleAllows, and
// pkg/registry/rbac/validation/rule.go VisitRulesFor and appliesToUser):
//
//   * ClusterRoleBindings apply in every namespace and to cluster-scoped
//     requests; RoleBindings apply only to requests in their own namespace,
//     and may refer to a Role of that namespace or to a ClusterRole;
//   * a subject matches by User name, by Group among the user's groups, or
//     as the ServiceAccount user "system:serviceaccount:<ns>:<name>" (a
//     RoleBinding's ServiceAccount subject without a namespace is in the
//     binding's namespace);
//   * a rule allows a resource request when its verbs, apiGroups, resources
//     and resourceNames all match: "*" matches any verb, group or resource,
//     a subresource request matches "<resource>/<subresource>" or
//     "*/<subresource>" (never "<resource>/*", and never plain
//     "<resource>"), and empty resourceNames match any name;
//   * a rule allows a non-resource request (a path such as "/metrics") when
//     its verbs match and a nonResourceURL is "*", equals the path, or ends
//     in "*" and the path starts with what precedes it;
//   * a binding whose role does not exist grants nothing.
//
// Objects are read from YAML (documents, or the items of a `kind: List`)
// and checked as the API server's validation does (ValidatePolicyRule,
// ValidateRoleBinding): errors name the file, the object and the field.
// Not modelled: aggregationRule (an aggregated ClusterRole is taken with the
// rules it lists), other authorizers (Node, webhook), and impersonation.
//
// Example:
//   Policy policy;
//   RETURN_IF_ERROR(policy.AddFile("deploy/testdata/bootstrap-roles.yaml"));
//   RETURN_IF_ERROR(policy.AddFile("deploy/kestrel-scheduler.yaml"));
//   Decision d = policy.Authorize(ServiceAccountUser("kube-system", "kestrel-scheduler"),
//                                 ResourceRequest("create", "", "pods/binding", "default"));
//   // d.allowed, d.reason == "RBAC: allowed by ClusterRoleBinding ..."

#ifndef KESTREL_DEPLOY_RBAC_CHECK_H_
#define KESTREL_DEPLOY_RBAC_CHECK_H_

#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace kestrel::deploy {

// rbac.authorization.k8s.io/v1 PolicyRule.
struct PolicyRule {
  std::vector<std::string> verbs;
  std::vector<std::string> api_groups;
  std::vector<std::string> resources;
  std::vector<std::string> resource_names;
  std::vector<std::string> non_resource_urls;
};

// A Role (namespaced) or ClusterRole (namespace_ empty).
struct Role {
  std::string kind;  // "Role" or "ClusterRole"
  std::string name;
  std::string namespace_;
  std::vector<PolicyRule> rules;
};

struct Subject {
  std::string kind;  // "User", "Group" or "ServiceAccount"
  std::string name;
  std::string namespace_;
};

// A RoleBinding (namespaced) or ClusterRoleBinding (namespace_ empty).
struct Binding {
  std::string kind;  // "RoleBinding" or "ClusterRoleBinding"
  std::string name;
  std::string namespace_;
  std::string role_kind;  // roleRef.kind
  std::string role_name;  // roleRef.name
  std::vector<Subject> subjects;
};

// Who asks: the authenticated user as the authorizer sees it.
struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
};

// The user a ServiceAccount token authenticates as, with the groups the API
// server gives it: system:serviceaccounts, system:serviceaccounts:<ns>,
// system:authenticated.
UserInfo ServiceAccountUser(absl::string_view namespace_, absl::string_view name);

// The authorizer's attributes of one request.
struct Request {
  std::string verb;
  bool resource_request = true;
  // Resource requests.
  std::string api_group;
  std::string resource;
  std::string subresource;
  std::string namespace_;  // empty: cluster-scoped, or across all namespaces
  std::string name;        // empty: a collection (list, watch, create)
  // Non-resource requests.
  std::string path;
};

// A resource request; `resource` may carry a subresource ("pods/binding").
Request ResourceRequest(absl::string_view verb, absl::string_view api_group,
                        absl::string_view resource, absl::string_view namespace_ = "",
                        absl::string_view name = "");

// A request for a path that is no API resource ("/metrics").
Request NonResourceRequest(absl::string_view verb, absl::string_view path);

// "create pods/binding in namespace default", for messages.
std::string Describe(const Request& request);

// RuleAllows()
//
// Whether one rule allows the request (upstream's RuleAllows).
bool RuleAllows(const PolicyRule& rule, const Request& request);

// BreakdownRule()
//
// The rule split into rules of one verb, one group, one resource and at most
// one name each (or one verb and one URL), as upstream's BreakdownRule does:
// what each of them allows, the rule allows, and nothing more.
std::vector<PolicyRule> BreakdownRule(const PolicyRule& rule);

// "verbs=[get] apiGroups=[coordination.k8s.io] resources=[leases]
// resourceNames=[kestrel]", for messages.
std::string DescribeRule(const PolicyRule& rule);

// The answer, and upstream's reason when allowed ("RBAC: allowed by
// ClusterRoleBinding \"b\" of ClusterRole \"r\" to ServiceAccount
// \"name/ns\"").
struct Decision {
  bool allowed = false;
  std::string reason;
};

// Policy
//
// The Roles, ClusterRoles and bindings of a cluster, or of the files that
// will be applied to one.
class Policy {
 public:
  // AddYaml()
  //
  // Adds every ClusterRole, Role, ClusterRoleBinding and RoleBinding in a YAML
  // stream (several documents, or a `kind: List`); other kinds are skipped.
  // InvalidArgument naming `file_name`, the object and the field for YAML
  // that does not parse, an object without apiVersion, kind or metadata.name,
  // an RBAC object that does not validate, or one already added.
  absl::Status AddYaml(absl::string_view file_name, absl::string_view content);
  absl::Status AddFile(const std::string& path);

  absl::Status AddRole(Role role);
  absl::Status AddBinding(Binding binding);

  // Removes a Role ("Role", ns, name) or ClusterRole ("ClusterRole", "",
  // name); false when there is none. Its bindings stay (and grant nothing).
  bool RemoveRole(absl::string_view kind, absl::string_view namespace_, absl::string_view name);

  // A ClusterRole (namespace_ empty) or Role; null when absent.
  const Role* FindRole(absl::string_view kind, absl::string_view namespace_,
                       absl::string_view name) const;

  Decision Authorize(const UserInfo& user, const Request& request) const;

 private:
  // Keyed "<kind>/<namespace>/<name>".
  std::map<std::string, Role> roles_;
  std::map<std::string, Binding> bindings_;
};

// One line of a requests file (deploy/requests.txt).
struct RequestLine {
  int line = 0;
  std::string section;  // "" or the [section] it is under
  Request request;
};

// ParseRequests()
//
// Reads a requests file: lines `verb group resource[/subresource] namespace
// [name]` (`""` for an empty group or namespace), or `verb /path` for a
// non-resource request; `[name]` starts a section; `#` starts a comment.
// InvalidArgument "<file>:<line>: ..." for a line that does not read.
absl::StatusOr<std::vector<RequestLine>> ParseRequests(absl::string_view file_name,
                                                       absl::string_view content);

}  // namespace kestrel::deploy

#endif  // KESTREL_DEPLOY_RBAC_CHECK_H_
