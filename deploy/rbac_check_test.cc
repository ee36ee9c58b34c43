#include "deploy/rbac_check.h"

#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api/decode.h"
#include "deploy/manifest.h"
#include "gtest/gtest.h"

namespace kestrel::deploy {
namespace {

// ---- The evaluator ------------------------------------------------------

constexpr char kPolicy[] = R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
rules:
- apiGroups: [""]
  resources: [pods, pods/status]
  verbs: [get, list]
- apiGroups: [""]
  resources: [pods/binding]
  verbs: [create]
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  resourceNames: [kube-scheduler]
  verbs: [get, update]
- apiGroups: [apps]
  resources: ["*/scale"]
  verbs: [update]
- apiGroups: ["*"]
  resources: [widgets]
  verbs: ["*"]
- nonResourceURLs: [/metrics, /debug/*]
  verbs: [get]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: reader-binding}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: reader}
subjects:
- {kind: ServiceAccount, name: sched, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: lease-writer, namespace: ns1}
rules:
- apiGroups: [coordination.k8s.io]
  resources: [leases]
  verbs: [create]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: lease-writer, namespace: ns1}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: lease-writer}
subjects:
- {kind: ServiceAccount, name: sched, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: secret-reader}
rules:
- apiGroups: [""]
  resources: [secrets]
  verbs: [get]
---
# A ServiceAccount subject without a namespace is in the binding's.
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: other, namespace: ns2}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-reader}
subjects:
- {kind: ServiceAccount, name: other}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: by-group, namespace: ns3}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: secret-reader}
subjects:
- {kind: Group, name: "system:serviceaccounts:kube-system", apiGroup: rbac.authorization.k8s.io}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: missing-role, namespace: ns4}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: absent}
subjects:
- {kind: ServiceAccount, name: sched, namespace: kube-system}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-patcher}
rules:
- apiGroups: [""]
  resources: [nodes]
  verbs: [patch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: alice}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-patcher}
subjects:
- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
---
# Other kinds are skipped.
apiVersion: v1
kind: ServiceAccount
metadata: {name: sched, namespace: kube-system}
)";

struct AuthorizeCase {
  std::string name;
  UserInfo user;
  Request request;
  bool allowed;
  std::string reason;  // when allowed
};

TEST(PolicyTest, AuthorizesAsKubernetesRbac) {
  Policy policy;
  ASSERT_TRUE(policy.AddYaml("policy.yaml", kPolicy).ok());
  const UserInfo sched = ServiceAccountUser("kube-system", "sched");
  const UserInfo other_ns2 = ServiceAccountUser("ns2", "other");
  const UserInfo other_ns1 = ServiceAccountUser("ns1", "other");
  const UserInfo alice{"alice", {"system:authenticated"}};
  const std::string by_reader =
      "RBAC: allowed by ClusterRoleBinding \"reader-binding\" of ClusterRole \"reader\" to "
      "ServiceAccount \"sched/kube-system\"";
  const std::vector<AuthorizeCase> cases = {
      {"verb and resource listed", sched, ResourceRequest("get", "", "pods", "default"), true,
       by_reader},
      {"verb not listed", sched, ResourceRequest("delete", "", "pods", "default"), false, ""},
      {"cluster-wide list", sched, ResourceRequest("list", "", "pods"), true, by_reader},
      {"another group", sched, ResourceRequest("get", "apps", "pods", "default"), false, ""},
      {"subresource listed", sched, ResourceRequest("get", "", "pods/status", "default"), true,
       by_reader},
      {"the resource does not grant its subresources", sched,
       ResourceRequest("get", "", "pods/log", "default"), false, ""},
      {"pods/binding", sched, ResourceRequest("create", "", "pods/binding", "default", "p"), true,
       by_reader},
      {"a subresource does not grant its resource", sched,
       ResourceRequest("create", "", "pods", "default"), false, ""},
      {"resourceNames: the name listed", sched,
       ResourceRequest("get", "coordination.k8s.io", "leases", "kube-system", "kube-scheduler"),
       true, by_reader},
      {"resourceNames: another name", sched,
       ResourceRequest("get", "coordination.k8s.io", "leases", "kube-system", "kestrel"), false,
       ""},
      {"resourceNames: no name", sched,
       ResourceRequest("update", "coordination.k8s.io", "leases", "kube-system"), false, ""},
      {"*/subresource", sched, ResourceRequest("update", "apps", "deployments/scale", "default"),
       true, by_reader},
      {"*/subresource is no resource", sched,
       ResourceRequest("update", "apps", "deployments", "default"), false, ""},
      {"*/subresource is that subresource only", sched,
       ResourceRequest("update", "apps", "deployments/status", "default"), false, ""},
      {"* verb and * group", sched, ResourceRequest("patch", "example.com", "widgets", "default"),
       true, by_reader},
      {"a resource named does not grant its subresources, even under *", sched,
       ResourceRequest("get", "example.com", "widgets/status", "default"), false, ""},
      {"non-resource URL", sched, NonResourceRequest("get", "/metrics"), true, by_reader},
      {"non-resource URL prefix", sched, NonResourceRequest("get", "/debug/pprof/heap"), true,
       by_reader},
      {"non-resource URL prefix ends at the *", sched, NonResourceRequest("get", "/debugger"),
       false, ""},
      {"non-resource URL, verb not listed", sched, NonResourceRequest("post", "/metrics"), false,
       ""},
      {"non-resource URL not listed", sched, NonResourceRequest("get", "/healthz"), false, ""},
      {"a RoleBinding grants in its namespace", sched,
       ResourceRequest("create", "coordination.k8s.io", "leases", "ns1"), true,
       "RBAC: allowed by RoleBinding \"lease-writer/ns1\" of Role \"lease-writer\" to "
       "ServiceAccount \"sched/kube-system\""},
      {"a RoleBinding grants nothing elsewhere", sched,
       ResourceRequest("create", "coordination.k8s.io", "leases", "ns2"), false, ""},
      {"a RoleBinding grants nothing cluster-wide", sched,
       ResourceRequest("create", "coordination.k8s.io", "leases"), false, ""},
      {"ServiceAccount subject in the binding's namespace", other_ns2,
       ResourceRequest("get", "", "secrets", "ns2"), true,
       "RBAC: allowed by RoleBinding \"other/ns2\" of ClusterRole \"secret-reader\" to "
       "ServiceAccount \"other/ns2\""},
      {"a ClusterRole bound by a RoleBinding grants only there", other_ns2,
       ResourceRequest("get", "", "secrets", "ns1"), false, ""},
      {"same name, another namespace's ServiceAccount", other_ns1,
       ResourceRequest("get", "", "secrets", "ns2"), false, ""},
      {"Group subject", sched, ResourceRequest("get", "", "secrets", "ns3"), true,
       "RBAC: allowed by RoleBinding \"by-group/ns3\" of ClusterRole \"secret-reader\" to "
       "Group \"system:serviceaccounts:kube-system\""},
      {"a binding to a missing role grants nothing", sched,
       ResourceRequest("create", "coordination.k8s.io", "leases", "ns4"), false, ""},
      {"User subject", alice, ResourceRequest("patch", "", "nodes", "", "n1"), true,
       "RBAC: allowed by ClusterRoleBinding \"alice\" of ClusterRole \"node-patcher\" to User "
       "\"alice\""},
      {"User subject, another user", sched, ResourceRequest("patch", "", "nodes", "", "n1"),
       false, ""},
  };
  for (const AuthorizeCase& c : cases) {
    SCOPED_TRACE(c.name);
    Decision d = policy.Authorize(c.user, c.request);
    EXPECT_EQ(d.allowed, c.allowed) << Describe(c.request);
    EXPECT_EQ(d.reason, c.reason);
  }
}

