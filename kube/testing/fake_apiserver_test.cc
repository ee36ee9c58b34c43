// The in-repo API server (kube/testing/fake_apiserver.h), over real HTTP
// on loopback: lists and gets, writes and their conflicts, patches,
// graceful deletion, eviction, binding, leases, events of both APIs,
// namespaces, watches read off the wire (a raw socket, the chunked body
// decoded by hand, one JSON WatchEvent per line), paging, the injected
// faults, concurrent clients, and the protobuf encoding (decoded with
// kube/codec and compared with the JSON answers).

#include "kube/testing/fake_apiserver.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/coordination.pb.h"
#include "api/core.pb.h"
#include "api/events.pb.h"
#include "api/meta.pb.h"
#include "api/policy.pb.h"
#include "api/scheduling.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "kube/codec.h"
#include "nlohmann/json.hpp"

namespace kestrel::kube::testing {
namespace {

using json = nlohmann::json;

// What a request got back, as it came.
struct RawAnswer {
  int code = 0;
  std::string body;
  std::string content_type;
};

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

// A pod bound to n1 (node "" for none) in `phase`; a Running one is Ready.
std::string PodJson(const std::string& ns, const std::string& name, json labels = json::object(),
                    const std::string& phase = "Running", const std::string& node = "n1") {
  json pod = {{"kind", "Pod"},
              {"apiVersion", "v1"},
              {"metadata", {{"name", name}, {"namespace", ns}, {"labels", labels}}},
              {"spec", json::object()},
              {"status", {{"phase", phase}}}};
  if (!node.empty()) pod["spec"]["nodeName"] = node;
  if (phase == "Running") {
    pod["status"]["conditions"] = {{{"type", "Ready"}, {"status", "True"}}};
  }
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

std::string PodPath(const std::string& ns, const std::string& name) {
  return absl::StrCat("/api/v1/namespaces/", ns, "/pods/", name);
}

// Percent-encodes what a selector or token holds, for a query string.
std::string Encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += absl::StrFormat("%%%02X", c);
    }
  }
  return out;
}

// "ns/name" of each list item, or "name" for cluster-scoped ones.
std::vector<std::string> Names(const json& list) {
  std::vector<std::string> out;
  if (!list.is_object() || !list.contains("items")) return out;
  for (const json& item : list["items"]) {
    const json meta = item.value("metadata", json::object());
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

// ---------------------------------------------------------------------------
// A watch as a client reads it off the wire: a plain socket, the HTTP/1.1
// response head, then the chunked body decoded as it arrives and split
// into lines, each one JSON WatchEvent.

class WatchReader {
 public:
  enum class Next {
    kEvent,    // an event was read
    kEnd,      // the final chunk came: the server ended the stream cleanly
    kDropped,  // the connection closed without the final chunk
    kTimeout,  // nothing arrived in time (a hang guard, not a measurement)
    kBad,      // not HTTP, not chunked, or a line that is no JSON
  };

  // Sends GET `path` to 127.0.0.1:`port` with `headers` (each line ending
  // in CRLF) and reads the response head. `receive_buffer` > 0 sets
  // SO_RCVBUF, so that a reader that stops reading blocks the server
  // sooner.
  WatchReader(int port, const std::string& path, int receive_buffer = 0,
              const std::string& headers = "Accept: application/json\r\n") {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    if (receive_buffer > 0) {
      setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof(receive_buffer));
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
    if (connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return;
    const std::string request =
        absl::StrCat("GET ", path, " HTTP/1.1\r\nHost: 127.0.0.1\r\n", headers, "\r\n");
    if (send(fd_, request.data(), request.size(), MSG_NOSIGNAL) !=
        static_cast<ssize_t>(request.size())) {
      return;
    }
    while (buffer_.find("\r\n\r\n") == std::string::npos) {
      if (!Fill(absl::Seconds(10))) return;
    }
    const size_t end = buffer_.find("\r\n\r\n");
    std::vector<std::string> lines = absl::StrSplit(buffer_.substr(0, end), "\r\n");
    buffer_.erase(0, end + 4);
    std::vector<std::string> first = absl::StrSplit(lines[0], ' ');
    if (first.size() < 2 || !absl::SimpleAtoi(first[1], &status_)) return;
    for (size_t i = 1; i < lines.size(); ++i) {
      const size_t colon = lines[i].find(':');
      if (colon == std::string::npos) continue;
      headers_[absl::AsciiStrToLower(lines[i].substr(0, colon))] =
          std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1)));
    }
  }

  ~WatchReader() { Close(); }

  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

  // The HTTP status, 0 when no response head came.
  int status() const { return status_; }

  // A response header by its lower-case name, "" when absent.
  std::string header(const std::string& name) const {
    auto it = headers_.find(name);
    return it == headers_.end() ? "" : it->second;
  }

  // The next event, waiting at most `wait`.
  Next Read(json* event, absl::Duration wait = absl::Seconds(10)) {
    const absl::Time give_up = absl::Now() + wait;
    while (true) {
      if (header("transfer-encoding") != "chunked") return Next::kBad;
      if (const size_t nl = body_.find('\n'); nl != std::string::npos) {
        *event = json::parse(body_.substr(0, nl), nullptr, /*allow_exceptions=*/false);
        body_.erase(0, nl + 1);
        return event->is_discarded() ? Next::kBad : Next::kEvent;
      }
      if (ended_) return body_.empty() ? Next::kEnd : Next::kBad;
      if (Decode()) continue;
      if (eof_) return Next::kDropped;
      const absl::Duration left = give_up - absl::Now();
      if (left <= absl::ZeroDuration() || !Fill(left)) {
        if (eof_) continue;
        return Next::kTimeout;
      }
    }
  }

  // Reads `n` events as "TYPE name" (name "" for bookmarks and errors);
  // stops early at anything but an event.
  std::vector<std::string> Take(int n, std::vector<json>* objects = nullptr) {
    std::vector<std::string> out;
    for (int i = 0; i < n; ++i) {
      json e;
      if (Read(&e) != Next::kEvent) break;
      out.push_back(
          absl::StrCat(e.value("type", ""), " ", e["object"]["metadata"].value("name", "")));
      if (objects != nullptr) objects->push_back(e["object"]);
    }
    return out;
  }

 private:
  // Reads what the socket has, waiting at most `wait`; false on nothing.
  bool Fill(absl::Duration wait) {
    pollfd p{};
    p.fd = fd_;
    p.events = POLLIN;
    const int ms = static_cast<int>(absl::ToInt64Milliseconds(wait));
    if (fd_ < 0 || poll(&p, 1, std::max(ms, 1)) <= 0) return false;
    char buf[65536];
    const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    buffer_.append(buf, n);
    return true;
  }

  // Moves one whole chunk from buffer_ to body_; false when none is whole.
  bool Decode() {
    if (ended_) return false;
    const size_t line = buffer_.find("\r\n");
    if (line == std::string::npos) return false;
    size_t size;
    if (!absl::SimpleHexAtoi(buffer_.substr(0, line), &size)) {
      eof_ = true;  // not chunked: treat as broken
      return false;
    }
    if (size == 0) {
      if (buffer_.size() < line + 4) return false;  // "0\r\n\r\n"
      ended_ = true;
      buffer_.clear();
      return true;
    }
    if (buffer_.size() < line + 2 + size + 2) return false;
    body_.append(buffer_, line + 2, size);
    buffer_.erase(0, line + 2 + size + 2);
    return true;
  }

  int fd_ = -1;
  int status_ = 0;
  std::map<std::string, std::string> headers_;
  std::string buffer_;  // received, not yet decoded
  std::string body_;    // decoded, not yet split into lines
  bool ended_ = false;
  bool eof_ = false;
};

class FakeApiServerTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(FakeApiServerOptions()); }

  void StartServer(FakeApiServerOptions options) {
    client_.reset();
    server_.reset();
    absl::StatusOr<std::unique_ptr<FakeApiServer>> server = FakeApiServer::Start(options);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    client_ = std::make_unique<httplib::Client>(server_->url());
    client_->set_read_timeout(10, 0);
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

  // Deleted gracefully: gone, or still there with a deletionTimestamp.
  bool Deleting(const std::string& ns, const std::string& name) {
    absl::StatusOr<json> pod = server_->Get("Pod", ns, name);
    return !pod.ok() || (*pod)["metadata"].contains("deletionTimestamp");
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

  // A GET with `accept`, the body as it came: a whole watch stream when
  // the watch ends on its own (timeoutSeconds).
  RawAnswer GetRaw(const std::string& path, const std::string& accept) {
    httplib::Client client(server_->url());
    client.set_read_timeout(10, 0);
    httplib::Result r = client.Get(path, httplib::Headers{{"Accept", accept}});
    RawAnswer a;
    if (!r) {
      ADD_FAILURE() << "GET " << path << ": no answer, error " << static_cast<int>(r.error());
      return a;
    }
    a.code = r->status;
    a.body = r->body;
    a.content_type = r->get_header_value("Content-Type");
    return a;
  }

  Answer Evict(const std::string& ns, const std::string& name) {
    return Send("POST", EvictionPath(ns, name), EvictionJson(ns, name));
  }

  std::string Version() { return std::to_string(server_->resource_version()); }

  std::unique_ptr<WatchReader> Watch(const std::string& path) {
    auto w = std::make_unique<WatchReader>(server_->port(), path);
    EXPECT_EQ(w->status(), 200) << path;
    return w;
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
      {"/api/v1/nodes", "NodeList", "v1", {"n1", "n2"}},
      {"/api/v1/pods", "PodList", "v1", {"a/p1", "a/p2", "b/p1"}},
      {"/api/v1/namespaces/a/pods", "PodList", "v1", {"a/p1", "a/p2"}},
      {"/api/v1/namespaces/c/pods", "PodList", "v1", {}},
      {"/apis/policy/v1/poddisruptionbudgets", "PodDisruptionBudgetList", "policy/v1", {"a/x"}},
      {"/apis/policy/v1/namespaces/b/poddisruptionbudgets",
       "PodDisruptionBudgetList",
       "policy/v1",
       {}},
      {"/apis/scheduling.k8s.io/v1/priorityclasses",
       "PriorityClassList",
       "scheduling.k8s.io/v1",
       {"gold"}},
      {"/apis/coordination.k8s.io/v1/leases", "LeaseList", "coordination.k8s.io/v1", {}},
      {"/api/v1/namespaces", "NamespaceList", "v1", {}},
      {"/api/v1/events", "EventList", "v1", {}},
      {"/apis/events.k8s.io/v1/events", "EventList", "events.k8s.io/v1", {}},
  };
  for (const ListCase& c : cases) {
    Answer a = Get(c.path);
    EXPECT_EQ(a.code, 200) << c.path;
    EXPECT_EQ(a.content_type, "application/json") << c.path;
    ASSERT_TRUE(a.body.is_object()) << c.path;
    EXPECT_EQ(a.body.value("kind", ""), c.list_kind) << c.path;
    EXPECT_EQ(a.body.value("apiVersion", ""), c.api_version) << c.path;
    EXPECT_EQ(a.body["metadata"].value("resourceVersion", ""), "8") << c.path;
    EXPECT_FALSE(a.body["metadata"].contains("continue")) << c.path;
    EXPECT_TRUE(a.body["items"].is_array()) << c.path;
    EXPECT_EQ(Names(a.body), c.names) << c.path;
    // Upstream's JSON lists leave kind and apiVersion out of the items.
    for (const json& item : a.body["items"]) {
      EXPECT_FALSE(item.contains("kind")) << c.path;
      EXPECT_FALSE(item.contains("apiVersion")) << c.path;
    }
  }
  Answer nodes = Get("/api/v1/nodes");
  ASSERT_EQ(nodes.body["items"].size(), 2u);
  EXPECT_EQ(nodes.body["items"][0]["metadata"]["resourceVersion"], "3");  // n1
  EXPECT_EQ(nodes.body["items"][1]["metadata"]["resourceVersion"], "2");  // n2
}

TEST_F(FakeApiServerTest, GetAnswersTheStoredObject) {
  Add(NodeJson("n1"));
  Add(R"({"kind":"Pod","metadata":{"name":"p","uid":"given-uid"}})");
  Answer node = Get("/api/v1/nodes/n1");
  EXPECT_EQ(node.code, 200);
  EXPECT_EQ(node.content_type, "application/json");
  EXPECT_EQ(node.body, Stored("Node", "", "n1"));
  EXPECT_EQ(node.body["kind"], "Node");
  EXPECT_EQ(node.body["metadata"]["resourceVersion"], "2");
  EXPECT_FALSE(node.body["metadata"].value("uid", "").empty());
  EXPECT_FALSE(node.body["metadata"].value("creationTimestamp", "").empty());

  // A namespaced object without a namespace lands in "default"; a given uid stays.
  Answer pod = Get("/api/v1/namespaces/default/pods/p");
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
      {"/apis/coordination.k8s.io/v1/namespaces/a/leases/l",
       "leases.coordination.k8s.io \"l\" not found", "leases"},
      {"/apis/events.k8s.io/v1/namespaces/a/events/e", "events.events.k8s.io \"e\" not found",
       "events"},
      {"/api/v1/namespaces/ghost", "namespaces \"ghost\" not found", "namespaces"},
  };
  for (const NotFoundCase& c : cases) {
    Answer a = Get(c.path);
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
      {"grace period not a number",
       R"({"kind":"Pod","metadata":{"name":"x","deletionGracePeriodSeconds":"30"}})",
       absl::StatusCode::kInvalidArgument},
      {"same name, other namespace", PodJson("b", "p"), absl::StatusCode::kOk},
      {"generateName", R"({"kind":"Node","metadata":{"generateName":"n-"}})",
       absl::StatusCode::kOk},
      {"lease", R"({"kind":"Lease","metadata":{"name":"l"}})", absl::StatusCode::kOk},
  };
  for (const CreateCase& c : cases) {
    EXPECT_EQ(server_->Create(c.json).code(), c.code) << c.name;
  }
  EXPECT_EQ(server_->Create(NodeJson("n1")).message(), "nodes \"n1\" already exists");
}

// ---------------------------------------------------------------------------
// PATCH and PUT.

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
  Answer a = Send("PATCH", "/api/v1/nodes/n1",
                  R"({"metadata":{"resourceVersion":"2"},"spec":{"unschedulable":true}})",
                  "application/merge-patch+json");
  ExpectStatus(a, 409, "Conflict", "stale patch");
  EXPECT_EQ(a.body.value("message", ""),
            "Operation cannot be fulfilled on nodes \"n1\": the object has been modified; please "
            "apply your changes to the latest version and try again");
  EXPECT_EQ(a.body["details"], json::parse(R"({"name":"n1","kind":"nodes"})"));
  EXPECT_EQ(Stored("Node", "", "n1"), before);
}

struct PatchCase {
  std::string name;
  std::string content_type;
  std::string body;
  json taints;  // spec.taints afterwards
};

