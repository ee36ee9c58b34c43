#include "kube/leader_election.h"

#include <unistd.h>

#include <algorithm>
#include <memory>
#include <random>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kube/leader_election_testing.h"

namespace kestrel::kube {
namespace {

using ::kestrel::kube::testing::FakeClock;
using ::kestrel::kube::testing::MemoryLease;
using ::kestrel::kube::testing::MemoryLeaseLock;
using ::testing::ElementsAre;

constexpr absl::Duration kLeaseDuration = absl::Seconds(15);
constexpr absl::Duration kRenewDeadline = absl::Seconds(10);
constexpr absl::Duration kRetryPeriod = absl::Seconds(2);

// One replica: its view of the lease, its elector, and what its callbacks saw.
struct Candidate {
  std::string id;
  MemoryLeaseLock lock;
  std::unique_ptr<LeaderElector> elector;
  int started = 0;
  int stopped = 0;
  std::vector<std::string> new_leaders;
  std::string holder_when_stopped;         // the lease's holder as on_stopped_leading ran
  absl::Time next = absl::InfinitePast();  // when its next step is due

  Candidate(std::string identity, MemoryLease* lease) : id(std::move(identity)), lock(lease) {}
  bool acting() const { return started > stopped; }  // as its callbacks tell it
};

// A lease, a clock, and the candidates sharing them; every callback is
// journaled ("a started", "b stopped") and checked: nobody starts leading
// while another candidate IsLeader().
struct Timing {
  absl::Duration lease_duration = kLeaseDuration;
  absl::Duration renew_deadline = kRenewDeadline;
  absl::Duration retry_period = kRetryPeriod;
};

class Election {
 public:
  explicit Election(uint64_t seed = 1, Timing timing = {}) : random_(seed), timing_(timing) {}

  Candidate& Add(const std::string& id, bool release_on_cancel = false) {
    candidates_.push_back(std::make_unique<Candidate>(id, &lease_));
    Candidate* c = candidates_.back().get();
    LeaderElectionConfig config;
    config.identity = id;
    config.lease_duration = timing_.lease_duration;
    config.renew_deadline = timing_.renew_deadline;
    config.retry_period = timing_.retry_period;
    config.release_on_cancel = release_on_cancel;
    config.name = "kube-scheduler";
    config.callbacks.on_started_leading = [this, c] {
      ++c->started;
      journal_.push_back(c->id + " started");
      for (const auto& other : candidates_) {
        if (other.get() == c) continue;
        EXPECT_FALSE(other->elector->IsLeader())
            << c->id << " acquired at " << clock_.Now() << " while " << other->id << " IsLeader()";
        if (callbacks_exclusive_) {
          EXPECT_FALSE(other->acting()) << c->id << " started leading at " << clock_.Now()
                                        << " before " << other->id << " stopped";
        }
      }
    };
    config.callbacks.on_stopped_leading = [this, c] {
      ++c->stopped;
      journal_.push_back(c->id + " stopped");
      std::optional<VersionedRecord> lease = lease_.Current();
      c->holder_when_stopped = lease.has_value() ? lease->record.holder_identity : "";
    };
    config.callbacks.on_new_leader = [c](const std::string& leader) {
      c->new_leaders.push_back(leader);
    };
    auto elector = LeaderElector::Create(config, &c->lock, &clock_, random_);
    EXPECT_TRUE(elector.ok()) << elector.status();
    c->elector = std::move(*elector);
    return *c;
  }

  // Steps `c` now and notes when it is due next.
  void Step(Candidate& c) { c.next = c.elector->Step(); }

  // Moves the clock to `t`, stepping every candidate whose step falls due on
  // the way, in time order (punctual processes).
  void RunUntil(absl::Time t) {
    while (true) {
      Candidate* first = nullptr;
      for (const auto& c : candidates_) {
        if (!c->elector->done() && (first == nullptr || c->next < first->next)) first = c.get();
      }
      if (first == nullptr || first->next > t) break;
      clock_.Set(first->next);
      ExpectAtMostOneLeader();
      Step(*first);
      ExpectAtMostOneLeader();
    }
    clock_.Set(t);
    ExpectAtMostOneLeader();
  }

