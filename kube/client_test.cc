// Tests for kube/client.h: kubeconfig contexts, clusters and users, their
// errors; InClusterConfig's environment; StatusFromHttp; options from the
// config; and requests over plain HTTP to local servers: headers, bodies,
// content negotiation, error mapping, concurrency, connection reuse, the
// rate limit, retries per method, garbage answers and secrets. Time runs on
// a AutoAdvanceClock, so waits are checked exactly and never slept.

#include "kube/client.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "api/core.pb.h"
#include "api/meta.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "kube/codec.h"
#include "kube/fake_clock.h"
#include "kube/test_servers.h"

namespace kestrel::kube {
namespace {

namespace core = ::k8s::io::api::core::v1;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::string TempDir() {
  const char* d = std::getenv("TEST_TMPDIR");
  return d != nullptr ? d : "/tmp";
}

std::string WriteTemp(const std::string& name, const std::string& contents) {
  const std::string path = absl::StrCat(TempDir(), "/", name);
  std::ofstream(path) << contents;
  return path;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

constexpr char kKubeconfig[] = R"(apiVersion: v1
kind: Config
current-context: dev
contexts:
- name: dev
  context: {cluster: local, user: alice}
- name: prod
  context: {cluster: remote, user: bob}
clusters:
- name: local
  cluster:
    server: http://127.0.0.1:8080/
- name: remote
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority: ca.pem
    insecure-skip-tls-verify: true
users:
- name: alice
  user: {token: s3cret}
- name: bob
  user:
    client-certificate-data: Q0VSVA==
    client-key: /abs/key.pem
)";

TEST(LoadKubeconfigTest, CurrentContext) {
  const std::string path = WriteTemp("kubeconfig", kKubeconfig);
  absl::StatusOr<Config> c = LoadKubeconfig(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "http://127.0.0.1:8080");  // the trailing slash goes
  EXPECT_EQ(c->bearer_token, "s3cret");
  EXPECT_EQ(c->ca_file, "");
  EXPECT_FALSE(c->insecure_skip_tls_verify);
}

TEST(LoadKubeconfigTest, NamedContextWithFilesAndData) {
  const std::string path = WriteTemp("kubeconfig", kKubeconfig);
  absl::StatusOr<Config> c = LoadKubeconfig(path, "prod");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server, "https://10.0.0.1:6443");
  // Relative to the kubeconfig's folder.
  EXPECT_EQ(c->ca_file, absl::StrCat(TempDir(), "/ca.pem"));
  EXPECT_TRUE(c->insecure_skip_tls_verify);
  EXPECT_EQ(c->bearer_token, "");
  EXPECT_EQ(ReadAll(c->client_cert_file), "CERT");  // the data, decoded, in a file
  EXPECT_EQ(c->client_key_file, "/abs/key.pem");
}

TEST(LoadKubeconfigTest, TokenFile) {
  const std::string token = WriteTemp("token", "from-file\n");
  const std::string path = WriteTemp(
      "kubeconfig-tf", absl::StrCat("current-context: c\n"
                                    "contexts: [{name: c, context: {cluster: k, user: u}}]\n"
                                    "clusters: [{name: k, cluster: {server: 'http://h:1'}}]\n"
                                    "users: [{name: u, user: {tokenFile: ",
                                    token, "}}]\n"));
  absl::StatusOr<Config> c = LoadKubeconfig(path);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->bearer_token, "from-file");
}

struct BadKubeconfig {
  std::string name;
  std::string text;
  std::string want;  // after "<path>: "
};

class BadKubeconfigTest : public ::testing::TestWithParam<BadKubeconfig> {};

TEST_P(BadKubeconfigTest, NamesTheField) {
  const std::string path = WriteTemp("bad-kubeconfig", GetParam().text);
  absl::StatusOr<Config> c = LoadKubeconfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(c.status().message(), absl::StrCat(path, ": ", GetParam().want));
}

constexpr char kHead[] =
    "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n";