TEST_F(FakeApiServerTest, PatchTypes) {
  const json a = {{"key", "a"}, {"effect", "NoSchedule"}};
  const json b = {{"key", "b"}, {"effect", "NoSchedule"}};
  const std::vector<PatchCase> cases = {
      {"merge patch replaces the list", "application/merge-patch+json",
       R"({"spec":{"taints":[{"key":"b","effect":"NoSchedule"}]}})", json::array({b})},
      // Taints have no patch strategy: strategic merge replaces them too.
      {"strategic merge, a list without a strategy", "application/strategic-merge-patch+json",
       R"({"spec":{"taints":[{"key":"b","effect":"NoSchedule"}]}})", json::array({b})},
      {"json patch adds", "application/json-patch+json",
       R"([{"op":"add","path":"/spec/taints/-","value":{"key":"b","effect":"NoSchedule"}}])",
       json::array({a, b})},
      {"json patch removes", "application/json-patch+json",
       R"([{"op":"remove","path":"/spec/taints/0"}])", json::array()},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    const PatchCase& c = cases[i];
    const std::string name = absl::StrCat("n", i);
    json node = json::parse(NodeJson(name));
    node["spec"]["taints"] = json::array({a});
    Add(node.dump());
    Answer r = Send("PATCH", absl::StrCat("/api/v1/nodes/", name), c.body, c.content_type);
    EXPECT_EQ(r.code, 200) << c.name << ": " << r.body;
    EXPECT_EQ(Stored("Node", "", name)["spec"]["taints"], c.taints) << c.name;
  }
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
      {"apply patch", "/api/v1/nodes/n1", "application/apply-patch+yaml", "{}", 415,
       "UnsupportedMediaType"},
      {"plain json", "/api/v1/nodes/n1", "application/json", "{}", 415, "UnsupportedMediaType"},
      {"missing node", "/api/v1/nodes/ghost", "application/merge-patch+json", "{}", 404,
       "NotFound"},
      {"not an object", "/api/v1/nodes/n1", "application/merge-patch+json", "[1]", 400,
       "BadRequest"},
      {"json patch not a list", "/api/v1/nodes/n1", "application/json-patch+json", "{}", 400,
       "BadRequest"},
      {"json patch that cannot apply", "/api/v1/nodes/n1", "application/json-patch+json",
       R"([{"op":"remove","path":"/spec/nothing"}])", 422, "Invalid"},
      {"strategic list element without its key", "/api/v1/nodes/n1",
       "application/strategic-merge-patch+json", R"({"status":{"conditions":[{"status":"x"}]}})",
       400, "BadRequest"},
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
    Answer a = Send("PUT", absl::StrCat("/api/v1/nodes/", c.path_name), body.dump());
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
  Answer mismatch = Send("PUT", "/api/v1/nodes/a", NodeJson("other"));
  EXPECT_EQ(mismatch.body.value("message", ""),
            "the name of the object (other) does not match the name on the URL (a)");
  Answer stale =
      Send("PUT", "/api/v1/nodes/a",
           R"({"kind":"Node","apiVersion":"v1","metadata":{"name":"a","resourceVersion":"1"}})");
  ExpectStatus(stale, 409, "Conflict", "stale PUT");
  EXPECT_EQ(stale.body.value("message", ""),
            "Operation cannot be fulfilled on nodes \"a\": the object has been modified; please "
            "apply your changes to the latest version and try again");
}

TEST_F(FakeApiServerTest, UpdateReplacesFromTheTestSide) {
  Add(PodJson("a", "p"));  // rv 2
  json pod = Stored("Pod", "a", "p");
  const json uid = pod["metadata"]["uid"];
  pod["status"]["phase"] = "Succeeded";
  pod["metadata"].erase("uid");
  ASSERT_TRUE(server_->Update(pod).ok());
  Answer a = Get("/api/v1/namespaces/a/pods/p");
  EXPECT_EQ(a.body["status"]["phase"], "Succeeded");
  EXPECT_EQ(a.body["metadata"]["resourceVersion"], "3");
  EXPECT_EQ(a.body["metadata"]["uid"], uid);

  pod["metadata"]["name"] = "ghost";
  EXPECT_EQ(server_->Update(pod).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(server_->Update(json::parse(R"({"kind":"Service"})")).code(),
            absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Status subresources.

constexpr char kConditionsPod[] =
    R"({"kind":"Pod","metadata":{"name":"p","namespace":"a"},"spec":{},)"
    R"("status":{"phase":"Pending","conditions":[)"
    R"({"type":"PodScheduled","status":"False","reason":"Unschedulable","message":"0/1"},)"
    R"({"type":"Initialized","status":"True"}]}})";

struct StatusPatchCase {
  std::string name;
  std::string content_type;
  std::string patch;
  json conditions;  // status.conditions afterwards
};

TEST_F(FakeApiServerTest, StatusPatchMergesConditionsByType) {
  const json scheduled_false = {{"type", "PodScheduled"},
                                {"status", "False"},
                                {"reason", "Unschedulable"},
                                {"message", "0/1"}};
  const json initialized = {{"type", "Initialized"}, {"status", "True"}};
  const json ready = {{"type", "Ready"}, {"status", "True"}};
  const std::vector<StatusPatchCase> cases = {
      {"a condition of a new type is added", "application/strategic-merge-patch+json",
       R"({"status":{"conditions":[{"type":"Ready","status":"True"}]}})",
       json::array({scheduled_false, initialized, ready})},
      {"a condition of a known type is merged into it", "application/strategic-merge-patch+json",
       R"({"status":{"conditions":[{"type":"PodScheduled","status":"True","reason":null,)"
       R"("message":null}]}})",
       json::array({{{"type", "PodScheduled"}, {"status", "True"}}, initialized})},
      // What the scheduler's two-way merge patch looks like.
      {"$setElementOrder orders the merged list", "application/strategic-merge-patch+json",
       R"({"status":{"$setElementOrder/conditions":[{"type":"Initialized"},{"type":"PodScheduled"}],)"
       R"("conditions":[{"type":"PodScheduled","message":"0/2"}]}})",
       json::array({initialized,
                    {{"type", "PodScheduled"},
                     {"status", "False"},
                     {"reason", "Unschedulable"},
                     {"message", "0/2"}}})},
      {"$patch: delete removes one", "application/strategic-merge-patch+json",
       R"({"status":{"conditions":[{"type":"Initialized","$patch":"delete"}]}})",
       json::array({scheduled_false})},
      {"merge patch replaces the list", "application/merge-patch+json",
       R"({"status":{"conditions":[{"type":"Ready","status":"True"}]}})", json::array({ready})},
  };
  for (const StatusPatchCase& c : cases) {
    SCOPED_TRACE(c.name);
    StartServer(FakeApiServerOptions());
    Add(kConditionsPod);
    Answer a = Send("PATCH", "/api/v1/namespaces/a/pods/p/status", c.patch, c.content_type);
    EXPECT_EQ(a.code, 200) << a.body;
    EXPECT_EQ(a.body["status"]["conditions"], c.conditions);
    EXPECT_EQ(Stored("Pod", "a", "p")["status"]["conditions"], c.conditions);
  }
}

TEST_F(FakeApiServerTest, StatusAndObjectWritesTouchOnlyTheirPart) {
  Add(kConditionsPod);  // rv 2
  // Through /status a spec change is dropped; the status is taken.
  Answer a = Send("PATCH", "/api/v1/namespaces/a/pods/p/status",
                  R"({"spec":{"nodeName":"n9"},"status":{"nominatedNodeName":"n1"}})",
                  "application/merge-patch+json");
  EXPECT_EQ(a.code, 200) << a.body;
  EXPECT_FALSE(a.body["spec"].contains("nodeName"));
  EXPECT_EQ(a.body["status"]["nominatedNodeName"], "n1");
  EXPECT_EQ(a.body["metadata"]["resourceVersion"], "3");
  // Through the object a status change is dropped.
  a = Send("PATCH", "/api/v1/namespaces/a/pods/p",
           R"({"metadata":{"labels":{"x":"y"}},"status":{"phase":"Running"}})",
           "application/merge-patch+json");
  EXPECT_EQ(a.code, 200) << a.body;
  EXPECT_EQ(a.body["metadata"]["labels"]["x"], "y");
  EXPECT_EQ(a.body["status"]["phase"], "Pending");
  // A stale resourceVersion on /status conflicts.
  a = Send("PATCH", "/api/v1/namespaces/a/pods/p/status",
           R"({"metadata":{"resourceVersion":"2"},"status":{"phase":"Failed"}})",
           "application/merge-patch+json");
  ExpectStatus(a, 409, "Conflict", "stale status patch");
  // PUT /status and GET /status.
  json pod = Stored("Pod", "a", "p");
  pod["status"]["phase"] = "Running";
  pod["spec"]["nodeName"] = "ignored";
  a = Send("PUT", "/api/v1/namespaces/a/pods/p/status", pod.dump());
  EXPECT_EQ(a.code, 200) << a.body;
  EXPECT_EQ(Get("/api/v1/namespaces/a/pods/p/status").body["status"]["phase"], "Running");
  EXPECT_FALSE(Stored("Pod", "a", "p")["spec"].contains("nodeName"));
  ExpectStatus(
      Send("PATCH", "/api/v1/namespaces/a/pods/ghost/status", "{}", "application/merge-patch+json"),
      404, "NotFound", "missing pod");
}

// ---------------------------------------------------------------------------
// Graceful deletion.

struct DeleteCase {
  std::string name;
  std::string pod;    // JSON
  std::string body;   // DeleteOptions, "" for none
  std::string query;  // "" or "?gracePeriodSeconds=N"
  bool stays;         // still there, being deleted
  int64_t grace;      // its deletionGracePeriodSeconds when it stays
};

TEST_F(FakeApiServerTest, DeletingABoundRunningPodIsGraceful) {
  const std::string custom =
      R"({"kind":"Pod","metadata":{"name":"p","namespace":"a"},)"
      R"("spec":{"nodeName":"n1","terminationGracePeriodSeconds":5},"status":{"phase":"Running"}})";
  const std::vector<DeleteCase> cases = {
      {"bound and running: the default grace", PodJson("a", "p"), "", "", true, 30},
      {"the pod's terminationGracePeriodSeconds", custom, "", "", true, 5},
      {"gracePeriodSeconds in DeleteOptions", PodJson("a", "p"), R"({"gracePeriodSeconds":7})", "",
       true, 7},
      {"gracePeriodSeconds in the query", PodJson("a", "p"), "", "?gracePeriodSeconds=9", true, 9},
      {"gracePeriodSeconds=0 deletes at once", PodJson("a", "p"), R"({"gracePeriodSeconds":0})", "",
       false, 0},
      {"unbound: at once", PodJson("a", "p", json::object(), "Pending", ""), "", "", false, 0},
      {"Succeeded: at once", PodJson("a", "p", json::object(), "Succeeded"), "", "", false, 0},
      {"Failed: at once", PodJson("a", "p", json::object(), "Failed"), "", "", false, 0},
  };
  for (const DeleteCase& c : cases) {
    SCOPED_TRACE(c.name);
    StartServer(FakeApiServerOptions());
    Add(c.pod);  // rv 2
    auto w = Watch("/api/v1/namespaces/a/pods?watch=true&resourceVersion=2");
    const absl::Time before = absl::Now();
    Answer a = Send("DELETE", PodPath("a", "p") + c.query, c.body);
    EXPECT_EQ(a.code, 200) << a.body;
    EXPECT_EQ(a.body["kind"], "Pod");  // pods answer the object, not a Status
    EXPECT_EQ(Exists("Pod", "a", "p"), c.stays);
    std::vector<json> objects;
    if (c.stays) {
      EXPECT_EQ(w->Take(1, &objects), std::vector<std::string>{"MODIFIED p"});
      json stored = Stored("Pod", "a", "p");
      EXPECT_EQ(stored["metadata"]["deletionGracePeriodSeconds"], c.grace);
      const std::string at = stored["metadata"].value("deletionTimestamp", "");
      absl::Time t;
      std::string err;
      ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full, at, &t, &err)) << at;
      // now + grace, to the second.
      EXPECT_GE(t, absl::FromUnixSeconds(absl::ToUnixSeconds(before)) + absl::Seconds(c.grace));
      EXPECT_EQ(a.body, stored);
      EXPECT_EQ(Names(Get("/api/v1/pods").body), std::vector<std::string>{"a/p"});
    } else {
      // Upstream writes the deletion's grace 0 first, then deletes.
      EXPECT_EQ(w->Take(2, &objects), (std::vector<std::string>{"MODIFIED p", "DELETED p"}));
      ASSERT_EQ(objects.size(), 2u);
      EXPECT_EQ(objects[0]["metadata"]["deletionGracePeriodSeconds"], 0);
      EXPECT_EQ(objects[1]["metadata"]["deletionGracePeriodSeconds"], 0);
      EXPECT_EQ(objects[1]["metadata"]["resourceVersion"], "4");
      ExpectStatus(Get(PodPath("a", "p")), 404, "NotFound", "deleted");
    }
  }
}

TEST_F(FakeApiServerTest, GracefulDeletionFinishesWithTheKubeletsDelete) {
  Add(PodJson("a", "p"));  // rv 2
  auto w = Watch("/api/v1/namespaces/a/pods?watch=true&resourceVersion=2");
  ASSERT_EQ(Send("DELETE", PodPath("a", "p")).code, 200);  // rv 3
  json terminating = Stored("Pod", "a", "p");
  // A later delete cannot lengthen the grace, nor restart it.
  Answer a = Send("DELETE", PodPath("a", "p"), R"({"gracePeriodSeconds":60})");
  EXPECT_EQ(a.code, 200);
  EXPECT_EQ(Stored("Pod", "a", "p"), terminating);
  a = Send("DELETE", PodPath("a", "p"));
  EXPECT_EQ(Stored("Pod", "a", "p"), terminating);
  // A shorter one moves the deletionTimestamp earlier.
  a = Send("DELETE", PodPath("a", "p"), R"({"gracePeriodSeconds":10})");  // rv 4
  EXPECT_EQ(a.body["metadata"]["deletionGracePeriodSeconds"], 10);
  absl::Time was, now;
  std::string err;
  ASSERT_TRUE(absl::ParseTime(absl::RFC3339_full,
                              terminating["metadata"]["deletionTimestamp"].get<std::string>(), &was,
                              &err));
  ASSERT_TRUE(absl::ParseTime(
      absl::RFC3339_full, a.body["metadata"]["deletionTimestamp"].get<std::string>(), &now, &err));
  EXPECT_EQ(was - now, absl::Seconds(20));
  // Preconditions are checked before anything.
  ExpectStatus(Send("DELETE", PodPath("a", "p"), R"({"preconditions":{"uid":"other"}})"), 409,
               "Conflict", "uid precondition");
  // The kubelet's final delete.
  a = Send("DELETE", PodPath("a", "p"), R"({"gracePeriodSeconds":0})");  // rv 5, 6
  EXPECT_EQ(a.code, 200);
  EXPECT_EQ(a.body["metadata"]["resourceVersion"], "6");
  EXPECT_FALSE(Exists("Pod", "a", "p"));
  EXPECT_EQ(w->Take(4),
            (std::vector<std::string>{"MODIFIED p", "MODIFIED p", "MODIFIED p", "DELETED p"}));
  ExpectStatus(Send("DELETE", PodPath("a", "p")), 404, "NotFound", "deleted twice");
}

TEST_F(FakeApiServerTest, FinishDeletionIsTheKubeletsPart) {
  Add(PodJson("a", "p"));
  Add(PodJson("a", "q"));
  Add(PodJson("a", "r"));
  ASSERT_EQ(Send("DELETE", PodPath("a", "p")).code, 200);
  ASSERT_EQ(Send("DELETE", PodPath("a", "q")).code, 200);
  EXPECT_TRUE(server_->FinishDeletion("a", "p").ok());
  EXPECT_FALSE(Exists("Pod", "a", "p"));
  EXPECT_EQ(server_->FinishDeletion("a", "p").code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(server_->FinishDeletions(), 1);  // q; r is not being deleted
  EXPECT_FALSE(Exists("Pod", "a", "q"));
  EXPECT_TRUE(Exists("Pod", "a", "r"));
}

TEST_F(FakeApiServerTest, DeletingOtherKindsAnswersAStatus) {
  Add(NodeJson("n1"));
  Add(R"({"kind":"Lease","apiVersion":"coordination.k8s.io/v1","metadata":{"name":"l","namespace":"a"}})");
  const std::string uid = Stored("Node", "", "n1")["metadata"]["uid"];
  Answer a = Send("DELETE", "/api/v1/nodes/n1");
  ExpectStatus(a, 200, "", "node");
  EXPECT_EQ(a.body["details"], json({{"name", "n1"}, {"kind", "nodes"}, {"uid", uid}}));
  EXPECT_FALSE(Exists("Node", "", "n1"));
  a = Send("DELETE", "/apis/coordination.k8s.io/v1/namespaces/a/leases/l",
           R"({"preconditions":{"resourceVersion":"1"}})");
  ExpectStatus(a, 409, "Conflict", "stale precondition");
  EXPECT_EQ(a.body.value("message", ""),
            "Operation cannot be fulfilled on leases.coordination.k8s.io \"l\": Precondition "
            "failed: ResourceVersion in precondition: 1, ResourceVersion in object meta: 3");
  EXPECT_EQ(Send("DELETE", "/apis/coordination.k8s.io/v1/namespaces/a/leases/l").code, 200);
  ExpectStatus(Send("DELETE", "/api/v1/nodes/n1"), 404, "NotFound", "deleted twice");
}

// ---------------------------------------------------------------------------
// Eviction.

TEST_F(FakeApiServerTest, EvictionWithoutABudgetDeletesThePodGracefully) {
  Add(PodJson("a", "p", {{"app", "web"}}));  // rv 2
  Add(PdbJson("a", "other", R"({"matchLabels":{"app":"db"}})", 0));
  Answer a = Evict("a", "p");
  EXPECT_EQ(a.code, 201);
  EXPECT_EQ(a.content_type, "application/json");
  EXPECT_EQ(a.body, json::parse(R"({"kind":"Status","apiVersion":"v1","metadata":{},)"
                                R"("status":"Success","code":201})"));
  // Bound and running: it stays until the kubelet's final delete.
  json pod = Stored("Pod", "a", "p");
  EXPECT_EQ(pod["metadata"]["deletionGracePeriodSeconds"], 30);
  EXPECT_EQ(Get("/api/v1/pods").body["metadata"]["resourceVersion"], "4");
  ASSERT_TRUE(server_->FinishDeletion("a", "p").ok());
  ExpectStatus(Get("/api/v1/namespaces/a/pods/p"), 404, "NotFound", "evicted pod");
}

TEST_F(FakeApiServerTest, EvictionTakesADisruptionAndLeavesCurrentHealthy) {
  Add(PodJson("a", "web-1", {{"app", "web"}}));
  Add(PodJson("a", "web-2", {{"app", "web"}}));
  Add(PodJson("a", "web-3", {{"app", "web"}}));
  Add(PdbJson("a", "web-pdb", R"({"matchLabels":{"app":"web"}})", 1, 3, 2));
  const json pdb_rv = Stored("PodDisruptionBudget", "a", "web-pdb")["metadata"]["resourceVersion"];

  EXPECT_EQ(Evict("a", "web-1").code, 201);
  EXPECT_TRUE(Deleting("a", "web-1"));
  json pdb = Stored("PodDisruptionBudget", "a", "web-pdb");
  EXPECT_EQ(pdb["status"]["disruptionsAllowed"], 0);
  // Only the disruption controller changes currentHealthy.
  EXPECT_EQ(pdb["status"]["currentHealthy"], 3);
  EXPECT_TRUE(pdb["status"]["disruptedPods"].contains("web-1"));
  ASSERT_EQ(pdb["status"]["conditions"].size(), 1u);
  json& condition = pdb["status"]["conditions"][0];
  EXPECT_EQ(condition["type"], "DisruptionAllowed");
  EXPECT_EQ(condition["status"], "False");
  EXPECT_EQ(condition["reason"], "InsufficientPods");
  EXPECT_NE(pdb["metadata"]["resourceVersion"], pdb_rv);

  Answer a = Evict("a", "web-2");
  ExpectStatus(a, 429, "TooManyRequests", "second eviction");
  EXPECT_EQ(a.body.value("message", ""),
            "Cannot evict pod as it would violate the pod's disruption budget.");
  EXPECT_EQ(a.body["details"]["causes"],
            json::parse(R"([{"reason":"DisruptionBudget","message":"The disruption budget )"
                        R"(web-pdb needs 2 healthy pods and has 3 currently"}])"));
  EXPECT_EQ(a.retry_after, "");
  EXPECT_FALSE(Deleting("a", "web-2"));
  EXPECT_EQ(Stored("PodDisruptionBudget", "a", "web-pdb"), pdb);
  // The evicted pod, terminating, is evicted again without the budget.
  EXPECT_EQ(Evict("a", "web-1").code, 201);
  EXPECT_EQ(Stored("PodDisruptionBudget", "a", "web-pdb"), pdb);
}

