// Tests for kube/client.h: kubeconfig contexts, clusters and users, their
// errors; InClusterConfig's environment; StatusFromHttp; and requests over
// plain HTTP to a local httplib server (headers, bodies, error mapping,
// an unreachable server).

#include "kube/client.h"

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <chrono>
#include <thread>

#include "absl/status/status.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"

namespace kestrel::kube {
namespace {

using ::testing::HasSubstr;

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

// A local server that echoes what it got.
class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto echo = [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(absl::StrCat(req.method, " ", req.path, " auth=",
                                   req.get_header_value("Authorization"), " type=",
                                   req.get_header_value("Content-Type"), " body=", req.body),
                      "text/plain");
    };
    server_.Get("/ok", echo);
    server_.Post("/ok", echo);
    server_.Patch("/ok", echo);
    server_.Delete("/ok", echo);
    server_.Get("/conflict", [](const httplib::Request&, httplib::Response& res) {
      res.status = 409;
      res.set_content(R"({"kind":"Status","message":"the object has been modified"})",
                      "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    ASSERT_GT(port_, 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  void TearDown() override {
    server_.stop();
    if (thread_.joinable()) thread_.join();
  }

  std::unique_ptr<Client> Connect(const std::string& token) {
    Config config;
    config.server = absl::StrCat("http://127.0.0.1:", port_);
    config.bearer_token = token;
    absl::StatusOr<std::unique_ptr<Client>> c = Client::Create(config);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *std::move(c) : nullptr;
  }

  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(ClientTest, SendsMethodTokenAndBody) {
  std::unique_ptr<Client> c = Connect("t0k");
  absl::StatusOr<Response> r = c->Get("/ok");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->code, 200);
  EXPECT_EQ(r->body, "GET /ok auth=Bearer t0k type= body=");
  r = c->Post("/ok", R"({"a":1})");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, R"(POST /ok auth=Bearer t0k type=application/json body={"a":1})");
  r = c->Patch("/ok", "application/merge-patch+json", "{}");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "PATCH /ok auth=Bearer t0k type=application/merge-patch+json body={}");
  r = c->Delete("/ok");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "DELETE /ok auth=Bearer t0k type= body=");
}

TEST_F(ClientTest, NoTokenNoAuthorization) {
  std::unique_ptr<Client> c = Connect("");
  absl::StatusOr<Response> r = c->Get("/ok");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->body, "GET /ok auth= type= body=");
}

TEST_F(ClientTest, ErrorsFollowTheHttpCode) {
  std::unique_ptr<Client> c = Connect("");
  absl::StatusOr<Response> r = c->Get("/conflict");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kAborted);
  EXPECT_EQ(r.status().message(), "GET /conflict: the object has been modified");
  r = c->Get("/missing");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
}

TEST(ClientCreateTest, Unreachable) {
  Config config;
  config.server = "http://127.0.0.1:1";
  config.timeout = absl::Seconds(2);
  absl::StatusOr<std::unique_ptr<Client>> c = Client::Create(config);
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<Response> r = (*c)->Get("/api/v1/nodes");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("GET /api/v1/nodes"));
}

TEST(ClientCreateTest, RejectsANonHttpServer) {
  Config config;
  config.server = "ftp://h";
  EXPECT_EQ(Client::Create(config).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace kestrel::kube