INSTANTIATE_TEST_SUITE_P(
    Cases, BadKubeconfigTest,
    ::testing::Values(
        BadKubeconfig{"NoCurrentContext", "clusters: []\n", "current-context: not set"},
        BadKubeconfig{"UnknownContext", "current-context: x\ncontexts: []\n",
                      "contexts: no entry named \"x\""},
        BadKubeconfig{"UnknownCluster", absl::StrCat(kHead, "clusters: []\n"),
                      "clusters: no entry named \"k\""},
        BadKubeconfig{"NoServer",
                      absl::StrCat(kHead, "clusters: [{name: k, cluster: {}}]\n"),
                      "clusters[k].cluster.server: not set"},
        BadKubeconfig{"ServerNotAString",
                      absl::StrCat(kHead, "clusters: [{name: k, cluster: {server: [1]}}]\n"),
                      "clusters[k].cluster.server: not a string"},
        BadKubeconfig{"BadBase64",
                      absl::StrCat(kHead,
                                   "clusters: [{name: k, cluster: {server: 'http://h', "
                                   "certificate-authority-data: '***'}}]\n"),
                      "clusters[k].cluster.certificate-authority-data: not base64"},
        BadKubeconfig{"Exec",
                      absl::StrCat(kHead,
                                   "clusters: [{name: k, cluster: {server: 'http://h'}}]\n"
                                   "users: [{name: u, user: {exec: {command: aws}}}]\n"),
                      "users[u].user: exec and auth-provider credentials are not supported"},
        BadKubeconfig{"CertWithoutKey",
                      absl::StrCat(kHead,
                                   "clusters: [{name: k, cluster: {server: 'http://h'}}]\n"
                                   "users: [{name: u, user: {client-certificate: c.pem}}]\n"),
                      "users[u].user: client-certificate and client-key go together"},
        BadKubeconfig{"NotAMap", "- a\n", "not a kubeconfig"}),
    [](const auto& info) { return info.param.name; });

TEST(LoadKubeconfigTest, SyntaxErrorHasLineAndColumn) {
  const std::string path = WriteTemp("syntax-kubeconfig", "a: [1,\n");
  absl::StatusOr<Config> c = LoadKubeconfig(path);
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr(absl::StrCat(path, ":")));
}

TEST(LoadKubeconfigTest, MissingFile) {
  absl::StatusOr<Config> c = LoadKubeconfig("/nonexistent/kubeconfig");
  EXPECT_EQ(c.status().code(), absl::StatusCode::kNotFound);
}

TEST(InClusterConfigTest, NeedsTheServiceEnvironment) {
  unsetenv("KUBERNETES_SERVICE_HOST");
  unsetenv("KUBERNETES_SERVICE_PORT");
  absl::StatusOr<Config> c = InClusterConfig();
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(c.status().message(), HasSubstr("KUBERNETES_SERVICE_HOST"));
}

