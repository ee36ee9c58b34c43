#include "kube/informer.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "api/core.pb.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "kube/fake_list_watch.h"
#include "kube/informer_testing.h"
#include "kube/list_watch.h"
#include "kube/reflector.h"

namespace kestrel::kube {
namespace {

using ::k8s::io::api::core::v1::Pod;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::FakeListerWatcher;

Pod MakePod(const std::string& name, const std::string& label = "") {
  Pod pod;
  pod.mutable_metadata()->set_namespace_("ns");
  pod.mutable_metadata()->set_name(name);
  if (!label.empty()) (*pod.mutable_metadata()->mutable_labels())["l"] = label;
  return pod;
}

// key -> resourceVersion, for comparing stores.
std::map<std::string, std::string> Versions(const std::map<std::string, Object>& objects) {
  std::map<std::string, std::string> out;
  for (const auto& [key, o] : objects) out[key] = ResourceVersionOf(*o);
  return out;
}
std::map<std::string, std::string> Versions(const Store& store) {
  std::map<std::string, std::string> out;
  for (const Object& o : store.List()) out[*KeyOf(*o)] = ResourceVersionOf(*o);
  return out;
}

// An informer over a FakeListerWatcher on a fake clock, run on the test's
// thread: each time the watch has nothing to deliver, the next step runs;
// after the last one the informer stops.
struct Harness {
  Harness() : bits(0) {
    auto owned = std::make_unique<FakeListerWatcher>();
    fake = owned.get();
    ReflectorOptions options;
    options.clock = &clock;
    options.random = absl::BitGenRef(bits);
    options.on_error = [this](const absl::Status& s) { errors.push_back(std::string(s.message())); };
    informer = std::make_unique<Informer>(std::move(owned), std::move(options));
    EXPECT_TRUE(informer->AddEventHandler(recorder.Handlers()).ok());
    fake->SetIdleHook([this] {
      if (steps.empty()) {
        informer->Stop();
        return;
      }
      std::function<void()> step = std::move(steps.front());
      steps.pop_front();
      step();
    });
  }
  void Run() {
    informer->Run();
    EXPECT_THAT(recorder.violations(), IsEmpty());
  }

