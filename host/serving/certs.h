// File: certs.h
//
// The secure port's serving certificate: generated at start when no
// --tls-cert-file / --tls-private-key-file are given, as upstream's
// SecureServingOptions.MaybeDefaultWithSelfSignedCerts and
// certutil.GenerateSelfSignedCertKeyWithFixtures make it (a CA "<host>-ca@<unix
// time>" signing a serving certificate "<host>@<unix time>", RSA 2048,
// valid from an hour ago for a year, the serving certificate followed by
// the CA in the PEM), or read from the given files.
//
// Example:
//   absl::StatusOr<CertKey> pair = GenerateSelfSignedCertKey("localhost", {"127.0.0.1"}, {"localhost"});

#ifndef KESTREL_HOST_SERVING_CERTS_H_
#define KESTREL_HOST_SERVING_CERTS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace kestrel::host {

struct CertKey {
  std::string cert_pem;  // the serving certificate, then its chain
  std::string key_pem;
};

// GenerateSelfSignedCertKey()
//
// `host` becomes a SAN (an IP address when it parses as one, else a DNS
// name), then `alternate_ips` and `alternate_dns`. InvalidArgument for an
// alternate IP that does not parse; Internal when OpenSSL fails.
absl::StatusOr<CertKey> GenerateSelfSignedCertKey(const std::string& host,
                                                  const std::vector<std::string>& alternate_ips,
                                                  const std::vector<std::string>& alternate_dns,
                                                  absl::Time now = absl::Now());

// ReadCertKey()
//
// The PEM files given as --tls-cert-file and --tls-private-key-file; errors
// name the flag and the file.
absl::StatusOr<CertKey> ReadCertKey(const std::string& cert_file, const std::string& key_file);

}  // namespace kestrel::host

#endif  // KESTREL_HOST_SERVING_CERTS_H_