TEST(StatusFromHttpTest, CodesAndMessages) {
  const std::string status_body =
      R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"pods \"x\" not found","reason":"NotFound","code":404})";
  absl::Status s = StatusFromHttp(404, status_body);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(s.message(), "pods \"x\" not found");
  s = StatusFromHttp(502, "bad gateway");
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "HTTP 502: bad gateway");
  EXPECT_EQ(StatusFromHttp(409, "").code(), absl::StatusCode::kAborted);
  EXPECT_EQ(StatusFromHttp(429, "").code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusFromHttp(410, "").code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(StatusFromHttp(422, "").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(StatusFromHttp(401, "").code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(StatusFromHttp(403, "").code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(StatusFromHttp(418, "").code(), absl::StatusCode::kUnknown);
}


TEST(StatusFromHttpTest, ProtobufStatusAndGarbage) {
  // A protobuf Status, as a server answers a client that accepts protobuf.
  ::k8s::io::apimachinery::pkg::apis::meta::v1::Status status;
  status.set_message("not found");
  status.set_code(404);
  absl::Status s = StatusFromHttp(404, *EncodeProtobuf(status));
  EXPECT_EQ(s, absl::NotFoundError("not found"));
  // Binary garbage comes out escaped, and long bodies cut.
  s = StatusFromHttp(500, std::string("\x01\x02", 2) + std::string(300, 'x'));
  EXPECT_EQ(s.message(), absl::StrCat("HTTP 500: \\x01\\x02", std::string(198, 'x'), "..."));
}

TEST(ClientOptionsFromConfigTest, UpstreamDefaultsAndValidation) {
  config::ClientConnection c;
  absl::StatusOr<ClientOptions> o = ClientOptionsFromConfig(c);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->qps, 50);
  EXPECT_EQ(o->burst, 100);
  EXPECT_EQ(o->content_type, "application/vnd.kubernetes.protobuf");
  EXPECT_EQ(o->accept_content_types, "");

  c.set_qps(-1);  // no limit, as client-go reads a negative qps
  c.set_burst(7);
  c.set_contenttype("application/json");
  c.set_acceptcontenttypes("application/json");
  o = ClientOptionsFromConfig(c);
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->qps, -1);
  EXPECT_EQ(o->burst, 7);
  EXPECT_EQ(o->content_type, "application/json");
  EXPECT_EQ(o->accept_content_types, "application/json");

  c.set_burst(-1);
  EXPECT_EQ(ClientOptionsFromConfig(c).status(),
            absl::InvalidArgumentError(
                "clientConnection.burst: Invalid value: -1: must be non-negative"));
}

// --- Requests over HTTP -----------------------------------------------------

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto echo = [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(absl::StrCat(req.method, " ", req.path, " auth=",
                                   req.get_header_value("Authorization"), " type=",
                                   req.get_header_value("Content-Type"), " accept=",
                                   req.get_header_value("Accept"), " body=", req.body),
                      "text/plain");
    };
    server_.http().Get("/ok", echo);
    server_.http().Post("/ok", echo);
    server_.http().Put("/ok", echo);
    server_.http().Patch("/ok", echo);
    server_.http().Delete("/ok", echo);
    server_.http().Get("/conflict", [](const httplib::Request&, httplib::Response& res) {
      res.status = 409;
      res.set_content(R"({"kind":"Status","message":"the object has been modified"})",
                      "application/json");
    });
  }
  void TearDown() override { server_.Stop(); }

  // Starts the server (handlers are set by then) and connects to it.
  std::unique_ptr<Client> Connect(const std::string& token, ClientOptions options = {}) {
    if (server_.port() <= 0) {
      EXPECT_TRUE(server_.Start());
    }
    Config config;
    config.server = server_.url();
    config.bearer_token = token;
    if (options.clock == nullptr) options.clock = &clock_;
    absl::StatusOr<std::unique_ptr<Client>> c = Client::Create(config, options);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  HttpTestServer server_;
  AutoAdvanceClock clock_;
};

TEST_F(ClientTest, SendsMethodTokenAndBody) {
  std::unique_ptr<Client> c = Connect("t0k");
  absl::StatusOr<Response> r = c->Get("/ok");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 200);
  EXPECT_EQ(r->content_type, "text/plain");
  EXPECT_EQ(r->body, "GET /ok auth=Bearer t0k type= accept=application/json body=");
  r = c->Post("/ok", R"({"a":1})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body,
            R"(POST /ok auth=Bearer t0k type=application/json accept=application/json body={"a":1})");
  r = c->Put("/ok", R"({"b":2})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body,
            R"(PUT /ok auth=Bearer t0k type=application/json accept=application/json body={"b":2})");
  r = c->Patch("/ok", "application/merge-patch+json", "{}");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body,
            "PATCH /ok auth=Bearer t0k type=application/merge-patch+json "
            "accept=application/json body={}");
  r = c->Delete("/ok");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "DELETE /ok auth=Bearer t0k type= accept=application/json body=");
}

TEST_F(ClientTest, NoTokenNoAuthorization) {
  std::unique_ptr<Client> c = Connect("");
  absl::StatusOr<Response> r = c->Get("/ok");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "GET /ok auth= type= accept=application/json body=");
}

TEST_F(ClientTest, ErrorsFollowTheHttpCode) {
  std::unique_ptr<Client> c = Connect("");
  absl::StatusOr<Response> r = c->Get("/conflict");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(r.status().message(), "GET /conflict: the object has been modified");
  r = c->Get("/missing");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
}