TEST(PolicyTest, RemoveRoleTakesAwayWhatItGranted) {
  Policy policy;
  ASSERT_TRUE(policy.AddYaml("policy.yaml", kPolicy).ok());
  const UserInfo alice{"alice", {}};
  const Request patch = ResourceRequest("patch", "", "nodes", "", "n1");
  EXPECT_TRUE(policy.Authorize(alice, patch).allowed);
  EXPECT_TRUE(policy.RemoveRole("ClusterRole", "", "node-patcher"));
  EXPECT_FALSE(policy.RemoveRole("ClusterRole", "", "node-patcher"));
  EXPECT_FALSE(policy.Authorize(alice, patch).allowed);
}

TEST(PolicyTest, BreakdownRuleSplitsIntoSingleGrants) {
  PolicyRule rule{{"get", "update"}, {"coordination.k8s.io"}, {"leases"}, {"a", "b"}, {}};
  std::vector<std::string> got;
  for (const PolicyRule& r : BreakdownRule(rule)) got.push_back(DescribeRule(r));
  EXPECT_EQ(got, (std::vector<std::string>{
                     "verbs=[\"get\"] apiGroups=[\"coordination.k8s.io\"] "
                     "resources=[\"leases\"] resourceNames=[\"a\"]",
                     "verbs=[\"get\"] apiGroups=[\"coordination.k8s.io\"] "
                     "resources=[\"leases\"] resourceNames=[\"b\"]",
                     "verbs=[\"update\"] apiGroups=[\"coordination.k8s.io\"] "
                     "resources=[\"leases\"] resourceNames=[\"a\"]",
                     "verbs=[\"update\"] apiGroups=[\"coordination.k8s.io\"] "
                     "resources=[\"leases\"] resourceNames=[\"b\"]",
                 }));
  PolicyRule urls{{"get"}, {}, {}, {}, {"/metrics", "/healthz"}};
  EXPECT_EQ(BreakdownRule(urls).size(), 2u);
}