  void ExpectAtMostOneLeader() {
    std::vector<std::string> leaders;
    for (const auto& c : candidates_) {
      if (c->elector->IsLeader()) leaders.push_back(c->id);
    }
    EXPECT_LE(leaders.size(), 1u) << "at " << clock_.Now() << ": " << leaders.front() << " and "
                                  << leaders.back();
  }

  LeaderElectionRecord Record() const {
    std::optional<VersionedRecord> current = lease_.Current();
    EXPECT_TRUE(current.has_value());
    return current.has_value() ? current->record : LeaderElectionRecord();
  }

  FakeClock& clock() { return clock_; }
  MemoryLease& lease() { return lease_; }
  std::mt19937_64& random() { return random_; }
  const std::vector<std::string>& journal() const { return journal_; }
  std::vector<std::unique_ptr<Candidate>>& candidates() { return candidates_; }
  // Whether on_started_leading also checks the others' callbacks (false
  // when the test stalls processes: then only IsLeader() is exclusive).
  void set_callbacks_exclusive(bool on) { callbacks_exclusive_ = on; }

 private:
  FakeClock clock_;
  MemoryLease lease_;
  std::mt19937_64 random_;
  const Timing timing_;
  std::vector<std::unique_ptr<Candidate>> candidates_;
  std::vector<std::string> journal_;
  bool callbacks_exclusive_ = true;
};

LeaderElectionRecord HeldBy(const std::string& holder, absl::Time renewed, int transitions = 0) {
  LeaderElectionRecord r;
  r.holder_identity = holder;
  r.lease_duration_seconds = 15;
  r.acquire_time = renewed;
  r.renew_time = renewed;
  r.leader_transitions = transitions;
  return r;
}

TEST(LeaderElectorTest, AcquiresALeaseNobodyHolds) {
  const struct {
    std::string name;
    bool lease_exists;
    int want_transitions;
  } cases[] = {
      {"no lease: created", false, 0},
      {"released lease: taken at once", true, 4},
  };
  for (const auto& c : cases) {
    Election e;
    const absl::Time t0 = e.clock().Now();
    if (c.lease_exists) {
      LeaderElectionRecord released = HeldBy("", t0 - absl::Seconds(1), 3);
      released.lease_duration_seconds = 1;
      e.lease().Overwrite(released);
    }
    Candidate& a = e.Add("a");
    e.Step(a);
    EXPECT_TRUE(a.elector->IsLeader()) << c.name;
    EXPECT_EQ(a.started, 1) << c.name;
    EXPECT_EQ(a.elector->GetLeader(), "a") << c.name;
    EXPECT_THAT(a.new_leaders, ElementsAre("a")) << c.name;
    const LeaderElectionRecord r = e.Record();
    EXPECT_EQ(r.holder_identity, "a") << c.name;
    EXPECT_EQ(r.lease_duration_seconds, 15) << c.name;
    EXPECT_EQ(r.acquire_time, t0) << c.name;
    EXPECT_EQ(r.renew_time, t0) << c.name;
    EXPECT_EQ(r.leader_transitions, c.want_transitions) << c.name;
    EXPECT_EQ(a.next, t0 + kRetryPeriod) << c.name << ": the first renewal";
  }
}

// Expiry is measured from when the candidate saw the record change, on its
// own clock; the record's renewTime, however far off, does not matter.
TEST(LeaderElectorTest, TakesAHeldLeaseOnlyAfterItExpiresByObservedTime) {
  const struct {
    std::string name;
    absl::Duration renew_time_offset;
  } cases[] = {
      {"renewed just now", absl::ZeroDuration()},
      {"renewTime an hour old", -absl::Hours(1)},
      {"renewTime an hour ahead", absl::Hours(1)},
  };
  for (const auto& c : cases) {
    Election e;
    const absl::Time t0 = e.clock().Now();
    e.lease().Overwrite(HeldBy("other", t0 + c.renew_time_offset, 2));
    Candidate& b = e.Add("b");
    e.Step(b);  // first look at t0
    EXPECT_FALSE(b.elector->IsLeader()) << c.name;
    EXPECT_THAT(b.new_leaders, ElementsAre("other")) << c.name;
    while (b.next < t0 + kLeaseDuration) {
      e.clock().Set(b.next);
      e.Step(b);
      EXPECT_FALSE(b.elector->IsLeader()) << c.name << " at " << e.clock().Now() - t0;
    }
    e.clock().Set(b.next);
    const absl::Time taken = e.clock().Now();
    e.Step(b);
    EXPECT_TRUE(b.elector->IsLeader()) << c.name << " at " << taken - t0;
    EXPECT_EQ(b.started, 1) << c.name;
    const LeaderElectionRecord r = e.Record();
    EXPECT_EQ(r.holder_identity, "b") << c.name;
    EXPECT_EQ(r.acquire_time, absl::FromUnixMicros(absl::ToUnixMicros(taken)))
        << c.name << ": MicroTime";
    EXPECT_EQ(r.leader_transitions, 3) << c.name;
  }
}

TEST(LeaderElectorTest, NeverTakesALeaseThatKeepsBeingRenewed) {
  Election e;
  const absl::Time t0 = e.clock().Now();
  e.lease().Overwrite(HeldBy("other", t0));
  Candidate& b = e.Add("b");
  e.Step(b);
  // The holder renews every 2s for two minutes; b keeps seeing the record
  // change and never finds it expired.
  for (absl::Time t = t0 + kRetryPeriod; t < t0 + absl::Minutes(2); t += kRetryPeriod) {
    e.RunUntil(t);
    LeaderElectionRecord renewed = HeldBy("other", t);
    renewed.acquire_time = t0;
    e.lease().Overwrite(renewed);
  }
  EXPECT_FALSE(b.elector->IsLeader());
  EXPECT_EQ(b.started, 0);
  EXPECT_EQ(e.Record().holder_identity, "other");
  EXPECT_THAT(b.new_leaders, ElementsAre("other"));
}

TEST(LeaderElectorTest, RenewalKeepsLeadershipAndMovesOnlyRenewTime) {
  Election e;
  const absl::Time t0 = e.clock().Now();
  Candidate& a = e.Add("a");
  e.Step(a);
  ASSERT_TRUE(a.elector->IsLeader());
  for (int i = 1; i <= 30; ++i) {
    EXPECT_EQ(a.next, t0 + i * kRetryPeriod) << "renewal " << i;
    e.clock().Set(a.next);
    e.Step(a);
    EXPECT_TRUE(a.elector->IsLeader()) << "renewal " << i;
    const LeaderElectionRecord r = e.Record();
    EXPECT_EQ(r.holder_identity, "a");
    EXPECT_EQ(r.renew_time, t0 + i * kRetryPeriod) << "renewal " << i;
    EXPECT_EQ(r.acquire_time, t0) << "renewal " << i;
    EXPECT_EQ(r.leader_transitions, 0) << "renewal " << i;
  }
  EXPECT_EQ(e.lease().writes(), 31);
  // The fast path: one update per renewal, no read.
  EXPECT_EQ(a.lock.calls(), 2 + 30);
  EXPECT_EQ(a.started, 1);
  EXPECT_EQ(a.stopped, 0);
}

TEST(LeaderElectorTest, LosingTheWriteRaceIsAConflictAndNotLeadership) {
  Election e;
  const absl::Time t0 = e.clock().Now();
  e.lease().Overwrite(HeldBy("", t0, 5));  // free
  Candidate& b = e.Add("b");
  // Between b's read and its write, "a" takes the lease.
  b.lock.BeforeUpdate([&e, t0] { e.lease().Overwrite(HeldBy("a", t0, 6)); });
  e.Step(b);
  EXPECT_FALSE(b.elector->IsLeader());
  EXPECT_EQ(b.started, 0);
  EXPECT_EQ(e.Record().holder_identity, "a");
  EXPECT_EQ(e.Record().leader_transitions, 6);
  b.lock.BeforeUpdate(nullptr);
  e.clock().Set(b.next);
  e.Step(b);  // sees a's record now: waits for it to expire
  EXPECT_FALSE(b.elector->IsLeader());
  EXPECT_EQ(b.elector->GetLeader(), "a");
}

// A leader whose renewal meets a 409 reads the lease; when it shows another
// holder, it stops at once rather than at its renew deadline, and does not
// release what is not its own.
TEST(LeaderElectorTest, LeaderThatSeesAnotherHolderStopsAtOnce) {
  Election e;
  const absl::Time t0 = e.clock().Now();
  Candidate& a = e.Add("a", /*release_on_cancel=*/true);
  e.Step(a);
  ASSERT_TRUE(a.elector->IsLeader());
  e.lease().Overwrite(HeldBy("intruder", t0 + absl::Seconds(1), 1));
  e.clock().Set(a.next);
  e.Step(a);
  EXPECT_FALSE(a.elector->IsLeader());
  EXPECT_EQ(a.stopped, 1);
  EXPECT_TRUE(a.elector->done());
  EXPECT_EQ(e.Record().holder_identity, "intruder");
  EXPECT_THAT(a.new_leaders, ElementsAre("a", "intruder"));
}

TEST(LeaderElectorTest, RenewFailuresStopTheLeaderBeforeAnotherAcquires) {
  Election e;
  const absl::Time t0 = e.clock().Now();
  Candidate& a = e.Add("a");
  Candidate& b = e.Add("b");
  e.Step(a);
  e.clock().Set(t0 + absl::Seconds(1));
  e.Step(b);
  e.RunUntil(t0 + absl::Seconds(3));  // a renewed at t0+2s; b's next look is at t0+3s or later
  ASSERT_TRUE(a.elector->IsLeader());
  a.lock.SetFailing(absl::UnavailableError("connection refused"));

  // a's deadline is 10s after its last renewal began: IsLeader() turns false
  // then, whether or not a's loop has run.
  const absl::Time deadline = t0 + kRetryPeriod + kRenewDeadline;
  e.RunUntil(deadline - absl::Nanoseconds(1));
  EXPECT_TRUE(a.elector->IsLeader());
  EXPECT_EQ(a.stopped, 0);
  e.clock().Set(deadline);
  EXPECT_FALSE(a.elector->IsLeader());
  EXPECT_EQ(a.next, deadline) << "a's loop wakes at its deadline";

  e.RunUntil(t0 + absl::Minutes(1));
  EXPECT_EQ(a.stopped, 1);
  EXPECT_TRUE(b.elector->IsLeader());
  EXPECT_THAT(e.journal(), ElementsAre("a started", "a stopped", "b started"));
  // b saw the t0+2s renewal at its step after it, no earlier than t0+3s.
  EXPECT_GE(e.Record().acquire_time, t0 + absl::Seconds(3) + kLeaseDuration);
  EXPECT_EQ(e.Record().leader_transitions, 1);
}

TEST(LeaderElectorTest, RenewalAnsweredAfterTheDeadlineDoesNotRestoreLeadership) {
  Election e;
  Candidate& a = e.Add("a");
  e.Step(a);
  ASSERT_TRUE(a.elector->IsLeader());
  // The next renewal reaches the server, but its answer comes 11s later.
  a.lock.SetLatency(&e.clock(), absl::Seconds(11));
  e.clock().Set(a.next);
  e.Step(a);
  EXPECT_FALSE(a.elector->IsLeader());
  EXPECT_EQ(a.stopped, 1);
  EXPECT_TRUE(a.elector->done());
}

TEST(LeaderElectorTest, ReleaseOnCancelLetsAnotherTakeOverAtOnce) {
  for (bool release : {true, false}) {
    Election e;
    const absl::Time t0 = e.clock().Now();
    Candidate& a = e.Add("a", release);
    Candidate& b = e.Add("b");
    e.Step(a);
    e.RunUntil(t0 + absl::Seconds(5));  // a renewed at t0+2s and t0+4s; b watches
    const int transitions = e.Record().leader_transitions;
    a.elector->Shutdown();
    EXPECT_FALSE(a.elector->IsLeader()) << release;
    EXPECT_EQ(a.stopped, 1) << release;
    EXPECT_EQ(a.holder_when_stopped, "a") << "stopped acting before the release";
    if (release) {
      const LeaderElectionRecord r = e.Record();
      EXPECT_EQ(r.holder_identity, "") << "released";
      EXPECT_EQ(r.lease_duration_seconds, 1);
      EXPECT_EQ(r.leader_transitions, transitions);
    }
    // b's next try, at most 2s x 2.2 away, takes a released lease; an
    // unreleased one it takes only 15s after it saw the last renewal.
    e.RunUntil(t0 + absl::Seconds(5) + absl::Milliseconds(4400));
    EXPECT_EQ(b.elector->IsLeader(), release) << release;
    if (!release) {
      e.RunUntil(t0 + absl::Minutes(1));
      EXPECT_TRUE(b.elector->IsLeader());
      EXPECT_GE(e.Record().acquire_time, t0 + absl::Seconds(4) + kLeaseDuration);
    }
    EXPECT_EQ(e.Record().holder_identity, "b") << release;
    EXPECT_EQ(e.Record().leader_transitions, transitions + 1) << release;
  }
}

TEST(LeaderElectorTest, CountsLeaderTransitions) {
  Election e;
  const absl::Time t0 = e.clock().Now();
  Candidate& a = e.Add("a", /*release_on_cancel=*/true);
  e.RunUntil(t0 + absl::Seconds(9));  // created, renewed four times
  EXPECT_EQ(e.Record().leader_transitions, 0);
  a.elector->Shutdown();  // released: the count stays
  EXPECT_EQ(e.Record().leader_transitions, 0);

  Candidate& b = e.Add("b", /*release_on_cancel=*/true);
  e.RunUntil(t0 + absl::Seconds(20));
  EXPECT_EQ(e.Record().holder_identity, "b");
  EXPECT_EQ(e.Record().leader_transitions, 1);
  b.elector->Shutdown();

  Candidate& c = e.Add("c");
  Candidate& d = e.Add("d");
  e.RunUntil(t0 + absl::Seconds(30));
  EXPECT_EQ(e.Record().leader_transitions, 2);
  Candidate& leader = c.elector->IsLeader() ? c : d;
  leader.lock.SetFailing(absl::UnavailableError("partitioned"));  // the other takes over
  e.RunUntil(t0 + absl::Minutes(2));
  EXPECT_NE(e.Record().holder_identity, leader.id);
  EXPECT_EQ(e.Record().leader_transitions, 3);
}

// Two replicas at a time on one lease, with faults injected at random:
// failed calls, partitions that come and go, clean shutdowns; a replica whose
// election is over is replaced by a new one, as a restarted process.
// At no instant do two IsLeader(), nobody starts leading while another has
// not been told to stop, and the lease counts every change of holder.
TEST(LeaderElectorTest, TwoElectorsNeverLeadAtOnce) {
  const struct {
    std::string name;
    bool stalls;  // processes that sometimes step late (a GC pause, a slow node)
    Timing timing;
  } variants[] = {
      {"punctual", false, {}},
      {"stalling", true, {}},
      // leaseDuration < renewDeadline + retryPeriod: valid for client-go, and
      // exclusive only because the deadline counts from the last renewal.
      {"tight lease, punctual", false, {absl::Seconds(11), absl::Seconds(10), absl::Seconds(2)}},
      {"tight lease, stalling", true, {absl::Seconds(11), absl::Seconds(10), absl::Seconds(2)}},
  };
  for (const auto& v : variants) {
    int acquisitions = 0;
    int takeovers_by_expiry = 0;
    int takeovers_by_release = 0;
    for (uint64_t seed = 1; seed <= 40; ++seed) {
      Election e(seed, v.timing);
      e.set_callbacks_exclusive(!v.stalls);
      std::mt19937_64& random = e.random();
      std::bernoulli_distribution chance(0.5);
      auto with_probability = [&random](double p) {
        return std::bernoulli_distribution(p)(random);
      };
      int next_name = 0;
      auto add = [&]() -> Candidate& {
        return e.Add(absl::StrCat("r", next_name++), chance(random));
      };
      add();
      add();
      for (int event = 0; event < 300; ++event) {
        // The candidate due first.
        Candidate* c = nullptr;
        for (const auto& each : e.candidates()) {
          if (!each->elector->done() && (c == nullptr || each->next < c->next)) c = each.get();
        }
        ASSERT_NE(c, nullptr);
        e.clock().Set(c->next);
        e.ExpectAtMostOneLeader();

        if (with_probability(0.08)) {
          c->lock.SetFailing(with_probability(0.5) ? absl::UnavailableError("partitioned")
                                                   : absl::OkStatus());
        }
        if (with_probability(0.1)) {
          c->lock.FailNext(absl::UnavailableError("connection reset"),
                           std::uniform_int_distribution<int>(1, 3)(random));
        }
        const bool was_leading = c->acting();
        const std::optional<VersionedRecord> before = e.lease().Current();
        if (c->acting() && with_probability(0.02)) {
          c->elector->Shutdown();
        } else {
          e.Step(*c);
        }
        e.ExpectAtMostOneLeader();
        if (!was_leading && c->acting()) {
          ++acquisitions;
          if (before.has_value() && before->record.holder_identity.empty()) {
            ++takeovers_by_release;
          } else if (before.has_value() && before->record.holder_identity != c->id) {
            ++takeovers_by_expiry;
          }
        }
        if (v.stalls && with_probability(0.1)) {
          c->next += absl::Milliseconds(std::uniform_int_distribution<int>(0, 20000)(random));
        }
        if (c->elector->done()) add().next = e.clock().Now();
      }
      if (e.lease().Current().has_value()) {
        int started = 0;
        for (const auto& each : e.candidates()) started += each->started;
        EXPECT_EQ(e.Record().leader_transitions, started - 1) << v.name << " seed " << seed;
      }
      if (::testing::Test::HasFailure()) {
        ADD_FAILURE() << v.name << " seed " << seed;
        return;
      }
    }
    // The faults are enough to make leadership change hands many times, both
    // ways; otherwise this test would prove little.
    EXPECT_GE(acquisitions, 100) << v.name;
    EXPECT_GE(takeovers_by_expiry, 20) << v.name;
    EXPECT_GE(takeovers_by_release, 10) << v.name;
  }
}

TEST(LeaderElectorTest, AcquisitionRetriesAreJittered) {
  Election e(7);
  e.lease().Overwrite(HeldBy("other", e.clock().Now()));
  LeaderElectionRecord held = HeldBy("other", e.clock().Now());
  Candidate& b = e.Add("b");
  std::set<absl::Duration> waits;
  for (int i = 0; i < 50; ++i) {
    e.Step(b);
    const absl::Duration wait = b.next - e.clock().Now();
    EXPECT_GE(wait, kRetryPeriod);
    EXPECT_LT(wait, kRetryPeriod + absl::Milliseconds(2400));  // 1.2 x 2s
    waits.insert(wait);
    e.clock().Set(b.next);
    held.renew_time = e.clock().Now();
    e.lease().Overwrite(held);  // keep it from expiring
  }
  EXPECT_GT(waits.size(), 40u);
  EXPECT_EQ(b.started, 0);
}

TEST(LeaderElectorTest, CheckFailsOnlyWhenTheLoopIsStuck) {
  Election e;
  const absl::Time t0 = e.clock().Now();
  Candidate& a = e.Add("a");
  Candidate& idle = e.Add("idle");
  e.Step(a);
  EXPECT_TRUE(a.elector->Check(absl::Seconds(20)).ok());
  // Nothing steps a: at its deadline it is no longer leader, but it still
  // acts (no on_stopped_leading yet); past lease + 20s that is unhealthy.
  e.clock().Set(t0 + kLeaseDuration + absl::Seconds(20));
  EXPECT_FALSE(a.elector->IsLeader());
  EXPECT_TRUE(a.elector->Check(absl::Seconds(20)).ok());
  e.clock().Advance(absl::Nanoseconds(1));
  absl::Status stuck = a.elector->Check(absl::Seconds(20));
  EXPECT_EQ(stuck.message(), "failed election to renew leadership on lease kube-scheduler");
  EXPECT_TRUE(idle.elector->Check(absl::Seconds(20)).ok()) << "a follower is healthy";
  e.Step(a);  // the loop resumes and stops leading
  EXPECT_EQ(a.stopped, 1);
  EXPECT_TRUE(a.elector->Check(absl::Seconds(20)).ok());
}

TEST(LeaderElectorTest, CreateValidatesAsClientGo) {
  const auto noop = [] {};
  LeaderElectionConfig good;
  good.identity = "host_1";
  good.callbacks.on_started_leading = noop;
  good.callbacks.on_stopped_leading = noop;
  const struct {
    std::string name;
    std::function<void(LeaderElectionConfig&)> change;
    bool no_lock;
    std::string message;  // "" when valid
  } cases[] = {
      {"kube-scheduler's defaults", [](LeaderElectionConfig&) {}, false, ""},
      {"lease equals renew", [](LeaderElectionConfig& c) { c.lease_duration = c.renew_deadline; },
       false, "leaseDuration must be greater than renewDeadline"},
      {"renew within jittered retry",
       [](LeaderElectionConfig& c) { c.renew_deadline = absl::Milliseconds(2400); }, false,
       "renewDeadline must be greater than retryPeriod*JitterFactor"},
      {"renew just above jittered retry",
       [](LeaderElectionConfig& c) {
         c.renew_deadline = absl::Milliseconds(2400) + absl::Nanoseconds(1);
       },
       false, ""},
      {"negative retry", [](LeaderElectionConfig& c) { c.retry_period = -absl::Seconds(1); }, false,
       "retryPeriod must be greater than zero"},
      {"negative everything",
       [](LeaderElectionConfig& c) {
         c.lease_duration = -absl::Seconds(1);
         c.renew_deadline = -absl::Seconds(2);
         c.retry_period = -absl::Seconds(10);
       },
       false, "leaseDuration must be greater than zero"},
      {"no started callback",
       [](LeaderElectionConfig& c) { c.callbacks.on_started_leading = nullptr; }, false,
       "OnStartedLeading callback must not be nil"},
      {"no stopped callback",
       [](LeaderElectionConfig& c) { c.callbacks.on_stopped_leading = nullptr; }, false,
       "OnStoppedLeading callback must not be nil"},
      {"no lock", [](LeaderElectionConfig&) {}, true, "Lock must not be nil."},
      {"no identity", [](LeaderElectionConfig& c) { c.identity.clear(); }, false,
       "Lock identity is empty"},
  };
  FakeClock clock;
  MemoryLease lease;
  MemoryLeaseLock lock(&lease);
  for (const auto& c : cases) {
    LeaderElectionConfig config = good;
    c.change(config);
    auto elector = LeaderElector::Create(config, c.no_lock ? nullptr : &lock, &clock);
    if (c.message.empty()) {
      EXPECT_TRUE(elector.ok()) << c.name << ": " << elector.status();
      continue;
    }
    ASSERT_FALSE(elector.ok()) << c.name;
    EXPECT_EQ(elector.status().code(), absl::StatusCode::kInvalidArgument) << c.name;
    EXPECT_EQ(elector.status().message(), c.message) << c.name;
  }
}

TEST(LeaderElectorTest, ReportsEachNewLeaderOnce) {
  Election e;
  const absl::Time t0 = e.clock().Now();
  Candidate& a = e.Add("a", /*release_on_cancel=*/true);
  Candidate& b = e.Add("b");
  e.RunUntil(t0 + absl::Seconds(30));
  EXPECT_THAT(b.new_leaders, ElementsAre("a"));
  a.elector->Shutdown();
  e.RunUntil(t0 + absl::Seconds(40));
  EXPECT_THAT(b.new_leaders, ElementsAre("a", "b"));
  EXPECT_THAT(a.new_leaders, ElementsAre("a"));
}

TEST(IdentityTest, IsHostnameUnderscoreRandomUuid) {
  char host[256] = {};
  ASSERT_EQ(gethostname(host, sizeof(host) - 1), 0);
  absl::StatusOr<std::string> first = NewIdentity();
  absl::StatusOr<std::string> second = NewIdentity();
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_TRUE(second.ok()) << second.status();
  const std::regex uuid4("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  for (const std::string& id : {*first, *second}) {
    ASSERT_EQ(id.substr(0, strlen(host) + 1), std::string(host) + "_") << id;
    EXPECT_TRUE(std::regex_match(id.substr(strlen(host) + 1), uuid4)) << id;
  }
  EXPECT_NE(*first, *second);

  std::mt19937_64 random(3);
  std::set<std::string> uuids;
  for (int i = 0; i < 1000; ++i) {
    const std::string u = NewUuid(random);
    EXPECT_TRUE(std::regex_match(u, uuid4)) << u;
    uuids.insert(u);
  }
  EXPECT_EQ(uuids.size(), 1000u);
}

TEST(LeaseRequestTimeoutTest, HalfTheRenewDeadlineAtLeastASecond) {
  EXPECT_EQ(LeaseRequestTimeout(absl::Seconds(10)), absl::Seconds(5));
  EXPECT_EQ(LeaseRequestTimeout(absl::Milliseconds(1500)), absl::Seconds(1));
}

// Run() in a thread against a clock the test moves only once Run is parked.
class RunTest : public ::testing::Test {
 protected:
  std::unique_ptr<LeaderElector> Make(const std::string& id, MemoryLeaseLock* lock,
                                      bool release_on_cancel) {
    LeaderElectionConfig config;
    config.identity = id;
    config.release_on_cancel = release_on_cancel;
    config.callbacks.on_started_leading = [this] {
      absl::MutexLock l(&mu_);
      events_.push_back("started");
    };
    config.callbacks.on_stopped_leading = [this] {
      absl::MutexLock l(&mu_);
      events_.push_back("stopped");
    };
    auto elector = LeaderElector::Create(config, lock, &clock_);
    EXPECT_TRUE(elector.ok()) << elector.status();
    return std::move(*elector);
  }
  std::vector<std::string> events() {
    absl::MutexLock l(&mu_);
    return events_;
  }

