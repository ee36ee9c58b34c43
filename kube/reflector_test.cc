#include "kube/reflector.h"

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/core.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kube/fake_list_watch.h"
#include "kube/list_watch.h"

namespace kestrel::kube {
namespace {

using ::k8s::io::api::core::v1::Pod;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Answer = absl::StatusOr<std::optional<WatchEvent>>;

Object MakePod(const std::string& name, int64_t version) {
  auto pod = std::make_shared<Pod>();
  pod->mutable_metadata()->set_namespace_("ns");
  pod->mutable_metadata()->set_name(name);
  pod->mutable_metadata()->set_resourceversion(absl::StrCat(version));
  return pod;
}

WatchEvent Event(WatchEventType type, const std::string& name, int64_t version) {
  WatchEvent e;
  e.type = type;
  e.object = MakePod(name, version);
  e.resource_version = absl::StrCat(version);
  return e;
}
Answer Added(const std::string& name, int64_t v) { return Event(WatchEventType::kAdded, name, v); }
Answer Modified(const std::string& name, int64_t v) {
  return Event(WatchEventType::kModified, name, v);
}
Answer Deleted(const std::string& name, int64_t v) {
  return Event(WatchEventType::kDeleted, name, v);
}
Answer Bookmark(int64_t version) {
  WatchEvent e;
  e.type = WatchEventType::kBookmark;
  e.resource_version = absl::StrCat(version);
  return e;
}
Answer ErrorEvent(absl::Status status) {
  WatchEvent e;
  e.type = WatchEventType::kError;
  e.error = std::move(status);
  return e;
}
Answer End() { return Answer(std::nullopt); }

ListPage Page(std::vector<std::pair<std::string, int64_t>> pods, int64_t version,
              std::string continue_token = "") {
  ListPage page;
  for (const auto& [name, v] : pods) page.items.push_back(MakePod(name, v));
  page.resource_version = absl::StrCat(version);
  page.continue_token = std::move(continue_token);
  return page;
}

// Answers requests from a script, in order, and records them as the fake
// ListerWatcher does. When a request or a Next() finds the script used up,
// it calls `on_done` (which stops the reflector) and answers Cancelled; so
// does a request of the other kind than the script has next, recorded as
// "UNEXPECTED ...".
class ScriptedListerWatcher : public ListerWatcher {
 public:
  void AddList(absl::StatusOr<ListPage> answer) {
    steps_.push_back(Step{true, std::move(answer), {}, absl::OkStatus()});
  }
  // A watch whose stream answers `answers` in turn.
  void AddWatch(std::vector<Answer> answers) {
    steps_.push_back(Step{false, ListPage(), std::move(answers), absl::OkStatus()});
  }
  // A watch request that fails.
  void AddFailedWatch(absl::Status error) {
    steps_.push_back(Step{false, ListPage(), {}, std::move(error)});
  }

  std::function<void()> on_done;
  std::vector<std::string> requests;
  size_t steps_left() const { return steps_.size(); }

  absl::StatusOr<ListPage> List(const ListOptions& o) override {
    std::string request = absl::StrCat("LIST rv=", o.resource_version, " limit=", o.limit,
                                       " continue=", o.continue_token);
    if (steps_.empty() || !steps_.front().list) return Done(request);
    requests.push_back(request);
    absl::StatusOr<ListPage> answer = std::move(steps_.front().list_answer);
    steps_.pop_front();
    return answer;
  }

  absl::StatusOr<std::unique_ptr<WatchStream>> Watch(const WatchOptions& o) override {
    std::string request = absl::StrCat("WATCH rv=", o.resource_version, " timeout=",
                                       o.timeout_seconds,
                                       " bookmarks=", o.allow_watch_bookmarks ? "true" : "false");
    if (steps_.empty() || steps_.front().list) return Done(request);
    requests.push_back(request);
    Step step = std::move(steps_.front());
    steps_.pop_front();
    if (!step.watch_error.ok()) return step.watch_error;
    return std::unique_ptr<WatchStream>(new Stream(this, std::move(step.answers)));
  }

