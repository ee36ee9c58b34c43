#include "kube/testing/fake_apiserver.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube::testing {
namespace {

using json = nlohmann::json;

// What a request got back.
struct Answer {
  int code = 0;
  json body;  // discarded when not JSON
  std::string content_type;
  std::string retry_after;
};

std::string NodeJson(const std::string& name) {
  json node = {{"kind", "Node"}, {"apiVersion", "v1"}, {"metadata", {{"name", name}}}};
  return node.dump();
}

std::string PodJson(const std::string& ns, const std::string& name, json labels = json::object(),
                    const std::string& phase = "Running") {
  json pod = {{"kind", "Pod"},
              {"apiVersion", "v1"},
              {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
              {"spec", {{"nodeName", "n1"}}},
              {"status", {{"phase", phase}}}};
  return pod.dump();
}

// A budget with status as the disruption controller would have written it.
// `selector`: JSON text, or "" for none at all.
std::string PdbJson(const std::string& ns, const std::string& name, const std::string& selector,
                    int allowed, int current = 3, int desired = 2) {
  json pdb = {{"kind", "PodDisruptionBudget"},
              {"apiVersion", "policy/v1"},
              {"metadata", {{"name", name}, {"namespace", ns}}},
              {"spec", {{"minAvailable", desired}}},
              {"status",
               {{"disruptionsAllowed", allowed},
                {"currentHealthy", current},
                {"desiredHealthy", desired},
                {"expectedPods", current}}}};
  if (!selector.empty()) pdb["spec"]["selector"] = json::parse(selector);
  return pdb.dump();
}

std::string EvictionJson(const std::string& ns, const std::string& name) {
  json eviction = {{"apiVersion", "policy/v1"},
                   {"kind", "Eviction"},
                   {"metadata", {{"name", name}, {"namespace", ns}}}};
  return eviction.dump();
}

std::string EvictionPath(const std::string& ns, const std::string& name) {
  return absl::StrCat("/api/v1/namespaces/", ns, "/pods/", name, "/eviction");
}

// Percent-encodes what a selector holds, for a query string.
std::string Encode(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '=':
        out += "%3D";
        break;
      case ',':
        out += "%2C";
        break;
      case ' ':
        out += "%20";
        break;
      case '!':
        out += "%21";
        break;
      case '(':
        out += "%28";
        break;
      case ')':
        out += "%29";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// "ns/name" of each list item, or "name" for cluster-scoped ones.
std::vector<std::string> Names(const json& list) {
  std::vector<std::string> out;
  if (!list.is_object() || !list.contains("items")) return out;
  for (const json& item : list["items"]) {
    const json& meta = item["metadata"];
    const std::string name = meta.value("name", "");
    out.push_back(meta.contains("namespace")
                      ? absl::StrCat(meta["namespace"].get<std::string>(), "/", name)
                      : name);
  }
  return out;
}

// The fields every Status body carries.
void ExpectStatus(const Answer& a, int code, const std::string& reason, const std::string& what) {
  EXPECT_EQ(a.code, code) << what << ": " << a.body;
  ASSERT_TRUE(a.body.is_object()) << what;
  EXPECT_EQ(a.body.value("kind", ""), "Status") << what;
  EXPECT_EQ(a.body.value("apiVersion", ""), "v1") << what;
  EXPECT_EQ(a.body.value("status", ""), code < 300 ? "Success" : "Failure") << what;
  EXPECT_EQ(a.body.value("reason", ""), reason) << what;
  EXPECT_EQ(a.body.value("code", 0), code) << what;
  EXPECT_EQ(a.content_type, "application/json") << what;
}

class FakeApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<FakeApiServer>> server = FakeApiServer::Start();
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<httplib::Client>(server_->url());
  }

  void Add(const std::string& object) {
    absl::Status s = server_->Create(object);
    ASSERT_TRUE(s.ok()) << s << ": " << object;
  }

  json Stored(const std::string& kind, const std::string& ns, const std::string& name) {
    absl::StatusOr<json> object = server_->Get(kind, ns, name);
    EXPECT_TRUE(object.ok()) << object.status();
    return object.ok() ? *object : json();
  }

  bool Exists(const std::string& kind, const std::string& ns, const std::string& name) {
    return server_->Get(kind, ns, name).ok();
  }

  Answer Send(const std::string& method, const std::string& path, const std::string& body = "",
              const std::string& content_type = "application/json") {
    httplib::Result r = [&] {
      if (method == "POST") return client_->Post(path, body, content_type);
      if (method == "PUT") return client_->Put(path, body, content_type);
      if (method == "PATCH") return client_->Patch(path, body, content_type);
      if (method == "DELETE") {
        return body.empty() ? client_->Delete(path) : client_->Delete(path, body, content_type);
      }
      return client_->Get(path);
    }();
    Answer a;
    if (!r) {
      ADD_FAILURE() << method << " " << path << ": no answer, error "
                    << static_cast<int>(r.error());
      return a;
    }
    a.code = r->status;
    a.body = json::parse(r->body, nullptr, /*allow_exceptions=*/false);
    a.content_type = r->get_header_value("Content-Type");
    a.retry_after = r->get_header_value("Retry-After");
    return a;
  }

  Answer Get(const std::string& path) { return Send("GET", path); }

  Answer Evict(const std::string& ns, const std::string& name) {
    return Send("POST", EvictionPath(ns, name), EvictionJson(ns, name));
  }

  std::unique_ptr<FakeApiServer> server_;
  std::unique_ptr<httplib::Client> client_;
};

// ---------------------------------------------------------------------------
// Lists and gets.

struct ListCase {
  std::string path;
  std::string list_kind;
  std::string api_version;
  std::string item_kind;
  std::vector<std::string> names;
};

TEST_F(FakeApiServerTest, ListsCarryKindsSortedItemsAndTheResourceVersion) {
  Add(NodeJson("n2"));                                                         // rv 2
  Add(NodeJson("n1"));                                                         // rv 3
  Add(PodJson("b", "p1"));                                                     // rv 4
  Add(PodJson("a", "p2"));                                                     // rv 5
  Add(PodJson("a", "p1"));                                                     // rv 6
  Add(PdbJson("a", "x", "{}", 1));                                             // rv 7
  Add(R"({"kind":"PriorityClass","metadata":{"name":"gold"},"value":1000})");  // rv 8
  const std::vector<ListCase> cases = {
      {"/api/v1/nodes", "NodeList", "v1", "Node", {"n1", "n2"}},
      {"/api/v1/pods", "PodList", "v1", "Pod", {"a/p1", "a/p2", "b/p1"}},
      {"/api/v1/namespaces/a/pods", "PodList", "v1", "Pod", {"a/p1", "a/p2"}},
      {"/api/v1/namespaces/c/pods", "PodList", "v1", "Pod", {}},
      {"/apis/policy/v1/poddisruptionbudgets",
       "PodDisruptionBudgetList",
       "policy/v1",
       "PodDisruptionBudget",
       {"a/x"}},
      {"/apis/policy/v1/namespaces/b/poddisruptionbudgets",
       "PodDisruptionBudgetList",
       "policy/v1",
       "PodDisruptionBudget",
       {}},
      {"/apis/scheduling.k8s.io/v1/priorityclasses",
       "PriorityClassList",
       "scheduling.k8s.io/v1",
       "PriorityClass",
       {"gold"}},
  };
  for (const ListCase& c : cases) {
    const Answer a = Get(c.path);
    EXPECT_EQ(a.code, 200) << c.path;
    EXPECT_EQ(a.content_type, "application/json") << c.path;
    ASSERT_TRUE(a.body.is_object()) << c.path;
    EXPECT_EQ(a.body.value("kind", ""), c.list_kind) << c.path;
    EXPECT_EQ(a.body.value("apiVersion", ""), c.api_version) << c.path;
    EXPECT_EQ(a.body["metadata"].value("resourceVersion", ""), "8") << c.path;
    EXPECT_EQ(Names(a.body), c.names) << c.path;
    for (const json& item : a.body["items"]) {
      EXPECT_EQ(item.value("kind", ""), c.item_kind) << c.path;
      EXPECT_EQ(item.value("apiVersion", ""), c.api_version) << c.path;
    }
  }
  const Answer nodes = Get("/api/v1/nodes");
  ASSERT_EQ(nodes.body["items"].size(), 2u);
  EXPECT_EQ(nodes.body["items"][0]["metadata"]["resourceVersion"], "3");  // n1
  EXPECT_EQ(nodes.body["items"][1]["metadata"]["resourceVersion"], "2");  // n2
}

TEST_F(FakeApiServerTest, GetAnswersTheStoredObject) {
  Add(NodeJson("n1"));
  Add(R"({"kind":"Pod","metadata":{"name":"p","uid":"given-uid"}})");
  const Answer node = Get("/api/v1/nodes/n1");
  EXPECT_EQ(node.code, 200);
  EXPECT_EQ(node.content_type, "application/json");
  EXPECT_EQ(node.body, Stored("Node", "", "n1"));
  EXPECT_EQ(node.body["metadata"]["resourceVersion"], "2");
  EXPECT_FALSE(node.body["metadata"].value("uid", "").empty());
  EXPECT_FALSE(node.body["metadata"].value("creationTimestamp", "").empty());

  // A namespaced object without a namespace lands in "default"; a given uid stays.
  const Answer pod = Get("/api/v1/namespaces/default/pods/p");
  EXPECT_EQ(pod.code, 200);
  EXPECT_EQ(pod.body["apiVersion"], "v1");
  EXPECT_EQ(pod.body["metadata"]["uid"], "given-uid");
  EXPECT_EQ(pod.body["metadata"]["resourceVersion"], "3");
}

struct NotFoundCase {
  std::string path;
  std::string message;
  std::string kind;
};

TEST_F(FakeApiServerTest, MissingObjectsAreNotFound) {
  Add(PodJson("a", "p"));
  const std::vector<NotFoundCase> cases = {
      {"/api/v1/nodes/ghost", "nodes \"ghost\" not found", "nodes"},
      {"/api/v1/namespaces/a/pods/ghost", "pods \"ghost\" not found", "pods"},
      {"/api/v1/namespaces/b/pods/p", "pods \"p\" not found", "pods"},  // other namespace
  };
  for (const NotFoundCase& c : cases) {
    const Answer a = Get(c.path);
    ExpectStatus(a, 404, "NotFound", c.path);
    EXPECT_EQ(a.body.value("message", ""), c.message) << c.path;
    EXPECT_EQ(a.body["details"].value("kind", ""), c.kind) << c.path;
  }
  absl::StatusOr<json> missing = server_->Get("Pod", "a", "ghost");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "pods \"ghost\" not found");
  absl::StatusOr<json> pdb = server_->Get("PodDisruptionBudget", "a", "ghost");
  EXPECT_EQ(pdb.status().message(), "poddisruptionbudgets.policy \"ghost\" not found");
  EXPECT_EQ(server_->Get("Service", "a", "x").status().code(), absl::StatusCode::kInvalidArgument);
}