  FakeClock clock_;
  MemoryLease lease_;
  absl::Mutex mu_;
  std::vector<std::string> events_ ABSL_GUARDED_BY(mu_);
};

TEST_F(RunTest, ReturnsOnCancelAndReleases) {
  MemoryLeaseLock lock(&lease_);
  std::unique_ptr<LeaderElector> a = Make("a", &lock, /*release_on_cancel=*/true);
  absl::Notification cancel;
  std::thread run([&] { a->Run(cancel); });
  clock_.AwaitSleepers(1);
  EXPECT_TRUE(a->IsLeader());
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(kRetryPeriod);
    clock_.AwaitSleepers(1);  // renewed, parked again
  }
  EXPECT_TRUE(a->IsLeader());
  EXPECT_EQ(lease_.Current()->record.renew_time, clock_.Now());
  cancel.Notify();
  clock_.Advance(absl::ZeroDuration());  // wake the waiter to see the cancel
  run.join();
  EXPECT_FALSE(a->IsLeader());
  EXPECT_THAT(events(), ElementsAre("started", "stopped"));
  EXPECT_EQ(lease_.Current()->record.holder_identity, "");
}

TEST_F(RunTest, ReturnsWhenLeadershipIsLost) {
  MemoryLeaseLock lock(&lease_);
  std::unique_ptr<LeaderElector> a = Make("a", &lock, /*release_on_cancel=*/false);
  absl::Notification cancel;
  std::thread run([&] { a->Run(cancel); });
  clock_.AwaitSleepers(1);
  ASSERT_TRUE(a->IsLeader());
  lock.SetFailing(absl::UnavailableError("partitioned"));
  // Renewals fail every 2s; the fifth wait ends at the deadline, and Run
  // returns without being cancelled.
  for (int i = 0; i < 4; ++i) {
    clock_.Advance(kRetryPeriod);
    clock_.AwaitSleepers(1);
  }
  EXPECT_TRUE(a->IsLeader());
  clock_.Advance(kRetryPeriod);
  run.join();
  EXPECT_FALSE(a->IsLeader());
  EXPECT_TRUE(a->done());
  EXPECT_THAT(events(), ElementsAre("started", "stopped"));
  EXPECT_FALSE(cancel.HasBeenNotified());
}

}  // namespace
}  // namespace kestrel::kube