  std::string description() const override { return "pods"; }

 private:
  struct Step {
    bool list;
    absl::StatusOr<ListPage> list_answer;
    std::vector<Answer> answers;
    absl::Status watch_error;
  };

  class Stream : public WatchStream {
   public:
    Stream(ScriptedListerWatcher* lw, std::vector<Answer> answers)
        : lw_(lw), answers_(answers.begin(), answers.end()) {}
    Answer Next() override {
      if (stopped_) return absl::CancelledError("stopped");
      if (answers_.empty()) {
        lw_->on_done();
        return absl::CancelledError("script done");
      }
      Answer a = std::move(answers_.front());
      answers_.pop_front();
      return a;
    }
    void Stop() override { stopped_ = true; }

   private:
    ScriptedListerWatcher* lw_;
    std::deque<Answer> answers_;
    bool stopped_ = false;
  };

  absl::Status Done(const std::string& request) {
    if (!steps_.empty()) requests.push_back("UNEXPECTED " + request);
    on_done();
    return absl::CancelledError("script done");
  }

  std::deque<Step> steps_;
};

// Records what the reflector writes, one line per call.
class RecordingStore : public ReflectorStore {
 public:
  absl::Status Add(const Object& o) override { return Record("ADD", o); }
  absl::Status Update(const Object& o) override { return Record("UPDATE", o); }
  absl::Status Delete(const Object& o) override { return Record("DELETE", o); }
  absl::Status Replace(std::vector<Object> items, const std::vector<std::string>& keep,
                       const std::string& version) override {
    std::vector<std::string> names;
    for (const Object& o : items) names.push_back(Name(o));
    ops.push_back(absl::StrCat("REPLACE [", absl::StrJoin(names, " "), "] keep=[",
                               absl::StrJoin(keep, " "), "] rv=", version));
    return absl::OkStatus();
  }
  std::vector<std::string> ops;

 private:
  static std::string Name(const Object& o) {
    return absl::StrCat(*KeyOf(*o), "@", ResourceVersionOf(*o));
  }
  absl::Status Record(const char* op, const Object& o) {
    ops.push_back(absl::StrCat(op, " ", Name(o)));
    return absl::OkStatus();
  }
};

// A reflector over a script, on a fake clock, with no jitter and the
// shortest watch timeout (300 s); what it reports is kept in `errors`.
struct Harness {
  Harness() : bits(0) {
    ReflectorOptions options;
    options.clock = &clock;
    options.random = absl::BitGenRef(bits);
    options.on_error = [this](const absl::Status& s) { errors.push_back(std::string(s.message())); };
    reflector = std::make_unique<Reflector>(&lw, &store, std::move(options));
    lw.on_done = [this] { reflector->Stop(); };
  }
  void Run() {
    reflector->Run();
    EXPECT_EQ(lw.steps_left(), 0u) << "the reflector stopped before the script's end";
  }