struct BadCase {
  std::string name;
  std::string yaml;
  std::string error;
};

TEST(PolicyTest, RejectsInvalidObjectsNamingFileObjectAndField) {
  const std::string cr = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n";
  const std::string crb = "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\n";
  const std::vector<BadCase> cases = {
      {"YAML that does not parse", "kind: [", "f.yaml:1:"},
      {"no name", cr + "rules: []\n",
       "f.yaml: document 1 (ClusterRole): metadata.name: Required value"},
      {"no kind", "apiVersion: v1\nmetadata: {name: x}\n", "f.yaml: document 1: kind: Required value"},
      {"no verbs", cr + "metadata: {name: r}\nrules:\n- apiGroups: ['']\n  resources: [pods]\n",
       "f.yaml: document 1: ClusterRole \"r\": rules[0].verbs: Required value: verbs must contain "
       "at least one value"},
      {"no group, no resource", cr + "metadata: {name: r}\nrules:\n- verbs: [get]\n",
       "f.yaml: document 1: ClusterRole \"r\": rules[0].apiGroups: Required value: resource rules "
       "must supply at least one api group, rules[0].resources: Required value: resource rules "
       "must supply at least one resource"},
      {"resources and URLs", cr + "metadata: {name: r}\nrules:\n- verbs: [get]\n  resources: "
                                  "[pods]\n  nonResourceURLs: [/metrics]\n",
       "f.yaml: document 1: ClusterRole \"r\": rules[0].nonResourceURLs: Invalid value: "
       "[]string{\"/metrics\"}: rules cannot apply to both regular resources and non-resource "
       "URLs"},
      {"a Role with URLs",
       "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: "
       "n}\nrules:\n- verbs: [get]\n  nonResourceURLs: [/metrics]\n",
       "f.yaml: document 1: Role \"n/r\": rules[0].nonResourceURLs: Invalid value: "
       "[]string{\"/metrics\"}: namespaced rules cannot apply to non-resource URLs"},
      {"a Role without namespace",
       "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r}\nrules: []\n",
       "f.yaml: document 1: Role \"/r\": metadata.namespace: Required value"},
      {"verbs not a list", cr + "metadata: {name: r}\nrules:\n- verbs: get\n",
       "f.yaml: document 1: ClusterRole \"r\": rules[0].verbs: must be a list of strings"},
      {"old apiVersion", "apiVersion: rbac.authorization.k8s.io/v1beta1\nkind: ClusterRole\n"
                         "metadata: {name: r}\n",
       "f.yaml: document 1: ClusterRole \"r\": apiVersion: Unsupported value: "
       "\"rbac.authorization.k8s.io/v1beta1\": supported values: \"rbac.authorization.k8s.io/v1\""},
      {"ClusterRoleBinding to a Role",
       crb + "metadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, "
             "name: r}\n",
       "f.yaml: document 1: ClusterRoleBinding \"b\": roleRef.kind: Unsupported value: \"Role\": "
       "supported values: \"ClusterRole\""},
      {"roleRef group", crb + "metadata: {name: b}\nroleRef: {apiGroup: rbac, kind: ClusterRole, "
                              "name: r}\n",
       "f.yaml: document 1: ClusterRoleBinding \"b\": roleRef.apiGroup: Unsupported value: "
       "\"rbac\": supported values: \"rbac.authorization.k8s.io\""},
      {"ServiceAccount without namespace in a ClusterRoleBinding",
       crb + "metadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: "
             "ClusterRole, name: r}\nsubjects:\n- {kind: ServiceAccount, name: s}\n",
       "f.yaml: document 1: ClusterRoleBinding \"b\": subjects[0].namespace: Required value"},
      {"unknown subject kind",
       crb + "metadata: {name: b}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: "
             "ClusterRole, name: r}\nsubjects:\n- {kind: Robot, name: s}\n",
       "f.yaml: document 1: ClusterRoleBinding \"b\": subjects[0].kind: Unsupported value: "
       "\"Robot\": supported values: \"ServiceAccount\", \"User\", \"Group\""},
      {"twice", cr + "metadata: {name: r}\n---\n" + cr + "metadata: {name: r}\n",
       "f.yaml: document 2: ClusterRole \"r\": already added"},
      {"a List item", "apiVersion: v1\nkind: List\nitems:\n- " + std::string("kind: ClusterRole"),
       "f.yaml: document 1: items[0]: apiVersion: Required value"},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    Policy policy;
    absl::Status s = policy.AddYaml("f.yaml", c.yaml);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(s.message(), c.error)) << s.message();
  }
}

