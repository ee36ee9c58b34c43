#include "kube/fake_list_watch.h"

#include <algorithm>
#include <iterator>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/descriptor.h"

namespace kestrel::kube::testing {
namespace {

using ::k8s::io::apimachinery::pkg::apis::meta::v1::ObjectMeta;

// The API server's answer to a continue token whose snapshot is gone
// (apiserver/pkg/storage/errors: NewInvalidError... for an expired token).
constexpr char kContinueExpired[] =
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this "
    "response to retrieve the remainder of the results. Continuing with the provided token "
    "results in an inconsistent list - objects that were created, modified, or deleted between "
    "the time the first chunk was returned and now may show up in the list.";

ObjectMeta* MutableMetaOf(google::protobuf::Message& object) {
  const google::protobuf::FieldDescriptor* field =
      object.GetDescriptor()->FindFieldByName("metadata");
  if (field == nullptr) return nullptr;
  return google::protobuf::DynamicCastToGenerated<ObjectMeta>(
      object.GetReflection()->MutableMessage(&object, field));
}

// A copy of `object`: what a client decodes from each answer is its own.
Object Copy(const google::protobuf::Message& object) {
  std::unique_ptr<google::protobuf::Message> copy(object.New());
  copy->CopyFrom(object);
  return Object(std::move(copy));
}

// A copy of `object` at `version`.
Object AtVersion(const google::protobuf::Message& object, int64_t version) {
  std::unique_ptr<google::protobuf::Message> copy(object.New());
  copy->CopyFrom(object);
  MutableMetaOf(*copy)->set_resourceversion(absl::StrCat(version));
  return Object(std::move(copy));
}

}  // namespace

absl::Time FakeReflectorClock::Now() {
  std::lock_guard<std::mutex> lock(mu_);
  return now_;
}

bool FakeReflectorClock::WaitFor(absl::Duration d, const StopSignal& stop) {
  std::lock_guard<std::mutex> lock(mu_);
  waits_.push_back(d);
  now_ += d;
  return stop.HasBeenNotified();
}

void FakeReflectorClock::Advance(absl::Duration d) {
  std::lock_guard<std::mutex> lock(mu_);
  now_ += d;
}

std::vector<absl::Duration> FakeReflectorClock::waits() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waits_;
}

// A watch's cursor into the history, and the faults waiting for it. All of
// it is guarded by the fake's mutex.
class FakeListerWatcher::Stream : public WatchStream {
 public:
  using Answer = absl::StatusOr<std::optional<WatchEvent>>;

  Stream(FakeListerWatcher* fake, int64_t from, bool bookmarks)
      : fake_(fake), cursor_(from), bookmarks_(bookmarks) {}

  ~Stream() override {
    std::lock_guard<std::mutex> lock(fake_->mu_);
    auto& streams = fake_->streams_;
    streams.erase(std::remove(streams.begin(), streams.end(), this), streams.end());
  }

  absl::StatusOr<std::optional<WatchEvent>> Next() override {
    std::unique_lock<std::mutex> lock(fake_->mu_);
    while (true) {
      if (std::optional<Answer> out = TakeLocked()) {
        return *std::move(out);
      }
      if (fake_->idle_hook_) {
        lock.unlock();
        fake_->idle_hook_();
        lock.lock();
      } else {
        fake_->changed_.wait(lock, [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS {
          return ReadyLocked();
        });
      }
    }
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> lock(fake_->mu_);
      stopped_ = true;
    }
    fake_->changed_.notify_all();
  }

  enum class Fault { kNone, kDrop, kExpire, kClose };
  Fault fault_ = Fault::kNone;
  bool bookmark_pending_ = false;
  bool garbage_pending_ = false;

 private:
  bool ReadyLocked() const {
    const std::deque<Change>& history = fake_->history_;
    return stopped_ || fault_ != Fault::kNone || garbage_pending_ || cursor_ < fake_->compacted_ ||
           (!history.empty() && history.back().version > cursor_) || bookmark_pending_;
  }

