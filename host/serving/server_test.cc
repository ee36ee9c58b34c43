// The secure port over real HTTPS on 127.0.0.1, against the in-repo API
// server's TokenReview and SubjectAccessReview endpoints.

#include "host/serving/server.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "host/serving/certs.h"
#include "host/serving/delegating_auth.h"
#include "httplib.h"
#include "kube/client.h"
#include "kube/fake_clock.h"
#include "kube/testing/fake_apiserver.h"

namespace kestrel::host {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string TempFile(const std::string& name, const std::string& content) {
  const char* dir = std::getenv("TEST_TMPDIR");
  const std::string path = absl::StrCat(dir != nullptr ? dir : "/tmp", "/", name);
  std::ofstream(path) << content;
  return path;
}

struct Reply {
  int code = 0;  // 0: no answer (TLS failed)
  std::string body;
};

// GET `path` over TLS, verifying the server against `ca_file`.
Reply Get(int port, const std::string& ca_file, const std::string& path,
          const std::string& token = "") {
  httplib::SSLClient client("127.0.0.1", port);
  client.set_ca_cert_path(ca_file.c_str());
  client.enable_server_certificate_verification(true);
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("Authorization", absl::StrCat("Bearer ", token));
  httplib::Result res = client.Get(path.c_str(), headers);
  if (!res) return {};
  return {res->status, res->body};
}

class SecureServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<kube::testing::FakeApiServer>> api =
        kube::testing::FakeApiServer::Start();
    ASSERT_TRUE(api.ok()) << api.status();
    api_ = *std::move(api);
    api_->SetToken("reader-token", {"prometheus", "uid-1", {"monitoring"}});
    api_->SetToken("other-token", {"someone", "", {}});
    api_->AllowPath("prometheus", "get", "/metrics");
    api_->AllowPath("prometheus", "get", "/configz");
    kube::Config config;
    config.server = api_->url();
    absl::StatusOr<std::unique_ptr<kube::Client>> client = kube::Client::Create(config);
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = *std::move(client);
    AuthOptions auth_options;
    auth_options.clock = &clock_;
    auth_ = std::make_unique<DelegatingAuth>(client_.get(), auth_options);
  }

  void StartServer(ServingOptions options = {}) {
    options.bind_address = "127.0.0.1";
    options.secure_port = 0;
    options.hostname = "kestrel-test-host";
    ServingEndpoints endpoints;
    endpoints.readyz = {PingCheck(), {"sched-handler-sync", [] { return absl::OkStatus(); }}};
    endpoints.metrics = [] { return std::string("scheduler_pending_pods{queue=\"active\"} 3\n"); };
    endpoints.configz = [] { return std::string(R"({"componentconfig":{}})"); };
    absl::StatusOr<std::unique_ptr<SecureServer>> server =
        SecureServer::Start(options, std::move(endpoints), auth_.get());
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = *std::move(server);
    ca_file_ = TempFile("served.pem", server_->certificate_pem());
  }

  Reply Get(const std::string& path, const std::string& token = "") {
    return host::Get(server_->port(), ca_file_, path, token);
  }

  kube::AutoAdvanceClock clock_;
  std::unique_ptr<kube::testing::FakeApiServer> api_;
  std::unique_ptr<kube::Client> client_;
  std::unique_ptr<DelegatingAuth> auth_;
  std::unique_ptr<SecureServer> server_;
  std::string ca_file_;
};

TEST_F(SecureServerTest, HealthNeedsNoToken) {
  StartServer();
  struct Case {
    std::string path;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"/healthz", "ok"},
      {"/livez", "ok"},
      {"/readyz", "ok"},
      {"/readyz?verbose", "[+]ping ok\n[+]sched-handler-sync ok\nreadyz check passed\n"},
  };
  for (const Case& c : cases) {
    const Reply r = Get(c.path);
    EXPECT_EQ(r.code, 200) << c.path;
    EXPECT_EQ(r.body, c.body) << c.path;
  }
  EXPECT_EQ(api_->token_reviews(), 0);
  EXPECT_EQ(api_->access_reviews(), 0);
}