// Typed requests for built-in kinds speak protobuf by default, as
// kube-scheduler does; the server here answers in whatever was accepted.
TEST_F(ClientTest, TypedRequestsNegotiateProtobuf) {
  absl::Mutex mu;
  std::vector<std::string> seen;  // "METHOD accept content-type"
  auto serve = [&](const httplib::Request& req, httplib::Response& res) {
    {
      absl::MutexLock lock(&mu);
      seen.push_back(absl::StrCat(req.method, " ", req.get_header_value("Accept"), " ",
                                  req.get_header_value("Content-Type")));
    }
    core::Pod pod;
    if (!req.body.empty()) {
      if (!Decode(req.get_header_value("Content-Type"), req.body, &pod, "server").ok()) {
        res.status = 400;
        return;
      }
    } else {
      pod.mutable_metadata()->set_name("from-server");
    }
    pod.mutable_metadata()->set_resourceversion("2");
    if (absl::StrContains(req.get_header_value("Accept"), kContentTypeProtobuf)) {
      res.set_content(*EncodeProtobuf(pod), kContentTypeProtobuf);
    } else {
      res.set_content(EncodeJson(pod), kContentTypeJson);
    }
  };
  server_.http().Get("/pod", serve);
  server_.http().Post("/pod", serve);
  server_.http().Put("/pod", serve);

  for (const std::string content_type : {"application/vnd.kubernetes.protobuf",
                                         "application/json"}) {
    SCOPED_TRACE(content_type);
    ClientOptions options;
    options.content_type = content_type;
    std::unique_ptr<Client> c = Connect("", options);
    core::Pod got;
    ASSERT_TRUE(c->GetObject("/pod", &got).ok());
    EXPECT_EQ(got.metadata().name(), "from-server");
    core::Pod mine;
    mine.mutable_metadata()->set_name("mine");
    ASSERT_TRUE(c->CreateObject("/pod", mine, &got).ok());
    EXPECT_EQ(got.metadata().name(), "mine");
    EXPECT_EQ(got.metadata().resourceversion(), "2");
    ASSERT_TRUE(c->UpdateObject("/pod", got, &got).ok());
  }
  EXPECT_THAT(seen, ElementsAre(
                        "GET application/vnd.kubernetes.protobuf, application/json ",
                        "POST application/vnd.kubernetes.protobuf, application/json "
                        "application/vnd.kubernetes.protobuf",
                        "PUT application/vnd.kubernetes.protobuf, application/json "
                        "application/vnd.kubernetes.protobuf",
                        "GET application/json ", "POST application/json application/json",
                        "PUT application/json application/json"));
}

TEST_F(ClientTest, NegotiationPerType) {
  std::unique_ptr<Client> c = Connect("");
  // Built-in kinds: protobuf. Anything else (a custom resource would be):
  // JSON only.
  EXPECT_EQ(c->AcceptFor(core::Pod::descriptor()),
            "application/vnd.kubernetes.protobuf, application/json");
  EXPECT_EQ(c->ContentTypeFor(core::Pod::descriptor()), "application/vnd.kubernetes.protobuf");
  EXPECT_EQ(c->AcceptFor(config::ClientConnection::descriptor()), "application/json");
  EXPECT_EQ(c->ContentTypeFor(config::ClientConnection::descriptor()), "application/json");
  ClientOptions options;
  options.accept_content_types = "application/vnd.kubernetes.protobuf";
  c = Connect("", options);
  EXPECT_EQ(c->AcceptFor(core::Pod::descriptor()), "application/vnd.kubernetes.protobuf");
}