// ---- The requests file ---------------------------------------------------

TEST(ParseRequestsTest, ReadsLinesAndSections) {
  absl::StatusOr<std::vector<RequestLine>> got = ParseRequests(
      "r.txt",
      "# comment\n"
      "list \"\" pods \"\"\n"
      "create \"\" pods/binding *   # trailing comment\n"
      "\n"
      "[rescheduler]\n"
      "get coordination.k8s.io leases kube-system $LEASE\n"
      "get /metrics\n");
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->size(), 4u);
  EXPECT_EQ((*got)[0].line, 2);
  EXPECT_EQ((*got)[0].section, "");
  EXPECT_EQ(Describe((*got)[0].request), "list pods (cluster-wide)");
  EXPECT_EQ((*got)[1].request.subresource, "binding");
  EXPECT_EQ((*got)[1].request.namespace_, "*");
  EXPECT_EQ((*got)[2].section, "rescheduler");
  EXPECT_EQ(Describe((*got)[2].request),
            "get leases.coordination.k8s.io \"$LEASE\" in namespace kube-system");
  EXPECT_FALSE((*got)[3].request.resource_request);
  EXPECT_EQ((*got)[3].request.path, "/metrics");
}

TEST(ParseRequestsTest, RejectsLinesThatDoNotRead) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"list pods\n", "r.txt:1: want `verb group resource[/subresource] namespace [name]`"},
      {"\nLIST \"\" pods \"\"\n", "r.txt:2: verb \"LIST\": want lower case"},
      {"get \"\" pods/a/b \"\"\n", "r.txt:1: resource \"pods/a/b\""},
      {"get \"\" \"\" ns\n", "r.txt:1: the resource is empty"},
      {"[Rescheduler]\n", "r.txt:1: a section header reads [name], in lower case"},
  };
  for (const auto& [content, error] : cases) {
    SCOPED_TRACE(content);
    absl::StatusOr<std::vector<RequestLine>> got = ParseRequests("r.txt", content);
    ASSERT_FALSE(got.ok());
    EXPECT_TRUE(absl::StartsWith(got.status().message(), error)) << got.status();
  }
}