TEST_F(SecureServerTest, AuthenticationAndAuthorizationAsUpstream) {
  StartServer();
  struct Case {
    std::string path;
    std::string token;
    int code;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"/metrics", "", 403,
       R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"forbidden: User \"system:anonymous\" cannot get path \"/metrics\"","reason":"Forbidden","details":{},"code":403})"
       "\n"},
      {"/metrics", "unknown-token", 401,
       R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})"
       "\n"},
      {"/metrics", "other-token", 403,
       R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"forbidden: User \"someone\" cannot get path \"/metrics\"","reason":"Forbidden","details":{},"code":403})"
       "\n"},
      {"/metrics", "reader-token", 200, "scheduler_pending_pods{queue=\"active\"} 3\n"},
      {"/configz", "reader-token", 200, R"({"componentconfig":{}})"},
      {"/configz", "", 403,
       R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"forbidden: User \"system:anonymous\" cannot get path \"/configz\"","reason":"Forbidden","details":{},"code":403})"
       "\n"},
      // Authentication runs before the always-allowed paths are looked at.
      {"/healthz", "unknown-token", 401,
       R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401})"
       "\n"},
      {"/healthz", "other-token", 200, "ok"},
      // Only the exact paths are always allowed, as upstream's defaults.
      {"/healthz/ping", "", 403,
       R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"forbidden: User \"system:anonymous\" cannot get path \"/healthz/ping\"","reason":"Forbidden","details":{},"code":403})"
       "\n"},
      {"/nothing-here", "reader-token", 403,
       R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"forbidden: User \"prometheus\" cannot get path \"/nothing-here\"","reason":"Forbidden","details":{},"code":403})"
       "\n"},
  };
  for (const Case& c : cases) {
    const Reply r = Get(c.path, c.token);
    EXPECT_EQ(r.code, c.code) << c.path << " " << c.token;
    EXPECT_EQ(r.body, c.body) << c.path << " " << c.token;
  }
}

TEST_F(SecureServerTest, ReviewsAreCachedForTenSeconds) {
  StartServer();
  ASSERT_EQ(Get("/metrics", "reader-token").code, 200);
  ASSERT_EQ(Get("/metrics", "reader-token").code, 200);
  EXPECT_EQ(api_->token_reviews(), 1);
  EXPECT_EQ(api_->access_reviews(), 1);
  ASSERT_EQ(Get("/metrics", "unknown-token").code, 401);
  ASSERT_EQ(Get("/metrics", "unknown-token").code, 401);
  EXPECT_EQ(api_->token_reviews(), 2);
  ASSERT_EQ(Get("/metrics", "other-token").code, 403);
  ASSERT_EQ(Get("/metrics", "other-token").code, 403);
  EXPECT_EQ(api_->access_reviews(), 2);
  clock_.Advance(absl::Seconds(9));
  ASSERT_EQ(Get("/metrics", "reader-token").code, 200);
  EXPECT_EQ(api_->token_reviews(), 3);  // 1 + "unknown" + "other", none again
  clock_.Advance(absl::Seconds(2));
  ASSERT_EQ(Get("/metrics", "reader-token").code, 200);
  EXPECT_EQ(api_->token_reviews(), 4);
  EXPECT_EQ(api_->access_reviews(), 3);
}

TEST_F(SecureServerTest, ReviewFailureIs500ForAuthorization) {
  StartServer();
  api_->FailNext("POST", "/apis/authorization.k8s.io", 500, 20);
  const Reply r = Get("/metrics", "reader-token");
  EXPECT_EQ(r.code, 500);
  EXPECT_THAT(r.body, StartsWith("Internal Server Error: \"/metrics\": "));
}

// The subject's common name and SANs of the first certificate in `pem`.
struct Subject {
  std::string cn;
  std::vector<std::string> sans;
};
Subject ParseLeaf(const std::string& pem) {
  Subject out;
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (cert == nullptr) return out;
  char cn[256] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn));
  out.cn = cn;
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      out.sans.push_back(absl::StrCat(
          "DNS:", reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName))));
    } else if (n->type == GEN_IPADD && ASN1_STRING_length(n->d.iPAddress) == 4) {
      const unsigned char* ip = ASN1_STRING_get0_data(n->d.iPAddress);
      out.sans.push_back(absl::StrCat("IP:", ip[0], ".", ip[1], ".", ip[2], ".", ip[3]));
    }
  }
  GENERAL_NAMES_free(names);
  X509_free(cert);
  return out;
}