struct CreateCase {
  std::string name;
  std::string json;
  absl::StatusCode code;
};

TEST_F(FakeApiServerTest, CreateValidates) {
  Add(NodeJson("n1"));
  const std::vector<CreateCase> cases = {
      {"taken name", NodeJson("n1"), absl::StatusCode::kAlreadyExists},
      {"malformed", R"({"kind":"Node",)", absl::StatusCode::kInvalidArgument},
      {"not an object", "[1]", absl::StatusCode::kInvalidArgument},
      {"unsupported kind", R"({"kind":"Service","metadata":{"name":"s"}})",
       absl::StatusCode::kInvalidArgument},
      {"no kind", R"({"metadata":{"name":"s"}})", absl::StatusCode::kInvalidArgument},
      {"no name", R"({"kind":"Node","metadata":{}})", absl::StatusCode::kInvalidArgument},
      {"wrong apiVersion", R"({"kind":"Node","apiVersion":"apps/v1","metadata":{"name":"x"}})",
       absl::StatusCode::kInvalidArgument},
      {"metadata not an object", R"({"kind":"Node","metadata":"n"})",
       absl::StatusCode::kInvalidArgument},
      {"labels not strings", R"({"kind":"Node","metadata":{"name":"x","labels":{"a":1}}})",
       absl::StatusCode::kInvalidArgument},
      {"same name, other namespace", PodJson("b", "p"), absl::StatusCode::kOk},
      {"generateName", R"({"kind":"Node","metadata":{"generateName":"n-"}})",
       absl::StatusCode::kOk},
  };
  for (const CreateCase& c : cases) {
    EXPECT_EQ(server_->Create(c.json).code(), c.code) << c.name;
  }
  EXPECT_EQ(server_->Create(NodeJson("n1")).message(), "nodes \"n1\" already exists");
}

