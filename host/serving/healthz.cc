#include "host/serving/healthz.h"

#include <algorithm>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "util/klog/klog.h"

namespace kestrel::host {

HealthCheck PingCheck() {
  return {"ping", [] { return absl::OkStatus(); }};
}

HealthAnswer CheckHealth(absl::string_view endpoint, const std::vector<HealthCheck>& checks,
                         const HealthQuery& query) {
  std::vector<std::string> unmatched = query.exclude;
  std::string individual;
  HealthAnswer answer;
  bool failed = false;
  for (const HealthCheck& check : checks) {
    if (auto it = std::find(unmatched.begin(), unmatched.end(), check.name);
        it != unmatched.end()) {
      unmatched.erase(it);
      absl::StrAppend(&individual, "[+]", check.name, " excluded: ok\n");
      continue;
    }
    const absl::Status status = check.check ? check.check() : absl::OkStatus();
    if (status.ok()) {
      absl::StrAppend(&individual, "[+]", check.name, " ok\n");
    } else {
      failed = true;
      absl::StrAppend(&individual, "[-]", check.name, " failed: reason withheld\n");
      absl::StrAppend(&answer.failures, "[-]", check.name, " failed: ", status.message(), "\n");
    }
  }
  if (!unmatched.empty()) {
    std::sort(unmatched.begin(), unmatched.end());
    std::vector<std::string> quoted;
    for (const std::string& name : unmatched) quoted.push_back(klog::GoQuote(name));
    absl::StrAppend(&individual, "warn: some health checks cannot be excluded: no matches for ",
                    absl::StrJoin(quoted, ","), "\n");
  }
  if (failed) {
    // Always verbose on failure; http.Error adds the last newline.
    answer.code = 500;
    answer.body = absl::StrCat(individual, endpoint, " check failed\n");
    return answer;
  }
  answer.body = query.verbose ? absl::StrCat(individual, endpoint, " check passed\n") : "ok";
  return answer;
}

HealthAnswer CheckOne(const std::vector<HealthCheck>& checks, absl::string_view name) {
  for (const HealthCheck& check : checks) {
    if (check.name != name) continue;
    const absl::Status status = check.check ? check.check() : absl::OkStatus();
    if (status.ok()) return {200, "ok", ""};
    return {500, absl::StrCat("internal server error: ", status.message(), "\n"),
            absl::StrCat("[-]", name, " failed: ", status.message(), "\n")};
  }
  return {404, "404 page not found\n", ""};
}

}  // namespace kestrel::host
