#include "host/serving/certs.h"

#include <arpa/inet.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace kestrel::host {
namespace {

struct Free {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Free>;
using Cert = std::unique_ptr<X509, Free>;
using Bio = std::unique_ptr<BIO, Free>;

bool IsIp(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

bool AddExtension(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (ext == nullptr) return false;
  const bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key`, named `cn`, signed by `issuer_key` (issued by
// `issuer`, or self-signed when null).
Cert MakeCert(EVP_PKEY* key, const std::string& cn, long serial, absl::Time from, absl::Time to,
              X509* issuer, EVP_PKEY* issuer_key, const std::vector<std::pair<int, std::string>>& exts) {
  Cert cert(X509_new());
  if (!cert) return nullptr;
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
  ASN1_TIME_set(X509_getm_notBefore(cert.get()), absl::ToTimeT(from));
  ASN1_TIME_set(X509_getm_notAfter(cert.get()), absl::ToTimeT(to));
  X509_set_pubkey(cert.get(), key);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), issuer != nullptr ? X509_get_subject_name(issuer) : name);
  for (const auto& [nid, value] : exts) {
    if (!AddExtension(cert.get(), issuer != nullptr ? issuer : cert.get(), nid, value)) {
      return nullptr;
    }
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) return nullptr;
  return cert;
}

std::string CertPem(X509* cert) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(bio.get(), cert);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

std::string KeyPem(EVP_PKEY* key) {
  Bio bio(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, n);
}

absl::StatusOr<std::string> ReadFile(const std::string& flag, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat(flag, " ", path, ": cannot be read"));
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

absl::StatusOr<CertKey> GenerateSelfSignedCertKey(const std::string& host,
                                                  const std::vector<std::string>& alternate_ips,
                                                  const std::vector<std::string>& alternate_dns,
                                                  absl::Time now) {
  std::vector<std::string> ip_sans, dns_sans;
  (IsIp(host) ? ip_sans : dns_sans).push_back(host);
  for (const std::string& ip : alternate_ips) {
    if (!IsIp(ip)) {
      return absl::InvalidArgumentError(absl::StrCat("self-signed certificate: \"", ip,
                                                     "\" is not an IP address"));
    }
    ip_sans.push_back(ip);
  }
  dns_sans.insert(dns_sans.end(), alternate_dns.begin(), alternate_dns.end());
  std::vector<std::string> sans;
  for (const std::string& d : dns_sans) sans.push_back(absl::StrCat("DNS:", d));
  for (const std::string& i : ip_sans) sans.push_back(absl::StrCat("IP:", i));

  // Valid an hour earlier, against clock skew; one year.
  const absl::Time from = now - absl::Hours(1);
  const absl::Time to = from + absl::Hours(24 * 365);
  const int64_t unix = absl::ToUnixSeconds(now);
  Key ca_key(EVP_RSA_gen(2048));
  Key key(EVP_RSA_gen(2048));
  if (!ca_key || !key) return absl::InternalError("self-signed certificate: RSA key generation failed");
  Cert ca = MakeCert(ca_key.get(), absl::StrCat(host, "-ca@", unix), 1, from, to, nullptr,
                     ca_key.get(),
                     {{NID_basic_constraints, "critical,CA:TRUE"},
                      {NID_key_usage, "critical,digitalSignature,keyEncipherment,keyCertSign"},
                      {NID_subject_key_identifier, "hash"}});
  if (!ca) return absl::InternalError("self-signed certificate: the CA could not be made");
  Cert cert = MakeCert(key.get(), absl::StrCat(host, "@", unix), 2, from, to, ca.get(),
                       ca_key.get(),
                       {{NID_basic_constraints, "critical,CA:FALSE"},
                        {NID_key_usage, "critical,digitalSignature,keyEncipherment"},
                        {NID_ext_key_usage, "serverAuth"},
                        {NID_authority_key_identifier, "keyid"},
                        {NID_subject_alt_name, absl::StrJoin(sans, ",")}});
  if (!cert) return absl::InternalError("self-signed certificate: it could not be made");
  return CertKey{absl::StrCat(CertPem(cert.get()), CertPem(ca.get())), KeyPem(key.get())};
}

absl::StatusOr<CertKey> ReadCertKey(const std::string& cert_file, const std::string& key_file) {
  if (cert_file.empty() != key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls-cert-file and --tls-private-key-file must be given together");
  }
  absl::StatusOr<std::string> cert = ReadFile("--tls-cert-file", cert_file);
  if (!cert.ok()) return cert.status();
  absl::StatusOr<std::string> key = ReadFile("--tls-private-key-file", key_file);
  if (!key.ok()) return key.status();
  return CertKey{*std::move(cert), *std::move(key)};
}

}  // namespace kestrel::host