// ---------------------------------------------------------------------------
// Node PATCH and PUT.

constexpr char kTaintPatch[] =
    R"({"metadata":{"resourceVersion":"2"},)"
    R"("spec":{"taints":[{"key":"CriticalAddonsOnly","value":"default_web",)"
    R"("effect":"NoSchedule"}]}})";

TEST_F(FakeApiServerTest, MergePatchWithTheCurrentResourceVersionApplies) {
  Add(NodeJson("n1"));  // rv 2
  Answer a = Send("PATCH", "/api/v1/nodes/n1", kTaintPatch, "application/merge-patch+json");
  EXPECT_EQ(a.code, 200) << a.body;
  EXPECT_EQ(a.content_type, "application/json");
  EXPECT_EQ(a.body["metadata"]["resourceVersion"], "3");
  const json taints =
      json::parse(R"([{"key":"CriticalAddonsOnly","value":"default_web","effect":"NoSchedule"}])");
  EXPECT_EQ(a.body["spec"]["taints"], taints);
  EXPECT_EQ(Stored("Node", "", "n1"), a.body);
  EXPECT_EQ(Get("/api/v1/nodes").body["metadata"]["resourceVersion"], "3");

  // RFC 7386: null removes; no resourceVersion means no precondition.
  a = Send("PATCH", "/api/v1/nodes/n1", R"({"spec":{"taints":null}})",
           "application/merge-patch+json; charset=utf-8");
  EXPECT_EQ(a.code, 200) << a.body;
  EXPECT_EQ(a.body["metadata"]["resourceVersion"], "4");
  EXPECT_FALSE(a.body["spec"].contains("taints"));

  // A patch that changes nothing writes nothing.
  a = Send("PATCH", "/api/v1/nodes/n1", R"({"spec":{}})", "application/merge-patch+json");
  EXPECT_EQ(a.code, 200);
  EXPECT_EQ(a.body["metadata"]["resourceVersion"], "4");
}

TEST_F(FakeApiServerTest, MergePatchWithAStaleResourceVersionConflicts) {
  Add(NodeJson("n1"));  // rv 2
  ASSERT_EQ(Send("PATCH", "/api/v1/nodes/n1", kTaintPatch, "application/merge-patch+json").code,
            200);
  const json before = Stored("Node", "", "n1");
  ASSERT_EQ(before["metadata"]["resourceVersion"], "3");

  // The same patch again carries resourceVersion 2, which is stale now.
  const Answer a = Send("PATCH", "/api/v1/nodes/n1",
                        R"({"metadata":{"resourceVersion":"2"},"spec":{"unschedulable":true}})",
                        "application/merge-patch+json");
  ExpectStatus(a, 409, "Conflict", "stale patch");
  EXPECT_EQ(a.body.value("message", ""),
            "Operation cannot be fulfilled on nodes \"n1\": the object has been modified; please "
            "apply your changes to the latest version and try again");
  EXPECT_EQ(a.body["details"], json::parse(R"({"name":"n1","kind":"nodes"})"));
  EXPECT_EQ(Stored("Node", "", "n1"), before);
}

struct PatchErrorCase {
  std::string name;
  std::string path;
  std::string content_type;
  std::string body;
  int code;
  std::string reason;
};