TEST_F(FakeApiServerTest, AnUnreadyPodIsEvictedWithoutTakingADisruption) {
  json pod = json::parse(PodJson("a", "p", {{"app", "web"}}));
  pod["status"]["conditions"] = {{{"type", "Ready"}, {"status", "False"}}};
  Add(pod.dump());
  Add(PdbJson("a", "web", R"({"matchLabels":{"app":"web"}})", 0, 3, 2));
  EXPECT_EQ(Evict("a", "p").code, 201);
  EXPECT_TRUE(Deleting("a", "p"));
  EXPECT_EQ(Stored("PodDisruptionBudget", "a", "web")["status"]["disruptionsAllowed"], 0);
  EXPECT_FALSE(Stored("PodDisruptionBudget", "a", "web")["status"].contains("disruptedPods"));
}

TEST_F(FakeApiServerTest, EvictionRefusesAPodWithTwoBudgets) {
  Add(PodJson("a", "p", {{"app", "web"}}));
  Add(PdbJson("a", "one", R"({"matchLabels":{"app":"web"}})", 5));
  Add(PdbJson("a", "two", "{}", 5));
  Answer a = Evict("a", "p");
  EXPECT_EQ(a.code, 500);
  EXPECT_EQ(a.body.value("kind", ""), "Status");
  EXPECT_EQ(a.body.value("status", ""), "Failure");
  EXPECT_EQ(a.body.value("message", ""),
            "This pod has more than one PodDisruptionBudget, which the eviction subresource does "
            "not support.");
  EXPECT_TRUE(Exists("Pod", "a", "p"));
  EXPECT_FALSE(Deleting("a", "p"));
  EXPECT_EQ(Stored("PodDisruptionBudget", "a", "one")["status"]["disruptionsAllowed"], 5);
}

TEST_F(FakeApiServerTest, EvictingAMissingPodIsNotFound) {
  Answer a = Evict("a", "ghost");
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
      {"Succeeded", false, 201},
      {"Failed", false, 201},
      {"Pending", false, 201},
      {"Running", true, 201},
      {"Running", false, 429},
      // No status: not Ready, so (the budget being healthy) no disruption.
      {"", false, 201},
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
    EXPECT_EQ(Deleting("a", name), c.code == 201) << c.phase;
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
  EXPECT_EQ(a.body["details"]["retryAfterSeconds"], 10);
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
  EXPECT_FALSE(Deleting("a", "p"));
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
      {"bad deleteOptions",
       R"({"kind":"Eviction","metadata":{"name":"p"},"deleteOptions":{"gracePeriodSeconds":"x"}})",
       400, "gracePeriodSeconds must be an integer"},
      {"v1beta1 is accepted too",
       R"({"apiVersion":"policy/v1beta1","kind":"Eviction","metadata":{"name":"p"}})", 201, ""},
  };
  for (const EvictionBodyCase& c : cases) {
    Answer a = Send("POST", EvictionPath("a", "p"), c.body);
    EXPECT_EQ(a.code, c.code) << c.name << ": " << a.body;
    if (!c.message.empty()) {
      EXPECT_EQ(a.body.value("message", ""), c.message) << c.name;
    }
    EXPECT_EQ(Deleting("a", "p"), c.code == 201) << c.name;
  }
}

TEST_F(FakeApiServerTest, EvictionHonoursItsDeleteOptions) {
  Add(PodJson("a", "p"));
  Add(PodJson("a", "q"));
  const auto evict = [&](const std::string& name, int grace) {
    return Send("POST", EvictionPath("a", name),
                absl::StrCat(R"({"kind":"Eviction","metadata":{"name":")", name,
                             R"("},"deleteOptions":{"gracePeriodSeconds":)", grace, "}}"))
        .code;
  };
  EXPECT_EQ(evict("p", 5), 201);
  EXPECT_EQ(Stored("Pod", "a", "p")["metadata"]["deletionGracePeriodSeconds"], 5);
  EXPECT_EQ(evict("q", 0), 201);
  EXPECT_FALSE(Exists("Pod", "a", "q"));
}

// ---------------------------------------------------------------------------
// Binding.

std::string BindingJson(const std::string& name, const std::string& node) {
  json binding = {{"apiVersion", "v1"},
                  {"kind", "Binding"},
                  {"metadata", {{"name", name}, {"namespace", "a"}}},
                  {"target", {{"kind", "Node"}, {"name", node}}}};
  return binding.dump();
}

std::string BindingPath(const std::string& name) { return PodPath("a", name) + "/binding"; }

TEST_F(FakeApiServerTest, BindingAssignsTheNodeOnce) {
  Add(kConditionsPod);  // unbound, PodScheduled=False
  Answer a = Send("POST", BindingPath("p"), BindingJson("p", "n1"));
  ExpectStatus(a, 201, "", "binding");
  json pod = Stored("Pod", "a", "p");
  EXPECT_EQ(pod["spec"]["nodeName"], "n1");
  json& scheduled = pod["status"]["conditions"][0];
  EXPECT_EQ(scheduled["type"], "PodScheduled");
  EXPECT_EQ(scheduled["status"], "True");
  EXPECT_FALSE(scheduled.contains("reason"));
  EXPECT_FALSE(scheduled.value("lastTransitionTime", "").empty());

  a = Send("POST", BindingPath("p"), BindingJson("p", "n2"));
  ExpectStatus(a, 409, "Conflict", "bound already");
  EXPECT_EQ(a.body.value("message", ""),
            "Operation cannot be fulfilled on pods/binding \"p\": pod p is already assigned to "
            "node \"n1\"");
  EXPECT_EQ(a.body["details"], json({{"name", "p"}, {"kind", "pods/binding"}}));
  EXPECT_EQ(Stored("Pod", "a", "p")["spec"]["nodeName"], "n1");

  a = Send("POST", BindingPath("ghost"), BindingJson("ghost", "n1"));
  ExpectStatus(a, 404, "NotFound", "missing pod");
  EXPECT_EQ(a.body.value("message", ""), "pods \"ghost\" not found");
}

TEST_F(FakeApiServerTest, AnsweredCountsAnswersByMethodPathAndCode) {
  Add(kConditionsPod);
  server_->FailNext("POST", BindingPath("p"), 503);
  ExpectStatus(Send("POST", BindingPath("p"), BindingJson("p", "n1")), 503, "ServiceUnavailable",
               "injected");
  ExpectStatus(Send("POST", BindingPath("p"), BindingJson("p", "n1")), 201, "", "binding");
  ExpectStatus(Send("POST", BindingPath("p"), BindingJson("p", "n2")), 409, "Conflict", "again");
  EXPECT_EQ(server_->answered("POST", BindingPath("p"), 503), 1);
  EXPECT_EQ(server_->answered("POST", BindingPath("p"), 201), 1);
  EXPECT_EQ(server_->answered("POST", BindingPath("p"), 409), 1);
  EXPECT_EQ(server_->answered("GET", BindingPath("p"), 201), 0);
  EXPECT_EQ(server_->answered("POST", BindingPath("q"), 201), 0);
}

TEST_F(FakeApiServerTest, RequiredTokenRefusesOtherRequestsWith401) {
  FakeApiServerOptions options;
  options.required_token = "s3cret";
  StartServer(options);
  Answer a = Get("/api/v1/nodes");
  ExpectStatus(a, 401, "Unauthorized", "no token");
  EXPECT_EQ(a.body.value("message", ""), "Unauthorized");
  client_->set_bearer_token_auth("expired");
  ExpectStatus(Get("/api/v1/nodes"), 401, "Unauthorized", "wrong token");
  EXPECT_EQ(Get("/healthz").code, 200);
  client_->set_bearer_token_auth("s3cret");
  EXPECT_EQ(Get("/api/v1/nodes").code, 200);
  EXPECT_EQ(server_->answered("GET", "/api/v1/nodes", 401), 2);
}

struct BindingErrorCase {
  std::string name;
  std::string body;
  int code;
  std::string message;
};

TEST_F(FakeApiServerTest, BindingErrors) {
  json terminating = json::parse(PodJson("a", "t", json::object(), "Pending", ""));
  terminating["metadata"]["deletionTimestamp"] = "2024-01-01T00:00:00Z";
  Add(terminating.dump());
  json gated = json::parse(PodJson("a", "g", json::object(), "Pending", ""));
  gated["spec"]["schedulingGates"] = {{{"name", "wait"}}};
  Add(gated.dump());
  Add(PodJson("a", "p", json::object(), "Pending", ""));
  const std::string uid = Stored("Pod", "a", "p")["metadata"]["uid"];
  json stale_uid = json::parse(BindingJson("p", "n1"));
  stale_uid["metadata"]["uid"] = "other";
  const std::vector<BindingErrorCase> cases = {
      {"being deleted", BindingJson("t", "n1"), 409,
       "Operation cannot be fulfilled on pods/binding \"t\": pod t is being deleted, cannot be "
       "assigned to a host"},
      {"scheduling gates", BindingJson("g", "n1"), 409,
       "Operation cannot be fulfilled on pods/binding \"g\": pod g has non-empty "
       ".spec.schedulingGates"},
      {"no target", R"({"kind":"Binding","metadata":{"name":"p"}})", 500,
       "target.name: Required value"},
      {"name mismatch", BindingJson("q", "n1"), 400,
       "name in URL does not match name in Binding object"},
      {"uid precondition", stale_uid.dump(), 409,
       absl::StrCat("Operation cannot be fulfilled on pods \"p\": Precondition failed: UID in "
                    "precondition: other, UID in object meta: ",
                    uid)},
  };
  for (const BindingErrorCase& c : cases) {
    const std::string name = json::parse(c.body)["metadata"]["name"];
    Answer a = Send("POST", BindingPath(c.name == "name mismatch" ? "p" : name), c.body);
    EXPECT_EQ(a.code, c.code) << c.name << ": " << a.body;
    EXPECT_EQ(a.body.value("message", ""), c.message) << c.name;
  }
  EXPECT_FALSE(Stored("Pod", "a", "p")["spec"].contains("nodeName"));
}

// ---------------------------------------------------------------------------
// Events, leases, namespaces.

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
  Answer unnamed =
      Send("POST", "/api/v1/namespaces/default/events", R"({"kind":"Event","reason":"x"})");
  ExpectStatus(unnamed, 422, "Invalid", "no name");
  EXPECT_EQ(unnamed.body.value("message", ""),
            "Event \"\" is invalid: metadata.name: Required value: name or generateName is "
            "required");
  EXPECT_EQ(server_->Events().size(), 2u);
}

TEST_F(FakeApiServerTest, EventsV1AreAViewOfCoreEvents) {
  const json v1 = {{"apiVersion", "events.k8s.io/v1"},
                   {"kind", "Event"},
                   {"metadata", {{"name", "e1"}, {"namespace", "default"}}},
                   {"eventTime", "2024-01-01T00:00:00.000000Z"},
                   {"reportingController", "default-scheduler"},
                   {"reportingInstance", "default-scheduler-host"},
                   {"action", "Scheduling"},
                   {"reason", "FailedScheduling"},
                   {"type", "Warning"},
                   {"regarding", {{"kind", "Pod"}, {"namespace", "default"}, {"name", "web"}}},
                   {"note", "0/3 nodes are available"},
                   {"series", {{"count", 2}, {"lastObservedTime", "2024-01-01T00:00:01.000000Z"}}}};
  Answer a = Send("POST", "/apis/events.k8s.io/v1/namespaces/default/events", v1.dump());
  EXPECT_EQ(a.code, 201) << a.body;
  EXPECT_EQ(a.body["apiVersion"], "events.k8s.io/v1");
  EXPECT_EQ(a.body["note"], "0/3 nodes are available");
  EXPECT_EQ(a.body["regarding"]["name"], "web");

  // The core/v1 view of the same event.
  Answer core = Get("/api/v1/namespaces/default/events/e1");
  EXPECT_EQ(core.code, 200);
  EXPECT_EQ(core.body["apiVersion"], "v1");
  EXPECT_EQ(core.body["message"], "0/3 nodes are available");
  EXPECT_EQ(core.body["involvedObject"]["name"], "web");
  EXPECT_EQ(core.body["reportingComponent"], "default-scheduler");
  EXPECT_EQ(core.body["series"]["count"], 2);
  EXPECT_FALSE(core.body.contains("note"));
  ASSERT_EQ(server_->Events().size(), 1u);
  EXPECT_EQ(server_->Events()[0]["reason"], "FailedScheduling");

  // A core event shows in events.k8s.io/v1, renamed.
  ASSERT_EQ(Send("POST", "/api/v1/namespaces/default/events",
                 R"({"kind":"Event","metadata":{"name":"e2"},"message":"m","count":3,)"
                 R"("source":{"component":"kubelet"},"involvedObject":{"name":"n1"}})")
                .code,
            201);
  Answer listed = Get("/apis/events.k8s.io/v1/namespaces/default/events");
  EXPECT_EQ(listed.body["kind"], "EventList");
  EXPECT_EQ(Names(listed.body), (std::vector<std::string>{"default/e1", "default/e2"}));
  const json& e2 = listed.body["items"][1];
  EXPECT_EQ(e2["note"], "m");
  EXPECT_EQ(e2["deprecatedCount"], 3);
  EXPECT_EQ(e2["deprecatedSource"]["component"], "kubelet");
  EXPECT_EQ(e2["regarding"]["name"], "n1");
  // Field selectors use the stored (core) field names.
  EXPECT_EQ(Names(Get("/api/v1/events?fieldSelector=" + Encode("involvedObject.name=web")).body),
            std::vector<std::string>{"default/e1"});
  EXPECT_EQ(Names(Get("/api/v1/events?fieldSelector=" + Encode("source=kubelet")).body),
            std::vector<std::string>{"default/e2"});
  // events.k8s.io/v1 selects on its own names.
  EXPECT_EQ(Names(Get("/apis/events.k8s.io/v1/events?fieldSelector=" +
                      Encode("regarding.name=web,reportingController=default-scheduler"))
                      .body),
            std::vector<std::string>{"default/e1"});
  EXPECT_EQ(
      Get("/apis/events.k8s.io/v1/events?fieldSelector=" + Encode("involvedObject.name=web")).code,
      400);
  EXPECT_EQ(Get("/api/v1/events?fieldSelector=" + Encode("regarding.name=web")).code, 400);
  // A wrong apiVersion for the path is refused.
  ExpectStatus(Send("POST", "/apis/events.k8s.io/v1/namespaces/default/events",
                    R"({"apiVersion":"v1","kind":"Event","metadata":{"name":"e3"}})"),
               400, "BadRequest", "core event on the events.k8s.io path");
}

