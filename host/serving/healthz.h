// File: healthz.h
//
// /healthz, /livez and /readyz as k8s.io/apiserver's healthz package answers
// them (handleRootHealth, adaptCheckToHandler): each endpoint is a list of
// named checks; the endpoint answers 200 "ok" when all pass ("[+]name ok"
// lines and "<endpoint> check passed" with ?verbose), else 500 with every
// check listed and the failing ones as "[-]name failed: reason withheld"
// (the reason goes to the log only: the endpoints are public). ?exclude=name
// skips a check. /<endpoint>/<name> runs one check.
//
// Example:
//   std::vector<HealthCheck> checks = {PingCheck(), {"leaderElection", [&] { return elector.Check(); }}};
//   HealthAnswer a = CheckHealth("healthz", checks, {.verbose = true});
//
// Thread-safe as the checks are: it keeps no state.

#ifndef KESTREL_HOST_SERVING_HEALTHZ_H_
#define KESTREL_HOST_SERVING_HEALTHZ_H_

#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace kestrel::host {

struct HealthCheck {
  std::string name;
  // OK when healthy; the error's message is logged, never served.
  std::function<absl::Status()> check;
};

// upstream's PingHealthz: "ping", always healthy.
HealthCheck PingCheck();

struct HealthQuery {
  bool verbose = false;               // ?verbose
  std::vector<std::string> exclude;  // ?exclude=a&exclude=b
};

struct HealthAnswer {
  int code = 200;
  std::string body;
  // "[-]name failed: <error>" lines for the log, empty when all passed.
  std::string failures;
};

// CheckHealth()
//
// The answer of the endpoint `endpoint` ("healthz", "livez", "readyz").
HealthAnswer CheckHealth(absl::string_view endpoint, const std::vector<HealthCheck>& checks,
                         const HealthQuery& query);

// CheckOne()
//
// /<endpoint>/<name>: 200 "ok", 500 "internal server error: <error>\n", or
// 404 "404 page not found\n" when no check has that name.
HealthAnswer CheckOne(const std::vector<HealthCheck>& checks, absl::string_view name);

}  // namespace kestrel::host

#endif  // KESTREL_HOST_SERVING_HEALTHZ_H_