// N requests at once against a handler that answers only when N are in
// flight: the client must not send them one after another.
TEST_F(ClientTest, ConcurrentRequestsRunAtOnce) {
  constexpr int kRequests = 8;
  absl::Mutex mu;
  int in_flight = 0;
  server_.http().Get("/together", [&](const httplib::Request&, httplib::Response& res) {
    absl::MutexLock lock(&mu);
    ++in_flight;
    // Bounded only so that a serializing client fails instead of hanging.
    const bool all = mu.AwaitWithTimeout(
        absl::Condition(+[](int* n) { return *n >= kRequests; }, &in_flight), absl::Seconds(60));
    res.set_content(all ? "together" : "alone", "text/plain");
  });
  std::unique_ptr<Client> c = Connect("");
  std::vector<std::string> bodies(kRequests);
  std::vector<std::thread> threads;
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] {
      absl::StatusOr<Response> r = c->Get("/together");
      bodies[i] = r.ok() ? r->body : std::string(r.status().message());
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_THAT(bodies, ElementsAreArray(std::vector<std::string>(kRequests, "together")));
  EXPECT_EQ(server_.connections(), kRequests);
  // The connections are kept: another round opens none.
  threads.clear();
  in_flight = 0;
  for (int i = 0; i < kRequests; ++i) {
    threads.emplace_back([&, i] { bodies[i] = c->Get("/together")->body; });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(server_.connections(), kRequests);
}

TEST_F(ClientTest, SequentialRequestsReuseOneConnection) {
  std::unique_ptr<Client> c = Connect("tok");
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(c->Get("/ok").ok());
    ASSERT_TRUE(c->Post("/ok", "{}").ok());
  }
  // An error answer keeps the connection too.
  EXPECT_FALSE(c->Get("/conflict").ok());
  ASSERT_TRUE(c->Get("/ok").ok());
  EXPECT_EQ(server_.requests(), 42);
  EXPECT_EQ(server_.connections(), 1);
}

// client-go's token bucket, shared by every request and thread of a client.
TEST_F(ClientTest, RateLimitIsSharedByAllRequests) {
  ClientOptions options;
  options.qps = 2;
  options.burst = 3;
  std::unique_ptr<Client> c = Connect("", options);
  std::vector<std::thread> threads;
  for (int i = 0; i < 5; ++i) threads.emplace_back([&] { ASSERT_TRUE(c->Get("/ok").ok()); });
  for (std::thread& t : threads) t.join();
  // Three from the burst, then one every 1/qps.
  EXPECT_THAT(clock_.waits(), ElementsAre(absl::Milliseconds(500), absl::Milliseconds(500)));
}

TEST_F(ClientTest, NegativeQpsMeansNoLimit) {
  ClientOptions options;
  options.qps = -1;
  options.burst = 1;
  std::unique_ptr<Client> c = Connect("", options);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c->Get("/ok").ok());
  EXPECT_THAT(clock_.waits(), IsEmpty());
}

struct RetryCase {
  std::string name;
  std::string method;
  int code;                 // of the failures
  std::string retry_after;  // header, "" for none
  int failures;             // before a 200
  int max_retries;
  // Expected:
  int requests;
  std::vector<absl::Duration> waits;
  absl::StatusCode status;
};

void PrintTo(const RetryCase& c, std::ostream* os) { *os << c.name; }

class RetryTest : public ::testing::TestWithParam<RetryCase> {};

TEST_P(RetryTest, FollowsClientGoAndIdempotence) {
  const RetryCase& c = GetParam();
  HttpTestServer server;
  std::atomic<int> calls{0};
  auto flaky = [&](const httplib::Request&, httplib::Response& res) {
    if (calls++ < c.failures) {
      res.status = c.code;
      if (!c.retry_after.empty()) res.set_header("Retry-After", c.retry_after);
      res.set_content(R"({"kind":"Status","message":"try later"})", "application/json");
      return;
    }
    res.set_content("{}", "application/json");
  };
  server.http().Get("/r", flaky);
  server.http().Post("/r", flaky);
  server.http().Put("/r", flaky);
  server.http().Delete("/r", flaky);
  ASSERT_TRUE(server.Start());
  AutoAdvanceClock clock;
  ClientOptions options;
  options.clock = &clock;
  options.max_retries = c.max_retries;
  options.max_backoff = absl::Seconds(5);
  Config config;
  config.server = server.url();
  std::unique_ptr<Client> client = *Client::Create(config, options);
  Request r;
  r.method = c.method;
  r.path = "/r";
  if (c.method == "POST" || c.method == "PUT") r.body = "{}";
  absl::StatusOr<Response> got = client->Do(r);
  EXPECT_EQ(got.status().code(), c.status) << got.status();
  if (!got.ok()) {
    EXPECT_THAT(got.status().message(), HasSubstr(absl::StrCat(c.method, " /r: try later")));
  }
  EXPECT_EQ(calls.load(), c.requests);
  EXPECT_THAT(clock.waits(), ElementsAreArray(c.waits));
}

