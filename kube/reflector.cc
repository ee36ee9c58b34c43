#include "kube/reflector.h"

#include <iostream>
#include <memory>
#include <utility>

#include "absl/random/distributions.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace kestrel::kube {
namespace {

class RealClock : public ReflectorClock {
 public:
  absl::Time Now() override { return absl::Now(); }
  bool WaitFor(absl::Duration d, const StopSignal& stop) override { return stop.WaitFor(d); }
};

// client-go's isExpiredError: 410 Gone, reason Expired or Gone.
bool IsExpired(const absl::Status& s) { return s.code() == absl::StatusCode::kOutOfRange; }

// client-go's isTooLargeResourceVersionError: the server has not seen the
// version yet (a 504 whose message or cause says so, on every server
// version).
bool IsTooLargeResourceVersion(const absl::Status& s) {
  return absl::StrContains(s.message(), "Too large resource version");
}

// client-go's isWatchErrorRetriable (connection refused, 429), and a stream
// that broke: the server is probably fine with the version we have, so
// watch again from it rather than list everything.
bool IsRetriableWatchError(const absl::Status& s) {
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kResourceExhausted;
}

// Go's rand.Float64.
double Uniform01(absl::BitGenRef random) { return absl::Uniform<double>(random, 0.0, 1.0); }

absl::Status WithContext(absl::string_view context, const absl::Status& s) {
  return absl::Status(s.code(), absl::StrCat(context, s.message()));
}

}  // namespace

void StopSignal::Notify() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    notified_ = true;
  }
  notified_cv_.notify_all();
}

bool StopSignal::HasBeenNotified() const {
  std::lock_guard<std::mutex> lock(mu_);
  return notified_;
}

bool StopSignal::WaitFor(absl::Duration timeout) const {
  std::unique_lock<std::mutex> lock(mu_);
  return notified_cv_.wait_for(lock, absl::ToChronoNanoseconds(timeout),
                               [this]() ABSL_NO_THREAD_SAFETY_ANALYSIS { return notified_; });
}

ReflectorClock* ReflectorClock::Real() {
  static ReflectorClock* const clock = new RealClock();
  return clock;
}

Backoff::Backoff(BackoffOptions options, ReflectorClock* clock, absl::BitGenRef random)
    : options_(options),
      clock_(clock),
      random_(random),
      duration_(options.initial),
      last_(clock->Now()) {}

absl::Duration Backoff::Next() {
  const absl::Time now = clock_->Now();
  if (now - last_ > options_.reset_after) {
    duration_ = options_.initial;
    capped_ = false;
  }
  last_ = now;
  absl::Duration wait = duration_;
  if (!capped_) {
    duration_ = duration_ * options_.factor;
    if (options_.cap > absl::ZeroDuration() && duration_ > options_.cap) {
      duration_ = options_.cap;
      capped_ = true;
    }
  }
  if (options_.jitter > 0) {
    wait += wait * (Uniform01(random_) * options_.jitter);
  }
  return wait;
}

Reflector::Reflector(ListerWatcher* lister_watcher, ReflectorStore* store,
                     ReflectorOptions options)
    : lister_watcher_(lister_watcher),
      store_(store),
      options_(std::move(options)),
      name_(options_.name.empty() ? lister_watcher->description() : options_.name),
      clock_(options_.clock != nullptr ? options_.clock : ReflectorClock::Real()),
      random_(options_.random.has_value() ? *options_.random : absl::BitGenRef(own_random_)),
      backoff_(options_.backoff, clock_, random_) {}

void Reflector::Run() {
  while (!stopped()) {
    absl::Status s = ListAndWatch();
    if (stopped()) break;
    if (!s.ok()) Report(s);
    // As client-go's wait.BackoffUntil: a backoff after every round, so a
    // server that keeps failing lists is not asked again at once.
    if (WaitBackoff()) break;
  }
}

void Reflector::Stop() {
  stop_.Notify();
  std::lock_guard<std::mutex> lock(mu_);
  if (current_stream_ != nullptr) current_stream_->Stop();
}

std::string Reflector::LastSyncResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_sync_resource_version_;
}

absl::Status Reflector::ListAndWatch() {
  if (absl::Status s = List(); !s.ok()) return s;
  return WatchUntilRelist();
}

absl::Status Reflector::List() {
  ListOptions options;
  options.resource_version = RelistResourceVersion();
  int64_t page_size = kDefaultPageSize;
  if (options_.page_size != 0) {
    page_size = options_.page_size;
  } else if (!paginated_result_ && !options.resource_version.empty() &&
             options.resource_version != "0") {
    // A relist from a known version: unpaged, so that the watch cache can
    // answer it (it only serves such lists without a limit) instead of
    // every reflector paging through storage at once after an outage.
    page_size = 0;
  }
  absl::StatusOr<PagedList> list = ListAllPages(*lister_watcher_, options, page_size);
  if (!list.ok() && (IsExpired(list.status()) || IsTooLargeResourceVersion(list.status()))) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      last_sync_resource_version_unavailable_ = true;
    }
    ListOptions latest;
    latest.resource_version = RelistResourceVersion();
    list = ListAllPages(*lister_watcher_, latest, page_size);
  }
  if (!list.ok()) {
    if (list.status().code() == absl::StatusCode::kNotFound) {
      // The server has no such resource: say so to whoever waits for the
      // store to sync, with an empty one.
      if (absl::Status s = store_->Replace({}, {}, ""); !s.ok()) Report(s);
    }
    return WithContext("failed to list: ", list.status());
  }
  if (options.resource_version == "0" && list->paginated) paginated_result_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_sync_resource_version_unavailable_ = false;
  }
  std::vector<std::string> keep;
  for (const Undecodable& u : list->page.undecodable) {
    Report(u.error);
    if (!u.key.empty()) keep.push_back(u.key);
  }
  const std::string version = list->page.resource_version;
  if (absl::Status s = store_->Replace(std::move(list->page.items), keep, version); !s.ok()) {
    return WithContext("unable to sync the list: ", s);
  }
  SetLastSyncResourceVersion(version);
  return absl::OkStatus();
}