// ---- The manifests against deploy/requests.txt ---------------------------

constexpr char kBootstrapRoles[] = "deploy/testdata/bootstrap-roles.yaml";
constexpr char kRequests[] = "deploy/requests.txt";
constexpr char kExtraRole[] = "kestrel-scheduler-extra";
// Stands for "any namespace": no manifest binds anything in it.
constexpr char kAnyNamespace[] = "kestrel-rbac-check-any-namespace";

struct ManifestCase {
  std::string path;
  bool rescheduler;  // the Deployment runs --rescheduler
};

void PrintTo(const ManifestCase& c, std::ostream* os) { *os << c.path; }

const std::vector<ManifestCase>& Manifests() {
  static const auto* cases = new std::vector<ManifestCase>{
      {"deploy/kestrel-scheduler.yaml", true},
      {"deploy/kestrel-second-scheduler.yaml", false},
  };
  return *cases;
}

// The requests a manifest's Deployment makes, with the placeholders filled in.
std::vector<RequestLine> RequestsFor(const Manifest& m, const std::vector<RequestLine>& all) {
  std::vector<RequestLine> out;
  for (RequestLine rl : all) {
    if (!rl.section.empty() && !(rl.section == "rescheduler" && HasFlag(m, "--rescheduler"))) {
      continue;
    }
    if (rl.request.namespace_ == "*") rl.request.namespace_ = kAnyNamespace;
    if (rl.request.name == "$LEASE") {
      EXPECT_EQ(rl.request.namespace_, m.lease_namespace)
          << kRequests << ":" << rl.line << ": the lease is in the config's resourceNamespace";
      rl.request.name = m.lease_name;
    }
    out.push_back(std::move(rl));
  }
  return out;
}

class ManifestRbacTest : public ::testing::TestWithParam<ManifestCase> {
 protected:
  void SetUp() override {
    absl::StatusOr<Manifest> m = ReadManifest(GetParam().path);
    ASSERT_TRUE(m.ok()) << m.status();
    manifest_ = *std::move(m);
    ASSERT_EQ(HasFlag(manifest_, "--rescheduler"), GetParam().rescheduler);
    absl::Status s = policy_.AddFile(kBootstrapRoles);
    ASSERT_TRUE(s.ok()) << s;
    s = policy_.AddFile(GetParam().path);
    ASSERT_TRUE(s.ok()) << s;
    absl::StatusOr<std::string> content = api::ReadFile(kRequests);
    ASSERT_TRUE(content.ok()) << content.status();
    absl::StatusOr<std::vector<RequestLine>> all = ParseRequests(kRequests, *content);
    ASSERT_TRUE(all.ok()) << all.status();
    for (const RequestLine& rl : *all) {
      ASSERT_TRUE(rl.section.empty() || rl.section == "rescheduler")
          << kRequests << ":" << rl.line << ": unknown section [" << rl.section << "]";
    }
    requests_ = RequestsFor(manifest_, *all);
    user_ = ServiceAccountUser(manifest_.deployment_namespace, manifest_.service_account);
  }

  Manifest manifest_;
  Policy policy_;
  std::vector<RequestLine> requests_;
  UserInfo user_;
};

TEST_P(ManifestRbacTest, EveryRequestIsAllowed) {
  ASSERT_FALSE(requests_.empty());
  for (const RequestLine& rl : requests_) {
    EXPECT_TRUE(policy_.Authorize(user_, rl.request).allowed)
        << kRequests << ":" << rl.line << ": " << Describe(rl.request) << " is denied to "
        << user_.name << " by " << GetParam().path;
  }
}