constexpr char kLeasePath[] = "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases";

std::string LeaseJson(const std::string& holder, const std::string& rv = "") {
  json lease = {{"apiVersion", "coordination.k8s.io/v1"},
                {"kind", "Lease"},
                {"metadata", {{"name", "kube-scheduler"}, {"namespace", "kube-system"}}},
                {"spec",
                 {{"holderIdentity", holder},
                  {"leaseDurationSeconds", 15},
                  {"renewTime", "2024-01-01T00:00:00.000000Z"}}}};
  if (!rv.empty()) lease["metadata"]["resourceVersion"] = rv;
  return lease.dump();
}

TEST_F(FakeApiServerTest, LeasesAreUpdatedWithTheirResourceVersion) {
  const std::string path = absl::StrCat(kLeasePath, "/kube-scheduler");
  ExpectStatus(Get(path), 404, "NotFound", "no lease yet");
  Answer a = Send("POST", kLeasePath, LeaseJson("a"));
  EXPECT_EQ(a.code, 201) << a.body;
  const std::string created = a.body["metadata"]["resourceVersion"];
  ExpectStatus(Send("POST", kLeasePath, LeaseJson("b")), 409, "AlreadyExists", "taken");
  EXPECT_EQ(Get(path).body["spec"]["holderIdentity"], "a");

  a = Send("PUT", path, LeaseJson("a", created));
  EXPECT_EQ(a.code, 200) << a.body;
  EXPECT_EQ(a.body["metadata"]["resourceVersion"], created);  // nothing changed
  a = Send("PUT", path, LeaseJson("b", created));
  EXPECT_EQ(a.code, 200) << a.body;
  const std::string renewed = a.body["metadata"]["resourceVersion"];
  EXPECT_NE(renewed, created);
  EXPECT_EQ(Get(path).body["spec"]["holderIdentity"], "b");

  // Another candidate with what it read before: 409.
  a = Send("PUT", path, LeaseJson("c", created));
  ExpectStatus(a, 409, "Conflict", "stale lease");
  EXPECT_EQ(a.body.value("message", ""),
            "Operation cannot be fulfilled on leases.coordination.k8s.io \"kube-scheduler\": the "
            "object has been modified; please apply your changes to the latest version and try "
            "again");
  EXPECT_EQ(
      a.body["details"],
      json({{"name", "kube-scheduler"}, {"group", "coordination.k8s.io"}, {"kind", "leases"}}));
  // Leases take no unconditional update.
  a = Send("PUT", path, LeaseJson("c"));
  ExpectStatus(a, 422, "Invalid", "no resourceVersion");
  EXPECT_EQ(a.body.value("message", ""),
            "leases.coordination.k8s.io \"kube-scheduler\" is invalid: metadata.resourceVersion: "
            "Invalid value: 0x0: must be specified for an update");
  EXPECT_EQ(Get(path).body["spec"]["holderIdentity"], "b");

  // A PUT to a missing lease creates it.
  ASSERT_EQ(Send("DELETE", path).code, 200);
  a = Send("PUT", path, LeaseJson("d"));
  EXPECT_EQ(a.code, 201) << a.body;
  EXPECT_EQ(Get(path).body["spec"]["holderIdentity"], "d");
}

TEST_F(FakeApiServerTest, NamespacesAreCreatedActiveAndLabelled) {
  Answer a = Send("POST", "/api/v1/namespaces",
                  R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"team-a"},)"
                  R"("status":{"phase":"Terminating"}})");
  EXPECT_EQ(a.code, 201) << a.body;
  EXPECT_EQ(a.body["status"]["phase"], "Active");
  EXPECT_EQ(a.body["spec"]["finalizers"], json::array({"kubernetes"}));
  EXPECT_EQ(a.body["metadata"]["labels"]["kubernetes.io/metadata.name"], "team-a");
  Add(R"({"kind":"Namespace","metadata":{"name":"team-b","labels":{"tier":"gold"}}})");
  EXPECT_EQ(Stored("Namespace", "", "team-b")["metadata"]["labels"],
            json({{"kubernetes.io/metadata.name", "team-b"}, {"tier", "gold"}}));
  EXPECT_EQ(Names(Get("/api/v1/namespaces").body), (std::vector<std::string>{"team-a", "team-b"}));
  EXPECT_EQ(
      Names(Get("/api/v1/namespaces?labelSelector=" + Encode("kubernetes.io/metadata.name=team-b"))
                .body),
      std::vector<std::string>{"team-b"});
  a = Send("PATCH", "/api/v1/namespaces/team-a", R"({"metadata":{"labels":{"x":"y"}}})",
           "application/merge-patch+json");
  EXPECT_EQ(a.code, 200) << a.body;
  EXPECT_EQ(a.body["metadata"]["labels"]["kubernetes.io/metadata.name"], "team-a");
  ExpectStatus(Send("DELETE", "/api/v1/namespaces/team-a"), 200, "", "delete");
  EXPECT_FALSE(Exists("Namespace", "", "team-a"));
  // Objects in a namespace are served whether it exists or not.
  Add(PodJson("team-a", "p"));
  EXPECT_EQ(Names(Get("/api/v1/namespaces/team-a/pods").body),
            std::vector<std::string>{"team-a/p"});
}

TEST_F(FakeApiServerTest, ApiCreatesApplyTheRegistrysDefaults) {
  Answer a = Send("POST", "/api/v1/namespaces/a/pods",
                  R"({"kind":"Pod","metadata":{"name":"p","uid":"mine"},"spec":{},)"
                  R"("status":{"phase":"Running"}})");
  EXPECT_EQ(a.code, 201) << a.body;
  EXPECT_EQ(a.body["status"], json({{"phase", "Pending"}}));
  EXPECT_NE(a.body["metadata"]["uid"], "mine");
  EXPECT_EQ(a.body["metadata"]["namespace"], "a");
  a = Send("POST", "/apis/policy/v1/namespaces/a/poddisruptionbudgets", PdbJson("a", "b", "{}", 3));
  EXPECT_EQ(a.code, 201) << a.body;
  EXPECT_EQ(a.body["status"], json::object());
  EXPECT_EQ(a.body["metadata"]["generation"], 1);
  ExpectStatus(Send("POST", "/api/v1/namespaces/b/pods", PodJson("a", "q")), 400, "BadRequest",
               "namespace mismatch");
  ExpectStatus(Send("POST", "/api/v1/namespaces/a/pods", "[]"), 400, "BadRequest", "not JSON");
}

// ---------------------------------------------------------------------------
// Watches.

struct WatchResourceCase {
  std::string collection;  // watched, and where the object is POSTed
  std::string object;      // JSON
  std::string item;        // the object's path
  std::string kind;
  std::string api_version;
};

TEST_F(FakeApiServerTest, WatchSeesEveryChangeOnEveryResource) {
  const std::vector<WatchResourceCase> cases = {
      {"/api/v1/nodes", NodeJson("n1"), "/api/v1/nodes/n1", "Node", "v1"},
      {"/api/v1/namespaces/a/pods", R"({"kind":"Pod","metadata":{"name":"p"},"spec":{}})",
       "/api/v1/namespaces/a/pods/p", "Pod", "v1"},
      {"/api/v1/namespaces/a/events", R"({"kind":"Event","metadata":{"name":"e"}})",
       "/api/v1/namespaces/a/events/e", "Event", "v1"},
      {"/apis/events.k8s.io/v1/namespaces/a/events", R"({"kind":"Event","metadata":{"name":"e"}})",
       "/apis/events.k8s.io/v1/namespaces/a/events/e", "Event", "events.k8s.io/v1"},
      {"/api/v1/namespaces", R"({"kind":"Namespace","metadata":{"name":"ns"}})",
       "/api/v1/namespaces/ns", "Namespace", "v1"},
      {"/apis/policy/v1/namespaces/a/poddisruptionbudgets", PdbJson("a", "b", "{}", 1),
       "/apis/policy/v1/namespaces/a/poddisruptionbudgets/b", "PodDisruptionBudget", "policy/v1"},
      {"/apis/scheduling.k8s.io/v1/priorityclasses",
       R"({"kind":"PriorityClass","metadata":{"name":"gold"},"value":10})",
       "/apis/scheduling.k8s.io/v1/priorityclasses/gold", "PriorityClass", "scheduling.k8s.io/v1"},
      {"/apis/coordination.k8s.io/v1/namespaces/a/leases",
       R"({"kind":"Lease","metadata":{"name":"l"},"spec":{}})",
       "/apis/coordination.k8s.io/v1/namespaces/a/leases/l", "Lease", "coordination.k8s.io/v1"},
  };
  for (const WatchResourceCase& c : cases) {
    SCOPED_TRACE(c.collection);
    auto w = Watch(c.collection + "?watch=true&resourceVersion=" + Version());
    EXPECT_EQ(w->header("content-type"), "application/json");
    ASSERT_EQ(Send("POST", c.collection, c.object).code, 201);
    ASSERT_EQ(Send("PATCH", c.item, R"({"metadata":{"labels":{"changed":"yes"}}})",
                   "application/merge-patch+json")
                  .code,
              200);
    ASSERT_EQ(Send("DELETE", c.item).code, 200);
    std::vector<json> objects;
    std::vector<std::string> want = {"ADDED ", "MODIFIED ", "DELETED "};
    // A pod's deletion writes its grace period first.
    if (c.kind == "Pod") want.insert(want.begin() + 2, "MODIFIED ");
    const std::string name = json::parse(c.object)["metadata"]["name"];
    for (std::string& e : want) e += name;
    EXPECT_EQ(w->Take(static_cast<int>(want.size()), &objects), want);
    for (const json& o : objects) {
      EXPECT_EQ(o.value("kind", ""), c.kind);
      EXPECT_EQ(o.value("apiVersion", ""), c.api_version);
    }
    ASSERT_EQ(objects.size(), want.size());
    EXPECT_EQ(objects[1]["metadata"]["labels"]["changed"], "yes");
    // DELETED carries the last state, at the deletion's resourceVersion.
    EXPECT_EQ(objects.back()["metadata"]["labels"]["changed"], "yes");
    EXPECT_EQ(objects.back()["metadata"]["resourceVersion"], Version());
  }
}

TEST_F(FakeApiServerTest, WatchWithoutAResourceVersionStartsWithTheObjects) {
  Add(PodJson("a", "p2"));
  Add(PodJson("a", "p1"));
  Add(PodJson("b", "p3"));
  for (const std::string rv : {"", "&resourceVersion=0"}) {
    SCOPED_TRACE(rv);
    auto w = Watch("/api/v1/namespaces/a/pods?watch=1" + rv);
    EXPECT_EQ(w->Take(2), (std::vector<std::string>{"ADDED p1", "ADDED p2"}));
    ASSERT_EQ(Send("DELETE", PodPath("a", "p1"), R"({"gracePeriodSeconds":0})").code, 200);
    ASSERT_EQ(Send("DELETE", PodPath("b", "p3"), R"({"gracePeriodSeconds":0})").code, 200);
    Add(PodJson("a", "p1"));
    EXPECT_EQ(w->Take(3), (std::vector<std::string>{"MODIFIED p1", "DELETED p1", "ADDED p1"}));
    Add(PodJson("b", "p3"));
  }
  // All namespaces, and the deprecated /watch/ path for one object.
  auto all = Watch("/api/v1/pods?watch=true");
  EXPECT_EQ(all->Take(3), (std::vector<std::string>{"ADDED p1", "ADDED p2", "ADDED p3"}));
  auto one = Watch("/api/v1/watch/namespaces/a/pods/p2");
  EXPECT_EQ(one->Take(1), std::vector<std::string>{"ADDED p2"});
  ASSERT_EQ(Send("PATCH", PodPath("a", "p1"), R"({"metadata":{"labels":{"x":"1"}}})",
                 "application/merge-patch+json")
                .code,
            200);
  ASSERT_EQ(Send("PATCH", PodPath("a", "p2"), R"({"metadata":{"labels":{"x":"1"}}})",
                 "application/merge-patch+json")
                .code,
            200);
  EXPECT_EQ(all->Take(2), (std::vector<std::string>{"MODIFIED p1", "MODIFIED p2"}));
  EXPECT_EQ(one->Take(1), std::vector<std::string>{"MODIFIED p2"});
}

TEST_F(FakeApiServerTest, WatchResumesAfterItsResourceVersion) {
  Add(NodeJson("n1"));                                      // rv 2
  Add(NodeJson("n2"));                                      // rv 3
  ASSERT_EQ(Send("DELETE", "/api/v1/nodes/n1").code, 200);  // rv 4
  Add(NodeJson("n3"));                                      // rv 5
  std::vector<json> objects;
  auto w = Watch("/api/v1/nodes?watch=true&resourceVersion=3");
  EXPECT_EQ(w->Take(2, &objects), (std::vector<std::string>{"DELETED n1", "ADDED n3"}));
  ASSERT_EQ(objects.size(), 2u);
  EXPECT_EQ(objects[0]["metadata"]["resourceVersion"], "4");
  EXPECT_EQ(objects[1]["metadata"]["resourceVersion"], "5");
  auto from_start = Watch("/api/v1/nodes?watch=true&resourceVersion=1");
  EXPECT_EQ(from_start->Take(4),
            (std::vector<std::string>{"ADDED n1", "ADDED n2", "DELETED n1", "ADDED n3"}));
}

TEST_F(FakeApiServerTest, WatchSelectorsTurnChangesIntoAddsAndDeletes) {
  Add(PodJson("a", "web", {{"app", "web"}}));
  Add(PodJson("a", "db", {{"app", "db"}}));
  auto w = Watch("/api/v1/namespaces/a/pods?watch=true&labelSelector=app%3Dweb");
  EXPECT_EQ(w->Take(1), std::vector<std::string>{"ADDED web"});
  const auto relabel = [&](const std::string& name, const std::string& app) {
    ASSERT_EQ(Send("PATCH", PodPath("a", name),
                   absl::StrCat(R"({"metadata":{"labels":{"app":")", app, R"("}}})"),
                   "application/merge-patch+json")
                  .code,
              200);
  };
  relabel("db", "db2");   // never seen
  relabel("web", "db");   // leaves the selection
  relabel("web", "web");  // comes back
  relabel("db", "web");   // joins
  std::vector<json> objects;
  EXPECT_EQ(w->Take(3, &objects),
            (std::vector<std::string>{"DELETED web", "ADDED web", "ADDED db"}));
  ASSERT_EQ(objects.size(), 3u);
  // Leaving: the state before the change, at the change's resourceVersion.
  EXPECT_EQ(objects[0]["metadata"]["labels"]["app"], "web");
  EXPECT_EQ(objects[0]["metadata"]["resourceVersion"], "5");

  auto bound = Watch("/api/v1/pods?watch=true&fieldSelector=" + Encode("spec.nodeName=n2"));
  ASSERT_EQ(Send("POST", "/api/v1/namespaces/a/pods",
                 R"({"kind":"Pod","metadata":{"name":"new"},"spec":{}})")
                .code,
            201);
  ASSERT_EQ(Send("POST", BindingPath("new"), BindingJson("new", "n2")).code, 201);
  EXPECT_EQ(bound->Take(1), std::vector<std::string>{"ADDED new"});
}