TEST_F(FakeApiServerTest, PatchErrors) {
  Add(NodeJson("n1"));
  const std::vector<PatchErrorCase> cases = {
      {"strategic merge", "/api/v1/nodes/n1", "application/strategic-merge-patch+json", "{}", 415,
       "UnsupportedMediaType"},
      {"json patch", "/api/v1/nodes/n1", "application/json-patch+json", "[]", 415,
       "UnsupportedMediaType"},
      {"missing node", "/api/v1/nodes/ghost", "application/merge-patch+json", "{}", 404,
       "NotFound"},
      {"not an object", "/api/v1/nodes/n1", "application/merge-patch+json", "[1]", 400,
       "BadRequest"},
      {"renames", "/api/v1/nodes/n1", "application/merge-patch+json",
       R"({"metadata":{"name":"n2"}})", 400, "BadRequest"},
      {"changes kind", "/api/v1/nodes/n1", "application/merge-patch+json", R"({"kind":"Pod"})", 400,
       "BadRequest"},
      {"resourceVersion not a string", "/api/v1/nodes/n1", "application/merge-patch+json",
       R"({"metadata":{"resourceVersion":2}})", 400, "BadRequest"},
  };
  for (const PatchErrorCase& c : cases) {
    ExpectStatus(Send("PATCH", c.path, c.body, c.content_type), c.code, c.reason, c.name);
  }
  EXPECT_EQ(Stored("Node", "", "n1")["metadata"]["resourceVersion"], "2");
}

struct PutCase {
  std::string name;
  std::string path_name;  // the node in the URL
  std::string body_name;  // metadata.name of the body
  std::string rv;         // "current", "stale" or "" (none)
  int code;
};

TEST_F(FakeApiServerTest, PutChecksNameAndResourceVersion) {
  const std::vector<PutCase> cases = {
      {"current resourceVersion", "a", "a", "current", 200},
      {"no resourceVersion: unconditional", "b", "b", "", 200},
      {"stale resourceVersion", "c", "c", "stale", 409},
      {"name mismatch", "d", "other", "current", 400},
      {"missing node", "ghost", "ghost", "", 404},
  };
  for (const PutCase& c : cases) {
    if (c.path_name != "ghost") Add(NodeJson(c.path_name));
    json body = server_->Get("Node", "", c.path_name).value_or(json::parse(NodeJson("ghost")));
    const json before = body;
    const std::string current = body["metadata"].value("resourceVersion", "");
    body["metadata"]["name"] = c.body_name;
    body["metadata"]["labels"] = {{"zone", "z1"}};
    if (c.rv == "current") {
      body["metadata"]["resourceVersion"] = current;
    } else if (c.rv == "stale") {
      body["metadata"]["resourceVersion"] = "1";
    } else {
      body["metadata"].erase("resourceVersion");
    }
    const Answer a = Send("PUT", absl::StrCat("/api/v1/nodes/", c.path_name), body.dump());
    EXPECT_EQ(a.code, c.code) << c.name << ": " << a.body;
    if (c.code == 200) {
      EXPECT_EQ(a.body["metadata"]["labels"]["zone"], "z1") << c.name;
      EXPECT_NE(a.body["metadata"]["resourceVersion"], current) << c.name;
      EXPECT_EQ(a.body["metadata"]["uid"], before["metadata"]["uid"]) << c.name;
      EXPECT_EQ(Stored("Node", "", c.path_name), a.body) << c.name;
    } else if (c.path_name != "ghost") {
      EXPECT_EQ(Stored("Node", "", c.path_name), before) << c.name;
    }
  }
  const Answer mismatch = Send("PUT", "/api/v1/nodes/a", NodeJson("other"));
  EXPECT_EQ(mismatch.body.value("message", ""),
            "the name of the object (other) does not match the name on the URL (a)");
  const Answer stale =
      Send("PUT", "/api/v1/nodes/a",
           R"({"kind":"Node","apiVersion":"v1","metadata":{"name":"a","resourceVersion":"1"}})");
  ExpectStatus(stale, 409, "Conflict", "stale PUT");
  EXPECT_EQ(stale.body.value("message", ""),
            "Operation cannot be fulfilled on nodes \"a\": the object has been modified; please "
            "apply your changes to the latest version and try again");
}

// ---------------------------------------------------------------------------
// DELETE and test-side updates.

TEST_F(FakeApiServerTest, DeletePod) {
  Add(PodJson("a", "p"));  // rv 2
  Add(PodJson("a", "q"));  // rv 3
  Answer a = Send("DELETE", "/api/v1/namespaces/a/pods/p");
  EXPECT_EQ(a.code, 200);
  EXPECT_EQ(a.body["metadata"]["name"], "p");
  EXPECT_EQ(a.body["metadata"]["resourceVersion"], "4");
  EXPECT_FALSE(Exists("Pod", "a", "p"));
  ExpectStatus(Send("DELETE", "/api/v1/namespaces/a/pods/p"), 404, "NotFound", "deleted twice");

  a = Send("DELETE", "/api/v1/namespaces/a/pods/q", R"({"preconditions":{"resourceVersion":"2"}})");
  ExpectStatus(a, 409, "Conflict", "precondition");
  EXPECT_TRUE(Exists("Pod", "a", "q"));
  a = Send("DELETE", "/api/v1/namespaces/a/pods/q", R"({"preconditions":{"resourceVersion":"3"}})");
  EXPECT_EQ(a.code, 200);
  EXPECT_FALSE(Exists("Pod", "a", "q"));
}