// Every single grant (verb, group, resource, name) of the extra ClusterRole
// is what some request needs and the bootstrap roles do not give.
TEST_P(ManifestRbacTest, ExtraRoleGrantsOnlyWhatRequestsNeed) {
  const Role* extra = policy_.FindRole("ClusterRole", "", kExtraRole);
  ASSERT_NE(extra, nullptr) << GetParam().path << ": no ClusterRole " << kExtraRole;
  Policy without = policy_;
  ASSERT_TRUE(without.RemoveRole("ClusterRole", "", kExtraRole));
  for (size_t i = 0; i < extra->rules.size(); ++i) {
    for (const PolicyRule& grant : BreakdownRule(extra->rules[i])) {
      bool needed = false;
      for (const RequestLine& rl : requests_) {
        if (RuleAllows(grant, rl.request) && !without.Authorize(user_, rl.request).allowed) {
          needed = true;
          break;
        }
      }
      EXPECT_TRUE(needed) << GetParam().path << ": ClusterRole " << kExtraRole << " rules[" << i
                          << "] grants " << DescribeRule(grant)
                          << ", which no request in " << kRequests
                          << " needs beyond the bootstrap roles";
    }
  }
}

// The bindings give the ServiceAccount the two bootstrap roles and the extra
// one, and nothing else is bound to it.
TEST_P(ManifestRbacTest, BindsBootstrapRolesAndExtraRole) {
  Policy bindings_only;
  ASSERT_TRUE(bindings_only.AddFile(GetParam().path).ok());
  std::set<std::string> bound;
  for (const Document& d : manifest_.documents) {
    if (d.kind != "ClusterRoleBinding" && d.kind != "RoleBinding") continue;
    bound.insert(absl::StrCat(d.kind, " -> ", d.node["roleRef"]["kind"].Scalar(), " ",
                              d.node["roleRef"]["name"].Scalar()));
  }
  EXPECT_EQ(bound, (std::set<std::string>{
                       "ClusterRoleBinding -> ClusterRole kestrel-scheduler-extra",
                       "ClusterRoleBinding -> ClusterRole system:kube-scheduler",
                       "ClusterRoleBinding -> ClusterRole system:volume-scheduler",
                   }));
  // kAnyNamespace really is one that no RoleBinding names.
  for (const Document& d : manifest_.documents) EXPECT_NE(d.namespace_, kAnyNamespace);
}

INSTANTIATE_TEST_SUITE_P(Deploy, ManifestRbacTest, ::testing::ValuesIn(Manifests()),
                         [](const ::testing::TestParamInfo<ManifestCase>& info) {
                           return info.param.rescheduler ? std::string("Replacing")
                                                         : std::string("Second");
                         });

// The fixture holds what upstream's roles grant and withhold that matter here.
TEST(BootstrapRolesTest, GrantAndWithholdAsUpstream) {
  Policy policy;
  ASSERT_TRUE(policy.AddFile(kBootstrapRoles).ok());
  ASSERT_TRUE(policy
                  .AddYaml("binding.yaml", R"(
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: kube-scheduler}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: "system:kube-scheduler"}
subjects:
- {kind: User, name: "system:kube-scheduler", apiGroup: rbac.authorization.k8s.io}
)")
                  .ok());
  const UserInfo user{"system:kube-scheduler", {"system:authenticated"}};
  struct Case {
    Request request;
    bool allowed;
  };
  const std::vector<Case> cases = {
      {ResourceRequest("create", "", "pods/binding", "default"), true},
      {ResourceRequest("patch", "", "pods/status", "default"), true},
      {ResourceRequest("delete", "", "pods", "default"), true},
      {ResourceRequest("watch", "", "namespaces"), true},
      {ResourceRequest("list", "policy", "poddisruptionbudgets"), true},
      {ResourceRequest("create", "events.k8s.io", "events", "default"), true},
      {ResourceRequest("update", "coordination.k8s.io", "leases", "kube-system", "kube-scheduler"),
       true},
      {ResourceRequest("update", "coordination.k8s.io", "leases", "kube-system", "kestrel"), false},
      {ResourceRequest("patch", "", "nodes", "", "n1"), false},
      {ResourceRequest("create", "", "pods/eviction", "default"), false},
      {ResourceRequest("list", "scheduling.k8s.io", "priorityclasses"), false},
      {ResourceRequest("get", "", "configmaps", "kube-system"), false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(policy.Authorize(user, c.request).allowed, c.allowed) << Describe(c.request);
  }
}

}  // namespace
}  // namespace kestrel::deploy