  // What Next() answers now, if anything.
  std::optional<Answer> TakeLocked() {
    if (stopped_ || done_) return Answer(absl::CancelledError("watch stopped"));
    switch (fault_) {
      case Fault::kDrop:
        done_ = true;
        return Answer(absl::UnavailableError(
            absl::StrCat("fake watch of ", fake_->description_,
                         ": the stream broke in the middle of an event")));
      case Fault::kExpire:
        done_ = true;
        return Answer(Gone("the watch was dropped by the server"));
      case Fault::kClose:
        done_ = true;
        return Answer(std::nullopt);
      case Fault::kNone:
        break;
    }
    if (garbage_pending_) {
      garbage_pending_ = false;
      return Answer(absl::DataLossError(
          absl::StrCat("fake watch of ", fake_->description_, ": an event that does not decode")));
    }
    if (cursor_ < fake_->compacted_) {
      done_ = true;
      return Answer(Gone(absl::StrCat("too old resource version: ", cursor_, " (",
                                      fake_->compacted_, ")")));
    }
    const std::deque<Change>& history = fake_->history_;
    auto next = std::upper_bound(
        history.begin(), history.end(), cursor_,
        [](int64_t version, const Change& change) { return version < change.version; });
    if (next != history.end()) {
      cursor_ = next->version;
      WatchEvent event;
      event.type = next->type;
      event.object = next->object;
      event.resource_version = absl::StrCat(next->version);
      return Answer(std::move(event));
    }
    if (bookmark_pending_) {
      bookmark_pending_ = false;
      if (bookmarks_) {
        cursor_ = fake_->version_;
        WatchEvent event;
        event.type = WatchEventType::kBookmark;
        event.resource_version = absl::StrCat(cursor_);
        return Answer(std::move(event));
      }
    }
    return std::nullopt;
  }

  static WatchEvent Gone(const std::string& message) {
    WatchEvent event;
    event.type = WatchEventType::kError;
    event.error = absl::OutOfRangeError(message);
    return event;
  }

  FakeListerWatcher* const fake_;
  int64_t cursor_;
  const bool bookmarks_;
  bool stopped_ = false;
  // A terminal answer was given.
  bool done_ = false;
};

FakeListerWatcher::FakeListerWatcher(std::string description)
    : description_(std::move(description)) {}

FakeListerWatcher::~FakeListerWatcher() = default;

void FakeListerWatcher::Write(const std::string& key, WatchEventType type,
                              const google::protobuf::Message& object) {
  ++version_;
  Object stored = AtVersion(object, version_);
  if (type == WatchEventType::kDeleted) {
    objects_.erase(key);
  } else {
    objects_[key] = stored;
  }
  history_.push_back(Change{version_, type, std::move(stored)});
}

absl::Status FakeListerWatcher::Create(const google::protobuf::Message& object) {
  absl::StatusOr<std::string> key = KeyOf(object);
  if (!key.ok()) return key.status();
  std::lock_guard<std::mutex> lock(mu_);
  changed_.notify_all();
  if (objects_.count(*key) > 0) return absl::AlreadyExistsError(*key);
  Write(*key, WatchEventType::kAdded, object);
  return absl::OkStatus();
}

absl::Status FakeListerWatcher::Update(const google::protobuf::Message& object) {
  absl::StatusOr<std::string> key = KeyOf(object);
  if (!key.ok()) return key.status();
  std::lock_guard<std::mutex> lock(mu_);
  changed_.notify_all();
  if (objects_.count(*key) == 0) return absl::NotFoundError(*key);
  Write(*key, WatchEventType::kModified, object);
  return absl::OkStatus();
}

absl::Status FakeListerWatcher::Delete(absl::string_view key) {
  std::lock_guard<std::mutex> lock(mu_);
  changed_.notify_all();
  auto it = objects_.find(std::string(key));
  if (it == objects_.end()) return absl::NotFoundError(key);
  const Object last = it->second;
  Write(it->first, WatchEventType::kDeleted, *last);
  return absl::OkStatus();
}

std::map<std::string, Object> FakeListerWatcher::Objects() const {
  std::lock_guard<std::mutex> lock(mu_);
  return objects_;
}

std::string FakeListerWatcher::resource_version() const {
  std::lock_guard<std::mutex> lock(mu_);
  return absl::StrCat(version_);
}

void FakeListerWatcher::AdvanceVersion(int64_t n) {
  std::lock_guard<std::mutex> lock(mu_);
  changed_.notify_all();
  version_ += n;
}

void FakeListerWatcher::Compact() {
  std::lock_guard<std::mutex> lock(mu_);
  changed_.notify_all();
  compacted_ = version_;
  history_.clear();
  snapshots_.clear();
}

void FakeListerWatcher::FailNextList(absl::Status error) {
  std::lock_guard<std::mutex> lock(mu_);
  list_failures_.push_back(std::move(error));
}

void FakeListerWatcher::FailNextWatch(absl::Status error) {
  std::lock_guard<std::mutex> lock(mu_);
  watch_failures_.push_back(std::move(error));
}