absl::Status Reflector::WatchUntilRelist() {
  while (!stopped()) {
    const absl::Time start = clock_->Now();
    WatchOptions options;
    options.resource_version = LastSyncResourceVersion();
    options.allow_watch_bookmarks = true;
    options.timeout_seconds =
        static_cast<int64_t>(absl::ToDoubleSeconds(options_.min_watch_timeout) *
                             (Uniform01(random_) + 1.0));
    absl::Status s;
    absl::StatusOr<std::unique_ptr<WatchStream>> stream = lister_watcher_->Watch(options);
    if (!stream.ok()) {
      s = stream.status();
    } else {
      s = SetCurrentStream(stream->get()) ? HandleWatch(start, **stream)
                                          : absl::CancelledError("stopped");
      SetCurrentStream(nullptr);
      (*stream)->Stop();
    }
    if (s.ok()) continue;  // ended cleanly: watch on from the last version
    if (stopped()) return absl::OkStatus();
    if (IsExpired(s)) return absl::OkStatus();  // list again, after a backoff
    if (IsRetriableWatchError(s)) {
      Report(WithContext(absl::StrCat("watch from version ", options.resource_version,
                                      " broke; watching again from the last version after a "
                                      "backoff: "),
                         s));
      if (WaitBackoff()) return absl::OkStatus();
      continue;
    }
    Report(WithContext("watch ended; listing again after a backoff: ", s));
    return absl::OkStatus();
  }
  return absl::OkStatus();
}

absl::Status Reflector::HandleWatch(absl::Time start, WatchStream& stream) {
  int64_t events = 0;
  while (true) {
    absl::StatusOr<std::optional<WatchEvent>> next = stream.Next();
    if (!next.ok()) {
      if (next.status().code() == absl::StatusCode::kDataLoss) {
        Report(next.status());  // one event lost to bad input; the stream goes on
        continue;
      }
      return next.status();
    }
    if (!next->has_value()) break;
    const WatchEvent& event = **next;
    if (event.type == WatchEventType::kError) {
      if (event.error.ok()) return absl::UnknownError("an ERROR event without a status");
      // As client-go: a 410 relists and a 429 backs off and watches again,
      // but a server that ends the watch with any other error (a 5xx
      // included) is listed again, not resumed.
      if (IsExpired(event.error) || event.error.code() == absl::StatusCode::kResourceExhausted) {
        return event.error;
      }
      return absl::InternalError(event.error.message());
    }
    if (absl::Status s = Apply(event); !s.ok()) Report(s);
    // An event without a version would send the next watch back to
    // "most recent", with synthetic ADDED events; keep the last good one.
    if (!event.resource_version.empty()) SetLastSyncResourceVersion(event.resource_version);
    ++events;
  }
  if (clock_->Now() - start < absl::Seconds(1) && events == 0) {
    return absl::UnknownError(
        "very short watch: unexpected watch close - watch lasted less than a second and no "
        "items received");
  }
  return absl::OkStatus();
}

absl::Status Reflector::Apply(const WatchEvent& event) {
  if (event.type == WatchEventType::kBookmark) return absl::OkStatus();
  if (event.object == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("a ", WatchEventTypeName(event.type), " event without an object"));
  }
  switch (event.type) {
    case WatchEventType::kAdded:
      return store_->Add(event.object);
    case WatchEventType::kModified:
      return store_->Update(event.object);
    case WatchEventType::kDeleted:
      return store_->Delete(event.object);
    default:
      return absl::OkStatus();
  }
}

std::string Reflector::RelistResourceVersion() const {
  std::lock_guard<std::mutex> lock(mu_);
  if (last_sync_resource_version_unavailable_) return "";
  if (last_sync_resource_version_.empty()) return "0";
  return last_sync_resource_version_;
}

void Reflector::SetLastSyncResourceVersion(const std::string& version) {
  std::lock_guard<std::mutex> lock(mu_);
  last_sync_resource_version_ = version;
}

bool Reflector::SetCurrentStream(WatchStream* stream) {
  std::lock_guard<std::mutex> lock(mu_);
  current_stream_ = stream;
  return !stop_.HasBeenNotified();
}

bool Reflector::WaitBackoff() { return clock_->WaitFor(backoff_.Next(), stop_); }

void Reflector::Report(const absl::Status& status) {
  absl::Status s = WithContext(absl::StrCat("reflector ", name_, ": "), status);
  if (options_.on_error) {
    options_.on_error(s);
  } else {
    std::cerr << s.message() << "\n";
  }
}

}  // namespace kestrel::kube