  testing::FakeReflectorClock clock;
  testing::ConstantBits bits;
  FakeListerWatcher* fake;
  std::unique_ptr<Informer> informer;
  testing::HandlerRecorder recorder;
  std::deque<std::function<void()>> steps;
  std::vector<std::string> errors;
};

TEST(InformerTest, ListThenWatchEventsReachTheHandlersAndTheStore) {
  Harness h;
  ASSERT_TRUE(h.fake->Create(MakePod("a")).ok());
  ASSERT_TRUE(h.fake->Create(MakePod("b")).ok());
  h.steps.push_back([&] {
    EXPECT_TRUE(h.informer->HasSynced());
    ASSERT_TRUE(h.fake->Create(MakePod("c")).ok());
    ASSERT_TRUE(h.fake->Update(MakePod("a", "x")).ok());
    ASSERT_TRUE(h.fake->Delete("ns/b").ok());
  });
  EXPECT_FALSE(h.informer->HasSynced());
  h.Run();
  EXPECT_THAT(h.recorder.log(), ElementsAre("ADD ns/a@101", "ADD ns/b@102", "ADD ns/c@103",
                                            "UPDATE ns/a@101->104", "DELETE ns/b@105"));
  EXPECT_THAT(h.informer->store().ListKeys(), ElementsAre("ns/a", "ns/c"));
  EXPECT_EQ(h.informer->store().Get("ns/a")->GetDescriptor(), Pod::descriptor());
  EXPECT_EQ(ObjectAs<Pod>(h.informer->store().Get("ns/a"))->metadata().labels().at("l"), "x");
  EXPECT_EQ(h.informer->LastSyncResourceVersion(), "105");
  EXPECT_THAT(h.errors, IsEmpty());
}

TEST(InformerTest, RelistAfter410DeliversWhatTheWatchMissedOnce) {
  Harness h;
  for (const char* name : {"a", "b", "c"}) ASSERT_TRUE(h.fake->Create(MakePod(name)).ok());
  h.steps.push_back([&] {
    // Changes the watch never delivers: the history is compacted under it.
    ASSERT_TRUE(h.fake->Delete("ns/b").ok());
    ASSERT_TRUE(h.fake->Update(MakePod("a", "x")).ok());
    ASSERT_TRUE(h.fake->Create(MakePod("d")).ok());
    h.fake->Compact();
  });
  h.Run();
  EXPECT_THAT(h.fake->requests(),
              ElementsAre("LIST rv=0 limit=500 continue=", "WATCH rv=103 timeout=300 bookmarks=true",
                          "LIST rv=103 limit=0 continue=", "WATCH rv=106 timeout=300 bookmarks=true"));
  // c, unchanged, is not handed out again; b's deletion was missed, so its
  // delete carries the last state the informer had.
  EXPECT_THAT(h.recorder.log(),
              ElementsAre("ADD ns/a@101", "ADD ns/b@102", "ADD ns/c@103", "UPDATE ns/a@101->105",
                          "ADD ns/d@106", "DELETE-UNKNOWN ns/b@102"));
  EXPECT_EQ(Versions(h.informer->store()), Versions(h.fake->Objects()));
}

TEST(InformerTest, DroppedStreamResumesWithoutRelistLossOrDuplicates) {
  Harness h;
  ASSERT_TRUE(h.fake->Create(MakePod("a")).ok());
  h.steps.push_back([&] {
    ASSERT_TRUE(h.fake->Create(MakePod("b")).ok());
    h.fake->DropWatches();  // before b is delivered
  });
  h.steps.push_back([&] { ASSERT_TRUE(h.fake->Update(MakePod("b", "x")).ok()); });
  h.Run();
  EXPECT_THAT(h.fake->requests(),
              ElementsAre("LIST rv=0 limit=500 continue=", "WATCH rv=101 timeout=300 bookmarks=true",
                          "WATCH rv=101 timeout=300 bookmarks=true"));
  EXPECT_THAT(h.recorder.log(), ElementsAre("ADD ns/a@101", "ADD ns/b@102", "UPDATE ns/b@102->103"));
  ASSERT_EQ(h.errors.size(), 1u);
  EXPECT_THAT(h.errors[0], HasSubstr("the stream broke in the middle of an event"));
}

TEST(InformerTest, BookmarkMovesTheResumeVersionPastACompaction) {
  Harness h;
  ASSERT_TRUE(h.fake->Create(MakePod("a")).ok());
  h.steps.push_back([&] {
    h.fake->AdvanceVersion(5);  // writes to other kinds
    h.fake->SendBookmark();
  });
  h.steps.push_back([&] {
    h.fake->Compact();
    h.fake->DropWatches();
  });
  h.Run();
  // Resumed from the bookmark's version, which the compaction kept: no 410,
  // no list.
  EXPECT_THAT(h.fake->requests(),
              ElementsAre("LIST rv=0 limit=500 continue=", "WATCH rv=101 timeout=300 bookmarks=true",
                          "WATCH rv=106 timeout=300 bookmarks=true"));
  EXPECT_EQ(h.informer->LastSyncResourceVersion(), "106");
}

TEST(InformerTest, UndecodableEventIsReportedAndTheWatchGoesOn) {
  Harness h;
  h.steps.push_back([&] {
    h.fake->SendGarbage();
    ASSERT_TRUE(h.fake->Create(MakePod("a")).ok());
  });
  h.Run();
  EXPECT_THAT(h.recorder.log(), ElementsAre("ADD ns/a@101"));
  EXPECT_THAT(h.errors, ElementsAre("reflector pods: fake watch of pods: an event that does not decode"));
  EXPECT_EQ(h.fake->requests().size(), 2u);  // one list, one watch
}

TEST(InformerTest, FailedListKeepsHasSyncedFalseUntilAListSucceeds) {
  Harness h;
  h.fake->FailNextList(absl::UnavailableError("GET /api/v1/pods: Connection refused"));
  h.steps.push_back([&] { EXPECT_TRUE(h.informer->HasSynced()); });
  h.Run();
  EXPECT_THAT(h.errors, ElementsAre("reflector pods: failed to list: GET /api/v1/pods: Connection refused"));
  EXPECT_THAT(h.clock.waits(), ElementsAre(absl::Milliseconds(800)));
}

TEST(InformerTest, HandlersMustBeAddedBeforeItRuns) {
  Harness h;
  h.Run();
  absl::Status s = h.informer->AddEventHandler(EventHandlers());
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(), "informer pods: event handlers must be added before it runs");
}

// Thousands of random creates, updates and deletes while the watch drops,
// expires, misses compacted changes, ends, fails to start, bookmarks and
// carries garbage: whenever the watch has delivered everything, the store
// and what the handlers were told equal the server's objects, and the
// handlers' story stays consistent.
TEST(InformerTest, RandomChangesAndFaultsEndWithTheServersObjects) {
  for (uint64_t seed : {1, 2}) {
    SCOPED_TRACE(absl::StrCat("seed ", seed));
    auto owned = std::make_unique<FakeListerWatcher>();
    FakeListerWatcher& fake = *owned;
    testing::FakeReflectorClock clock;
    std::mt19937_64 rng(seed);
    std::mt19937_64 jitter(seed + 100);
    ReflectorOptions options;
    options.clock = &clock;
    options.random = absl::BitGenRef(jitter);
    int errors = 0;
    options.on_error = [&](const absl::Status&) { ++errors; };
    Informer informer(std::move(owned), std::move(options));
    testing::HandlerRecorder recorder;
    ASSERT_TRUE(informer.AddEventHandler(recorder.Handlers()).ok());

    constexpr int kKeys = 200;
    constexpr int kWrites = 3000;
    int writes = 0;
    int checks = 0;
    std::vector<bool> exists(kKeys);
    auto write = [&] {
      const int i = std::uniform_int_distribution<int>(0, kKeys - 1)(rng);
      const std::string name = absl::StrCat("p", i);
      if (!exists[i]) {
        ASSERT_TRUE(fake.Create(MakePod(name, absl::StrCat(writes))).ok());
        exists[i] = true;
      } else if (std::bernoulli_distribution(0.6)(rng)) {
        ASSERT_TRUE(fake.Update(MakePod(name, absl::StrCat(writes))).ok());
      } else {
        ASSERT_TRUE(fake.Delete("ns/" + name).ok());
        exists[i] = false;
      }
      ++writes;
    };
    for (int i = 0; i < kKeys / 2; ++i) write();

    fake.SetIdleHook([&] {
      // The watch has delivered every change: nothing may be missing.
      EXPECT_EQ(Versions(informer.store()), Versions(fake.Objects()));
      EXPECT_EQ(Versions(recorder.seen()), Versions(fake.Objects()));
      ++checks;
      if (writes >= kWrites) {
        informer.Stop();
        return;
      }
      const int batch = std::uniform_int_distribution<int>(1, 8)(rng);
      for (int i = 0; i < batch; ++i) write();
      switch (std::uniform_int_distribution<int>(0, 19)(rng)) {
        case 0:
          fake.DropWatches();
          break;
        case 1:
          fake.ExpireWatches();
          break;
        case 2:  // the batch is never delivered: a relist must find it
          fake.Compact();
          break;
        case 3:
          fake.CloseWatches();
          break;
        case 4:
          fake.AdvanceVersion(3);
          fake.SendBookmark();
          break;
        case 5:
          fake.SendGarbage();
          break;
        case 6:
          fake.FailNextList(absl::UnavailableError("list refused"));
          fake.ExpireWatches();
          break;
        case 7:
          fake.FailNextWatch(absl::ResourceExhaustedError("too many requests"));
          fake.DropWatches();
          break;
        case 8:
          fake.FailNextWatch(absl::OutOfRangeError("too old resource version"));
          fake.DropWatches();
          break;
        case 9:
          fake.Compact();
          fake.DropWatches();  // resumes behind the compaction: 410, relist
          break;
        default:
          break;
      }
    });
    informer.Run();

    EXPECT_EQ(Versions(informer.store()), Versions(fake.Objects()));
    EXPECT_THAT(recorder.violations(), IsEmpty());
    // The faults did happen: relists, deletions found by them, reports.
    int lists = 0;
    for (const std::string& r : fake.requests()) lists += r.rfind("LIST", 0) == 0;
    EXPECT_GT(lists, 20);
    EXPECT_GT(recorder.tombstones(), 0);
    EXPECT_GT(errors, 20);
    EXPECT_GT(checks, 300);
  }
}

// The informer on its own thread, with writes from another.
TEST(InformerTest, StartedInformerFollowsWritesFromAnotherThread) {
  auto owned = std::make_unique<FakeListerWatcher>();
  FakeListerWatcher& fake = *owned;
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(fake.Create(MakePod(absl::StrCat("p", i))).ok());
  Informer informer(std::move(owned), ReflectorOptions());
  std::mutex mu;
  std::condition_variable seen_cv;
  std::string last_version;
  EventHandlers handlers;
  auto seen = [&](const Object& o) {
    {
      std::lock_guard<std::mutex> lock(mu);
      last_version = ResourceVersionOf(*o);
    }
    seen_cv.notify_all();
  };
  handlers.on_add = seen;
  handlers.on_update = [&](const Object&, const Object& o) { seen(o); };
  handlers.on_delete = [&](const DeletedObject& d) { seen(LastState(d)); };
  ASSERT_TRUE(informer.AddEventHandler(handlers).ok());
  informer.Start();
  ASSERT_TRUE(informer.WaitForSync(absl::Seconds(60)));
  EXPECT_EQ(informer.store().size(), 10u);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(fake.Update(MakePod(absl::StrCat("p", i), "x")).ok());
  fake.DropWatches();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(fake.Delete(absl::StrCat("ns/p", i)).ok());
  const std::string target = fake.resource_version();
  {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(seen_cv.wait_for(lock, std::chrono::seconds(60),
                                 [&] { return last_version == target; }));
  }
  informer.Stop();
  EXPECT_EQ(Versions(informer.store()), Versions(fake.Objects()));
}

}  // namespace
}  // namespace kestrel::kube