  ScriptedListerWatcher lw;
  RecordingStore store;
  testing::FakeReflectorClock clock;
  testing::ConstantBits bits;
  std::vector<std::string> errors;
  std::unique_ptr<Reflector> reflector;
};

TEST(ReflectorTest, ListsFromVersionZeroThenWatchesFromTheListsVersion) {
  Harness h;
  h.lw.AddList(Page({{"a", 5}, {"b", 6}}, 10));
  h.lw.AddWatch({Added("c", 11), Modified("a", 12), Deleted("b", 13), Bookmark(20)});
  h.Run();
  EXPECT_THAT(h.lw.requests, ElementsAre("LIST rv=0 limit=500 continue=",
                                         "WATCH rv=10 timeout=300 bookmarks=true"));
  EXPECT_THAT(h.store.ops, ElementsAre("REPLACE [ns/a@5 ns/b@6] keep=[] rv=10", "ADD ns/c@11",
                                       "UPDATE ns/a@12", "DELETE ns/b@13"));
  EXPECT_EQ(h.reflector->LastSyncResourceVersion(), "20");
  EXPECT_THAT(h.errors, IsEmpty());
}

TEST(ReflectorTest, WatchTimeoutIsDrawnFromFiveToTenMinutes) {
  for (uint64_t bits : {uint64_t{0}, uint64_t{1} << 63}) {
    ScriptedListerWatcher lw;
    RecordingStore store;
    testing::FakeReflectorClock clock;
    testing::ConstantBits random(bits);
    ReflectorOptions options;
    options.clock = &clock;
    options.random = absl::BitGenRef(random);
    Reflector reflector(&lw, &store, options);
    lw.on_done = [&] { reflector.Stop(); };
    lw.AddList(Page({}, 10));
    lw.AddWatch({});
    reflector.Run();
    EXPECT_THAT(lw.requests,
                ElementsAre("LIST rv=0 limit=500 continue=",
                            absl::StrCat("WATCH rv=10 timeout=", bits == 0 ? 300 : 450,
                                         " bookmarks=true")));
  }
}

TEST(ReflectorTest, CleanEndWatchesAgainFromTheLastVersionWithoutWaiting) {
  Harness h;
  h.lw.AddList(Page({}, 10));
  h.lw.AddWatch({Added("a", 11), Bookmark(15), End()});
  h.lw.AddWatch({Modified("a", 16)});
  h.Run();
  EXPECT_THAT(h.lw.requests, ElementsAre("LIST rv=0 limit=500 continue=",
                                         "WATCH rv=10 timeout=300 bookmarks=true",
                                         "WATCH rv=15 timeout=300 bookmarks=true"));
  EXPECT_THAT(h.store.ops, ElementsAre("REPLACE [] keep=[] rv=10", "ADD ns/a@11", "UPDATE ns/a@16"));
  EXPECT_THAT(h.clock.waits(), IsEmpty());
}

TEST(ReflectorTest, ExpiredWatchRelistsFromTheLastVersionUnpagedAfterABackoff) {
  struct Case {
    std::string name;
    bool error_event;  // else the watch request itself answers 410
  };
  for (const Case& c : {Case{"ERROR event", true}, Case{"request", false}}) {
    SCOPED_TRACE(c.name);
    Harness h;
    h.lw.AddList(Page({{"a", 5}}, 10));
    if (c.error_event) {
      h.lw.AddWatch({Added("b", 11), ErrorEvent(absl::OutOfRangeError("too old resource version: 11 (15)"))});
    } else {
      h.lw.AddWatch({Added("b", 11), End()});
      h.lw.AddFailedWatch(absl::OutOfRangeError("too old resource version: 11 (15)"));
    }
    h.lw.AddList(Page({{"a", 16}, {"c", 17}}, 20));
    h.lw.AddWatch({});
    h.Run();
    std::vector<std::string> expected = {"LIST rv=0 limit=500 continue=",
                                         "WATCH rv=10 timeout=300 bookmarks=true"};
    if (!c.error_event) expected.push_back("WATCH rv=11 timeout=300 bookmarks=true");
    expected.push_back("LIST rv=11 limit=0 continue=");
    expected.push_back("WATCH rv=20 timeout=300 bookmarks=true");
    EXPECT_EQ(h.lw.requests, expected);
    EXPECT_THAT(h.store.ops, ElementsAre("REPLACE [ns/a@5] keep=[] rv=10", "ADD ns/b@11",
                                         "REPLACE [ns/a@16 ns/c@17] keep=[] rv=20"));
    EXPECT_THAT(h.clock.waits(), ElementsAre(absl::Milliseconds(800)));
    EXPECT_THAT(h.errors, IsEmpty());  // a 410 is routine
  }
}

TEST(ReflectorTest, RelistAtAGoneOrFutureVersionFallsBackToAConsistentRead) {
  for (absl::Status gone : {absl::OutOfRangeError("too old resource version: 11 (15)"),
                            absl::UnavailableError("Too large resource version: 11, current: 9")}) {
    SCOPED_TRACE(gone.ToString());
    Harness h;
    h.lw.AddList(Page({}, 10));
    h.lw.AddWatch({Added("b", 11), ErrorEvent(absl::OutOfRangeError("expired"))});
    h.lw.AddList(gone);
    h.lw.AddList(Page({{"b", 11}}, 21));
    h.lw.AddWatch({ErrorEvent(absl::OutOfRangeError("expired"))});
    h.lw.AddList(Page({{"b", 11}}, 22));
    h.Run();
    // "" once, then back to the last version seen.
    EXPECT_THAT(h.lw.requests, ElementsAre("LIST rv=0 limit=500 continue=",
                                           "WATCH rv=10 timeout=300 bookmarks=true",
                                           "LIST rv=11 limit=0 continue=",
                                           "LIST rv= limit=0 continue=",
                                           "WATCH rv=21 timeout=300 bookmarks=true",
                                           "LIST rv=21 limit=0 continue="));
  }
}

TEST(ReflectorTest, DroppedStreamResumesFromTheLastVersionWithBackoffAndNoList) {
  Harness h;
  h.lw.AddList(Page({}, 10));
  h.lw.AddWatch({Added("a", 11), Bookmark(14),
                 absl::UnavailableError("GET /api/v1/pods: cut in the middle of an event")});
  h.lw.AddFailedWatch(absl::UnavailableError("GET /api/v1/pods: Connection refused"));
  h.lw.AddFailedWatch(absl::ResourceExhaustedError("GET /api/v1/pods: too many requests"));
  h.lw.AddWatch({Modified("a", 15)});
  h.Run();
  EXPECT_THAT(h.lw.requests, ElementsAre("LIST rv=0 limit=500 continue=",
                                         "WATCH rv=10 timeout=300 bookmarks=true",
                                         "WATCH rv=14 timeout=300 bookmarks=true",
                                         "WATCH rv=14 timeout=300 bookmarks=true",
                                         "WATCH rv=14 timeout=300 bookmarks=true"));
  EXPECT_THAT(h.store.ops, ElementsAre("REPLACE [] keep=[] rv=10", "ADD ns/a@11", "UPDATE ns/a@15"));
  EXPECT_THAT(h.clock.waits(), ElementsAre(absl::Milliseconds(800), absl::Milliseconds(1600),
                                           absl::Milliseconds(3200)));
  ASSERT_EQ(h.errors.size(), 3u);
  EXPECT_THAT(h.errors[0], HasSubstr("reflector pods: watch from version 10 broke"));
  EXPECT_THAT(h.errors[0], HasSubstr("cut in the middle of an event"));
}

TEST(ReflectorTest, OtherWatchFailuresRelistAfterABackoff) {
  Harness h;
  h.lw.AddList(Page({}, 10));
  h.lw.AddWatch({Added("a", 11), ErrorEvent(absl::UnavailableError("etcd is sad"))});
  h.lw.AddList(Page({{"a", 11}}, 12));
  h.lw.AddFailedWatch(absl::PermissionDeniedError("GET /api/v1/pods: forbidden"));
  h.lw.AddList(Page({{"a", 11}}, 12));
  h.Run();
  EXPECT_THAT(h.lw.requests, ElementsAre("LIST rv=0 limit=500 continue=",
                                         "WATCH rv=10 timeout=300 bookmarks=true",
                                         "LIST rv=11 limit=0 continue=",
                                         "WATCH rv=12 timeout=300 bookmarks=true",
                                         "LIST rv=12 limit=0 continue="));
  EXPECT_THAT(h.clock.waits(), ElementsAre(absl::Milliseconds(800), absl::Milliseconds(1600)));
  ASSERT_EQ(h.errors.size(), 2u);
  EXPECT_EQ(h.errors[0], "reflector pods: watch ended; listing again after a backoff: etcd is sad");
}

TEST(ReflectorTest, VeryShortEmptyWatchRelists) {
  Harness h;
  h.lw.AddList(Page({}, 10));
  h.lw.AddWatch({End()});
  h.lw.AddList(Page({}, 10));
  h.Run();
  EXPECT_THAT(h.lw.requests, ElementsAre("LIST rv=0 limit=500 continue=",
                                         "WATCH rv=10 timeout=300 bookmarks=true",
                                         "LIST rv=10 limit=0 continue="));
  ASSERT_EQ(h.errors.size(), 1u);
  EXPECT_THAT(h.errors[0], HasSubstr("very short watch"));
}

TEST(ReflectorTest, PagedListFollowsContinueTokensAndLaterListsPageToo) {
  Harness h;
  h.lw.AddList(Page({{"a", 5}, {"b", 6}}, 10, "10/b"));
  h.lw.AddList(Page({{"c", 7}}, 10));
  h.lw.AddWatch({ErrorEvent(absl::OutOfRangeError("expired"))});
  h.lw.AddList(Page({{"a", 5}}, 12, "12/a"));
  h.lw.AddList(Page({}, 12));
  h.Run();
  // The server paged a list at version "0": it has no watch cache, so the
  // relist pages as well.
  EXPECT_THAT(h.lw.requests, ElementsAre("LIST rv=0 limit=500 continue=",
                                         "LIST rv= limit=500 continue=10/b",
                                         "WATCH rv=10 timeout=300 bookmarks=true",
                                         "LIST rv=10 limit=500 continue=",
                                         "LIST rv= limit=500 continue=12/a"));
  EXPECT_THAT(h.store.ops, ElementsAre("REPLACE [ns/a@5 ns/b@6 ns/c@7] keep=[] rv=10",
                                       "REPLACE [ns/a@5] keep=[] rv=12"));
}

TEST(ReflectorTest, ExpiredContinueTokenFallsBackToOneFullList) {
  Harness h;
  h.lw.AddList(Page({{"a", 5}}, 10, "10/a"));
  h.lw.AddList(absl::OutOfRangeError("The provided continue parameter is too old"));
  h.lw.AddList(Page({{"a", 5}, {"b", 13}}, 14));
  h.lw.AddWatch({});
  h.Run();
  EXPECT_THAT(h.lw.requests, ElementsAre("LIST rv=0 limit=500 continue=",
                                         "LIST rv= limit=500 continue=10/a",
                                         "LIST rv=0 limit=0 continue=",
                                         "WATCH rv=14 timeout=300 bookmarks=true"));
  EXPECT_THAT(h.store.ops, ElementsAre("REPLACE [ns/a@5 ns/b@13] keep=[] rv=14"));
}

TEST(ReflectorTest, FailedListIsReportedAndRetriedAfterABackoff) {
  Harness h;
  h.lw.AddList(absl::UnavailableError("GET /api/v1/pods?resourceVersion=0&limit=500: Connection refused"));
  h.lw.AddList(Page({}, 10));
  h.lw.AddWatch({});
  h.Run();
  EXPECT_THAT(h.lw.requests, ElementsAre("LIST rv=0 limit=500 continue=",
                                         "LIST rv=0 limit=500 continue=",
                                         "WATCH rv=10 timeout=300 bookmarks=true"));
  EXPECT_THAT(h.errors, ElementsAre("reflector pods: failed to list: GET "
                                    "/api/v1/pods?resourceVersion=0&limit=500: Connection refused"));
  EXPECT_THAT(h.clock.waits(), ElementsAre(absl::Milliseconds(800)));
}

TEST(ReflectorTest, ListNotFoundEmptiesTheStore) {
  Harness h;
  h.lw.AddList(absl::NotFoundError("the server could not find the requested resource"));
  h.Run();
  EXPECT_THAT(h.store.ops, ElementsAre("REPLACE [] keep=[] rv="));
}

TEST(ReflectorTest, UndecodableEventIsReportedAndSkipped) {
  Harness h;
  h.lw.AddList(Page({}, 10));
  h.lw.AddWatch({Added("a", 11),
                 absl::DataLossError("GET /api/v1/pods?watch=true: Pod ns/b: spec.priority: not an integer"),
                 Added("c", 13)});
  h.Run();
  EXPECT_THAT(h.store.ops, ElementsAre("REPLACE [] keep=[] rv=10", "ADD ns/a@11", "ADD ns/c@13"));
  EXPECT_THAT(h.errors, ElementsAre("reflector pods: GET /api/v1/pods?watch=true: Pod ns/b: "
                                    "spec.priority: not an integer"));
  EXPECT_EQ(h.reflector->LastSyncResourceVersion(), "13");
}

TEST(ReflectorTest, UndecodableListItemIsReportedAndKept) {
  Harness h;
  ListPage page = Page({{"a", 5}}, 10);
  page.undecodable.push_back(
      Undecodable{"ns/b", absl::InvalidArgumentError("GET /api/v1/pods: Pod ns/b: spec: bad")});
  h.lw.AddList(page);
  h.Run();
  EXPECT_THAT(h.store.ops, ElementsAre("REPLACE [ns/a@5] keep=[ns/b] rv=10"));
  EXPECT_THAT(h.errors, ElementsAre("reflector pods: GET /api/v1/pods: Pod ns/b: spec: bad"));
}

TEST(BackoffTest, DoublesFrom800msTo30sAndResetsAfterTwoQuietMinutes) {
  testing::FakeReflectorClock clock;
  testing::ConstantBits zero(0);
  Backoff backoff(BackoffOptions(), &clock, zero);
  std::vector<absl::Duration> waits;
  for (int i = 0; i < 8; ++i) waits.push_back(backoff.Next());
  EXPECT_THAT(waits, ElementsAre(absl::Milliseconds(800), absl::Milliseconds(1600),
                                 absl::Milliseconds(3200), absl::Milliseconds(6400),
                                 absl::Milliseconds(12800), absl::Milliseconds(25600),
                                 absl::Seconds(30), absl::Seconds(30)));
  clock.Advance(absl::Minutes(2));
  EXPECT_EQ(backoff.Next(), absl::Seconds(30));  // not more than two minutes
  clock.Advance(absl::Minutes(2) + absl::Milliseconds(1));
  EXPECT_EQ(backoff.Next(), absl::Milliseconds(800));
}

TEST(BackoffTest, JitterStretchesEachWaitByUpToItsLength) {
  testing::FakeReflectorClock clock;
  testing::ConstantBits half(uint64_t{1} << 63);  // draws 0.5
  Backoff backoff(BackoffOptions(), &clock, half);
  std::vector<absl::Duration> waits;
  for (int i = 0; i < 3; ++i) waits.push_back(backoff.Next());
  EXPECT_THAT(waits, ElementsAre(absl::Milliseconds(1200), absl::Milliseconds(2400),
                                 absl::Milliseconds(4800)));
}

TEST(ReflectorTest, StopEndsAWatchThatIsWaitingForEvents) {
  kube::testing::FakeListerWatcher lw;
  RecordingStore store;
  Reflector reflector(&lw, &store, ReflectorOptions());
  std::thread run([&] { reflector.Run(); });
  while (lw.open_watches() == 0) absl::SleepFor(absl::Milliseconds(1));
  reflector.Stop();
  run.join();
  EXPECT_THAT(lw.requests(), ElementsAre("LIST rv=0 limit=500 continue=",
                                         ::testing::StartsWith("WATCH rv=100 ")));
}

}  // namespace
}  // namespace kestrel::kube
