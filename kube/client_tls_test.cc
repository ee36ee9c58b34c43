// TLS tests for kube/client.h against a real HTTPS server on loopback: a
// throwaway CA and a server certificate for 127.0.0.1 are made with the
// `openssl` command; a client that trusts that CA gets through, one that
// trusts another CA gets a clear error, and connections are reused.

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "kube/client.h"
#include "kube/fake_clock.h"
#include "kube/test_servers.h"

namespace kestrel::kube {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string TempDir() {
  const char* d = std::getenv("TEST_TMPDIR");
  return d != nullptr ? d : "/tmp";
}

// Makes <dir>/<name>.key and <dir>/<name>.crt: a self-signed CA.
bool MakeCa(const std::string& dir, const std::string& name) {
  const std::string cmd = absl::StrCat(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1",
      " -subj /CN=", name, " -keyout ", dir, "/", name, ".key -out ", dir, "/", name,
      ".crt 2>/dev/null");
  return std::system(cmd.c_str()) == 0;
}

// Makes <dir>/server.key and <dir>/server.crt for IP 127.0.0.1, signed by
// the CA `ca`.
bool MakeServerCert(const std::string& dir, const std::string& ca) {
  const std::string ext = absl::StrCat(dir, "/san.ext");
  const std::string cmd = absl::StrCat(
      "printf 'subjectAltName=IP:127.0.0.1\\n' > ", ext,
      " && openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes",
      " -subj /CN=127.0.0.1 -keyout ", dir, "/server.key -out ", dir, "/server.csr 2>/dev/null",
      " && openssl x509 -req -days 1 -in ", dir, "/server.csr -CA ", dir, "/", ca, ".crt -CAkey ",
      dir, "/", ca, ".key -CAcreateserial -extfile ", ext, " -out ", dir,
      "/server.crt 2>/dev/null");
  return std::system(cmd.c_str()) == 0;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    ASSERT_TRUE(MakeCa(dir_, "right-ca"));
    ASSERT_TRUE(MakeCa(dir_, "wrong-ca"));
    ASSERT_TRUE(MakeServerCert(dir_, "right-ca"));
    server_ = std::make_unique<HttpTestServer>(absl::StrCat(dir_, "/server.crt"),
                                               absl::StrCat(dir_, "/server.key"));
    server_->http().Get("/api/v1/nodes", [](const httplib::Request& req, httplib::Response& res) {
      res.set_content(absl::StrCat("{\"auth\":\"", req.get_header_value("Authorization"), "\"}"),
                      "application/json");
    });
    ASSERT_TRUE(server_->Start());
  }
  void TearDown() override { server_->Stop(); }

  std::unique_ptr<Client> Connect(const std::string& ca, bool insecure = false) {
    Config config;
    config.server = server_->url();
    config.ca_file = ca.empty() ? "" : absl::StrCat(dir_, "/", ca, ".crt");
    config.insecure_skip_tls_verify = insecure;
    config.bearer_token = "tls-s3cret";
    ClientOptions options;
    options.clock = &clock_;
    return *Client::Create(config, options);
  }

  std::string dir_;
  std::unique_ptr<HttpTestServer> server_;
  AutoAdvanceClock clock_;
};

TEST_F(TlsTest, TheRightCaGetsThroughOnOneConnection) {
  std::unique_ptr<Client> c = Connect("right-ca");
  for (int i = 0; i < 5; ++i) {
    absl::StatusOr<Response> r = c->Get("/api/v1/nodes");
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->body, "{\"auth\":\"Bearer tls-s3cret\"}");
  }
  EXPECT_EQ(server_->connections(), 1);  // one TLS handshake, not five
}

TEST_F(TlsTest, AnotherCaIsAClearError) {
  std::unique_ptr<Client> c = Connect("wrong-ca");
  absl::StatusOr<Response> r = c->Get("/api/v1/nodes");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("GET /api/v1/nodes: SSL certificate problem"));
  EXPECT_THAT(r.status().message(),
              HasSubstr(absl::StrCat("(server ", server_->url(), ", CA file ", dir_,
                                     "/wrong-ca.crt)")));
  EXPECT_THAT(r.status().message(), Not(HasSubstr("tls-s3cret")));
  EXPECT_EQ(server_->requests(), 0);
}

TEST_F(TlsTest, InsecureSkipsVerification) {
  std::unique_ptr<Client> c = Connect("wrong-ca", /*insecure=*/true);
  EXPECT_TRUE(c->Get("/api/v1/nodes").ok());
}

TEST_F(TlsTest, MissingCaFileIsNamed) {
  std::unique_ptr<Client> c = Connect("no-such-ca");
  absl::StatusOr<Response> r = c->Get("/api/v1/nodes");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr(absl::StrCat(dir_, "/no-such-ca.crt")));
}

}  // namespace
}  // namespace kestrel::kube