TEST_F(FakeApiServerTest, UpdateReplacesFromTheTestSide) {
  Add(PodJson("a", "p"));  // rv 2
  json pod = Stored("Pod", "a", "p");
  const json uid = pod["metadata"]["uid"];
  pod["status"]["phase"] = "Succeeded";
  pod["metadata"].erase("uid");
  ASSERT_TRUE(server_->Update(pod).ok());
  const Answer a = Get("/api/v1/namespaces/a/pods/p");
  EXPECT_EQ(a.body["status"]["phase"], "Succeeded");
  EXPECT_EQ(a.body["metadata"]["resourceVersion"], "3");
  EXPECT_EQ(a.body["metadata"]["uid"], uid);

  pod["metadata"]["name"] = "ghost";
  EXPECT_EQ(server_->Update(pod).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(server_->Update(json::parse(R"({"kind":"Service"})")).code(),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Eviction.

TEST_F(FakeApiServerTest, EvictionWithoutABudgetDeletesThePod) {
  Add(PodJson("a", "p", {{"app", "web"}}));  // rv 2
  Add(PdbJson("a", "other", R"({"matchLabels":{"app":"db"}})", 0));
  const Answer a = Evict("a", "p");
  EXPECT_EQ(a.code, 201);
  EXPECT_EQ(a.content_type, "application/json");
  EXPECT_EQ(a.body, json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},)"
                                R"("status":"Success","code":201})"));
  EXPECT_FALSE(Exists("Pod", "a", "p"));
  ExpectStatus(Get("/api/v1/namespaces/a/pods/p"), 404, "NotFound", "evicted pod");
  EXPECT_EQ(Get("/api/v1/pods").body["metadata"]["resourceVersion"], "4");
}

TEST_F(FakeApiServerTest, BudgetAllowsOneEvictionThenRefuses) {
  Add(PodJson("a", "web-1", {{"app", "web"}}));
  Add(PodJson("a", "web-2", {{"app", "web"}}));
  Add(PdbJson("a", "web-pdb", R"({"matchLabels":{"app":"web"}})", 1, 3, 2));
  const json pdb_rv = Stored("PodDisruptionBudget", "a", "web-pdb")["metadata"]["resourceVersion"];

  EXPECT_EQ(Evict("a", "web-1").code, 201);
  EXPECT_FALSE(Exists("Pod", "a", "web-1"));
  const json pdb = Stored("PodDisruptionBudget", "a", "web-pdb");
  EXPECT_EQ(pdb["status"]["disruptionsAllowed"], 0);
  EXPECT_EQ(pdb["status"]["currentHealthy"], 2);
  EXPECT_TRUE(pdb["status"]["disruptedPods"].contains("web-1"));
  EXPECT_NE(pdb["metadata"]["resourceVersion"], pdb_rv);

  const Answer a = Evict("a", "web-2");
  ExpectStatus(a, 429, "TooManyRequests", "second eviction");
  EXPECT_EQ(a.body.value("message", ""),
            "Cannot evict pod as it would violate the pod's disruption budget.");
  EXPECT_EQ(a.body["details"]["causes"],
            json::parse(R"([{"reason":"DisruptionBudget","message":"The disruption budget )"
                        R"(web-pdb needs 2 healthy pods and has 2 currently"}])"));
  EXPECT_TRUE(Exists("Pod", "a", "web-2"));
  EXPECT_EQ(Stored("PodDisruptionBudget", "a", "web-pdb"), pdb);
}

TEST_F(FakeApiServerTest, EvictionRefusesAPodWithTwoBudgets) {
  Add(PodJson("a", "p", {{"app", "web"}}));
  Add(PdbJson("a", "one", R"({"matchLabels":{"app":"web"}})", 5));
  Add(PdbJson("a", "two", "{}", 5));
  const Answer a = Evict("a", "p");
  EXPECT_EQ(a.code, 500);
  EXPECT_EQ(a.body.value("kind", ""), "Status");
  EXPECT_EQ(a.body.value("status", ""), "Failure");
  EXPECT_EQ(a.body.value("message", ""),
            "This pod has more than one PodDisruptionBudget, which the eviction subresource does "
            "not support.");
  EXPECT_TRUE(Exists("Pod", "a", "p"));
  EXPECT_EQ(Stored("PodDisruptionBudget", "a", "one")["status"]["disruptionsAllowed"], 5);
}

TEST_F(FakeApiServerTest, EvictingAMissingPodIsNotFound) {
  const Answer a = Evict("a", "ghost");
  ExpectStatus(a, 404, "NotFound", "missing pod");
  EXPECT_EQ(a.body.value("message", ""), "pods \"ghost\" not found");
}

struct PhaseCase {
  std::string phase;
  bool deleting;  // metadata.deletionTimestamp set
  int code;
};