const absl::Duration kS = absl::Seconds(1);
INSTANTIATE_TEST_SUITE_P(
    Cases, RetryTest,
    ::testing::Values(
        // 5xx: idempotent requests only, exponential backoff (1s, 2s, 4s, at
        // most 5s here) unless the server gives a Retry-After.
        RetryCase{"Get503", "GET", 503, "", 2, 10, 3, {1 * kS, 2 * kS}, absl::StatusCode::kOk},
        RetryCase{"Get500RetryAfter", "GET", 500, "3", 1, 10, 2, {3 * kS}, absl::StatusCode::kOk},
        RetryCase{"GetGivesUp", "GET", 503, "", 100, 4, 5, {1 * kS, 2 * kS, 4 * kS, 5 * kS},
                  absl::StatusCode::kUnavailable},
        RetryCase{"Post503", "POST", 503, "", 1, 10, 1, {}, absl::StatusCode::kUnavailable},
        RetryCase{"Post503RetryAfter", "POST", 503, "1", 1, 10, 1, {},
                  absl::StatusCode::kUnavailable},
        RetryCase{"Put500", "PUT", 500, "", 1, 10, 1, {}, absl::StatusCode::kUnavailable},
        RetryCase{"Delete502", "DELETE", 502, "", 1, 10, 1, {}, absl::StatusCode::kUnavailable},
        // 429 with Retry-After: the request was not done, so any method.
        RetryCase{"Post429", "POST", 429, "2", 2, 10, 3, {2 * kS, 2 * kS}, absl::StatusCode::kOk},
        RetryCase{"Get429", "GET", 429, "0", 1, 10, 2, {absl::ZeroDuration()},
                  absl::StatusCode::kOk},
        // 429 without Retry-After (an eviction a budget refuses): at once.
        RetryCase{"Post429NoRetryAfter", "POST", 429, "", 1, 10, 1, {},
                  absl::StatusCode::kResourceExhausted},
        // Other codes never.
        RetryCase{"Get409", "GET", 409, "1", 1, 10, 1, {}, absl::StatusCode::kAborted}),
    [](const auto& info) { return info.param.name; });

TEST_F(ClientTest, ConditionalUpdateIsRetriedUnconditionalIsNot) {
  std::atomic<int> calls{0};
  server_.http().Put("/pod", [&](const httplib::Request&, httplib::Response& res) {
    if (calls++ < 2) {  // the unconditional update, and the first conditional one
      res.status = 503;
      return;
    }
    res.set_content(*EncodeProtobuf(core::Pod()), kContentTypeProtobuf);
  });
  std::unique_ptr<Client> c = Connect("");
  core::Pod pod;
  pod.mutable_metadata()->set_name("p");
  EXPECT_EQ(c->UpdateObject("/pod", pod).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(calls.load(), 1);
  pod.mutable_metadata()->set_resourceversion("7");
  EXPECT_TRUE(c->UpdateObject("/pod", pod).ok());
  EXPECT_EQ(calls.load(), 3);
  EXPECT_THAT(clock_.waits(), ElementsAre(absl::Seconds(1)));
}

// A connection that closes without an answer: GET is sent again, POST not
// (it may have been done).
TEST(ClientConnectionTest, BrokenConnectionsRetryIdempotentRequestsOnly) {
  RawTestServer server([](int i) -> std::string {
    if (i % 2 == 0) return "";  // every other connection: closed at once
    return "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n"
           "Connection: close\r\n\r\nok";
  });
  ASSERT_TRUE(server.Start());
  AutoAdvanceClock clock;
  ClientOptions options;
  options.clock = &clock;
  Config config;
  config.server = server.url();
  std::unique_ptr<Client> c = *Client::Create(config, options);
  absl::StatusOr<Response> r = c->Get("/x");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "ok");
  EXPECT_THAT(clock.waits(), ElementsAre(absl::Seconds(1)));
  EXPECT_EQ(server.connections(), 2);
  r = c->Post("/x", "{}");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("POST /x: Empty reply from server"));
  EXPECT_EQ(server.connections(), 3);
}