TEST_F(FakeApiServerTest, BookmarksCarryOnlyTheResourceVersion) {
  FakeApiServerOptions options;
  options.bookmark_interval = absl::Milliseconds(50);
  StartServer(options);
  Add(PodJson("a", "p"));
  auto w = Watch("/api/v1/namespaces/a/pods?watch=true&allowWatchBookmarks=true&resourceVersion=" +
                 Version());
  json e;
  ASSERT_EQ(w->Read(&e), WatchReader::Next::kEvent);
  EXPECT_EQ(
      e,
      json({{"type", "BOOKMARK"},
            {"object",
             {{"kind", "Pod"}, {"apiVersion", "v1"}, {"metadata", {{"resourceVersion", "2"}}}}}}));
  Add(NodeJson("n1"));     // rv 3: another kind moves the version on
  Add(PodJson("a", "q"));  // rv 4
  std::string rv;
  while (w->Read(&e) == WatchReader::Next::kEvent) {
    if (e["type"] == "ADDED") {
      EXPECT_EQ(e["object"]["metadata"]["name"], "q");
    } else if (e["type"] == "BOOKMARK") {
      rv = e["object"]["metadata"]["resourceVersion"];
      if (rv == "4") break;
    }
  }
  EXPECT_EQ(rv, "4");
  // The events.k8s.io view bookmarks with its own apiVersion.
  auto events = Watch("/apis/events.k8s.io/v1/events?watch=true&allowWatchBookmarks=true");
  ASSERT_EQ(events->Read(&e), WatchReader::Next::kEvent);
  EXPECT_EQ(e["type"], "BOOKMARK");
  EXPECT_EQ(e["object"]["apiVersion"], "events.k8s.io/v1");
}

TEST_F(FakeApiServerTest, TimeoutSecondsEndsTheStreamCleanlyAfterALastBookmark) {
  FakeApiServerOptions options;
  options.bookmark_interval = absl::Hours(1);
  options.bookmark_before_timeout = absl::Milliseconds(500);
  StartServer(options);
  json e;
  // Bookmarks allowed: one shortly before the end, as upstream's cacher sends it.
  auto w = Watch("/api/v1/nodes?watch=true&timeoutSeconds=1&allowWatchBookmarks=true");
  ASSERT_EQ(w->Read(&e), WatchReader::Next::kEvent);
  EXPECT_EQ(e["type"], "BOOKMARK");
  EXPECT_EQ(w->Read(&e), WatchReader::Next::kEnd);
  // Not allowed: nothing, then the end.
  auto quiet = Watch("/api/v1/nodes?watch=true&timeoutSeconds=1");
  EXPECT_EQ(quiet->Read(&e), WatchReader::Next::kEnd);
  // The server's maximum bounds a watch without a timeout.
  options.max_watch_timeout = absl::Seconds(1);
  StartServer(options);
  auto capped = Watch("/api/v1/nodes?watch=true");
  EXPECT_EQ(capped->Read(&e), WatchReader::Next::kEnd);
}

TEST_F(FakeApiServerTest, SendInitialEventsEndsWithAnAnnotatedBookmark) {
  Add(NodeJson("n1"));
  Add(NodeJson("n2"));
  auto w = Watch(
      "/api/v1/nodes?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&"
      "resourceVersionMatch=NotOlderThan");
  std::vector<json> objects;
  EXPECT_EQ(w->Take(3, &objects), (std::vector<std::string>{"ADDED n1", "ADDED n2", "BOOKMARK "}));
  ASSERT_EQ(objects.size(), 3u);
  EXPECT_EQ(objects[2]["metadata"]["resourceVersion"], "3");
  EXPECT_EQ(objects[2]["metadata"]["annotations"]["k8s.io/initial-events-end"], "true");
}

TEST_F(FakeApiServerTest, AWatchOlderThanTheHistoryIsGone) {
  FakeApiServerOptions options;
  options.history_size = 2;
  StartServer(options);
  Add(PodJson("a", "p"));                  // rv 2
  for (const char* v : {"1", "2", "3"}) {  // rv 3, 4, 5: the history keeps 4 and 5
    ASSERT_EQ(Send("PATCH", PodPath("a", "p"),
                   absl::StrCat(R"({"metadata":{"labels":{"v":")", v, R"("}}})"),
                   "application/merge-patch+json")
                  .code,
              200);
  }
  auto w = Watch("/api/v1/pods?watch=true&resourceVersion=2");
  EXPECT_EQ(w->header("transfer-encoding"), "chunked");
  json e;
  ASSERT_EQ(w->Read(&e), WatchReader::Next::kEvent);
  EXPECT_EQ(e["type"], "ERROR");
  EXPECT_EQ(e["object"], json({{"kind", "Status"},
                               {"apiVersion", "v1"},
                               {"metadata", json::object()},
                               {"status", "Failure"},
                               {"message", "too old resource version: 2 (3)"},
                               {"reason", "Expired"},
                               {"code", 410}}));
  EXPECT_EQ(w->Read(&e), WatchReader::Next::kEnd);
  // From the floor on, the history serves.
  auto ok = Watch("/api/v1/pods?watch=true&resourceVersion=3");
  EXPECT_EQ(ok->Take(2), (std::vector<std::string>{"MODIFIED p", "MODIFIED p"}));
  // The history is per kind: nodes have lost nothing.
  auto nodes = Watch("/api/v1/nodes?watch=true&resourceVersion=1&timeoutSeconds=1");
  EXPECT_EQ(nodes->Read(&e), WatchReader::Next::kEnd);
}

TEST_F(FakeApiServerTest, AWatchThatFallsBehindTheHistoryIsClosed) {
  FakeApiServerOptions options;
  options.history_size = 3;
  StartServer(options);
  for (const char* name : {"p1", "p2", "p3"}) {
    Add(PodJson("a", name));
    ASSERT_EQ(Send("DELETE", PodPath("a", name)).code, 200);
  }
  auto w = Watch("/api/v1/pods?watch=true&resourceVersion=" + Version());
  // One write of six changes: more than the history keeps.
  ASSERT_EQ(server_->FinishDeletions(), 3);
  json e;
  EXPECT_EQ(w->Read(&e), WatchReader::Next::kEnd);
}

TEST_F(FakeApiServerTest, ForceGoneOnNextWatch) {
  Add(NodeJson("n1"));
  server_->ForceGoneOnNextWatch();
  auto gone = Watch("/api/v1/nodes?watch=true&resourceVersion=2");
  json e;
  ASSERT_EQ(gone->Read(&e), WatchReader::Next::kEvent);
  EXPECT_EQ(e["type"], "ERROR");
  EXPECT_EQ(e["object"]["code"], 410);
  EXPECT_EQ(e["object"]["reason"], "Expired");
  EXPECT_EQ(e["object"]["message"], "too old resource version: 2 (2)");
  EXPECT_EQ(gone->Read(&e), WatchReader::Next::kEnd);
  // Only the next one.
  auto fine = Watch("/api/v1/nodes?watch=true");
  EXPECT_EQ(fine->Take(1), std::vector<std::string>{"ADDED n1"});
}

struct WatchErrorCase {
  std::string query;
  std::string message;
};

TEST_F(FakeApiServerTest, WatchRequestErrorsAreHttpErrors) {
  const std::vector<WatchErrorCase> cases = {
      {"resourceVersion=abc", "invalid resource version: \"abc\""},
      {"labelSelector=" + Encode("a in b"), "unable to parse requirement: \"a in b\""},
      {"fieldSelector=" + Encode("spec.foo=x"), "field label not supported: spec.foo"},
      {"timeoutSeconds=-1",
       "timeoutSeconds: Invalid value: \"-1\": must be a non-negative integer"},
  };
  for (const WatchErrorCase& c : cases) {
    Answer a = Get("/api/v1/pods?watch=true&" + c.query);
    ExpectStatus(a, 400, "BadRequest", c.query);
    EXPECT_EQ(a.body.value("message", ""), c.message) << c.query;
  }
  EXPECT_EQ(server_->watches(), 0);
}

// ---------------------------------------------------------------------------
// Paging.