TEST_F(FakeApiServerTest, PodsThatAreNotRunningIgnoreBudgets) {
  const std::vector<PhaseCase> cases = {
      {"Succeeded", false, 201}, {"Failed", false, 201},  {"Pending", false, 201},
      {"Running", true, 201},    {"Running", false, 429}, {"", false, 429},
  };
  Add(PdbJson("a", "all", "{}", 0));
  for (size_t i = 0; i < cases.size(); ++i) {
    const PhaseCase& c = cases[i];
    const std::string name = absl::StrCat("p", i);
    json pod = json::parse(PodJson("a", name, json::object(), c.phase));
    if (c.phase.empty()) pod.erase("status");
    if (c.deleting) pod["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z";
    Add(pod.dump());
    EXPECT_EQ(Evict("a", name).code, c.code) << c.phase << (c.deleting ? " deleting" : "");
    EXPECT_EQ(Exists("Pod", "a", name), c.code != 201) << c.phase;
  }
  EXPECT_EQ(Stored("PodDisruptionBudget", "a", "all")["status"]["disruptionsAllowed"], 0);
}

struct SelectorCase {
  std::string name;
  std::string selector;  // JSON; "" for no selector at all
  json labels;
  bool selected;
  std::string pdb_namespace = "";  // "" for the pod's
};

TEST_F(FakeApiServerTest, BudgetSelectors) {
  const json web = {{"app", "web"}, {"tier", "fe"}};
  const std::vector<SelectorCase> cases = {
      {"empty selects every pod of the namespace", "{}", web, true},
      {"empty selects unlabelled pods", "{}", json::object(), true},
      {"missing selects none", "", web, false},
      {"null selects none", "null", web, false},
      {"matchLabels", R"({"matchLabels":{"app":"web"}})", web, true},
      {"matchLabels, other value", R"({"matchLabels":{"app":"db"}})", web, false},
      {"matchLabels, all of them", R"({"matchLabels":{"app":"web","tier":"be"}})", web, false},
      {"matchLabels, label absent", R"({"matchLabels":{"zone":"z1"}})", web, false},
      {"In", R"({"matchExpressions":[{"key":"app","operator":"In","values":["db","web"]}]})", web,
       true},
      {"In, not listed", R"({"matchExpressions":[{"key":"app","operator":"In","values":["db"]}]})",
       web, false},
      {"In, label absent",
       R"({"matchExpressions":[{"key":"zone","operator":"In","values":["z1"]}]})", web, false},
      {"NotIn", R"({"matchExpressions":[{"key":"app","operator":"NotIn","values":["db"]}]})", web,
       true},
      {"NotIn, listed",
       R"({"matchExpressions":[{"key":"app","operator":"NotIn","values":["web"]}]})", web, false},
      {"NotIn, label absent",
       R"({"matchExpressions":[{"key":"zone","operator":"NotIn","values":["z1"]}]})", web, true},
      {"Exists", R"({"matchExpressions":[{"key":"tier","operator":"Exists"}]})", web, true},
      {"Exists, absent", R"({"matchExpressions":[{"key":"zone","operator":"Exists"}]})", web,
       false},
      {"DoesNotExist", R"({"matchExpressions":[{"key":"zone","operator":"DoesNotExist"}]})", web,
       true},
      {"DoesNotExist, present", R"({"matchExpressions":[{"key":"app","operator":"DoesNotExist"}]})",
       web, false},
      {"labels and expressions both hold",
       R"({"matchLabels":{"app":"web"},"matchExpressions":[{"key":"tier","operator":"Exists"}]})",
       web, true},
      {"labels hold, expressions do not",
       R"({"matchLabels":{"app":"web"},"matchExpressions":[{"key":"zone","operator":"Exists"}]})",
       web, false},
      {"invalid operator selects none",
       R"({"matchExpressions":[{"key":"app","operator":"Gt","values":["1"]}]})", web, false},
      {"In without values selects none",
       R"({"matchExpressions":[{"key":"app","operator":"In","values":[]}]})", web, false},
      {"budget of another namespace", "{}", web, false, "elsewhere"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const SelectorCase& c = cases[i];
    const std::string ns = absl::StrCat("ns", i);
    Add(PodJson(ns, "p", c.labels));
    Add(PdbJson(c.pdb_namespace.empty() ? ns : c.pdb_namespace, absl::StrCat("pdb", i), c.selector,
                0));
    EXPECT_EQ(Evict(ns, "p").code, c.selected ? 429 : 201) << c.name;
  }
}

TEST_F(FakeApiServerTest, BudgetsTheControllerHasNotSeenOrNegativeRefuse) {
  Add(PodJson("a", "p", {{"app", "web"}}));
  json pdb = json::parse(PdbJson("a", "fresh", "{}", 1));
  pdb["metadata"]["generation"] = 2;
  pdb["status"]["observedGeneration"] = 1;
  Add(pdb.dump());
  Answer a = Evict("a", "p");
  ExpectStatus(a, 429, "TooManyRequests", "unobserved generation");
  EXPECT_EQ(a.retry_after, "10");
  EXPECT_EQ(a.body["details"]["causes"][0]["message"],
            "The disruption budget fresh is still being processed by the server.");

  pdb["status"]["observedGeneration"] = 2;
  pdb["status"]["disruptionsAllowed"] = -1;
  ASSERT_TRUE(server_->Update(pdb).ok());
  a = Evict("a", "p");
  ExpectStatus(a, 403, "Forbidden", "negative budget");
  EXPECT_EQ(a.body.value("message", ""),
            "poddisruptionbudget.policy \"fresh\" is forbidden: pdb disruptions allowed is "
            "negative");
  EXPECT_TRUE(Exists("Pod", "a", "p"));
}

struct EvictionBodyCase {
  std::string name;
  std::string body;
  int code;
  std::string message;  // "" to skip
};

TEST_F(FakeApiServerTest, EvictionBodyErrors) {
  Add(PodJson("a", "p"));
  const std::vector<EvictionBodyCase> cases = {
      {"name mismatch", EvictionJson("a", "q"), 400,
       "name in URL does not match name in Eviction object"},
      {"no name", R"({"apiVersion":"policy/v1","kind":"Eviction"})", 400,
       "name in URL does not match name in Eviction object"},
      {"namespace mismatch", EvictionJson("b", "p"), 400,
       "the namespace of the provided object does not match the namespace sent on the request"},
      {"not an Eviction", R"({"kind":"Pod","metadata":{"name":"p"}})", 400, ""},
      {"malformed", R"({"kind":"Eviction",)", 400, ""},
      {"v1beta1 is accepted too",
       R"({"apiVersion":"policy/v1beta1","kind":"Eviction","metadata":{"name":"p"}})", 201, ""},
  };
  for (const EvictionBodyCase& c : cases) {
    const Answer a = Send("POST", EvictionPath("a", "p"), c.body);
    EXPECT_EQ(a.code, c.code) << c.name << ": " << a.body;
    if (!c.message.empty()) {
      EXPECT_EQ(a.body.value("message", ""), c.message) << c.name;
    }
    EXPECT_EQ(Exists("Pod", "a", "p"), c.code != 201) << c.name;
  }
}

// ---------------------------------------------------------------------------
// Events.

TEST_F(FakeApiServerTest, EventsArePostedInOrder) {
  const std::string first =
      R"({"apiVersion":"v1","kind":"Event","metadata":{"generateName":"web-1."},)"
      R"("involvedObject":{"kind":"Pod","namespace":"default","name":"web-1"},)"
      R"("reason":"DeletedByRescheduler","type":"Normal","message":"evicted"})";
  const std::string second =
      R"({"kind":"Event","metadata":{"name":"e2","namespace":"default"},"reason":"Second"})";
  Answer a = Send("POST", "/api/v1/namespaces/default/events", first);
  EXPECT_EQ(a.code, 201) << a.body;
  const std::string name = a.body["metadata"].value("name", "");
  EXPECT_TRUE(absl::StartsWith(name, "web-1.")) << name;
  EXPECT_EQ(name.size(), std::string("web-1.").size() + 5) << name;
  EXPECT_EQ(a.body["metadata"]["namespace"], "default");
  EXPECT_FALSE(a.body["metadata"].value("resourceVersion", "").empty());
  EXPECT_EQ(Send("POST", "/api/v1/namespaces/default/events", second).code, 201);

  const std::vector<json> events = server_->Events();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["reason"], "DeletedByRescheduler");
  EXPECT_EQ(events[0]["involvedObject"]["name"], "web-1");
  EXPECT_EQ(events[0], a.body);
  EXPECT_EQ(events[1]["reason"], "Second");
  EXPECT_EQ(Stored("Event", "default", name), a.body);

  ExpectStatus(Send("POST", "/api/v1/namespaces/default/events", second), 409, "AlreadyExists",
               "same name");
  ExpectStatus(Send("POST", "/api/v1/namespaces/other/events", second), 400, "BadRequest",
               "namespace mismatch");
  const Answer unnamed =
      Send("POST", "/api/v1/namespaces/default/events", R"({"kind":"Event","reason":"x"})");
  ExpectStatus(unnamed, 422, "Invalid", "no name");
  EXPECT_EQ(unnamed.body.value("message", ""),
            "Event \"\" is invalid: metadata.name: Required value: name or generateName is "
            "required");
  EXPECT_EQ(server_->Events().size(), 2u);
}

// ---------------------------------------------------------------------------
// Injected failures, malformed requests, unknown paths, watch.

TEST_F(FakeApiServerTest, FailNextAnswersTheNextMatchingRequests) {
  Add(NodeJson("n1"));
  server_->FailNext("GET", "/api/v1/nodes", 503, 2);
  server_->FailNext("PATCH", "/api/v1/nodes/n1", 409);
  EXPECT_EQ(Get("/api/v1/pods").code, 200);  // another path
  ExpectStatus(Get("/api/v1/nodes/n1"), 503, "ServiceUnavailable", "first");
  ExpectStatus(Get("/api/v1/nodes"), 503, "ServiceUnavailable", "second");
  EXPECT_EQ(Get("/api/v1/nodes").code, 200);

  ExpectStatus(Send("PATCH", "/api/v1/nodes/n1", R"({"spec":{"unschedulable":true}})",
                    "application/merge-patch+json"),
               409, "Conflict", "injected conflict");
  EXPECT_FALSE(Stored("Node", "", "n1")["spec"].is_object());  // not applied
  EXPECT_EQ(Send("PATCH", "/api/v1/nodes/n1", R"({"spec":{"unschedulable":true}})",
                 "application/merge-patch+json")
                .code,
            200);
  EXPECT_EQ(server_->requests(), 6);
}

struct MalformedCase {
  std::string method;
  std::string path;
  std::string content_type;
};

TEST_F(FakeApiServerTest, MalformedJsonIsBadRequest) {
  Add(NodeJson("n1"));
  Add(PodJson("a", "p"));
  const std::vector<MalformedCase> cases = {
      {"PATCH", "/api/v1/nodes/n1", "application/merge-patch+json"},
      {"PUT", "/api/v1/nodes/n1", "application/json"},
      {"POST", "/api/v1/namespaces/a/pods/p/eviction", "application/json"},
      {"POST", "/api/v1/namespaces/a/events", "application/json"},
      {"DELETE", "/api/v1/namespaces/a/pods/p", "application/json"},
  };
  for (const std::string body : {R"({"metadata": )", "not json", "{\"a\":\"\xff\"}"}) {
    for (const MalformedCase& c : cases) {
      ExpectStatus(Send(c.method, c.path, body, c.content_type), 400, "BadRequest",
                   absl::StrCat(c.method, " ", c.path, " ", body));
    }
  }
  EXPECT_EQ(Stored("Node", "", "n1")["metadata"]["resourceVersion"], "2");
  EXPECT_TRUE(Exists("Pod", "a", "p"));
  EXPECT_TRUE(server_->Events().empty());
}

struct PathCase {
  std::string method;
  std::string path;
  int code;
  std::string reason;
};

TEST_F(FakeApiServerTest, UnknownPathsAndMethods) {
  Add(NodeJson("n1"));
  Add(PodJson("a", "p"));
  const std::vector<PathCase> cases = {
      {"GET", "/", 404, "NotFound"},
      {"GET", "/api/v1/services", 404, "NotFound"},
      {"GET", "/api/v2/nodes", 404, "NotFound"},
      {"GET", "/api/v1/nodes/n1/status", 404, "NotFound"},
      {"GET", "/api/v1/namespaces/a/pods/p/log", 404, "NotFound"},
      {"GET", "/apis/apps/v1/deployments", 404, "NotFound"},
      {"DELETE", "/api/v1/nodes/n1", 405, "MethodNotAllowed"},
      {"POST", "/api/v1/nodes", 405, "MethodNotAllowed"},
      {"PUT", "/api/v1/namespaces/a/pods/p", 405, "MethodNotAllowed"},
      {"GET", "/api/v1/namespaces/a/pods/p/eviction", 405, "MethodNotAllowed"},
      {"GET", "/api/v1/namespaces/a/events", 405, "MethodNotAllowed"},
      {"POST", "/apis/scheduling.k8s.io/v1/priorityclasses", 405, "MethodNotAllowed"},
  };
  for (const PathCase& c : cases) {
    ExpectStatus(Send(c.method, c.path, c.method == "GET" ? "" : "{}"), c.code, c.reason,
                 absl::StrCat(c.method, " ", c.path));
  }
  EXPECT_TRUE(Exists("Node", "", "n1"));
  EXPECT_TRUE(Exists("Pod", "a", "p"));
}

TEST_F(FakeApiServerTest, WatchIsNotSupported) {
  for (const std::string path :
       {"/api/v1/nodes?watch=true", "/api/v1/pods?watch=1",
        "/api/v1/namespaces/a/pods?watch=true&resourceVersion=5",
        "/apis/policy/v1/poddisruptionbudgets?watch=true",
        "/apis/scheduling.k8s.io/v1/priorityclasses?watch=true", "/api/v1/watch/nodes",
        "/apis/policy/v1/watch/poddisruptionbudgets"}) {
    const Answer a = Get(path);
    ExpectStatus(a, 400, "BadRequest", path);
    EXPECT_EQ(a.body.value("message", ""), "watch is not supported by the fake API server") << path;
  }
  EXPECT_EQ(Get("/api/v1/nodes?watch=false").code, 200);
}

struct SelectorQueryCase {
  std::string query;  // already encoded
  int code;
  std::vector<std::string> names;
};

TEST_F(FakeApiServerTest, ListSelectors) {
  Add(R"({"kind":"Pod","metadata":{"name":"p1","namespace":"a",)"
      R"("labels":{"app":"web","tier":"fe"}},"spec":{"nodeName":"n1"},)"
      R"("status":{"phase":"Running"}})");
  Add(R"({"kind":"Pod","metadata":{"name":"p2","namespace":"a","labels":{"app":"web"}},)"
      R"("spec":{},"status":{"phase":"Pending"}})");
  Add(R"({"kind":"Pod","metadata":{"name":"p3","namespace":"a","labels":{"app":"db"}},)"
      R"("spec":{"nodeName":"n2"},"status":{"phase":"Succeeded"}})");
  const auto label = [](const std::string& s) { return "labelSelector=" + Encode(s); };
  const auto field = [](const std::string& s) { return "fieldSelector=" + Encode(s); };
  const std::vector<SelectorQueryCase> cases = {
      {label("app=web"), 200, {"a/p1", "a/p2"}},
      {label("app==web"), 200, {"a/p1", "a/p2"}},
      {label("app!=web"), 200, {"a/p3"}},
      {label("tier"), 200, {"a/p1"}},
      {label("!tier"), 200, {"a/p2", "a/p3"}},
      {label("app in (web, db),tier"), 200, {"a/p1"}},
      {label("app notin (web)"), 200, {"a/p3"}},
      {label(""), 200, {"a/p1", "a/p2", "a/p3"}},
      {field("spec.nodeName=n1"), 200, {"a/p1"}},
      {field("spec.nodeName="), 200, {"a/p2"}},
      {field("status.phase!=Succeeded,status.phase!=Failed"), 200, {"a/p1", "a/p2"}},
      {field("metadata.name==p3"), 200, {"a/p3"}},
      {label("app=web") + "&" + field("spec.nodeName=n1"), 200, {"a/p1"}},
      {label("app in web"), 400, {}},
      {label("app=we b"), 400, {}},
      {field("spec.foo=x"), 400, {}},
      {field("spec.nodeName"), 400, {}},
  };
  for (const SelectorQueryCase& c : cases) {
    const Answer a = Get("/api/v1/namespaces/a/pods?" + c.query);
    EXPECT_EQ(a.code, c.code) << c.query << ": " << a.body;
    if (c.code == 200) {
      EXPECT_EQ(Names(a.body), c.names) << c.query;
    }
  }
  EXPECT_EQ(Get("/api/v1/pods?" + field("spec.foo=x")).body.value("message", ""),
            "field label not supported: spec.foo");

  Add(NodeJson("free"));
  Add(R"({"kind":"Node","metadata":{"name":"cordoned"},"spec":{"unschedulable":true}})");
  EXPECT_EQ(Names(Get("/api/v1/nodes?" + field("spec.unschedulable=false")).body),
            std::vector<std::string>{"free"});
  EXPECT_EQ(Names(Get("/api/v1/nodes?" + field("spec.unschedulable=true")).body),
            std::vector<std::string>{"cordoned"});
}

TEST_F(FakeApiServerTest, ServesConcurrentClients) {
  Add(NodeJson("n1"));
  constexpr int kThreads = 4;
  constexpr int kEach = 20;
  std::vector<std::thread> threads;
  std::vector<int> ok(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client client(server_->url());
      for (int i = 0; i < kEach; ++i) {
        httplib::Result r = client.Get("/api/v1/nodes/n1");
        if (r && r->status == 200) ++ok[t];
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(ok[t], kEach) << "thread " << t;
  EXPECT_EQ(server_->requests(), kThreads * kEach);
}

}  // namespace
}  // namespace kestrel::kube::testing