TEST(ClientConnectionTest, GarbageAnswerIsAnErrorNamingTheRequest) {
  RawTestServer server([](int) { return std::string("SSH-2.0-OpenSSH_9.2\r\n\r\n"); });
  ASSERT_TRUE(server.Start());
  AutoAdvanceClock clock;
  ClientOptions options;
  options.clock = &clock;
  Config config;
  config.server = server.url();
  std::unique_ptr<Client> c = *Client::Create(config, options);
  absl::StatusOr<Response> r = c->Get("/api/v1/nodes");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("GET /api/v1/nodes: "));
  EXPECT_THAT(r.status().message(), HasSubstr(absl::StrCat("(server ", server.url(), ")")));
  EXPECT_EQ(server.connections(), 1);  // not something a retry fixes
}

TEST_F(ClientTest, GarbageBodyIsAnErrorNamingTheRequest) {
  server_.http().Get("/api/v1/pods", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("<html>502 Bad Gateway</html>", "application/vnd.kubernetes.protobuf");
  });
  std::unique_ptr<Client> c = Connect("");
  core::PodList pods;
  absl::Status s = c->GetObject("/api/v1/pods", &pods);
  EXPECT_EQ(s, absl::InvalidArgumentError(
                   "GET /api/v1/pods: not a Kubernetes protobuf message (no k8s\\x00 prefix): "
                   "\"<html>502 Bad Gateway</html>\""));
}

TEST(ClientCreateTest, Unreachable) {
  Config config;
  config.server = "http://127.0.0.1:1";
  config.timeout = absl::Seconds(2);
  AutoAdvanceClock clock;
  ClientOptions options;
  options.clock = &clock;
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Create(config, options);
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<Response> r = (*c)->Get("/api/v1/nodes");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("GET /api/v1/nodes: "));
  EXPECT_THAT(r.status().message(), HasSubstr("(server http://127.0.0.1:1)"));
  // A server that is not there is reported at once, as client-go does.
  EXPECT_THAT(clock.waits(), IsEmpty());
}

TEST(ClientCreateTest, RejectsANonHttpServer) {
  Config config;
  config.server = "ftp://h";
  EXPECT_EQ(Client::Create(config).status().code(), absl::StatusCode::kInvalidArgument);
}

// The token never leaves in an error, even when the server echoes it.
TEST_F(ClientTest, TokenNeverInErrors) {
  const std::string token = "s3cr3t-t0ken-value";
  auto echo_auth = [](int code) {
    return [code](const httplib::Request& req, httplib::Response& res) {
      res.status = code;
      res.set_content(absl::StrCat("you sent ", req.get_header_value("Authorization")),
                      "text/plain");
    };
  };
  server_.http().Get("/401", echo_auth(401));
  server_.http().Get("/500", echo_auth(500));
  server_.http().Get("/status", [](const httplib::Request& req, httplib::Response& res) {
    res.status = 403;
    res.set_content(absl::StrCat(R"({"kind":"Status","message":"forbidden for )",
                                 req.get_header_value("Authorization"), "\"}"),
                    "application/json");
  });
  ClientOptions options;
  options.max_retries = 1;
  std::unique_ptr<Client> c = Connect(token, options);
  std::vector<absl::Status> errors = {c->Get("/401").status(), c->Get("/500").status(),
                                      c->Get("/status").status()};
  Config down;
  down.server = "http://127.0.0.1:1";
  down.bearer_token = token;
  errors.push_back((*Client::Create(down))->Get("/x").status());
  for (const absl::Status& s : errors) {
    EXPECT_FALSE(s.ok());
    EXPECT_THAT(s.message(), Not(HasSubstr(token)));
  }
  EXPECT_EQ(errors[0].message(), "GET /401: HTTP 401: you sent Bearer <redacted>");
}

}  // namespace
}  // namespace kestrel::kube