TEST_F(FakeApiServerTest, PagesShowTheFirstPagesSnapshot) {
  for (const char* name : {"p1", "p2", "p3", "p4", "p5"}) Add(PodJson("a", name));  // rv 2-6
  Add(PodJson("b", "other"));                                                       // rv 7
  Answer page = Get("/api/v1/namespaces/a/pods?limit=2");
  EXPECT_EQ(page.code, 200);
  EXPECT_EQ(Names(page.body), (std::vector<std::string>{"a/p1", "a/p2"}));
  EXPECT_EQ(page.body["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(page.body["metadata"]["remainingItemCount"], 3);
  const std::string token = page.body["metadata"].value("continue", "");
  ASSERT_FALSE(token.empty());

  // The world moves on between pages.
  ASSERT_EQ(Send("DELETE", PodPath("a", "p3"), R"({"gracePeriodSeconds":0})").code, 200);
  ASSERT_EQ(Send("PATCH", PodPath("a", "p4"), R"({"metadata":{"labels":{"late":"yes"}}})",
                 "application/merge-patch+json")
                .code,
            200);
  Add(PodJson("a", "p0"));
  Add(PodJson("a", "p6"));

  page = Get("/api/v1/namespaces/a/pods?limit=2&continue=" + Encode(token));
  EXPECT_EQ(page.code, 200) << page.body;
  EXPECT_EQ(Names(page.body), (std::vector<std::string>{"a/p3", "a/p4"}));
  EXPECT_EQ(page.body["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(page.body["metadata"]["remainingItemCount"], 1);
  ASSERT_EQ(page.body["items"].size(), 2u);
  EXPECT_FALSE(page.body["items"][1]["metadata"]["labels"].contains("late"));
  page = Get("/api/v1/namespaces/a/pods?limit=2&continue=" +
             Encode(page.body["metadata"].value("continue", "")));
  EXPECT_EQ(Names(page.body), std::vector<std::string>{"a/p5"});
  EXPECT_FALSE(page.body["metadata"].contains("continue"));
  EXPECT_FALSE(page.body["metadata"].contains("remainingItemCount"));

  // A new list sees now.
  EXPECT_EQ(Names(Get("/api/v1/namespaces/a/pods").body),
            (std::vector<std::string>{"a/p0", "a/p1", "a/p2", "a/p4", "a/p5", "a/p6"}));
  // Across namespaces, keys run "ns/name".
  page = Get("/api/v1/pods?limit=6");
  EXPECT_EQ(Names(page.body),
            (std::vector<std::string>{"a/p0", "a/p1", "a/p2", "a/p4", "a/p5", "a/p6"}));
  page = Get("/api/v1/pods?limit=6&continue=" + Encode(page.body["metadata"]["continue"]));
  EXPECT_EQ(Names(page.body), std::vector<std::string>{"b/other"});
  // A limit the list fits in gives no token.
  EXPECT_FALSE(Get("/api/v1/pods?limit=7").body["metadata"].contains("continue"));
}

TEST_F(FakeApiServerTest, PagesWithASelectorCountNoRemainingItems) {
  for (int i = 0; i < 4; ++i) {
    Add(PodJson("a", absl::StrCat("p", i), {{"app", i % 2 == 0 ? "web" : "db"}}));
  }
  Answer page = Get("/api/v1/namespaces/a/pods?limit=1&labelSelector=app%3Dweb");
  EXPECT_EQ(Names(page.body), std::vector<std::string>{"a/p0"});
  EXPECT_FALSE(page.body["metadata"].contains("remainingItemCount"));
  page = Get("/api/v1/namespaces/a/pods?limit=1&labelSelector=app%3Dweb&continue=" +
             Encode(page.body["metadata"]["continue"]));
  EXPECT_EQ(Names(page.body), std::vector<std::string>{"a/p2"});
}

TEST_F(FakeApiServerTest, AnExpiredContinueIsGoneWithATokenForTheRest) {
  FakeApiServerOptions options;
  options.history_size = 2;
  StartServer(options);
  for (const char* name : {"p1", "p2", "p3"}) Add(PodJson("a", name));  // rv 2-4
  Answer first = Get("/api/v1/namespaces/a/pods?limit=1");
  const std::string token = first.body["metadata"]["continue"];
  for (const char* v : {"1", "2", "3"}) {  // rv 5-7: rv 4 falls out of the history
    ASSERT_EQ(Send("PATCH", PodPath("a", "p3"),
                   absl::StrCat(R"({"metadata":{"labels":{"v":")", v, R"("}}})"),
                   "application/merge-patch+json")
                  .code,
              200);
  }
  Answer gone = Get("/api/v1/namespaces/a/pods?limit=1&continue=" + Encode(token));
  ExpectStatus(gone, 410, "Expired", "expired continue");
  EXPECT_EQ(gone.body.value("message", ""),
            "The provided continue parameter is too old to display a consistent list result. You "
            "can start a new list without the continue parameter, or use the continue token in "
            "this response to retrieve the remainder of the results. Continuing with the provided "
            "token results in an inconsistent list - objects that were created, modified, or "
            "deleted between the time the first chunk was returned and now may show up in the "
            "list.");
  const std::string rest = gone.body["metadata"].value("continue", "");
  ASSERT_FALSE(rest.empty());
  // The token in the answer continues at the latest version.
  Answer page = Get("/api/v1/namespaces/a/pods?limit=5&continue=" + Encode(rest));
  EXPECT_EQ(page.code, 200) << page.body;
  EXPECT_EQ(Names(page.body), (std::vector<std::string>{"a/p2", "a/p3"}));
  EXPECT_EQ(page.body["metadata"]["resourceVersion"], "7");
  EXPECT_EQ(page.body["items"][1]["metadata"]["labels"]["v"], "3");
}

struct ListErrorCase {
  std::string query;
  int code;
  std::string reason;
  std::string message;
};

TEST_F(FakeApiServerTest, ListResourceVersionsAndTokenErrors) {
  Add(NodeJson("n1"));                                      // rv 2
  Add(NodeJson("n2"));                                      // rv 3
  Add(NodeJson("n3"));                                      // rv 4
  ASSERT_EQ(Send("DELETE", "/api/v1/nodes/n1").code, 200);  // rv 5
  // Exact: the list as it was.
  Answer a = Get("/api/v1/nodes?resourceVersion=3&resourceVersionMatch=Exact");
  EXPECT_EQ(Names(a.body), (std::vector<std::string>{"n1", "n2"}));
  EXPECT_EQ(a.body["metadata"]["resourceVersion"], "3");
  a = Get("/api/v1/nodes?resourceVersion=2&resourceVersionMatch=Exact");
  EXPECT_EQ(Names(a.body), std::vector<std::string>{"n1"});
  // NotOlderThan (the default) and 0: now.
  const std::vector<std::string> now = {"n2", "n3"};
  EXPECT_EQ(Names(Get("/api/v1/nodes?resourceVersion=3").body), now);
  EXPECT_EQ(Names(Get("/api/v1/nodes?resourceVersion=0").body), now);

  const std::string valid =
      Get("/api/v1/nodes?limit=1&resourceVersion=0").body["metadata"].value("continue", "none");
  ASSERT_NE(valid, "none");
  const std::vector<ListErrorCase> cases = {
      {"resourceVersion=99", 504, "Timeout", "Too large resource version: 99, current: 5"},
      {"continue=%25%25%25", 400, "BadRequest",
       "invalid continue token: continue key is not valid: illegal base64 data"},
      {"continue=" + Encode(absl::WebSafeBase64Escape(R"({"v":"v9","rv":3,"start":"x"})")), 400,
       "BadRequest",
       "invalid continue token: continue key is not valid: server does not recognize this "
       "encoded version \"v9\""},
      {"continue=" +
           Encode(absl::WebSafeBase64Escape(R"({"v":"meta.k8s.io/v1","rv":3,"start":"../x"})")),
       400, "BadRequest", "invalid continue token: continue key is not valid: ../x"},
      {"limit=1&resourceVersion=3&continue=" + Encode(valid), 400, "BadRequest",
       "specifying resource version is not allowed when using continue"},
      {"limit=x", 400, "BadRequest", "limit: Invalid value: \"x\": must be an integer"},
  };
  for (const ListErrorCase& c : cases) {
    Answer r = Get("/api/v1/nodes?" + c.query);
    ExpectStatus(r, c.code, c.reason, c.query);
    EXPECT_EQ(r.body.value("message", ""), c.message) << c.query;
  }
  EXPECT_EQ(Get("/api/v1/nodes?resourceVersion=99").retry_after, "1");
}

TEST_F(FakeApiServerTest, AnExactListOlderThanTheHistoryIsGone) {
  FakeApiServerOptions options;
  options.history_size = 1;
  StartServer(options);
  Add(NodeJson("n1"));  // rv 2
  Add(NodeJson("n2"));  // rv 3
  Answer a = Get("/api/v1/nodes?resourceVersion=1&resourceVersionMatch=Exact");
  ExpectStatus(a, 410, "Expired", "too old");
  EXPECT_EQ(a.body.value("message", ""), "The resourceVersion for the provided list is too old.");
}

// ---------------------------------------------------------------------------
// Injected faults.

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

struct InjectedCase {
  int code;
  int retry_after;
  std::string reason;
};

TEST_F(FakeApiServerTest, InjectedFailuresCarryRetryAfter) {
  const std::vector<InjectedCase> cases = {
      {429, 3, "TooManyRequests"},
      {503, 5, "ServiceUnavailable"},
      {500, 0, "InternalError"},
      {409, 0, "Conflict"},
  };
  for (const InjectedCase& c : cases) {
    server_->FailNext("POST", "/api/v1/namespaces/a/pods", c.code, 1, c.retry_after);
    Answer a = Send("POST", "/api/v1/namespaces/a/pods", PodJson("a", "p"));
    ExpectStatus(a, c.code, c.reason, c.reason);
    if (c.retry_after > 0) {
      EXPECT_EQ(a.retry_after, std::to_string(c.retry_after)) << c.reason;
      EXPECT_EQ(a.body["details"]["retryAfterSeconds"], c.retry_after) << c.reason;
    } else {
      EXPECT_EQ(a.retry_after, "") << c.reason;
    }
    EXPECT_FALSE(Exists("Pod", "a", "p")) << c.reason;
  }
  // Watches match too, before any streaming.
  server_->FailNext("GET", "/api/v1/pods", 503, 1, 2);
  WatchReader w(server_->port(), "/api/v1/pods?watch=true");
  EXPECT_EQ(w.status(), 503);
  EXPECT_EQ(w.header("retry-after"), "2");
  EXPECT_EQ(server_->watches(), 0);
}

TEST_F(FakeApiServerTest, CloseNextAnswersNothing) {
  server_->CloseNext("POST", "/api/v1/namespaces/a/pods");
  httplib::Result r =
      client_->Post("/api/v1/namespaces/a/pods", PodJson("a", "p"), "application/json");
  EXPECT_FALSE(r) << r->status;
  EXPECT_FALSE(Exists("Pod", "a", "p"));
  httplib::Client again(server_->url());
  r = again.Post("/api/v1/namespaces/a/pods", PodJson("a", "p"), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
}

TEST_F(FakeApiServerTest, LatencyDelaysTheMatchingRequests) {
  server_->SetLatency(absl::Milliseconds(300), "/api/v1/nodes");
  absl::Time start = absl::Now();
  EXPECT_EQ(Get("/api/v1/nodes").code, 200);
  EXPECT_GE(absl::Now() - start, absl::Milliseconds(300));
  // While a slow request waits, others are served: the wait holds no lock.
  server_->SetLatency(absl::Seconds(2), "/api/v1/nodes");
  std::atomic<bool> slow_done{false};
  std::thread slow([&] {
    httplib::Client c(server_->url());
    c.Get("/api/v1/nodes");
    slow_done = true;
  });
  while (server_->requests() < 2) absl::SleepFor(absl::Milliseconds(1));
  Add(PodJson("a", "p"));
  EXPECT_EQ(Get("/api/v1/namespaces/a/pods/p").code, 200);
  slow.join();
  EXPECT_TRUE(slow_done);
  server_->SetLatency(absl::ZeroDuration(), "/api/v1/nodes");
}

TEST_F(FakeApiServerTest, DropWatchesCutsTheStreams) {
  Add(NodeJson("n1"));
  auto nodes = Watch("/api/v1/nodes?watch=true");
  auto pods = Watch("/api/v1/pods?watch=true");
  EXPECT_EQ(nodes->Take(1), std::vector<std::string>{"ADDED n1"});
  EXPECT_EQ(server_->watches(), 2);
  server_->DropWatches();
  json e;
  EXPECT_EQ(nodes->Read(&e), WatchReader::Next::kDropped);
  EXPECT_EQ(pods->Read(&e), WatchReader::Next::kDropped);
  while (server_->watches() > 0) absl::SleepFor(absl::Milliseconds(1));
  // New watches are not affected.
  auto again = Watch("/api/v1/nodes?watch=true");
  EXPECT_EQ(again->Take(1), std::vector<std::string>{"ADDED n1"});
}

TEST_F(FakeApiServerTest, CloseConnectionsClosesWatchesAndIdleConnections) {
  Add(NodeJson("n1"));
  auto w = Watch("/api/v1/nodes?watch=true");
  EXPECT_EQ(w->Take(1), std::vector<std::string>{"ADDED n1"});
  httplib::Client idle(server_->url());
  idle.set_keep_alive(true);
  ASSERT_TRUE(idle.Get("/api/v1/nodes"));
  server_->CloseConnections();
  json e;
  EXPECT_EQ(w->Read(&e), WatchReader::Next::kDropped);
  while (server_->watches() > 0) absl::SleepFor(absl::Milliseconds(1));
  // Clients connect again.
  httplib::Client fresh(server_->url());
  httplib::Result r = fresh.Get("/api/v1/nodes");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
}

// ---------------------------------------------------------------------------
// Concurrency.

TEST_F(FakeApiServerTest, ServesConcurrentClients) {
  Add(NodeJson("n1"));
  constexpr int kThreads = 8;
  constexpr int kEach = 20;
  std::vector<std::thread> threads;
  std::vector<int> ok(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client client(server_->url());
      const std::string ns = absl::StrCat("ns", t);
      for (int i = 0; i < kEach; ++i) {
        const std::string name = absl::StrCat("p", i);
        const auto ok_if = [&](const httplib::Result& r, int code) {
          if (r && r->status == code) ++ok[t];
        };
        switch (i % 4) {
          case 0:
            ok_if(client.Post(absl::StrCat("/api/v1/namespaces/", ns, "/pods"), PodJson(ns, name),
                              "application/json"),
                  201);
            break;
          case 1:
            ok_if(client.Patch(PodPath(ns, absl::StrCat("p", i - 1)),
                               R"({"metadata":{"labels":{"x":"y"}}})",
                               "application/merge-patch+json"),
                  200);
            break;
          case 2:
            ok_if(client.Get("/api/v1/pods?limit=3"), 200);
            break;
          default:
            ok_if(client.Get("/api/v1/nodes/n1"), 200);
            break;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(ok[t], kEach) << "thread " << t;
  EXPECT_EQ(server_->requests(), kThreads * kEach);
  // One version per write: the node, and a create and a patch per pair.
  EXPECT_EQ(server_->resource_version(), 2 + kThreads * kEach / 2);
  EXPECT_EQ(Get("/api/v1/pods").body["items"].size(), static_cast<size_t>(kThreads * kEach / 4));
}

TEST_F(FakeApiServerTest, AWatchNobodyReadsDoesNotBlockOthers) {
  // A client that opens a watch and stops reading: once the socket's
  // buffers are full (about 3 MiB on loopback with this receive buffer)
  // its handler blocks in a write, holding no lock.
  auto stuck = std::make_unique<WatchReader>(server_->port(), "/api/v1/pods?watch=true",
                                             /*receive_buffer=*/4096);
  ASSERT_EQ(stuck->status(), 200);
  const std::string padding(16 * 1024, 'x');
  for (int i = 0; i < 250; ++i) {  // about 4 MiB of events
    json pod = json::parse(PodJson("a", absl::StrCat("p", i)));
    pod["metadata"]["annotations"] = {{"padding", padding}};
    Add(pod.dump());
  }
  Answer list = Get("/api/v1/namespaces/a/pods?limit=10");
  EXPECT_EQ(list.code, 200);
  EXPECT_EQ(list.body["items"].size(), 10u);
  EXPECT_EQ(Send("POST", "/api/v1/namespaces/a/pods", PodJson("a", "late")).code, 201);
  auto other = Watch("/api/v1/nodes?watch=true");
  Add(NodeJson("n1"));
  EXPECT_EQ(other->Take(1), std::vector<std::string>{"ADDED n1"});
  // Its client gone, the blocked write fails and the handler ends.
  stuck->Close();
  while (server_->watches() > 1) absl::SleepFor(absl::Milliseconds(5));
}

TEST_F(FakeApiServerTest, WatchesBeyondTheLimitAreRefusedAndRequestsStillServed) {
  FakeApiServerOptions options;
  options.max_watches = 2;
  StartServer(options);
  auto first = Watch("/api/v1/nodes?watch=true");
  auto second = Watch("/api/v1/pods?watch=true");
  Answer refused = Get("/api/v1/nodes?watch=true");
  ExpectStatus(refused, 429, "TooManyRequests", "third watch");
  EXPECT_EQ(refused.retry_after, "1");
  EXPECT_EQ(refused.body.value("message", ""), "Too many requests, please try again later.");
  // Ordinary requests have threads of their own.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Get("/api/v1/nodes").code, 200);
  // A client that leaves frees its place.
  first->Close();
  while (server_->watches() > 1) absl::SleepFor(absl::Milliseconds(5));
  auto third = Watch("/api/v1/nodes?watch=true");
  Add(NodeJson("n1"));
  EXPECT_EQ(third->Take(1), std::vector<std::string>{"ADDED n1"});
}

TEST_F(FakeApiServerTest, StartRefusesBadOptions) {
  FakeApiServerOptions options;
  options.history_size = 0;
  EXPECT_EQ(FakeApiServer::Start(options).status().code(), absl::StatusCode::kInvalidArgument);
  options = FakeApiServerOptions();
  options.max_watches = 8;
  options.threads = 8;
  EXPECT_EQ(FakeApiServer::Start(options).status().code(), absl::StatusCode::kInvalidArgument);
}

// ---------------------------------------------------------------------------
// Malformed requests, unknown paths, selectors, media types.

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
      {"PATCH", "/api/v1/nodes/n1", "application/strategic-merge-patch+json"},
      {"PATCH", "/api/v1/nodes/n1", "application/json-patch+json"},
      {"PUT", "/api/v1/nodes/n1", "application/json"},
      {"POST", "/api/v1/namespaces/a/pods/p/eviction", "application/json"},
      {"POST", "/api/v1/namespaces/a/pods/p/binding", "application/json"},
      {"POST", "/api/v1/namespaces/a/events", "application/json"},
      {"POST", "/api/v1/namespaces/a/pods", "application/json"},
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
  EXPECT_FALSE(Deleting("a", "p"));
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
      {"GET", "/api/v1/namespaces/a/pods/p/log", 404, "NotFound"},
      {"GET", "/api/v1/nodes/n1/binding", 404, "NotFound"},
      {"GET", "/apis/apps/v1/deployments", 404, "NotFound"},
      {"GET", "/api/v1/pods/p", 404, "NotFound"},              // a namespaced object needs one
      {"GET", "/api/v1/namespaces/a/nodes", 404, "NotFound"},  // a cluster-scoped one has none
      {"GET", "/apis/coordination.k8s.io/v1/namespaces/a/leases/l/status", 404, "NotFound"},
      {"DELETE", "/api/v1/nodes", 405, "MethodNotAllowed"},  // no deletecollection
      {"POST", "/api/v1/nodes/n1", 405, "MethodNotAllowed"},
      {"POST", "/api/v1/pods", 405, "MethodNotAllowed"},  // creates name a namespace
      {"PUT", "/api/v1/namespaces/a/pods", 405, "MethodNotAllowed"},
      {"GET", "/api/v1/namespaces/a/pods/p/eviction", 405, "MethodNotAllowed"},
      {"GET", "/api/v1/namespaces/a/pods/p/binding", 405, "MethodNotAllowed"},
      {"DELETE", "/api/v1/namespaces/a/pods/p/status", 405, "MethodNotAllowed"},
      {"POST", "/api/v1/watch/nodes", 405, "MethodNotAllowed"},
  };
  for (const PathCase& c : cases) {
    ExpectStatus(Send(c.method, c.path, c.method == "GET" ? "" : "{}"), c.code, c.reason,
                 absl::StrCat(c.method, " ", c.path));
  }
  EXPECT_TRUE(Exists("Node", "", "n1"));
  EXPECT_TRUE(Exists("Pod", "a", "p"));
  EXPECT_FALSE(Deleting("a", "p"));
}

TEST_F(FakeApiServerTest, JsonIsServedForJsonAndWildcards) {
  Add(NodeJson("n1"));
  for (const std::string accept :
       {"application/json", "application/json;as=Table, application/json", "*/*", "application/*",
        "application/json, application/vnd.kubernetes.protobuf",
        "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io,application/json"}) {
    httplib::Result r = client_->Get("/api/v1/nodes", {{"Accept", accept}});
    ASSERT_TRUE(r) << accept;
    EXPECT_EQ(r->status, 200) << accept;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << accept;
    EXPECT_EQ(json::parse(r->body).value("kind", ""), "NodeList") << accept;
  }
  // A conversion the server does not make is no JSON it serves: a Table
  // needs its group and version, as upstream's endpoint restrictions say.
  for (const std::string accept :
       {"application/yaml", "application/json;as=Table",
        "application/json;as=Table;v=v2;g=meta.k8s.io",
        "application/json;as=PartialObjectMetadataList;v=v1;g=meta.k8s.io"}) {
    httplib::Result r = client_->Get("/api/v1/nodes", {{"Accept", accept}});
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 406) << accept;
    EXPECT_EQ(json::parse(r->body).value("message", ""),
              "only the following media types are accepted: application/json, "
              "application/vnd.kubernetes.protobuf")
        << accept;
  }
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
    Answer a = Get("/api/v1/namespaces/a/pods?" + c.query);
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

// ---------------------------------------------------------------------------
// Discovery, OpenAPI, Tables: what kubectl reads.

// What kubectl 1.32 sends for discovery: aggregated discovery first, then
// the plain documents.
constexpr char kKubectlDiscoveryAccept[] =
    "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,"
    "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList,"
    "application/json";
// What `kubectl get` sends for its table output.
constexpr char kKubectlTableAccept[] =
    "application/json;as=Table;v=v1;g=meta.k8s.io,"
    "application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json";

// The entry for `name` in an APIResourceList; null when there is none.
json FindResourceEntry(const json& list, const std::string& name) {
  for (const json& r : list.value("resources", json::array())) {
    if (r.value("name", "") == name) return r;
  }
  return json();
}

struct ResourceEntryCase {
  std::string list;  // the group version's path
  std::string name;
  std::string singular;
  bool namespaced;
  std::string kind;
  std::vector<std::string> verbs;
  std::vector<std::string> short_names;
  std::string group;  // of the kind, when the entry names one
};

TEST_F(FakeApiServerTest, DiscoveryListsEveryResourceAndSubresource) {
  const std::vector<std::string> all = {"create", "delete", "get",  "list",
                                        "patch",  "update", "watch"};
  const std::vector<std::string> status = {"get", "patch", "update"};
  const std::vector<ResourceEntryCase> cases = {
      {"/api/v1", "nodes", "node", false, "Node", all, {"no"}, ""},
      {"/api/v1", "nodes/status", "", false, "Node", status, {}, ""},
      {"/api/v1", "pods", "pod", true, "Pod", all, {"po"}, ""},
      {"/api/v1", "pods/status", "", true, "Pod", status, {}, ""},
      {"/api/v1", "pods/binding", "", true, "Binding", {"create"}, {}, ""},
      {"/api/v1", "pods/eviction", "", true, "Eviction", {"create"}, {}, "policy"},
      {"/api/v1", "namespaces", "namespace", false, "Namespace", all, {"ns"}, ""},
      {"/api/v1", "namespaces/status", "", false, "Namespace", status, {}, ""},
      {"/api/v1", "events", "event", true, "Event", all, {"ev"}, ""},
      {"/apis/policy/v1",
       "poddisruptionbudgets",
       "poddisruptionbudget",
       true,
       "PodDisruptionBudget",
       all,
       {"pdb"},
       ""},
      {"/apis/policy/v1",
       "poddisruptionbudgets/status",
       "",
       true,
       "PodDisruptionBudget",
       status,
       {},
       ""},
      {"/apis/scheduling.k8s.io/v1",
       "priorityclasses",
       "priorityclass",
       false,
       "PriorityClass",
       all,
       {"pc"},
       ""},
      {"/apis/coordination.k8s.io/v1", "leases", "lease", true, "Lease", all, {}, ""},
      {"/apis/events.k8s.io/v1", "events", "event", true, "Event", all, {"ev"}, ""},
  };
  for (const ResourceEntryCase& c : cases) {
    SCOPED_TRACE(c.list + " " + c.name);
    Answer a = Get(c.list);
    ASSERT_EQ(a.code, 200) << a.body;
    EXPECT_EQ(a.body.value("kind", ""), "APIResourceList");
    // "/api/v1" lists "v1", "/apis/policy/v1" lists "policy/v1".
    const std::string group_version = c.list == "/api/v1" ? "v1" : c.list.substr(6);
    EXPECT_EQ(a.body.value("groupVersion", ""), group_version);
    const json entry = FindResourceEntry(a.body, c.name);
    ASSERT_TRUE(entry.is_object()) << a.body;
    EXPECT_EQ(entry.value("singularName", "-"), c.singular);
    EXPECT_EQ(entry.value("namespaced", !c.namespaced), c.namespaced);
    EXPECT_EQ(entry.value("kind", ""), c.kind);
    EXPECT_EQ(entry.value("verbs", std::vector<std::string>()), c.verbs);
    EXPECT_EQ(entry.value("shortNames", std::vector<std::string>()), c.short_names);
    EXPECT_EQ(entry.value("group", ""), c.group);
  }
  // `kubectl get all` finds pods by their category.
  EXPECT_EQ(FindResourceEntry(Get("/api/v1").body, "pods")["categories"], json({"all"}));
  // Nothing else is listed: the server serves exactly these.
  EXPECT_EQ(Get("/api/v1").body["resources"].size(), 9u);
}

TEST_F(FakeApiServerTest, DiscoveryGroupsVersionsAndTheServerVersion) {
  Answer version = Get("/version");
  ASSERT_EQ(version.code, 200);
  EXPECT_EQ(version.body.value("gitVersion", ""), "v1.32.0");
  EXPECT_EQ(version.body.value("major", ""), "1");
  EXPECT_EQ(version.body.value("minor", ""), "32");

  Answer api = Get("/api");
  EXPECT_EQ(api.body.value("kind", ""), "APIVersions");
  EXPECT_EQ(api.body["versions"], json({"v1"}));
  EXPECT_EQ(api.body["serverAddressByClientCIDRs"][0].value("serverAddress", ""),
            absl::StrCat("127.0.0.1:", server_->port()));

  Answer apis = Get("/apis");
  EXPECT_EQ(apis.body.value("kind", ""), "APIGroupList");
  std::vector<std::string> groups;
  for (const json& g : apis.body["groups"]) {
    groups.push_back(g["name"]);
    EXPECT_EQ(g["preferredVersion"],
              json({{"groupVersion", g["name"].get<std::string>() + "/v1"}, {"version", "v1"}}));
  }
  EXPECT_EQ(groups, (std::vector<std::string>{"coordination.k8s.io", "events.k8s.io", "policy",
                                              "scheduling.k8s.io"}));
  Answer policy = Get("/apis/policy");
  EXPECT_EQ(policy.body.value("kind", ""), "APIGroup");
  EXPECT_EQ(policy.body.value("name", ""), "policy");

  for (const std::string path : {"/apis/apps", "/apis/apps/v1", "/apis/policy/v2", "/api/v2"}) {
    ExpectStatus(Get(path), 404, "NotFound", path);
  }
}

TEST_F(FakeApiServerTest, AggregatedDiscoveryFallsBackToThePlainDocuments) {
  for (const std::string path : {"/api", "/apis", "/api/v1", "/apis/policy/v1"}) {
    httplib::Result r = client_->Get(path, {{"Accept", kKubectlDiscoveryAccept}});
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    // Not application/json;g=apidiscovery.k8s.io;...: client-go reads the
    // plain documents.
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << path;
  }
  httplib::Result only = client_->Get(
      "/api", {{"Accept", "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"}});
  ASSERT_TRUE(only);
  EXPECT_EQ(only->status, 406);
  // Discovery documents are never Tables.
  httplib::Result table = client_->Get("/api/v1", {{"Accept", kKubectlTableAccept}});
  ASSERT_TRUE(table);
  EXPECT_EQ(json::parse(table->body).value("kind", ""), "APIResourceList");
}

TEST_F(FakeApiServerTest, OpenApiV3ListsFieldValidationOnEveryPatch) {
  Answer index = Get("/openapi/v3");
  ASSERT_EQ(index.code, 200);
  std::vector<std::string> keys;
  for (const auto& [key, value] : index.body["paths"].items()) keys.push_back(key);
  EXPECT_EQ(keys, (std::vector<std::string>{"api/v1", "apis/coordination.k8s.io/v1",
                                            "apis/events.k8s.io/v1", "apis/policy/v1",
                                            "apis/scheduling.k8s.io/v1"}));
  const std::string url = index.body["paths"]["api/v1"].value("serverRelativeURL", "");
  EXPECT_TRUE(absl::StartsWith(url, "/openapi/v3/api/v1?hash=")) << url;
  Answer core = Get(url);
  ASSERT_EQ(core.code, 200);
  EXPECT_EQ(core.body.value("openapi", ""), "3.0.0");
  // What kubectl's QueryParamVerifierV3 reads: each PATCH operation's kind
  // and query parameters.
  int patches = 0;
  for (auto [path, item] : core.body["paths"].items()) {
    if (!item.contains("patch")) continue;
    ++patches;
    std::vector<std::string> params;
    for (json& p : item["patch"]["parameters"]) params.push_back(p["name"]);
    EXPECT_NE(std::find(params.begin(), params.end(), "fieldValidation"), params.end()) << path;
  }
  EXPECT_EQ(patches, 7);  // nodes, pods, namespaces, events, and three statuses
  json pod = core.body["paths"]["/api/v1/namespaces/{namespace}/pods/{name}"];
  EXPECT_EQ(pod["patch"]["x-kubernetes-group-version-kind"],
            json({{"group", ""}, {"version", "v1"}, {"kind", "Pod"}}));
  json eviction = core.body["paths"]["/api/v1/namespaces/{namespace}/pods/{name}/eviction"];
  EXPECT_EQ(eviction["post"]["x-kubernetes-group-version-kind"],
            json({{"group", "policy"}, {"version", "v1"}, {"kind", "Eviction"}}));
  EXPECT_TRUE(core.body["paths"].contains("/api/v1/nodes"));
  EXPECT_TRUE(core.body["paths"].contains("/api/v1/pods"));  // all namespaces

  Answer policy = Get("/openapi/v3/apis/policy/v1");
  EXPECT_EQ(policy.body["paths"]["/apis/policy/v1/namespaces/{namespace}/poddisruptionbudgets/"
                                 "{name}"]["patch"]["x-kubernetes-group-version-kind"],
            json({{"group", "policy"}, {"version", "v1"}, {"kind", "PodDisruptionBudget"}}));
  ExpectStatus(Get("/openapi/v3/apis/apps/v1"), 404, "NotFound", "apps");
}

TEST_F(FakeApiServerTest, OpenApiV2IsAnEmptyDocument) {
  httplib::Result pb = client_->Get(
      "/openapi/v2", {{"Accept", "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"}});
  ASSERT_TRUE(pb);
  EXPECT_EQ(pb->status, 200);
  EXPECT_EQ(pb->get_header_value("Content-Type"),
            "application/com.github.proto-openapi.spec.v2.v1.0+protobuf");
  // openapi.v2.Document{swagger: "2.0", info: {title: "Kubernetes",
  // version: "v1.32.0"}, paths: {}}, field by field.
  const std::string want = absl::StrCat("\x0a\x03", "2.0", "\x12\x15", "\x0a\x0a", "Kubernetes",
                                        "\x12\x07", "v1.32.0", std::string("\x42\x00", 2));
  EXPECT_EQ(absl::BytesToHexString(pb->body), absl::BytesToHexString(want));

  Answer js = Get("/openapi/v2");
  EXPECT_EQ(js.code, 200);
  EXPECT_EQ(js.body.value("swagger", ""), "2.0");
  EXPECT_EQ(js.body["definitions"], json::object());
}

TEST_F(FakeApiServerTest, HealthChecksAnswerOk) {
  for (const std::string path : {"/healthz", "/livez", "/readyz"}) {
    httplib::Result r = client_->Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->body, "ok") << path;
  }
}

// Column names of a Table.
std::vector<std::string> Columns(const json& table) {
  std::vector<std::string> out;
  for (const json& c : table.value("columnDefinitions", json::array())) out.push_back(c["name"]);
  return out;
}

std::vector<std::string> FirstCells(const json& table) {
  std::vector<std::string> out;
  for (const json& row : table.value("rows", json::array())) out.push_back(row["cells"][0]);
  return out;
}

TEST_F(FakeApiServerTest, GetsAnswerTablesWhenAsked) {
  Add(R"({"kind":"Node","metadata":{"name":"n1","labels":{"node-role.kubernetes.io/worker":""}},)"
      R"("status":{"conditions":[{"type":"Ready","status":"True"}],)"
      R"("nodeInfo":{"kubeletVersion":"v1.30.2"}}})");
  Add(NodeJson("n2"));
  Add(PodJson("a", "p1"));
  Add(PodJson("b", "p2", json::object(), "Pending", ""));

  httplib::Result r = client_->Get("/api/v1/nodes", {{"Accept", kKubectlTableAccept}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json");
  json table = json::parse(r->body);
  EXPECT_EQ(table.value("kind", ""), "Table");
  EXPECT_EQ(table.value("apiVersion", ""), "meta.k8s.io/v1");
  EXPECT_EQ(table["metadata"]["resourceVersion"], Version());
  EXPECT_EQ(Columns(table), (std::vector<std::string>{"Name", "Status", "Roles", "Age", "Version",
                                                      "Internal-IP", "External-IP", "OS-Image",
                                                      "Kernel-Version", "Container-Runtime"}));
  ASSERT_EQ(table["rows"].size(), 2u);
  json cells = table["rows"][0]["cells"];
  EXPECT_EQ(cells[0], "n1");
  EXPECT_EQ(cells[1], "Ready");
  EXPECT_EQ(cells[2], "worker");
  EXPECT_EQ(cells[4], "v1.30.2");
  EXPECT_EQ(table["rows"][1]["cells"][1], "Unknown");
  // Each row carries the object's metadata (kubectl reads namespaces and
  // labels from it).
  EXPECT_EQ(table["rows"][0]["object"]["kind"], "PartialObjectMetadata");
  EXPECT_EQ(table["rows"][0]["object"]["metadata"]["name"], "n1");
  EXPECT_FALSE(table["rows"][0]["object"].contains("spec"));

  // All namespaces; v1beta1 when only that is asked for.
  r = client_->Get("/api/v1/pods",
                   {{"Accept", "application/json;as=Table;v=v1beta1;g=meta.k8s.io"}});
  ASSERT_TRUE(r);
  table = json::parse(r->body);
  EXPECT_EQ(table.value("apiVersion", ""), "meta.k8s.io/v1beta1");
  EXPECT_EQ(Columns(table),
            (std::vector<std::string>{"Name", "Ready", "Status", "Restarts", "Age", "IP", "Node",
                                      "Nominated Node", "Readiness Gates"}));
  EXPECT_EQ(FirstCells(table), (std::vector<std::string>{"p1", "p2"}));
  EXPECT_EQ(table["rows"][1]["object"]["metadata"]["namespace"], "b");
  EXPECT_EQ(table["rows"][1]["cells"][2], "Pending");
  EXPECT_EQ(table["rows"][0]["cells"][6], "n1");

  // One object: a Table of one row at the object's resourceVersion.
  r = client_->Get("/api/v1/namespaces/a/pods/p1", {{"Accept", kKubectlTableAccept}});
  ASSERT_TRUE(r);
  table = json::parse(r->body);
  EXPECT_EQ(FirstCells(table), std::vector<std::string>{"p1"});
  EXPECT_EQ(table["metadata"]["resourceVersion"],
            Stored("Pod", "a", "p1")["metadata"]["resourceVersion"]);

  // Pages keep their continue token.
  r = client_->Get("/api/v1/nodes?limit=1", {{"Accept", kKubectlTableAccept}});
  ASSERT_TRUE(r);
  table = json::parse(r->body);
  EXPECT_EQ(FirstCells(table), std::vector<std::string>{"n1"});
  EXPECT_TRUE(table["metadata"].contains("continue"));
  EXPECT_EQ(table["metadata"]["remainingItemCount"], 1);

  // Other kinds fall back to NAME and AGE only where upstream has no
  // printer; events.k8s.io Events print as core ones do.
  r = client_->Get("/apis/coordination.k8s.io/v1/namespaces/a/leases",
                   {{"Accept", kKubectlTableAccept}});
  ASSERT_TRUE(r);
  EXPECT_EQ(Columns(json::parse(r->body)), (std::vector<std::string>{"Name", "Holder", "Age"}));

  // A missing object is still a Status.
  r = client_->Get("/api/v1/nodes/nope", {{"Accept", kKubectlTableAccept}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(json::parse(r->body).value("kind", ""), "Status");
}

struct IncludeObjectCase {
  std::string query;
  int code;
  std::string object_kind;  // "" when the row has no object
};

TEST_F(FakeApiServerTest, TableRowsCarryWhatIncludeObjectSays) {
  Add(NodeJson("n1"));
  const std::vector<IncludeObjectCase> cases = {
      {"", 200, "PartialObjectMetadata"},
      {"?includeObject=Metadata", 200, "PartialObjectMetadata"},
      {"?includeObject=Object", 200, "Node"},
      {"?includeObject=None", 200, ""},
      {"?includeObject=Everything", 400, ""},
  };
  for (const IncludeObjectCase& c : cases) {
    httplib::Result r = client_->Get("/api/v1/nodes" + c.query, {{"Accept", kKubectlTableAccept}});
    ASSERT_TRUE(r) << c.query;
    EXPECT_EQ(r->status, c.code) << c.query;
    json body = json::parse(r->body);
    if (c.code != 200) {
      EXPECT_EQ(body.value("message", ""),
                "Unable to convert to Table as requested: includeObject: Unsupported value: "
                "\"Everything\": supported values: \"Metadata\", \"None\", \"Object\"");
      continue;
    }
    json row = body["rows"][0];  // a copy: missing members read as null
    if (c.object_kind.empty()) {
      EXPECT_FALSE(row.contains("object")) << c.query;
    } else {
      EXPECT_EQ(row["object"].value("kind", ""), c.object_kind) << c.query;
      EXPECT_EQ(row["object"]["metadata"].value("name", ""), "n1") << c.query;
    }
  }
  // Without a Table, includeObject changes nothing.
  EXPECT_EQ(Get("/api/v1/nodes?includeObject=Everything").body.value("kind", ""), "NodeList");
}

TEST_F(FakeApiServerTest, WatchTablesSendTheColumnsOnce) {
  Add(PodJson("a", "p1"));
  auto w = std::make_unique<WatchReader>(server_->port(), "/api/v1/namespaces/a/pods?watch=true",
                                         /*receive_buffer=*/0,
                                         absl::StrCat("Accept: ", kKubectlTableAccept, "\r\n"));
  ASSERT_EQ(w->status(), 200);
  Add(PodJson("a", "p2", json::object(), "Pending", ""));
  std::vector<json> tables;
  EXPECT_EQ(w->Take(2, &tables), (std::vector<std::string>{"ADDED ", "ADDED "}));
  ASSERT_EQ(tables.size(), 2u);
  EXPECT_EQ(tables[0].value("kind", ""), "Table");
  EXPECT_EQ(Columns(tables[0]).size(), 9u);
  EXPECT_EQ(FirstCells(tables[0]), std::vector<std::string>{"p1"});
  EXPECT_EQ(tables[0]["metadata"]["resourceVersion"],
            Stored("Pod", "a", "p1")["metadata"]["resourceVersion"]);
  // Later events leave the columns out; kubectl reuses the first ones.
  EXPECT_TRUE(tables[1]["columnDefinitions"].is_null());
  EXPECT_EQ(FirstCells(tables[1]), std::vector<std::string>{"p2"});
  EXPECT_EQ(tables[1]["rows"][0]["cells"][2], "Pending");
}

TEST_F(FakeApiServerTest, WatchesAreNotCompressed) {
  // Go's client asks for gzip; a compressed stream would hold events back.
  auto w = std::make_unique<WatchReader>(server_->port(), "/api/v1/nodes?watch=true",
                                         /*receive_buffer=*/0,
                                         "Accept: application/json\r\nAccept-Encoding: gzip\r\n");
  ASSERT_EQ(w->status(), 200);
  EXPECT_EQ(w->header("content-encoding"), "");
  Add(NodeJson("n1"));
  EXPECT_EQ(w->Take(1), std::vector<std::string>{"ADDED n1"});
}

TEST_F(FakeApiServerTest, DryRunIsRefusedRatherThanApplied) {
  Add(NodeJson("n1"));
  ExpectStatus(Send("POST", "/api/v1/nodes?dryRun=All", NodeJson("n2")), 400, "BadRequest",
               "create");
  ExpectStatus(Send("DELETE", "/api/v1/nodes/n1?dryRun=All"), 400, "BadRequest", "delete");
  EXPECT_EQ(Send("DELETE", "/api/v1/nodes/n1?dryRun=All").body.value("message", ""),
            "dryRun is not supported");
  EXPECT_FALSE(Exists("Node", "", "n2"));
  EXPECT_TRUE(Exists("Node", "", "n1"));
}

TEST_F(FakeApiServerTest, StartListensOnTheGivenPort) {
  const int port = server_->port();
  client_.reset();
  server_.reset();  // frees the port
  FakeApiServerOptions options;
  options.port = port;
  absl::StatusOr<std::unique_ptr<FakeApiServer>> server = FakeApiServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_EQ((*server)->port(), port);
  EXPECT_EQ((*server)->url(), absl::StrCat("http://127.0.0.1:", port));
  // Taken now.
  absl::StatusOr<std::unique_ptr<FakeApiServer>> second = FakeApiServer::Start(options);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(second.status().message(), absl::StrCat("fake API server: cannot listen on 127.0.0.1:",
                                                    port, " (in use, or not permitted)"));
  options.port = 65536;
  EXPECT_EQ(FakeApiServer::Start(options).status().code(), absl::StatusCode::kInvalidArgument);
  server_ = *std::move(server);
}

TEST(StoredKindOfTest, NamesTheKeptKinds) {
  ASSERT_TRUE(StoredKindOf("PodDisruptionBudget").has_value());
  EXPECT_EQ(StoredKindOf("PodDisruptionBudget")->api_version, "policy/v1");
  EXPECT_TRUE(StoredKindOf("Pod")->namespaced);
  EXPECT_FALSE(StoredKindOf("Node")->namespaced);
  EXPECT_FALSE(StoredKindOf("Deployment").has_value());
}


// ---------------------------------------------------------------------------
// The protobuf encoding.

namespace pb = ::google::protobuf;

struct ProtobufCase {
  std::string collection;  // list and watch path
  std::string object;      // JSON to POST there
  std::string item;        // the object's path
  const pb::Message* prototype;
  const pb::Message* list_prototype;  // nullptr: no list kind in api/*.proto
};

std::vector<ProtobufCase> ProtobufCases() {
  return {
      {"/api/v1/nodes", NodeJson("n1"), "/api/v1/nodes/n1",
       &k8s::io::api::core::v1::Node::default_instance(),
       &k8s::io::api::core::v1::NodeList::default_instance()},
      {"/api/v1/namespaces/a/pods", PodJson("a", "p", {{"app", "web"}}),
       "/api/v1/namespaces/a/pods/p", &k8s::io::api::core::v1::Pod::default_instance(),
       &k8s::io::api::core::v1::PodList::default_instance()},
      {"/api/v1/namespaces", R"({"kind":"Namespace","metadata":{"name":"ns"}})",
       "/api/v1/namespaces/ns", &k8s::io::api::core::v1::Namespace::default_instance(),
       &k8s::io::api::core::v1::NamespaceList::default_instance()},
      {"/apis/policy/v1/namespaces/a/poddisruptionbudgets", PdbJson("a", "b", "{}", 1),
       "/apis/policy/v1/namespaces/a/poddisruptionbudgets/b",
       &k8s::io::api::policy::v1::PodDisruptionBudget::default_instance(),
       &k8s::io::api::policy::v1::PodDisruptionBudgetList::default_instance()},
      {"/apis/scheduling.k8s.io/v1/priorityclasses",
       R"({"kind":"PriorityClass","metadata":{"name":"gold"},"value":10})",
       "/apis/scheduling.k8s.io/v1/priorityclasses/gold",
       &k8s::io::api::scheduling::v1::PriorityClass::default_instance(),
       &k8s::io::api::scheduling::v1::PriorityClassList::default_instance()},
      {"/apis/coordination.k8s.io/v1/namespaces/a/leases",
       R"({"kind":"Lease","metadata":{"name":"l"},"spec":{"holderIdentity":"me"}})",
       "/apis/coordination.k8s.io/v1/namespaces/a/leases/l",
       &k8s::io::api::coordination::v1::Lease::default_instance(),
       &k8s::io::api::coordination::v1::LeaseList::default_instance()},
      {"/apis/events.k8s.io/v1/namespaces/a/events",
       R"({"kind":"Event","metadata":{"name":"e"},"reason":"Scheduled","note":"ok"})",
       "/apis/events.k8s.io/v1/namespaces/a/events/e",
       &k8s::io::api::events::v1::Event::default_instance(),
       &k8s::io::api::events::v1::EventList::default_instance()},
      // The same events as events.k8s.io's, seen through core/v1.
      {"/api/v1/namespaces/a/events", R"({"kind":"Event","metadata":{"name":"e2"},"reason":"x"})",
       "/api/v1/namespaces/a/events/e2", &k8s::io::api::core::v1::Event::default_instance(),
       &k8s::io::api::core::v1::EventList::default_instance()},
  };
}

// `body` decoded by its content type into a new `prototype`.
std::unique_ptr<pb::Message> DecodeAs(const RawAnswer& a,
                                      const pb::Message& prototype) {
  std::unique_ptr<pb::Message> out(prototype.New());
  const absl::Status decoded = Decode(a.content_type, a.body, out.get(), "test");
  EXPECT_TRUE(decoded.ok()) << decoded;
  return out;
}

// A whole watch stream's events as "TYPE" and its object.
std::vector<std::pair<std::string, std::unique_ptr<pb::Message>>> DecodeStream(
    const RawAnswer& a, const pb::Message& prototype) {
  std::vector<std::pair<std::string, std::unique_ptr<pb::Message>>> events;
  absl::StatusOr<WatchFormat> format = WatchFormatOf(a.content_type);
  if (!format.ok()) {
    ADD_FAILURE() << format.status();
    return events;
  }
  WatchDecoder decoder(*format, prototype, "test");
  const absl::Status fed = decoder.Feed(a.body, [&](DecodedEvent e) {
    events.emplace_back(e.type, std::move(e.object));
    return absl::OkStatus();
  });
  EXPECT_TRUE(fed.ok()) << fed;
  EXPECT_TRUE(decoder.Finish().ok());
  return events;
}

constexpr char kProtobufAccept[] = "application/vnd.kubernetes.protobuf, application/json";

TEST_F(FakeApiServerTest, ProtobufListsAndGetsEqualTheJsonOnes) {
  for (const ProtobufCase& c : ProtobufCases()) {
    SCOPED_TRACE(c.collection);
    ASSERT_EQ(Send("POST", c.collection, c.object).code, 201);
    const RawAnswer json_item = GetRaw(c.item, "application/json");
    const RawAnswer proto_item = GetRaw(c.item, kProtobufAccept);
    ASSERT_EQ(proto_item.code, 200);
    EXPECT_EQ(proto_item.content_type, "application/vnd.kubernetes.protobuf");
    EXPECT_TRUE(absl::StartsWith(proto_item.body, kProtobufMagic));
    std::unique_ptr<pb::Message> from_json = DecodeAs(json_item, *c.prototype);
    std::unique_ptr<pb::Message> from_proto = DecodeAs(proto_item, *c.prototype);
    EXPECT_TRUE(pb::util::MessageDifferencer::Equals(*from_json, *from_proto))
        << from_json->DebugString() << "\nvs\n" << from_proto->DebugString();
    EXPECT_FALSE(from_proto->GetReflection()
                     ->GetMessage(*from_proto, from_proto->GetDescriptor()->FindFieldByName(
                                                   "metadata"))
                     .DebugString()
                     .empty());
    if (c.list_prototype == nullptr) continue;
    const RawAnswer json_list = GetRaw(c.collection, "application/json");
    const RawAnswer proto_list = GetRaw(c.collection, kProtobufAccept);
    ASSERT_EQ(proto_list.code, 200);
    EXPECT_EQ(proto_list.content_type, "application/vnd.kubernetes.protobuf");
    std::unique_ptr<pb::Message> list_from_json = DecodeAs(json_list, *c.list_prototype);
    std::unique_ptr<pb::Message> list_from_proto = DecodeAs(proto_list, *c.list_prototype);
    EXPECT_TRUE(pb::util::MessageDifferencer::Equals(*list_from_json, *list_from_proto))
        << list_from_json->DebugString() << "\nvs\n" << list_from_proto->DebugString();
    // core/v1 lists the events.k8s.io event created before it too: one
    // store behind both groups.
    EXPECT_EQ(list_from_proto->GetReflection()->FieldSize(
                  *list_from_proto, list_from_proto->GetDescriptor()->FindFieldByName("items")),
              c.list_prototype == &k8s::io::api::core::v1::EventList::default_instance() ? 2 : 1);
  }
}

TEST_F(FakeApiServerTest, ProtobufWatchesEqualTheJsonOnes) {
  for (const ProtobufCase& c : ProtobufCases()) {
    SCOPED_TRACE(c.collection);
    const std::string from = Version();
    ASSERT_EQ(Send("POST", c.collection, c.object).code, 201);
    ASSERT_EQ(Send("PATCH", c.item, R"({"metadata":{"labels":{"changed":"yes"}}})",
                   "application/merge-patch+json")
                  .code,
              200);
    ASSERT_EQ(Send("DELETE", c.item, R"({"gracePeriodSeconds":0})").code, 200);
    // The history from `from`; the stream ends after a second.
    const std::string path =
        absl::StrCat(c.collection, "?watch=1&timeoutSeconds=1&resourceVersion=", from);
    const RawAnswer json_watch = GetRaw(path, "application/json");
    const RawAnswer proto_watch =
        GetRaw(path, "application/vnd.kubernetes.protobuf;stream=watch, application/json");
    ASSERT_EQ(proto_watch.code, 200);
    EXPECT_EQ(proto_watch.content_type, "application/vnd.kubernetes.protobuf;stream=watch");
    const auto json_events = DecodeStream(json_watch, *c.prototype);
    const auto proto_events = DecodeStream(proto_watch, *c.prototype);
    ASSERT_GE(json_events.size(), 3u);
    ASSERT_EQ(proto_events.size(), json_events.size());
    for (size_t i = 0; i < json_events.size(); ++i) {
      SCOPED_TRACE(i);
      EXPECT_EQ(proto_events[i].first, json_events[i].first);
      EXPECT_TRUE(pb::util::MessageDifferencer::Equals(*json_events[i].second,
                                                       *proto_events[i].second))
          << json_events[i].second->DebugString() << "\nvs\n"
          << proto_events[i].second->DebugString();
    }
    EXPECT_EQ(proto_events.front().first, "ADDED");
    EXPECT_EQ(proto_events.back().first, "DELETED");
  }
}

TEST_F(FakeApiServerTest, ProtobufWatchErrorsAreStatusEvents) {
  server_->ForceGoneOnNextWatch();
  const RawAnswer gone = GetRaw("/api/v1/pods?watch=1&resourceVersion=1",
                                "application/vnd.kubernetes.protobuf;stream=watch");
  ASSERT_EQ(gone.code, 200);
  const auto events = DecodeStream(gone, k8s::io::api::core::v1::Pod::default_instance());
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].first, "ERROR");
  const auto& status =
      static_cast<const k8s::io::apimachinery::pkg::apis::meta::v1::Status&>(*events[0].second);
  EXPECT_EQ(status.code(), 410);
  EXPECT_EQ(status.reason(), "Expired");
}

TEST_F(FakeApiServerTest, ProtobufNegotiation) {
  Add(NodeJson("n1"));
  struct Case {
    std::string path;
    std::string accept;
    int code;
    std::string content_type;
  };
  const std::vector<Case> cases = {
      // The first served range in the header's order wins.
      {"/api/v1/nodes", "application/json, application/vnd.kubernetes.protobuf", 200,
       "application/json"},
      {"/api/v1/nodes", "application/vnd.kubernetes.protobuf", 200,
       "application/vnd.kubernetes.protobuf"},
      // A Table has no protobuf form: the next range answers.
      {"/api/v1/nodes", "application/vnd.kubernetes.protobuf;as=Table;v=v1;g=meta.k8s.io, "
                        "application/json", 200, "application/json"},
      // Discovery is JSON only here.
      {"/api/v1", "application/vnd.kubernetes.protobuf, application/json", 200,
       "application/json"},
      {"/api/v1", "application/vnd.kubernetes.protobuf", 406, "application/json"},
      // Errors are Status objects in the negotiated encoding.
      {"/api/v1/nodes/missing", "application/vnd.kubernetes.protobuf", 404,
       "application/vnd.kubernetes.protobuf"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(absl::StrCat(c.path, " ", c.accept));
    const RawAnswer a = GetRaw(c.path, c.accept);
    EXPECT_EQ(a.code, c.code);
    EXPECT_EQ(a.content_type, c.content_type);
  }
  const RawAnswer missing = GetRaw("/api/v1/nodes/missing", "application/vnd.kubernetes.protobuf");
  EXPECT_EQ(StatusMessageOf(missing.body), "nodes \"missing\" not found");
}

}  // namespace
}  // namespace kestrel::kube::testing

namespace kestrel::kube::testing {
namespace {

TEST(FakeApiServerReviewsTest, TokenAndSubjectAccessReviews) {
  absl::StatusOr<std::unique_ptr<FakeApiServer>> server = FakeApiServer::Start();
  ASSERT_TRUE(server.ok()) << server.status();
  (*server)->SetToken("good", {"alice", "u-1", {"team"}});
  (*server)->AllowPath("alice", "get", "/metrics");
  httplib::Client http((*server)->url());
  struct Case {
    std::string path;
    std::string body;
    int code;
    std::string status;  // the answer's status, dumped
  };
  const std::string tr = "/apis/authentication.k8s.io/v1/tokenreviews";
  const std::string sar = "/apis/authorization.k8s.io/v1/subjectaccessreviews";
  const std::vector<Case> cases = {
      {tr, R"({"spec":{"token":"good"}})", 201,
       R"({"authenticated":true,"user":{"groups":["team"],"uid":"u-1","username":"alice"}})"},
      {tr, R"({"spec":{"token":"bad"}})", 201, R"({"error":"invalid bearer token","user":{}})"},
      {sar, R"({"spec":{"user":"alice","nonResourceAttributes":{"path":"/metrics","verb":"get"}}})",
       201, R"({"allowed":true})"},
      {sar, R"({"spec":{"user":"alice","nonResourceAttributes":{"path":"/configz","verb":"get"}}})",
       201, R"({"allowed":false})"},
      {sar, R"({"spec":{"user":"bob","nonResourceAttributes":{"path":"/metrics","verb":"get"}}})",
       201, R"({"allowed":false})"},
      {tr, "not json", 400, ""},
  };
  for (const Case& c : cases) {
    httplib::Result res = http.Post(c.path.c_str(), c.body, "application/json");
    ASSERT_TRUE(res) << c.body;
    EXPECT_EQ(res->status, c.code) << c.body;
    if (c.code != 201) continue;
    const nlohmann::json answer = nlohmann::json::parse(res->body);
    EXPECT_EQ(answer["status"].dump(), c.status) << c.body;
  }
  EXPECT_EQ((*server)->token_reviews(), 2);  // the malformed one never counted
  EXPECT_EQ((*server)->access_reviews(), 3);
}

}  // namespace
}  // namespace kestrel::kube::testing