TEST_F(SecureServerTest, SelfSignedCertificateWhenNoneGiven) {
  StartServer();
  const Subject leaf = ParseLeaf(server_->certificate_pem());
  EXPECT_THAT(leaf.cn, ::testing::MatchesRegex("localhost@[0-9]+"));
  EXPECT_THAT(leaf.sans, ::testing::UnorderedElementsAre("DNS:localhost", "DNS:kestrel-test-host",
                                                         "IP:127.0.0.1"));
  // Verifiable against what the server generated...
  EXPECT_EQ(Get("/healthz").code, 200);
  // ...and not against another certificate.
  absl::StatusOr<CertKey> other = GenerateSelfSignedCertKey("localhost", {"127.0.0.1"}, {});
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(host::Get(server_->port(), TempFile("other.pem", other->cert_pem), "/healthz").code,
            0);
}

TEST_F(SecureServerTest, GivenCertificateFilesAreServed) {
  absl::StatusOr<CertKey> pair = GenerateSelfSignedCertKey("given.example", {"127.0.0.1"}, {});
  ASSERT_TRUE(pair.ok()) << pair.status();
  ServingOptions options;
  options.tls_cert_file = TempFile("given.crt", pair->cert_pem);
  options.tls_private_key_file = TempFile("given.key", pair->key_pem);
  StartServer(options);
  EXPECT_EQ(server_->certificate_pem(), pair->cert_pem);
  EXPECT_THAT(ParseLeaf(server_->certificate_pem()).cn, StartsWith("given.example@"));
  EXPECT_EQ(host::Get(server_->port(), options.tls_cert_file, "/healthz").code, 200);
}

TEST_F(SecureServerTest, BadCertificateFilesAreErrorsNamingThem) {
  absl::StatusOr<CertKey> a = GenerateSelfSignedCertKey("a", {}, {});
  absl::StatusOr<CertKey> b = GenerateSelfSignedCertKey("b", {}, {});
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string cert = TempFile("a.crt", a->cert_pem);
  const std::string wrong_key = TempFile("b.key", b->key_pem);
  const std::string garbage = TempFile("garbage.pem", "not a certificate");
  struct Case {
    std::string cert;
    std::string key;
    std::string message;
  };
  const std::vector<Case> cases = {
      {cert, wrong_key, "--tls-private-key-file " + wrong_key + ": does not match the certificate"},
      {garbage, wrong_key, "--tls-cert-file " + garbage + ": no PEM certificate"},
      {cert, garbage, "--tls-private-key-file " + garbage + ": no PEM private key"},
      {"/nonexistent.crt", wrong_key, "--tls-cert-file /nonexistent.crt: cannot be read"},
      {cert, "", "must be given together"},
  };
  for (const Case& c : cases) {
    ServingOptions options;
    options.bind_address = "127.0.0.1";
    options.secure_port = 0;
    options.tls_cert_file = c.cert;
    options.tls_private_key_file = c.key;
    absl::StatusOr<std::unique_ptr<SecureServer>> s =
        SecureServer::Start(options, {}, auth_.get());
    ASSERT_FALSE(s.ok()) << c.message;
    EXPECT_THAT(std::string(s.status().message()), HasSubstr(c.message));
  }
}

// Without an API server to ask, only the always-allowed paths are served.
TEST(SecureServerNoClientTest, OnlyAlwaysAllowedPaths) {
  DelegatingAuth auth(nullptr, {});
  ServingOptions options;
  options.bind_address = "127.0.0.1";
  options.secure_port = 0;
  ServingEndpoints endpoints;
  endpoints.metrics = [] { return std::string("m 1\n"); };
  absl::StatusOr<std::unique_ptr<SecureServer>> server =
      SecureServer::Start(options, std::move(endpoints), &auth);
  ASSERT_TRUE(server.ok()) << server.status();
  const std::string ca = TempFile("noclient.pem", (*server)->certificate_pem());
  EXPECT_EQ(Get((*server)->port(), ca, "/livez").code, 200);
  EXPECT_EQ(Get((*server)->port(), ca, "/metrics", "any-token").code, 403);
}

}  // namespace
}  // namespace kestrel::host