void FakeListerWatcher::DropWatches() {
  std::lock_guard<std::mutex> lock(mu_);
  changed_.notify_all();
  for (Stream* s : streams_) s->fault_ = Stream::Fault::kDrop;
}

void FakeListerWatcher::ExpireWatches() {
  std::lock_guard<std::mutex> lock(mu_);
  changed_.notify_all();
  for (Stream* s : streams_) s->fault_ = Stream::Fault::kExpire;
}

void FakeListerWatcher::CloseWatches() {
  std::lock_guard<std::mutex> lock(mu_);
  changed_.notify_all();
  for (Stream* s : streams_) s->fault_ = Stream::Fault::kClose;
}

void FakeListerWatcher::SendBookmark() {
  std::lock_guard<std::mutex> lock(mu_);
  changed_.notify_all();
  for (Stream* s : streams_) s->bookmark_pending_ = true;
}

void FakeListerWatcher::SendGarbage() {
  std::lock_guard<std::mutex> lock(mu_);
  changed_.notify_all();
  for (Stream* s : streams_) s->garbage_pending_ = true;
}

void FakeListerWatcher::SetIdleHook(std::function<void()> hook) {
  std::lock_guard<std::mutex> lock(mu_);
  idle_hook_ = std::move(hook);
}

std::vector<std::string> FakeListerWatcher::requests() const {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

int FakeListerWatcher::open_watches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(streams_.size());
}

absl::StatusOr<ListPage> FakeListerWatcher::List(const ListOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.push_back(absl::StrCat("LIST rv=", options.resource_version,
                                   " limit=", options.limit,
                                   " continue=", options.continue_token));
  if (!list_failures_.empty()) {
    absl::Status error = std::move(list_failures_.front());
    list_failures_.pop_front();
    return error;
  }
  int64_t version = version_;
  std::string after;  // the last key of the page before
  if (!options.continue_token.empty()) {
    if (!options.resource_version.empty()) {
      return absl::InvalidArgumentError(
          "specifying resource version is not allowed when using continue");
    }
    std::pair<std::string, std::string> token =
        absl::StrSplit(options.continue_token, absl::MaxSplits('/', 1));
    if (!absl::SimpleAtoi(token.first, &version)) {
      return absl::InvalidArgumentError("continue key is not valid");
    }
    if (snapshots_.count(version) == 0) return absl::OutOfRangeError(kContinueExpired);
    after = token.second;
  } else if (!options.resource_version.empty() && options.resource_version != "0") {
    int64_t requested = 0;
    if (!absl::SimpleAtoi(options.resource_version, &requested)) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid resource version \"", options.resource_version, "\""));
    }
    if (requested > version_) {
      return absl::UnavailableError(absl::StrCat("Too large resource version: ", requested,
                                                 ", current: ", version_));
    }
  }
  const std::map<std::string, Object>& objects =
      options.continue_token.empty() ? objects_ : snapshots_[version];
  ListPage page;
  page.resource_version = absl::StrCat(version);
  auto it = after.empty() ? objects.begin() : objects.upper_bound(after);
  for (; it != objects.end(); ++it) {
    if (options.limit > 0 && static_cast<int64_t>(page.items.size()) == options.limit) {
      page.continue_token = absl::StrCat(version, "/", page.items.empty() ? "" : std::prev(it)->first);
      if (options.continue_token.empty()) snapshots_[version] = objects_;
      break;
    }
    page.items.push_back(Copy(*it->second));
  }
  return page;
}

absl::StatusOr<std::unique_ptr<WatchStream>> FakeListerWatcher::Watch(
    const WatchOptions& options) {
  std::lock_guard<std::mutex> lock(mu_);
  requests_.push_back(absl::StrCat("WATCH rv=", options.resource_version,
                                   " timeout=", options.timeout_seconds,
                                   " bookmarks=", options.allow_watch_bookmarks ? "true" : "false"));
  if (!watch_failures_.empty()) {
    absl::Status error = std::move(watch_failures_.front());
    watch_failures_.pop_front();
    return error;
  }
  int64_t from = 0;
  if (!absl::SimpleAtoi(options.resource_version, &from) || from <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "fake watch: resourceVersion \"", options.resource_version,
        "\": the fake serves watches from a version only"));
  }
  if (from > version_) {
    return absl::UnavailableError(
        absl::StrCat("Too large resource version: ", from, ", current: ", version_));
  }
  auto stream = std::make_unique<Stream>(this, from, options.allow_watch_bookmarks);
  streams_.push_back(stream.get());
  return std::unique_ptr<WatchStream>(std::move(stream));
}

}  // namespace kestrel::kube::testing
