#include "host/serving/healthz.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace kestrel::host {
namespace {

TEST(CheckHealthTest, AnswersAsUpstreamHealthz) {
  const HealthCheck ping = PingCheck();
  const HealthCheck leader = {"leaderElection", [] { return absl::OkStatus(); }};
  const HealthCheck synced = {"sched-handler-sync",
                              [] { return absl::UnavailableError("informers not synced"); }};
  struct Case {
    std::string name;
    std::vector<HealthCheck> checks;
    HealthQuery query;
    int code;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"all pass", {ping, leader}, {}, 200, "ok"},
      {"verbose", {ping, leader}, {.verbose = true}, 200,
       "[+]ping ok\n[+]leaderElection ok\nreadyz check passed\n"},
      {"a failure is always verbose", {ping, synced}, {}, 500,
       "[+]ping ok\n[-]sched-handler-sync failed: reason withheld\nreadyz check failed\n"},
      {"excluded", {ping, synced}, {.exclude = {"sched-handler-sync"}}, 200, "ok"},
      {"excluded, verbose", {ping, synced}, {.verbose = true, .exclude = {"sched-handler-sync"}},
       200, "[+]ping ok\n[+]sched-handler-sync excluded: ok\nreadyz check passed\n"},
      {"unknown exclude", {ping}, {.verbose = true, .exclude = {"zz", "nope"}}, 200,
       "[+]ping ok\nwarn: some health checks cannot be excluded: no matches for "
       "\"nope\",\"zz\"\nreadyz check passed\n"},
      {"no checks", {}, {}, 200, "ok"},
  };
  for (const Case& c : cases) {
    const HealthAnswer a = CheckHealth("readyz", c.checks, c.query);
    EXPECT_EQ(a.code, c.code) << c.name;
    EXPECT_EQ(a.body, c.body) << c.name;
  }
  EXPECT_EQ(CheckHealth("readyz", {ping, synced}, {}).failures,
            "[-]sched-handler-sync failed: informers not synced\n");
}

TEST(CheckHealthTest, OneCheck) {
  const std::vector<HealthCheck> checks = {
      PingCheck(), {"broken", [] { return absl::InternalError("boom"); }}};
  struct Case {
    std::string name;
    int code;
    std::string body;
  };
  const std::vector<Case> cases = {
      {"ping", 200, "ok"},
      {"broken", 500, "internal server error: boom\n"},
      {"missing", 404, "404 page not found\n"},
  };
  for (const Case& c : cases) {
    const HealthAnswer a = CheckOne(checks, c.name);
    EXPECT_EQ(a.code, c.code) << c.name;
    EXPECT_EQ(a.body, c.body) << c.name;
  }
}

}  // namespace
}  // namespace kestrel::host
