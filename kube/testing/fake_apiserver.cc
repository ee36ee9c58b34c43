#include "kube/testing/fake_apiserver.h"

#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>
#include <limits>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <optional>
#include <tuple>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "kube/codec.h"
#include "kube/testing/discovery.h"
#include "kube/testing/json_util.h"
#include "kube/testing/object_store.h"
#include "kube/testing/patch.h"
#include "kube/testing/reviews.h"
#include "kube/testing/selectors.h"
#include "kube/testing/table.h"
#include "kube/testing/wire.h"

namespace kestrel::kube::testing {
namespace {

constexpr char kModified[] =
    "the object has been modified; please apply your changes to the latest version and try "
    "again";
constexpr char kNamespaceMismatch[] =
    "the namespace of the provided object does not match the namespace sent on the request";
// staging/src/k8s.io/apiserver/pkg/storage/etcd3/errors.go
constexpr char kExpiredList[] = "The resourceVersion for the provided list is too old.";
constexpr char kInconsistentContinue[] =
    "The provided continue parameter is too old to display a consistent list result. You can "
    "start a new list without the continue parameter, or use the continue token in this response "
    "to retrieve the remainder of the results. Continuing with the provided token results in an "
    "inconsistent list - objects that were created, modified, or deleted between the time the "
    "first chunk was returned and now may show up in the list.";
constexpr char kContinueVersion[] = "meta.k8s.io/v1";
// The default spec.terminationGracePeriodSeconds (pkg/apis/core/v1/defaults.go).
constexpr int64_t kDefaultGracePeriodSeconds = 30;
// A watch writes its pending frames in writes of about this size.
constexpr size_t kWatchWriteBytes = size_t{1} << 20;

// ---------------------------------------------------------------------------
// API resources: what the URLs serve, and how each shows the stored kind.

json EventToEventsV1(const json& stored);
json EventsV1ToEvent(const json& given);

struct Resource {
  const char* group;  // "" for the core group
  const char* version;
  const char* plural;
  const KindInfo* kind;  // how it is stored
  // The apiVersion objects have in this API, and the conversions from the
  // stored form and back (nullptr: the same form).
  const char* api_version;
  json (*to_api)(const json&);
  json (*from_api)(const json&);
  // What discovery says of it besides: upstream's singular name, short
  // names and categories (comma-separated, "" for none).
  const char* singular;
  const char* short_names;
  const char* categories;
};

constexpr Resource kResources[] = {
    {"", "v1", "nodes", &kNode, "v1", nullptr, nullptr, "node", "no", ""},
    {"", "v1", "pods", &kPod, "v1", nullptr, nullptr, "pod", "po", "all"},
    {"", "v1", "events", &kEvent, "v1", nullptr, nullptr, "event", "ev", ""},
    {"", "v1", "namespaces", &kNamespace, "v1", nullptr, nullptr, "namespace", "ns", ""},
    {"policy", "v1", "poddisruptionbudgets", &kPdb, "policy/v1", nullptr, nullptr,
     "poddisruptionbudget", "pdb", ""},
    {"scheduling.k8s.io", "v1", "priorityclasses", &kPriorityClass, "scheduling.k8s.io/v1", nullptr,
     nullptr, "priorityclass", "pc", ""},
    {"coordination.k8s.io", "v1", "leases", &kLease, "coordination.k8s.io/v1", nullptr, nullptr,
     "lease", "", ""},
    {"events.k8s.io", "v1", "events", &kEvent, "events.k8s.io/v1", &EventToEventsV1,
     &EventsV1ToEvent, "event", "ev", ""},
};

const Resource* FindResource(absl::string_view group, absl::string_view version,
                             absl::string_view plural) {
  for (const Resource& r : kResources) {
    if (group == r.group && version == r.version && plural == r.plural) return &r;
  }
  return nullptr;
}

// The resource a kind is stored and named as (its own API group).
const Resource& HomeOf(const KindInfo& k) {
  for (const Resource& r : kResources) {
    if (r.kind == &k && r.to_api == nullptr) return r;
  }
  return kResources[0];  // every kind has one
}

std::vector<std::string> SplitList(const char* list) {
  return absl::StrSplit(list, ',', absl::SkipEmpty());
}

// What discovery lists: every resource with the verbs served (no
// deletecollection), and the subresources ParseTarget accepts.
const std::vector<ApiResource>& ApiResources() {
  static const auto* resources = [] {
    auto* out = new std::vector<ApiResource>();
    const std::vector<std::string> verbs = {"create", "delete", "get",  "list",
                                            "patch",  "update", "watch"};
    for (const Resource& r : kResources) {
      ApiResource main;
      main.group = r.group;
      main.version = r.version;
      main.name = r.plural;
      main.singular = r.singular;
      main.namespaced = r.kind->namespaced;
      main.kind = r.kind->kind;
      main.verbs = verbs;
      main.short_names = SplitList(r.short_names);
      main.categories = SplitList(r.categories);
      out->push_back(main);
      ApiResource sub = main;
      sub.singular = "";
      sub.short_names.clear();
      sub.categories.clear();
      if (r.kind->has_status && r.to_api == nullptr) {
        sub.name = absl::StrCat(r.plural, "/status");
        sub.verbs = {"get", "patch", "update"};
        out->push_back(sub);
      }
      if (r.kind == &kPod) {
        sub.verbs = {"create"};
        sub.name = "pods/binding";
        sub.kind = "Binding";
        out->push_back(sub);
        sub.name = "pods/eviction";
        sub.kind = "Eviction";
        sub.kind_group = "policy";
        sub.kind_version = "v1";
        out->push_back(sub);
      }
    }
    // Upstream lists a group version's resources by name.
    std::stable_sort(out->begin(), out->end(), [](const ApiResource& a, const ApiResource& b) {
      return std::tie(a.group, a.version, a.name) < std::tie(b.group, b.version, b.name);
    });
    return out;
  }();
  return *resources;
}

json ToApi(const Resource& r, const json& stored) {
  return r.to_api == nullptr ? stored : r.to_api(stored);
}

json FromApi(const Resource& r, const json& given) {
  return r.from_api == nullptr ? given : r.from_api(given);
}

// core/v1 Event <-> events.k8s.io/v1 Event (pkg/apis/events/v1/conversion.go).
constexpr std::pair<const char*, const char*> kEventFields[] = {
    {"metadata", "metadata"},
    {"eventTime", "eventTime"},
    {"series", "series"},
    {"reportingComponent", "reportingController"},
    {"reportingInstance", "reportingInstance"},
    {"action", "action"},
    {"reason", "reason"},
    {"involvedObject", "regarding"},
    {"related", "related"},
    {"message", "note"},
    {"type", "type"},
    {"source", "deprecatedSource"},
    {"firstTimestamp", "deprecatedFirstTimestamp"},
    {"lastTimestamp", "deprecatedLastTimestamp"},
    {"count", "deprecatedCount"},
};

json EventToEventsV1(const json& stored) {
  json out = json::object();
  out["kind"] = "Event";
  out["apiVersion"] = "events.k8s.io/v1";
  for (const auto& [core, v1] : kEventFields) {
    const json& v = Member(stored, core);
    if (!v.is_null()) out[v1] = v;
  }
  return out;
}

json EventsV1ToEvent(const json& given) {
  json out = json::object();
  out["kind"] = "Event";
  out["apiVersion"] = "v1";
  for (const auto& [core, v1] : kEventFields) {
    const json& v = Member(given, v1);
    if (!v.is_null()) out[core] = v;
  }
  return out;
}

// How upstream names a resource in messages: "pods", "poddisruptionbudgets.policy".
std::string Qualified(absl::string_view plural, absl::string_view group) {
  return group.empty() ? std::string(plural) : absl::StrCat(plural, ".", group);
}

std::string Qualified(const Resource& r) { return Qualified(r.plural, r.group); }

// ---------------------------------------------------------------------------
// Answers and Status objects.

// An HTTP answer: the code and the JSON body.
struct Reply {
  int code = 200;
  json body;
  int retry_after_seconds = 0;
};

// Upstream's StatusReason for the HTTP codes that have one, and a generic
// message for each (client-go's words where it has them): the message of
// injected failures.
struct CodeInfo {
  int code;
  const char* reason;
  const char* message;
};

constexpr CodeInfo kCodes[] = {
    {400, "BadRequest", "the server rejected our request for an unknown reason"},
    {401, "Unauthorized", "the server has asked for the client to provide credentials"},
    {403, "Forbidden", "the server does not allow access to the requested resource"},
    {404, "NotFound", "the server could not find the requested resource"},
    {405, "MethodNotAllowed", "the server does not allow this method on the requested resource"},
    {406, "NotAcceptable", "the server cannot answer in a media type the client accepts"},
    {409, "Conflict", "the server reported a conflict"},
    {410, "Expired", "the server has discarded the requested resource version"},
    {413, "RequestEntityTooLarge", "the request is too large for the server"},
    {415, "UnsupportedMediaType", "the server does not support the media type of the request"},
    {422, "Invalid", "the server rejected our request due to an error in our request"},
    {429, "TooManyRequests",
     "the server has received too many requests and has asked us to try again later"},
    {500, "InternalError", "an error on the server has prevented the request from succeeding"},
    {503, "ServiceUnavailable", "the server is currently unable to handle the request"},
    {504, "Timeout",
     "the server was unable to return a response in the time allotted, but may still be "
     "processing the request"},
};

const CodeInfo* FindCode(int code) {
  for (const CodeInfo& c : kCodes) {
    if (c.code == code) return &c;
  }
  return nullptr;
}

// "" (the field omitted) for a code without a reason.
std::string ReasonFor(int code) {
  const CodeInfo* c = FindCode(code);
  return c == nullptr ? "" : c->reason;
}

std::string GenericMessage(int code) {
  const CodeInfo* c = FindCode(code);
  return c == nullptr ? absl::StrCat("the server responded with HTTP ", code) : c->message;
}

Reply StatusReply(int code, const std::string& status, const std::string& reason,
                  const std::string& message, json details) {
  json body = json::object();
  body["kind"] = "Status";
  body["apiVersion"] = "v1";
  body["metadata"] = json::object();
  body["status"] = status;
  if (!message.empty()) body["message"] = message;
  if (!reason.empty()) body["reason"] = reason;
  if (!details.is_null()) body["details"] = std::move(details);
  body["code"] = code;
  return {code, std::move(body)};
}

Reply Failure(int code, const std::string& message, json details = json()) {
  return StatusReply(code, "Failure", ReasonFor(code), message, std::move(details));
}

Reply Success(int code, json details = json()) {
  return StatusReply(code, "Success", "", "", std::move(details));
}

json Details(absl::string_view plural, absl::string_view group, const std::string& name) {
  json d = json::object();
  d["name"] = name;
  if (!group.empty()) d["group"] = std::string(group);
  d["kind"] = std::string(plural);
  return d;
}

json Details(const Resource& r, const std::string& name) {
  return Details(r.plural, r.group, name);
}

Reply NotFound(const Resource& r, const std::string& name) {
  return Failure(404, absl::StrCat(Qualified(r), " \"", name, "\" not found"), Details(r, name));
}

Reply AlreadyExists(const Resource& r, const std::string& name) {
  return StatusReply(409, "Failure", "AlreadyExists",
                     absl::StrCat(Qualified(r), " \"", name, "\" already exists"),
                     Details(r, name));
}

Reply Conflict(absl::string_view plural, absl::string_view group, const std::string& name,
               const std::string& why) {
  return Failure(409,
                 absl::StrCat("Operation cannot be fulfilled on ", Qualified(plural, group), " \"",
                              name, "\": ", why),
                 Details(plural, group, name));
}

Reply Conflict(const Resource& r, const std::string& name, const std::string& why) {
  return Conflict(r.plural, r.group, name, why);
}

// errors.NewInvalid for one field.
Reply Invalid(const Resource& r, const std::string& name, const std::string& field,
              const std::string& cause_reason, const std::string& detail) {
  json details = Details(r, name);
  details["causes"] =
      json::array({{{"reason", cause_reason}, {"message", detail}, {"field", field}}});
  return Failure(422,
                 absl::StrCat(Qualified(r.plural, r.group), " \"", name, "\" is invalid: ", field,
                              ": ", detail),
                 std::move(details));
}

Reply NameRequired(const KindInfo& k) {
  json details = json::object();
  details["name"] = "";
  details["kind"] = k.kind;
  details["causes"] = json::array({{{"reason", "FieldValueRequired"},
                                    {"message", "Required value: name or generateName is required"},
                                    {"field", "metadata.name"}}});
  return Failure(422,
                 absl::StrCat(k.kind,
                              " \"\" is invalid: metadata.name: Required value: name or "
                              "generateName is required"),
                 std::move(details));
}

Reply NotJson(const std::string& what) {
  return Failure(400, absl::StrCat("the body of the request is not a JSON ", what));
}

Reply UnsupportedMediaType(const std::string& accepted) {
  return Failure(415, absl::StrCat("the body of the request was in an unknown format - accepted "
                                   "media types include: ",
                                   accepted));
}

// errors.NewResourceExpired: 410 with reason Expired.
Reply Expired(const std::string& message) {
  return StatusReply(410, "Failure", "Expired", message, json());
}

// errors.NewTooLargeResourceVersionError, without upstream's wait for the
// watch cache (this store is never behind).
Reply TooLargeResourceVersion(int64_t wanted, int64_t current) {
  json details = json::object();
  details["causes"] = json::array(
      {{{"reason", "ResourceVersionTooLarge"}, {"message", "Too large resource version"}}});
  details["retryAfterSeconds"] = 1;
  Reply r =
      Failure(504, absl::StrCat("Too large resource version: ", wanted, ", current: ", current),
              std::move(details));
  r.retry_after_seconds = 1;
  return r;
}

// The error as an absl::Status, for the test-side API.
absl::Status ToStatus(const Reply& reply) {
  if (reply.code < 300) return absl::OkStatus();
  const std::string message = Str(Member(reply.body, "message"));
  switch (reply.code) {
    case 400:
    case 415:
    case 422:
      return absl::InvalidArgumentError(message);
    case 404:
      return absl::NotFoundError(message);
    case 409:
      return Str(Member(reply.body, "reason")) == "AlreadyExists"
                 ? absl::AlreadyExistsError(message)
                 : absl::AbortedError(message);
    default:
      return absl::InternalError(message);
  }
}

// A Status for an error from patch.h or a parser: InvalidArgument is 400,
// FailedPrecondition 422.
Reply FromStatus(const absl::Status& s) {
  return Failure(s.code() == absl::StatusCode::kFailedPrecondition ? 422 : 400,
                 std::string(s.message()));
}

// ---------------------------------------------------------------------------
// Requests.

// "application/merge-patch+json" from "application/merge-patch+json; charset=utf-8".
std::string MediaType(const std::string& content_type) {
  std::vector<absl::string_view> parts = absl::StrSplit(content_type, absl::MaxSplits(';', 1));
  return absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
}

bool IsJson(const httplib::Request& req) {
  const std::string type = MediaType(req.get_header_value("Content-Type"));
  return type.empty() || type == "application/json";
}

// kube-apiserver's health checks, which answer "ok" as plain text.
bool IsHealthPath(const std::string& path) {
  return path == "/healthz" || path == "/livez" || path == "/readyz";
}

// Go's strconv.ParseBool, true side: how upstream reads boolean parameters.
bool IsTrue(const std::string& v) {
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}

// Checks and tidies an object about to be stored as `kind` / `api_version`:
// an object, metadata an object whose system fields are strings (nulls
// dropped), labels a map of strings, kind and apiVersion the expected ones
// (filled in when absent). Returns why not, or "".
std::string Normalize(const std::string& kind, const std::string& api_version, json& object) {
  if (!object.is_object()) return "the object must be a JSON object";
  if (!Member(object, "kind").is_null() && Str(object["kind"]) != kind) {
    return absl::StrCat("the kind of the object (", Dump(object["kind"]),
                        ") does not match the expected kind (", kind, ")");
  }
  if (!Member(object, "apiVersion").is_null() && Str(object["apiVersion"]) != api_version) {
    return absl::StrCat("the API version of the object (", Dump(object["apiVersion"]),
                        ") does not match the expected API version (", api_version, ")");
  }
  object["kind"] = kind;
  object["apiVersion"] = api_version;
  json& meta = object["metadata"];
  if (meta.is_null()) meta = json::object();
  if (!meta.is_object()) return "metadata must be a JSON object";
  for (const char* field : {"name", "namespace", "generateName", "resourceVersion", "uid",
                            "creationTimestamp", "deletionTimestamp"}) {
    auto it = meta.find(field);
    if (it == meta.end()) continue;
    if (it->is_null()) {
      meta.erase(it);
    } else if (!it->is_string()) {
      return absl::StrCat("metadata.", field, " must be a string");
    }
  }
  for (const char* field : {"deletionGracePeriodSeconds", "generation"}) {
    auto it = meta.find(field);
    if (it == meta.end()) continue;
    if (it->is_null()) {
      meta.erase(it);
    } else if (!it->is_number_integer()) {
      return absl::StrCat("metadata.", field, " must be an integer");
    }
  }
  for (const char* field : {"labels", "annotations"}) {
    auto map = meta.find(field);
    if (map == meta.end() || map->is_null()) continue;
    if (!map->is_object()) return absl::StrCat("metadata.", field, " must be a map of strings");
    for (const json& v : *map) {
      if (!v.is_string()) return absl::StrCat("metadata.", field, " must be a map of strings");
    }
  }
  return "";
}

std::string Normalize(const KindInfo& k, json& object) {
  return Normalize(k.kind, k.api_version, object);
}

// Kind-specific defaults every stored object has (pkg/apis/core/v1/defaults.go):
// a namespace carries its name as the kubernetes.io/metadata.name label.
void ApplyDefaults(const KindInfo& k, json& object) {
  if (&k == &kNamespace && !Meta(object, "name").empty()) {
    object["metadata"]["labels"]["kubernetes.io/metadata.name"] = Meta(object, "name");
  }
}

// The registry strategies' PrepareForCreate, for objects created through
// the API.
void PrepareForCreate(const KindInfo& k, json& object) {
  json& meta = object["metadata"];
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  if (&k == &kPod) {
    object["status"] = {{"phase", "Pending"}};
    // applySchedulingGatedCondition: a gated pod says so from the start.
    const json& gates = Member(Member(object, "spec"), "schedulingGates");
    if (gates.is_array() && !gates.empty()) {
      object["status"]["conditions"] = json::array(
          {{{"type", "PodScheduled"},
            {"status", "False"},
            {"reason", "SchedulingGated"},
            {"message", "Scheduling is blocked due to non-empty scheduling gates"}}});
    }
  } else if (&k == &kPdb) {
    object["status"] = json::object();
    meta["generation"] = 1;
  } else if (&k == &kNamespace) {
    object["status"] = {{"phase", "Active"}};
    json& finalizers = object["spec"]["finalizers"];
    if (!finalizers.is_array()) finalizers = json::array();
    if (std::find(finalizers.begin(), finalizers.end(), json("kubernetes")) == finalizers.end()) {
      finalizers.push_back("kubernetes");
    }
  }
}

// What DeleteOptions say.
struct DeleteOptions {
  std::optional<int64_t> grace_period_seconds;
  std::string uid;               // preconditions.uid
  std::string resource_version;  // preconditions.resourceVersion
};

absl::StatusOr<DeleteOptions> ParseDeleteOptions(const json& options) {
  DeleteOptions out;
  if (options.is_null()) return out;
  if (!options.is_object()) return absl::InvalidArgumentError("DeleteOptions must be an object");
  const json& grace = Member(options, "gracePeriodSeconds");
  if (!grace.is_null()) {
    if (!grace.is_number_integer()) {
      return absl::InvalidArgumentError("gracePeriodSeconds must be an integer");
    }
    out.grace_period_seconds = grace.get<int64_t>();
  }
  const json& preconditions = Member(options, "preconditions");
  out.uid = Str(Member(preconditions, "uid"));
  out.resource_version = Str(Member(preconditions, "resourceVersion"));
  return out;
}

// ---------------------------------------------------------------------------
// Paths.

// What a path names.
struct Target {
  const Resource* resource = nullptr;
  std::string ns;           // the namespace in the path, if any
  std::string name;         // an object, if named
  std::string subresource;  // "status", "binding", "eviction"
  bool watch_path = false;  // the deprecated /watch/ prefix
};

bool AllowsSubresource(const Resource& r, const std::string& sub) {
  if (sub == "status") return r.kind->has_status && r.to_api == nullptr;
  if (sub == "binding" || sub == "eviction") return r.kind == &kPod;
  return false;
}

// nullopt: nothing is served there (404).
std::optional<Target> ParseTarget(const std::string& path) {
  std::vector<std::string> segments = absl::StrSplit(path, '/', absl::SkipEmpty());
  std::string group;
  std::string version;
  size_t at = 0;
  if (segments.size() >= 2 && segments[0] == "api") {
    version = segments[1];
    at = 2;
  } else if (segments.size() >= 3 && segments[0] == "apis") {
    group = segments[1];
    version = segments[2];
    at = 3;
  } else {
    return std::nullopt;
  }
  std::vector<std::string> rest(segments.begin() + at, segments.end());
  Target t;
  if (!rest.empty() && rest[0] == "watch") {
    t.watch_path = true;
    rest.erase(rest.begin());
  }
  if (rest.empty()) return std::nullopt;
  std::string plural;
  // namespaces/{ns}/<resource>... except a namespace's own subresources.
  const bool namespace_subresource =
      rest.size() == 3 && rest[0] == "namespaces" && (rest[2] == "status" || rest[2] == "finalize");
  if (rest[0] == "namespaces" && rest.size() >= 3 && !namespace_subresource) {
    if (rest.size() > 5) return std::nullopt;
    t.ns = rest[1];
    plural = rest[2];
    if (rest.size() >= 4) t.name = rest[3];
    if (rest.size() == 5) t.subresource = rest[4];
  } else {
    if (rest.size() > 3) return std::nullopt;
    plural = rest[0];
    if (rest.size() >= 2) t.name = rest[1];
    if (rest.size() == 3) t.subresource = rest[2];
  }
  t.resource = FindResource(group, version, plural);
  if (t.resource == nullptr) return std::nullopt;
  const bool namespaced = t.resource->kind->namespaced;
  if (!namespaced && !t.ns.empty()) return std::nullopt;
  if (namespaced && t.ns.empty() && !t.name.empty()) return std::nullopt;
  if (!t.subresource.empty() && (t.watch_path || !AllowsSubresource(*t.resource, t.subresource))) {
    return std::nullopt;
  }
  return t;
}

// ---------------------------------------------------------------------------
// Continue tokens (staging/src/k8s.io/apiserver/pkg/storage/continue.go).

std::string EncodeContinue(int64_t resource_version, const std::string& start) {
  return absl::WebSafeBase64Escape(absl::StrCat(R"({"v":")", kContinueVersion, R"(","rv":)",
                                                resource_version, R"(,"start":)", Dump(start),
                                                "}"));
}

struct ContinueToken {
  int64_t resource_version = 0;  // -1: the latest
  std::string start;             // the first key, below the list's prefix
};

// path.Clean for a key that starts with "/".
std::string CleanPath(const std::string& path) {
  std::vector<std::string> parts;
  for (absl::string_view p : absl::StrSplit(path, '/', absl::SkipEmpty())) {
    if (p == ".") continue;
    if (p == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.emplace_back(p);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

absl::StatusOr<ContinueToken> DecodeContinue(const std::string& token) {
  std::string raw;
  if (!absl::WebSafeBase64Unescape(token, &raw)) {
    return absl::InvalidArgumentError("continue key is not valid: illegal base64 data");
  }
  const json c = json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (c.is_discarded() || !c.is_object()) {
    return absl::InvalidArgumentError("continue key is not valid: not a JSON object");
  }
  const std::string v = Str(Member(c, "v"));
  if (v != kContinueVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        "continue key is not valid: server does not recognize this encoded version \"", v, "\""));
  }
  ContinueToken out;
  out.resource_version = Int(Member(c, "rv"));
  out.start = Str(Member(c, "start"));
  if (out.resource_version == 0) {
    return absl::InvalidArgumentError(
        "continue key is not valid: incorrect encoded start resourceVersion (version "
        "meta.k8s.io/v1)");
  }
  if (out.start.empty()) {
    return absl::InvalidArgumentError(
        "continue key is not valid: encoded start key empty (version meta.k8s.io/v1)");
  }
  // Upstream cleans the key so that it cannot range above the list's prefix.
  const std::string key = absl::StartsWith(out.start, "/") ? out.start : "/" + out.start;
  if (CleanPath(key) != key) {
    return absl::InvalidArgumentError(absl::StrCat("continue key is not valid: ", out.start));
  }
  out.start = key.substr(1);
  return out;
}

// ---------------------------------------------------------------------------
// Connections. httplib keeps its sockets to itself; the server finds them
// in /proc/self/fd by their addresses (local port the server's, and the
// client's port), to close them and to see whether a watch's client left.

int PortOf(const sockaddr_storage& a) {
  if (a.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(a).sin_port);
  if (a.ss_family == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6&>(a).sin6_port);
  return -1;
}

// The server-side sockets of connections to `local_port`: all of them, or
// only the one from `remote_port` when it is not -1.
std::vector<int> ServerSockets(int local_port, int remote_port) {
  std::vector<int> out;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return out;
  const int own = dirfd(dir);
  while (const dirent* entry = readdir(dir)) {
    int fd;
    if (!absl::SimpleAtoi(entry->d_name, &fd) || fd == own) continue;
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage local{};
    socklen_t len = sizeof(local);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &len) != 0) continue;
    if (PortOf(local) != local_port) continue;
    sockaddr_storage peer{};
    len = sizeof(peer);
    // The listening socket has no peer.
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &len) != 0) continue;
    if (remote_port != -1 && PortOf(peer) != remote_port) continue;
    out.push_back(fd);
  }
  closedir(dir);
  return out;
}

// The client closed the connection (or it was shut down here).
bool PeerGone(int fd) {
  if (fd < 0) return false;
  pollfd p{};
  p.fd = fd;
  p.events = POLLIN | POLLRDHUP;
  if (poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL)) return true;
  if (p.revents & POLLIN) {
    char c;
    return recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }
  return false;
}

// ---------------------------------------------------------------------------
// Pods and budgets.

bool IsPodReady(const json& pod) {
  const json& conditions = Member(Member(pod, "status"), "conditions");
  if (!conditions.is_array()) return false;
  for (const json& c : conditions) {
    if (Str(Member(c, "type")) == "Ready") return Str(Member(c, "status")) == "True";
  }
  return false;
}

// apimeta.SetStatusCondition on a list of metav1.Conditions.
void SetStatusCondition(json& conditions, const std::string& type, const std::string& status,
                        const std::string& reason, int64_t observed_generation) {
  if (!conditions.is_array()) conditions = json::array();
  const std::string now = TimeString(absl::Now());
  for (json& c : conditions) {
    if (Str(Member(c, "type")) != type) continue;
    if (Str(Member(c, "status")) != status) {
      c["status"] = status;
      c["lastTransitionTime"] = now;
    }
    c["reason"] = reason;
    c["message"] = "";
    c["observedGeneration"] = observed_generation;
    return;
  }
  conditions.push_back({{"type", type},
                        {"status", status},
                        {"observedGeneration", observed_generation},
                        {"lastTransitionTime", now},
                        {"reason", reason},
                        {"message", ""}});
}

// podutil.UpdatePodCondition for PodScheduled=True.
void SetPodScheduled(json& pod) {
  json& conditions = pod["status"]["conditions"];
  if (!conditions.is_array()) conditions = json::array();
  const std::string now = TimeString(absl::Now());
  for (json& c : conditions) {
    if (Str(Member(c, "type")) != "PodScheduled") continue;
    const std::string since =
        Str(Member(c, "status")) == "True" ? Str(Member(c, "lastTransitionTime")) : now;
    c = {{"type", "PodScheduled"},
         {"status", "True"},
         {"lastProbeTime", nullptr},
         {"lastTransitionTime", since}};
    return;
  }
  conditions.push_back({{"type", "PodScheduled"},
                        {"status", "True"},
                        {"lastProbeTime", nullptr},
                        {"lastTransitionTime", now}});
}

Reply TooManyRequests(const std::string& cause, int retry_after_seconds = 0) {
  json details = json::object();
  details["causes"] = json::array({{{"reason", "DisruptionBudget"}, {"message", cause}}});
  if (retry_after_seconds > 0) details["retryAfterSeconds"] = retry_after_seconds;
  Reply r = Failure(429, "Cannot evict pod as it would violate the pod's disruption budget.",
                    std::move(details));
  r.retry_after_seconds = retry_after_seconds;
  return r;
}

}  // namespace

// ---------------------------------------------------------------------------
// The server behind the HTTP handlers.

class FakeApiServer::Impl {
 public:
  explicit Impl(FakeApiServerOptions options)
      : options_(std::move(options)), store_(options_.history_size) {}

  void set_port(int port) { port_ = port; }

  // Every request comes here, on one of httplib's handler threads.
  void Handle(const httplib::Request& req, httplib::Response& res) {
    ++requests_;
    if (req.method == "GET" && req.get_param_value("watch") != "true" &&
        req.get_param_value("watch") != "1") {
      absl::MutexLock lock(&lists_mu_);
      ++lists_[req.path];
    }
    if (const absl::Duration delay = LatencyFor(req.path); delay > absl::ZeroDuration()) {
      absl::SleepFor(delay);
    }
    if (!options_.required_token.empty() && !IsHealthPath(req.path) &&
        req.get_header_value("Authorization") != "Bearer " + options_.required_token) {
      // What an API server answers for a missing, unknown or expired token.
      res.status = 401;
      res.set_content(Failure(401, "Unauthorized").body.dump(), "application/json");
      Answered(req, res.status);
      return;
    }
    const std::optional<Injected> injected = TakeInjected(req);
    if (injected.has_value() && injected->close) {
      for (int fd : ServerSockets(port_, req.remote_port)) shutdown(fd, SHUT_RDWR);
      return;
    }
    if (req.method == "POST" && !injected.has_value()) {
      if (std::optional<Reviews::Answer> a = reviews_.Serve(req.path, req.body); a.has_value()) {
        res.status = a->code;
        res.set_content(a->code == 201 ? a->body.dump() : Failure(a->code, a->body.get<std::string>()).body.dump(),
                        "application/json");
        return;
      }
    }
    const bool get = req.method == "GET" || req.method == "HEAD";
    if (get && !injected.has_value() && IsHealthPath(req.path)) {
      res.status = 200;
      res.set_content("ok", "text/plain; charset=utf-8");
      return;
    }
    if (get && !injected.has_value() && req.path == "/openapi/v2" &&
        absl::StrContains(req.get_header_value("Accept"), kOpenApiV2ProtobufAccept)) {
      res.status = 200;
      res.set_content(OpenApiV2Protobuf(), kOpenApiV2Protobuf);
      return;
    }
    // Discovery documents are never Tables; resource GETs may be.
    std::optional<json> discovery;
    if (get) discovery = Discovery(req.path, ApiResources(), absl::StrCat("127.0.0.1:", port_));
    const std::optional<Negotiated> negotiated =
        Negotiate(req.get_header_value("Accept"),
                  Servable{.tables = get && !discovery.has_value(),
                           .protobuf = !discovery.has_value()});
    const WireFormat* wire = negotiated.has_value() ? negotiated->wire : nullptr;
    Reply reply;
    if (injected.has_value()) {
      reply = Failure(injected->code, GenericMessage(injected->code));
      if (injected->retry_after_seconds > 0) {
        reply.body["details"]["retryAfterSeconds"] = injected->retry_after_seconds;
        reply.retry_after_seconds = injected->retry_after_seconds;
      }
    } else if (wire == nullptr) {
      reply = Failure(
          406, absl::StrCat("only the following media types are accepted: ", kServedMediaTypes));
    } else if (discovery.has_value()) {
      reply = {200, *std::move(discovery)};
    } else {
      reply = Serve(req, res, *negotiated);
      if (reply.code == kStreaming) return;
    }
    if (wire == nullptr) wire = &JsonWire();
    res.status = reply.code;
    if (reply.retry_after_seconds > 0) {
      res.set_header("Retry-After", std::to_string(reply.retry_after_seconds));
    }
    absl::StatusOr<std::string> body = wire->EncodeObject(reply.body);
    if (!body.ok()) {
      // What upstream's serializer does with an object it cannot encode.
      res.status = 500;
      body = wire->EncodeObject(Failure(500, std::string(body.status().message())).body);
    }
    res.set_content(body.ok() ? *std::move(body) : std::string(), wire->content_type());
    Answered(req, res.status);
  }

  // The test-side API.

  absl::Status Create(const std::string& text) {
    json object = json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded() || !object.is_object()) {
      return absl::InvalidArgumentError("Create: not a JSON object");
    }
    const KindInfo* k = FindKind(Str(Member(object, "kind")));
    if (k == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("Create: unsupported kind ", Dump(Member(object, "kind"))));
    }
    if (std::string why = Normalize(*k, object); !why.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("Create: ", why));
    }
    if (k->namespaced && Meta(object, "namespace").empty()) {
      object["metadata"]["namespace"] = "default";
    }
    return ToStatus(store_.Write([&](ObjectStore::Txn& txn) {
      return Insert(txn, HomeOf(*k), std::move(object), /*api=*/false);
    }));
  }

  absl::StatusOr<json> Get(const std::string& kind, const std::string& ns,
                           const std::string& name) const {
    const KindInfo* k = FindKind(kind);
    if (k == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("Get: unsupported kind ", kind));
    }
    ObjectPtr object = store_.Read(
        [&](const ObjectStore::View& view) { return view.Find(*k, ObjectKey(*k, ns, name)); });
    if (object == nullptr) return ToStatus(NotFound(HomeOf(*k), name));
    return *object;
  }

  absl::Status Update(json object) {
    const KindInfo* k = FindKind(Str(Member(object, "kind")));
    if (k == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("Update: unsupported kind ", Dump(Member(object, "kind"))));
    }
    if (std::string why = Normalize(*k, object); !why.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("Update: ", why));
    }
    if (!k->namespaced) {
      object["metadata"].erase("namespace");
    } else if (Meta(object, "namespace").empty()) {
      object["metadata"]["namespace"] = "default";
    }
    ApplyDefaults(*k, object);
    return store_.Write([&](ObjectStore::Txn& txn) {
      const std::string key = ObjectKey(*k, Meta(object, "namespace"), Meta(object, "name"));
      ObjectPtr stored = txn.Find(*k, key);
      if (stored == nullptr) return ToStatus(NotFound(HomeOf(*k), Meta(object, "name")));
      json& meta = object["metadata"];
      meta["uid"] = Meta(*stored, "uid");
      meta["creationTimestamp"] = Meta(*stored, "creationTimestamp");
      txn.Put(*k, key, std::move(object));
      return absl::OkStatus();
    });
  }

  absl::Status FinishDeletion(const std::string& ns, const std::string& name) {
    DeleteOptions now;
    now.grace_period_seconds = 0;
    return ToStatus(store_.Write([&](ObjectStore::Txn& txn) {
      return DeletePod(txn, ObjectKey(kPod, ns, name), name, now);
    }));
  }

  int FinishDeletions() {
    DeleteOptions now;
    now.grace_period_seconds = 0;
    return store_.Write([&](ObjectStore::Txn& txn) {
      std::vector<std::pair<std::string, std::string>> deleting;  // key, name
      for (const auto& [key, pod] : txn.All(kPod)) {
        if (!Meta(*pod, "deletionTimestamp").empty())
          deleting.emplace_back(key, Meta(*pod, "name"));
      }
      for (const auto& [key, name] : deleting) DeletePod(txn, key, name, now);
      return static_cast<int>(deleting.size());
    });
  }

  std::vector<json> Events() const {
    absl::MutexLock lock(&events_mu_);
    return events_;
  }

  int64_t resource_version() const {
    return store_.Read([](const ObjectStore::View& view) { return view.version(); });
  }

  int watches() const { return watches_.load(); }
  int requests() const { return requests_.load(); }

  std::vector<std::pair<std::string, std::string>> AnsweredRequests() const {
    absl::MutexLock lock(&lists_mu_);
    std::set<std::pair<std::string, std::string>> out;
    for (const auto& [key, count] : answered_) out.emplace(std::get<0>(key), std::get<1>(key));
    return {out.begin(), out.end()};
  }
  Reviews& reviews() { return reviews_; }
  int gets(const std::string& path) const {
    absl::MutexLock lock(&lists_mu_);
    auto it = lists_.find(path);
    return it == lists_.end() ? 0 : it->second;
  }
  int answered(const std::string& method, const std::string& path, int code) const {
    absl::MutexLock lock(&lists_mu_);
    auto it = answered_.find(std::make_tuple(method, path, code));
    return it == answered_.end() ? 0 : it->second;
  }

  // Faults.

  void FailNext(const std::string& method, const std::string& path_prefix, int code, int times,
                int retry_after_seconds) {
    if (times <= 0) return;
    absl::MutexLock lock(&faults_mu_);
    injected_.push_back({method, path_prefix, code, times, retry_after_seconds, false});
  }

  void CloseNext(const std::string& method, const std::string& path_prefix, int times) {
    if (times <= 0) return;
    absl::MutexLock lock(&faults_mu_);
    injected_.push_back({method, path_prefix, 0, times, 0, true});
  }

  void SetLatency(absl::Duration latency, const std::string& path_prefix) {
    absl::MutexLock lock(&faults_mu_);
    latency_.erase(path_prefix);
    if (latency > absl::ZeroDuration()) latency_[path_prefix] = latency;
  }

  void DropWatches() { store_.Interrupt(); }

  void ForceGoneOnNextWatch() { ++force_gone_; }

  void CloseConnections() {
    for (int fd : ServerSockets(port_, -1)) shutdown(fd, SHUT_RDWR);
  }

  // Ends every watch for good, before the HTTP server stops.
  void Shutdown() { store_.Close(); }

 private:
  // Serve()'s answer when a watch stream was set up on the response.
  static constexpr int kStreaming = 0;

  struct Injected {
    std::string method;
    std::string path_prefix;
    int code;
    int times;
    int retry_after_seconds;
    bool close;  // close the connection instead of answering
  };

  void Answered(const httplib::Request& req, int code) {
    absl::MutexLock lock(&lists_mu_);
    ++answered_[std::make_tuple(req.method, req.path, code)];
  }

  absl::Duration LatencyFor(const std::string& path) {
    absl::MutexLock lock(&faults_mu_);
    absl::Duration out;
    for (const auto& [prefix, latency] : latency_) {
      if (absl::StartsWith(path, prefix)) out = std::max(out, latency);
    }
    return out;
  }

  std::optional<Injected> TakeInjected(const httplib::Request& req) {
    absl::MutexLock lock(&faults_mu_);
    for (auto it = injected_.begin(); it != injected_.end(); ++it) {
      if (it->method != req.method || !absl::StartsWith(req.path, it->path_prefix)) continue;
      Injected taken = *it;
      if (--it->times == 0) injected_.erase(it);
      return taken;
    }
    return std::nullopt;
  }

  Reply Serve(const httplib::Request& req, httplib::Response& res, const Negotiated& as) {
    const std::optional<Target> target = ParseTarget(req.path);
    if (!target.has_value()) return Failure(404, GenericMessage(404), json::object());
    const Target& t = *target;
    const Resource& r = *t.resource;
    const std::string method = req.method == "HEAD" ? "GET" : req.method;
    const Reply not_allowed = Failure(405, GenericMessage(405), json::object());
    // Nothing here can write without writing for real.
    if (method != "GET" && req.has_param("dryRun")) return Failure(400, "dryRun is not supported");
    IncludeObject include = IncludeObject::kMetadata;
    if (as.table()) {
      absl::StatusOr<IncludeObject> parsed =
          ParseIncludeObject(req.get_param_value("includeObject"));
      if (!parsed.ok()) return Failure(400, std::string(parsed.status().message()));
      include = *parsed;
    }
    if (t.name.empty()) {
      if (method == "GET") {
        if (t.watch_path || IsTrue(req.get_param_value("watch"))) {
          return Watch(r, t.ns, "", req, res, as, include);
        }
        return List(r, t.ns, req, as, include);
      }
      if (method == "POST" && !t.watch_path && (!r.kind->namespaced || !t.ns.empty())) {
        return CreateFromApi(r, t.ns, req);
      }
      return not_allowed;
    }
    if (t.watch_path) {
      return method == "GET" ? Watch(r, t.ns, t.name, req, res, as, include) : not_allowed;
    }
    if (t.subresource.empty() || t.subresource == "status") {
      const bool status = !t.subresource.empty();
      if (method == "GET") return GetOne(r, t.ns, t.name, as, include);
      if (method == "PUT") return Put(r, t.ns, t.name, status, req);
      if (method == "PATCH") return Patch(r, t.ns, t.name, status, req);
      if (method == "DELETE" && !status) return Delete(r, t.ns, t.name, req);
      return not_allowed;
    }
    if (method != "POST") return not_allowed;
    if (t.subresource == "binding") return Bind(t.ns, t.name, req);
    return Evict(t.ns, t.name, req);
  }

  // ------------------------------------------------------------------------
  // Reads.

  absl::StatusOr<Selector> ParseSelector(const Resource& r, const httplib::Request& req) {
    Selector s;
    absl::StatusOr<std::vector<Requirement>> labels =
        ParseLabelSelector(req.get_param_value("labelSelector"));
    if (!labels.ok()) return labels.status();
    absl::StatusOr<std::vector<FieldRequirement>> fields = ParseFieldSelector(
        r.kind->kind, r.api_version, r.kind->namespaced, req.get_param_value("fieldSelector"));
    if (!fields.ok()) return fields.status();
    s.labels = *std::move(labels);
    s.fields = *std::move(fields);
    return s;
  }

  // A list item as upstream's JSON lists carry it: without kind and apiVersion.
  static json Item(const Resource& r, const json& stored) {
    json item = ToApi(r, stored);
    item.erase("kind");
    item.erase("apiVersion");
    return item;
  }

  // The Table of `stored` objects of `r`, as a GET with `as` answers it.
  static json TableOf(const Resource& r, const std::vector<ObjectPtr>& stored, const Negotiated& as,
                      IncludeObject include, bool headers = true) {
    std::vector<json> api;
    api.reserve(stored.size());
    for (const ObjectPtr& object : stored) api.push_back(ToApi(r, *object));
    std::vector<TableItem> items;
    for (size_t i = 0; i < stored.size(); ++i) items.push_back({stored[i].get(), &api[i]});
    return ToTable(as.table_api_version, r.kind->kind, items, include, absl::Now(), headers);
  }

  // `ns` empty: all namespaces.
  Reply List(const Resource& r, const std::string& ns, const httplib::Request& req,
             const Negotiated& as, IncludeObject include) {
    const KindInfo& k = *r.kind;
    absl::StatusOr<Selector> selector = ParseSelector(r, req);
    if (!selector.ok()) return Failure(400, std::string(selector.status().message()));
    int64_t limit = 0;
    if (req.has_param("limit") && !absl::SimpleAtoi(req.get_param_value("limit"), &limit)) {
      return Failure(400, absl::StrCat("limit: Invalid value: \"", req.get_param_value("limit"),
                                       "\": must be an integer"));
    }
    const std::string rv_param = req.get_param_value("resourceVersion");
    int64_t rv = 0;
    if (!rv_param.empty() && (!absl::SimpleAtoi(rv_param, &rv) || rv < 0)) {
      return Failure(400, absl::StrCat("invalid resource version: \"", rv_param, "\""));
    }
    std::optional<ContinueToken> token;
    if (const std::string c = req.get_param_value("continue"); !c.empty()) {
      absl::StatusOr<ContinueToken> decoded = DecodeContinue(c);
      if (!decoded.ok()) {
        return Failure(400, absl::StrCat("invalid continue token: ", decoded.status().message()));
      }
      if (rv > 0) {
        return Failure(400, "specifying resource version is not allowed when using continue");
      }
      token = *std::move(decoded);
    }
    const bool exact = req.get_param_value("resourceVersionMatch") == "Exact";
    const std::string prefix = ns.empty() ? "" : absl::StrCat(ns, "/");

    // Under the read lock: pointers to the items of the page.
    std::vector<ObjectPtr> page;
    std::string next_start;  // where the next page starts; "" when this is the last
    std::optional<int64_t> remaining;
    int64_t listed_at = 0;
    std::optional<Reply> refused =
        store_.Read([&](const ObjectStore::View& view) -> std::optional<Reply> {
          const int64_t current = view.version();
          std::optional<Objects> past;
          listed_at = current;
          if (token.has_value() && token->resource_version > 0) {
            listed_at = token->resource_version;
            if (listed_at < view.Floor(k)) {
              Reply expired = Expired(kInconsistentContinue);
              expired.body["metadata"]["continue"] = EncodeContinue(-1, token->start);
              return expired;
            }
          } else if (!token.has_value() && rv > current) {
            return TooLargeResourceVersion(rv, current);
          } else if (!token.has_value() && exact && rv > 0) {
            listed_at = rv;
          }
          if (listed_at != current) {
            absl::StatusOr<Objects> at = view.At(k, listed_at);
            if (!at.ok()) return Expired(kExpiredList);
            past = *std::move(at);
          }
          const Objects& objects = past.has_value() ? *past : view.All(k);
          auto it = objects.lower_bound(prefix + (token.has_value() ? token->start : ""));
          int64_t in_range = 0;
          int64_t taken_at = 0;  // in_range when the last item was taken
          std::string last_key;
          for (; it != objects.end() && absl::StartsWith(it->first, prefix); ++it) {
            ++in_range;
            if (limit > 0 && static_cast<int64_t>(page.size()) == limit) continue;
            if (!selector->Matches(*it->second)) continue;
            page.push_back(it->second);
            last_key = it->first;
            taken_at = in_range;
          }
          if (limit > 0 && static_cast<int64_t>(page.size()) == limit && in_range > taken_at) {
            next_start = absl::StrCat(last_key.substr(prefix.size()), std::string(1, '\0'));
            if (selector->empty()) remaining = in_range - taken_at;
          }
          return std::nullopt;
        });
    if (refused.has_value()) return *std::move(refused);

    json list = json::object();
    if (as.table()) {
      list = TableOf(r, page, as, include);
    } else {
      json items = json::array();
      for (const ObjectPtr& object : page) items.push_back(Item(r, *object));
      list["kind"] = absl::StrCat(k.kind, "List");
      list["apiVersion"] = r.api_version;
      list["items"] = std::move(items);
    }
    list["metadata"] = {{"resourceVersion", std::to_string(listed_at)}};
    if (!next_start.empty()) {
      list["metadata"]["continue"] = EncodeContinue(listed_at, next_start);
      if (remaining.has_value()) list["metadata"]["remainingItemCount"] = *remaining;
    }
    return {200, std::move(list)};
  }

  Reply GetOne(const Resource& r, const std::string& ns, const std::string& name,
               const Negotiated& as, IncludeObject include) {
    ObjectPtr object = store_.Read([&](const ObjectStore::View& view) {
      return view.Find(*r.kind, ObjectKey(*r.kind, ns, name));
    });
    if (object == nullptr) return NotFound(r, name);
    if (!as.table()) return {200, ToApi(r, *object)};
    json table = TableOf(r, {object}, as, include);
    table["metadata"]["resourceVersion"] = Meta(*object, "resourceVersion");
    return {200, std::move(table)};
  }

  // ------------------------------------------------------------------------
  // Watches.

  // One watch stream's state, shared by its content provider calls.
  struct Stream {
    const Resource* resource = nullptr;
    std::string prefix;  // keys start with it: "ns/" or ""
    std::string key;     // one object's key, or "" for all
    Selector selector;
    const WireFormat* wire = nullptr;
    // A Table per event when the watch asked for Tables; only the first
    // carries the column definitions (upstream's NoHeaders after it).
    Negotiated as;
    IncludeObject include = IncludeObject::kMetadata;
    bool headers_sent = false;
    bool bookmarks = false;
    absl::Time deadline;
    absl::Time next_bookmark = absl::InfiniteFuture();
    int64_t cursor = 0;  // every change up to here has been sent
    uint64_t generation = 0;
    int fd = -1;                       // the connection, to see the client leave
    std::vector<std::string> pending;  // frames to write first
    bool end_after_pending = false;
  };

  // upstream's cacheWatcher.nextBookmarkTime: every interval, and once
  // shortly before the deadline; none when that has passed.
  absl::Time NextBookmark(const Stream& s, absl::Time now) const {
    if (!s.bookmarks) return absl::InfiniteFuture();
    absl::Time at = now + options_.bookmark_interval;
    const absl::Time before_end = s.deadline - options_.bookmark_before_timeout;
    if (before_end < at) at = before_end;
    return at < now ? absl::InfiniteFuture() : at;
  }

  std::string Bookmark(const Stream& s, int64_t version, bool initial_events_end) const {
    json object = json::object();
    object["kind"] = s.resource->kind->kind;
    object["apiVersion"] = s.resource->api_version;
    if (s.as.table()) {
      // A Table without rows: only its resourceVersion says anything.
      object = ToTable(s.as.table_api_version, s.resource->kind->kind, {}, s.include, absl::Now(),
                       /*headers=*/false);
    }
    object["metadata"] = {{"resourceVersion", std::to_string(version)}};
    if (initial_events_end) {
      object["metadata"]["annotations"] = {{"k8s.io/initial-events-end", "true"}};
    }
    return s.wire->EncodeWatchEvent("BOOKMARK", object);
  }

  // One event about `stored`, as the watch shows objects.
  static std::string Event(Stream& s, absl::string_view type, const json& stored) {
    const Resource& r = *s.resource;
    if (!s.as.table()) return s.wire->EncodeWatchEvent(type, ToApi(r, stored));
    const json api = ToApi(r, stored);
    json table = ToTable(s.as.table_api_version, r.kind->kind, {{&stored, &api}}, s.include,
                         absl::Now(), !s.headers_sent);
    table["metadata"]["resourceVersion"] = Meta(stored, "resourceVersion");
    s.headers_sent = true;
    return s.wire->EncodeWatchEvent(type, table);
  }

  bool Selected(const Stream& s, const std::string& key, const json& object) const {
    if (!absl::StartsWith(key, s.prefix)) return false;
    if (!s.key.empty() && key != s.key) return false;
    return s.selector.Matches(object);
  }

  // The event a change makes for this watch (cache_watcher.go
  // convertToWatchEvent): an object that stops matching is DELETED, one
  // that starts is ADDED. "" when the watch does not see it.
  std::string Frame(Stream& s, const Change& c) const {
    const bool now = c.type != ChangeType::kDeleted && Selected(s, c.key, *c.object);
    const bool before = c.previous != nullptr && Selected(s, c.key, *c.previous);
    if (now && !before) return Event(s, "ADDED", *c.object);
    if (now && before) return Event(s, "MODIFIED", *c.object);
    if (!before) return "";
    if (c.type == ChangeType::kDeleted) return Event(s, "DELETED", *c.object);
    // The previous state with this change's resourceVersion.
    json last = *c.previous;
    last["metadata"]["resourceVersion"] = std::to_string(c.resource_version);
    return Event(s, "DELETED", last);
  }

  static std::string ErrorFrame(const WireFormat& wire, const Reply& status) {
    return wire.EncodeWatchEvent("ERROR", status.body);
  }

  // `name` non-empty: one object (the deprecated /watch/ path).
  Reply Watch(const Resource& r, const std::string& ns, const std::string& name,
              const httplib::Request& req, httplib::Response& res, const Negotiated& as,
              IncludeObject include) {
    const WireFormat& wire = *as.wire;
    absl::StatusOr<Selector> selector = ParseSelector(r, req);
    if (!selector.ok()) return Failure(400, std::string(selector.status().message()));
    const std::string rv_param = req.get_param_value("resourceVersion");
    int64_t rv = 0;
    if (!rv_param.empty() && (!absl::SimpleAtoi(rv_param, &rv) || rv < 0)) {
      return Failure(400, absl::StrCat("invalid resource version: \"", rv_param, "\""));
    }
    absl::Duration timeout = options_.default_watch_timeout;
    if (const std::string t = req.get_param_value("timeoutSeconds"); !t.empty()) {
      int64_t seconds;
      if (!absl::SimpleAtoi(t, &seconds) || seconds < 0) {
        return Failure(400, absl::StrCat("timeoutSeconds: Invalid value: \"", t,
                                         "\": must be a non-negative integer"));
      }
      if (seconds > 0) timeout = absl::Seconds(seconds);
    }
    timeout = std::min(timeout, options_.max_watch_timeout);
    const bool initial_events = IsTrue(req.get_param_value("sendInitialEvents"));

    if (watches_.fetch_add(1) >= options_.max_watches) {
      --watches_;
      Reply busy = Failure(429, "Too many requests, please try again later.");
      busy.body["details"]["retryAfterSeconds"] = 1;
      busy.retry_after_seconds = 1;
      return busy;
    }
    auto s = std::make_shared<Stream>();
    s->resource = &r;
    s->prefix = ns.empty() ? "" : absl::StrCat(ns, "/");
    if (!name.empty()) s->key = ObjectKey(*r.kind, ns, name);
    s->selector = *std::move(selector);
    s->wire = &wire;
    s->as = as;
    s->include = include;
    s->bookmarks = IsTrue(req.get_param_value("allowWatchBookmarks"));
    const absl::Time start = absl::Now();
    s->deadline = start + timeout;
    s->next_bookmark = NextBookmark(*s, start);
    const std::vector<int> fds = ServerSockets(port_, req.remote_port);
    s->fd = fds.empty() ? -1 : fds.front();

    // Where the stream starts: the current objects as ADDED events, or
    // the history after `rv`; a 410 when the history does not reach back.
    std::vector<ObjectPtr> initial;
    std::optional<Reply> gone;
    int force = force_gone_.load();
    const bool forced = force > 0 && force_gone_.compare_exchange_strong(force, force - 1);
    store_.Read([&](const ObjectStore::View& view) {
      // Read with the start, so that a DropWatches() after the response
      // began always reaches this stream.
      s->generation = view.generation();
      const int64_t floor = view.Floor(*r.kind);
      if (forced) {
        gone = Expired(absl::StrCat("too old resource version: ", rv, " (", view.version(), ")"));
      } else if (rv_param.empty() || rv == 0) {
        s->cursor = view.version();
        for (const auto& [key, object] : view.All(*r.kind)) {
          if (Selected(*s, key, *object)) initial.push_back(object);
        }
      } else if (rv < floor) {
        gone = Expired(absl::StrCat("too old resource version: ", rv, " (", floor, ")"));
      } else {
        s->cursor = rv;
      }
    });
    if (gone.has_value()) {
      // Upstream answers 200 and one ERROR event: errors found after the
      // watch started are events, not HTTP errors.
      s->pending.push_back(ErrorFrame(wire, *gone));
      s->end_after_pending = true;
    } else {
      for (const ObjectPtr& object : initial) s->pending.push_back(Event(*s, "ADDED", *object));
      if (initial_events && s->bookmarks) s->pending.push_back(Bookmark(*s, s->cursor, true));
    }
    // A watch is never compressed: httplib would gzip a stream whose client
    // accepts it (Go's does), and a compressor holds events back until its
    // buffer fills. kube-apiserver does not compress watches either. The
    // request is httplib's own, not const, and read again only to choose
    // the encoding.
    const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
    res.status = 200;
    res.set_chunked_content_provider(
        wire.watch_content_type(),
        [this, s](size_t, httplib::DataSink& sink) { return Step(*s, sink); },
        [this](bool) { --watches_; });
    return {kStreaming, json()};
  }

  // One call of the content provider: writes what is pending, or waits for
  // changes, a bookmark or the end. false cuts the connection.
  bool Step(Stream& s, httplib::DataSink& sink) {
    if (!s.pending.empty()) {
      // Frames go out together, up to about a megabyte a write, as
      // kube-apiserver flushes only when no more events are buffered: one
      // chunk and one send for a batch, not one per event.
      std::string out;
      for (const std::string& frame : s.pending) {
        if (!out.empty() && out.size() + frame.size() > kWatchWriteBytes) {
          if (!sink.write(out.data(), out.size())) return false;
          out.clear();
        }
        out += frame;
      }
      if (!sink.write(out.data(), out.size())) return false;
      s.pending.clear();
      if (s.end_after_pending) sink.done();
      return true;
    }
    const absl::Time now = absl::Now();
    if (now >= s.deadline) {
      sink.done();
      return true;
    }
    if (now >= s.next_bookmark) {
      s.pending.push_back(Bookmark(s, s.cursor, false));
      s.next_bookmark = NextBookmark(s, now);
      return true;
    }
    if (PeerGone(s.fd)) return false;
    const absl::Time wake =
        std::min({s.deadline, s.next_bookmark, now + options_.watch_poll_interval});
    ObjectStore::Batch batch =
        store_.WaitForChanges(*s.resource->kind, s.cursor, wake, s.generation);
    switch (batch.why) {
      case ObjectStore::Batch::Why::kInterrupted:
        return false;
      case ObjectStore::Batch::Why::kFellBehind:
        // Upstream's cacher closes a watcher that cannot keep up; the
        // client watches again and learns that what it missed is gone.
        sink.done();
        return true;
      case ObjectStore::Batch::Why::kChanges:
        for (const Change& c : batch.changes) {
          std::string frame = Frame(s, c);
          if (!frame.empty()) s.pending.push_back(std::move(frame));
        }
        break;
      case ObjectStore::Batch::Why::kDeadline:
        break;
    }
    s.cursor = batch.version;
    return true;
  }

  // ------------------------------------------------------------------------
  // Writes.

  // Stores a new object of `r`'s kind (normalized, in its stored form, its
  // namespace set when namespaced). `api`: created through the API, so the
  // registry's create-time rules apply.
  Reply Insert(ObjectStore::Txn& txn, const Resource& r, json object, bool api) {
    const KindInfo& k = *r.kind;
    json& meta = object["metadata"];
    if (!k.namespaced) meta.erase("namespace");
    const std::string ns = k.namespaced ? Str(Member(meta, "namespace")) : "";
    std::string name = Str(Member(meta, "name"));
    const std::string prefix = Str(Member(meta, "generateName"));
    if (name.empty() && !prefix.empty()) {
      // Upstream appends five random characters of this alphabet; the fake
      // counts, so that names are the same from run to run.
      constexpr absl::string_view kAlphabet = "bcdfghjklmnpqrstvwxz2456789";
      do {
        int64_t n = txn.NextGeneratedName();
        std::string suffix(5, kAlphabet[0]);
        for (int i = 4; i >= 0; --i, n /= kAlphabet.size()) {
          suffix[i] = kAlphabet[n % kAlphabet.size()];
        }
        name = prefix + suffix;
      } while (txn.Find(k, ObjectKey(k, ns, name)) != nullptr);
      meta["name"] = name;
    }
    if (name.empty()) return NameRequired(k);
    const std::string key = ObjectKey(k, ns, name);
    if (txn.Find(k, key) != nullptr) return AlreadyExists(r, name);
    if (api) {
      // FillObjectMetaSystemFields: the server's own uid and time.
      meta.erase("uid");
      meta.erase("creationTimestamp");
      PrepareForCreate(k, object);
    }
    if (Str(Member(meta, "uid")).empty()) {
      meta["uid"] = absl::StrFormat("5f3a0c1e-0000-4000-8000-%012x", txn.NextUid());
    }
    if (Str(Member(meta, "creationTimestamp")).empty())
      meta["creationTimestamp"] = TimeString(absl::Now());
    ApplyDefaults(k, object);
    ObjectPtr stored = txn.Put(k, key, std::move(object));
    if (&k == &kEvent && api) {
      absl::MutexLock lock(&events_mu_);
      events_.push_back(*stored);
    }
    return {201, ToApi(r, *stored)};
  }

  Reply CreateFromApi(const Resource& r, const std::string& ns, const httplib::Request& req) {
    if (!IsJson(req)) return UnsupportedMediaType("application/json");
    json object = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (object.is_discarded() || !object.is_object()) return NotJson("object");
    if (std::string why = Normalize(r.kind->kind, r.api_version, object); !why.empty()) {
      return Failure(400, why);
    }
    object = FromApi(r, object);
    if (r.kind->namespaced) {
      const std::string body_ns = Meta(object, "namespace");
      if (!body_ns.empty() && body_ns != ns) return Failure(400, kNamespaceMismatch);
      object["metadata"]["namespace"] = ns;
    }
    return store_.Write(
        [&](ObjectStore::Txn& txn) { return Insert(txn, r, std::move(object), /*api=*/true); });
  }

  // The new object (in `r`'s form) from the current one (null when there
  // is none), or why not.
  using Make = std::function<absl::StatusOr<json>(const json* current)>;

  // An update (PUT) or patch of one object, or of its status.
  Reply Write(const Resource& r, const std::string& ns, const std::string& name, bool status,
              bool put, const Make& make) {
    const KindInfo& k = *r.kind;
    const std::string key = ObjectKey(k, ns, name);
    return store_.Write([&](ObjectStore::Txn& txn) -> Reply {
      ObjectPtr current = txn.Find(k, key);
      const bool create = current == nullptr && put && !status && k.create_on_update;
      if (current == nullptr && !create) return NotFound(r, name);
      const json view = current == nullptr ? json() : ToApi(r, *current);
      absl::StatusOr<json> made = make(current == nullptr ? nullptr : &view);
      if (!made.ok()) return FromStatus(made.status());
      json object = *std::move(made);
      if (std::string why = Normalize(k.kind, r.api_version, object); !why.empty()) {
        return Failure(400, why);
      }
      if (Meta(object, "name") != name) {
        return Failure(400, absl::StrCat("the name of the object (", Meta(object, "name"),
                                         ") does not match the name on the URL (", name, ")"));
      }
      object = FromApi(r, object);
      json& meta = object["metadata"];
      if (k.namespaced) {
        if (!Meta(object, "namespace").empty() && Meta(object, "namespace") != ns) {
          return Failure(400, kNamespaceMismatch);
        }
        meta["namespace"] = ns;
      } else {
        meta.erase("namespace");
      }
      if (create) return Insert(txn, r, std::move(object), /*api=*/true);
      const std::string rv = Meta(object, "resourceVersion");
      if (rv.empty() && !k.unconditional_update) {
        return Invalid(r, name, "metadata.resourceVersion", "FieldValueInvalid",
                       "Invalid value: 0x0: must be specified for an update");
      }
      if (!rv.empty() && rv != Meta(*current, "resourceVersion")) {
        return Conflict(r, name, kModified);
      }
      json updated;
      if (status) {
        // The status strategies: only the status changes.
        updated = *current;
        if (object.contains("status")) {
          updated["status"] = object["status"];
        } else {
          updated.erase("status");
        }
      } else {
        updated = std::move(object);
        if (k.has_status) {
          // The strategies' PrepareForUpdate: the status stays.
          if (current->contains("status")) {
            updated["status"] = (*current)["status"];
          } else {
            updated.erase("status");
          }
        }
        // rest.BeforeUpdate: what the server owns stays as it is.
        json& m = updated["metadata"];
        for (const char* field : {"uid", "creationTimestamp", "deletionTimestamp",
                                  "deletionGracePeriodSeconds", "generation"}) {
          const json& was = Member((*current)["metadata"], field);
          if (was.is_null()) {
            m.erase(field);
          } else {
            m[field] = was;
          }
        }
      }
      ApplyDefaults(k, updated);
      updated["metadata"]["resourceVersion"] = Meta(*current, "resourceVersion");
      if (updated == *current) return {200, ToApi(r, *current)};
      return {200, ToApi(r, *txn.Put(k, key, std::move(updated)))};
    });
  }

  Reply Put(const Resource& r, const std::string& ns, const std::string& name, bool status,
            const httplib::Request& req) {
    if (!IsJson(req)) return UnsupportedMediaType("application/json");
    json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object()) return NotJson("object");
    return Write(r, ns, name, status, /*put=*/true,
                 [&](const json*) -> absl::StatusOr<json> { return body; });
  }

  Reply Patch(const Resource& r, const std::string& ns, const std::string& name, bool status,
              const httplib::Request& req) {
    const std::optional<PatchType> type =
        PatchTypeFor(MediaType(req.get_header_value("Content-Type")));
    if (!type.has_value()) return UnsupportedMediaType(kPatchMediaTypes);
    // A body that is no patch is 400 even when the object is missing.
    if (const json parsed = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
        parsed.is_discarded() ||
        (*type == PatchType::kJson ? !parsed.is_array() : !parsed.is_object())) {
      return NotJson(*type == PatchType::kJson    ? "patch list"
                     : *type == PatchType::kMerge ? "merge patch object"
                                                  : "strategic merge patch object");
    }
    const std::string kind = r.kind->kind;
    return Write(r, ns, name, status, /*put=*/false,
                 [&](const json* current) { return ApplyPatch(kind, *type, *current, req.body); });
  }

  Reply Delete(const Resource& r, const std::string& ns, const std::string& name,
               const httplib::Request& req) {
    json body = json::object();
    if (!absl::StripAsciiWhitespace(req.body).empty()) {
      body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
      if (body.is_discarded() || !body.is_object()) return NotJson("DeleteOptions object");
    } else if (req.has_param("gracePeriodSeconds")) {
      // Without a body, the options come from the query.
      int64_t grace;
      if (!absl::SimpleAtoi(req.get_param_value("gracePeriodSeconds"), &grace)) {
        return Failure(400, "gracePeriodSeconds must be an integer");
      }
      body["gracePeriodSeconds"] = grace;
    }
    absl::StatusOr<DeleteOptions> options = ParseDeleteOptions(body);
    if (!options.ok()) return Failure(400, std::string(options.status().message()));
    const KindInfo& k = *r.kind;
    const std::string key = ObjectKey(k, ns, name);
    return store_.Write([&](ObjectStore::Txn& txn) -> Reply {
      if (&k == &kPod) return DeletePod(txn, key, name, *options);
      ObjectPtr current = txn.Find(k, key);
      if (current == nullptr) return NotFound(r, name);
      if (Reply failed = CheckPreconditions(r, name, *current, *options); failed.code != 200) {
        return failed;
      }
      ObjectPtr deleted = txn.Remove(k, key);
      json details = Details(r, name);
      details["uid"] = Meta(*deleted, "uid");
      return Success(200, std::move(details));
    });
  }

  // DeleteOptions.preconditions, as storage checks them.
  static Reply CheckPreconditions(const Resource& r, const std::string& name, const json& object,
                                  const DeleteOptions& options) {
    if (!options.uid.empty() && options.uid != Meta(object, "uid")) {
      return Conflict(r, name,
                      absl::StrCat("Precondition failed: UID in precondition: ", options.uid,
                                   ", UID in object meta: ", Meta(object, "uid")));
    }
    if (!options.resource_version.empty() &&
        options.resource_version != Meta(object, "resourceVersion")) {
      return Conflict(
          r, name,
          absl::StrCat(
              "Precondition failed: ResourceVersion in precondition: ", options.resource_version,
              ", ResourceVersion in object meta: ", Meta(object, "resourceVersion")));
    }
    return {200, json()};
  }

  // A pod's deletion, graceful as rest.BeforeDelete and the pod strategy's
  // CheckGracefulDelete make it. Answers the pod (as it stays, or its last
  // state).
  Reply DeletePod(ObjectStore::Txn& txn, const std::string& key, const std::string& name,
                  const DeleteOptions& options) {
    const Resource& r = HomeOf(kPod);
    ObjectPtr current = txn.Find(kPod, key);
    if (current == nullptr) return NotFound(r, name);
    if (Reply failed = CheckPreconditions(r, name, *current, options); failed.code != 200) {
      return failed;
    }
    std::optional<int64_t> grace = options.grace_period_seconds;
    if (grace.has_value() && *grace < 0) grace = 1;  // negative means 1s on the delete path
    json pod = *current;
    json& meta = pod["metadata"];
    const std::string since = Meta(pod, "deletionTimestamp");
    if (!since.empty()) {
      const std::optional<int64_t> pending = OptInt(Member(meta, "deletionGracePeriodSeconds"));
      if (pending.has_value() && *pending > 0) {
        // Being deleted already: a shorter grace period only.
        if (!grace.has_value() || *grace >= *pending) return {200, *current};
        const absl::Time at = ParseRfc3339(since).value_or(absl::Now()) - absl::Seconds(*pending) +
                              absl::Seconds(*grace);
        meta["deletionTimestamp"] = TimeString(at);
        meta["deletionGracePeriodSeconds"] = *grace;
      } else {
        return {200, *txn.Remove(kPod, key)};
      }
    } else {
      int64_t period = grace.has_value()
                           ? *grace
                           : OptInt(Member(Member(pod, "spec"), "terminationGracePeriodSeconds"))
                                 .value_or(kDefaultGracePeriodSeconds);
      const std::string phase = Str(Member(Member(pod, "status"), "phase"));
      if (Str(Member(Member(pod, "spec"), "nodeName")).empty()) period = 0;
      if (phase == "Succeeded" || phase == "Failed") period = 0;
      if (period < 0) period = 1;
      meta["deletionTimestamp"] = TimeString(absl::Now() + absl::Seconds(period));
      meta["deletionGracePeriodSeconds"] = period;
      if (Int(Member(meta, "generation")) > 0) meta["generation"] = Int(meta["generation"]) + 1;
    }
    const bool now = Int(meta["deletionGracePeriodSeconds"]) == 0;
    ObjectPtr updated = txn.Put(kPod, key, std::move(pod));
    if (!now) return {200, *updated};
    return {200, *txn.Remove(kPod, key)};
  }

  // pods/{name}/binding: pkg/registry/core/pod/storage BindingREST.
  Reply Bind(const std::string& ns, const std::string& name, const httplib::Request& req) {
    if (!IsJson(req)) return UnsupportedMediaType("application/json");
    const json binding = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (binding.is_discarded() || !binding.is_object()) return NotJson("Binding object");
    const json& kind = Member(binding, "kind");
    if (!kind.is_null() && kind != "Binding") {
      return Failure(400, absl::StrCat("not a Binding object: kind ", Dump(kind)));
    }
    const json& meta = Member(binding, "metadata");
    if (!meta.is_null() && !meta.is_object()) return Failure(400, "metadata must be a JSON object");
    if (Str(Member(meta, "name")) != name) {
      return Failure(400, "name in URL does not match name in Binding object");
    }
    const std::string body_ns = Str(Member(meta, "namespace"));
    if (!body_ns.empty() && body_ns != ns) return Failure(400, kNamespaceMismatch);
    // validation.ValidatePodBinding; upstream returns the field errors as a
    // plain error, which the handler turns into a 500 without a reason.
    const json& target = Member(binding, "target");
    std::vector<std::string> errors;
    const std::string target_kind = Str(Member(target, "kind"));
    if (!target_kind.empty() && target_kind != "Node") {
      errors.push_back(absl::StrCat("target.kind: Unsupported value: \"", target_kind,
                                    "\": supported values: \"Node\", \"<empty>\""));
    }
    const std::string node = Str(Member(target, "name"));
    if (node.empty()) errors.push_back("target.name: Required value");
    if (!errors.empty()) {
      return StatusReply(
          500, "Failure", "",
          errors.size() == 1 ? errors[0] : absl::StrCat("[", absl::StrJoin(errors, ", "), "]"),
          json());
    }
    const Resource& pods = HomeOf(kPod);
    return store_.Write([&](ObjectStore::Txn& txn) -> Reply {
      const std::string key = ObjectKey(kPod, ns, name);
      ObjectPtr current = txn.Find(kPod, key);
      if (current == nullptr) return NotFound(pods, name);
      DeleteOptions preconditions;  // the Binding's uid and resourceVersion
      preconditions.uid = Str(Member(meta, "uid"));
      preconditions.resource_version = Str(Member(meta, "resourceVersion"));
      if (Reply failed = CheckPreconditions(pods, name, *current, preconditions);
          failed.code != 200) {
        return failed;
      }
      const auto refuse = [&](const std::string& why) {
        return Conflict("pods/binding", "", name, why);
      };
      if (!Meta(*current, "deletionTimestamp").empty()) {
        return refuse(
            absl::StrCat("pod ", name, " is being deleted, cannot be assigned to a host"));
      }
      const std::string assigned = Str(Member(Member(*current, "spec"), "nodeName"));
      if (!assigned.empty()) {
        return refuse(
            absl::StrCat("pod ", name, " is already assigned to node \"", assigned, "\""));
      }
      const json& gates = Member(Member(*current, "spec"), "schedulingGates");
      if (gates.is_array() && !gates.empty()) {
        return refuse(absl::StrCat("pod ", name, " has non-empty .spec.schedulingGates"));
      }
      json pod = *current;
      pod["spec"]["nodeName"] = node;
      const json& annotations = Member(meta, "annotations");
      if (annotations.is_object()) {
        for (auto it = annotations.begin(); it != annotations.end(); ++it) {
          if (it->is_string()) pod["metadata"]["annotations"][it.key()] = *it;
        }
      }
      SetPodScheduled(pod);
      txn.Put(kPod, key, std::move(pod));
      return Success(201);
    });
  }

  // The Eviction subresource, as pkg/registry/core/pod/storage/eviction.go
  // decides: the pod's one budget must allow a disruption; the pod is then
  // deleted as a DELETE would (gracefully).
  Reply Evict(const std::string& ns, const std::string& name, const httplib::Request& req) {
    if (!IsJson(req)) return UnsupportedMediaType("application/json");
    const json eviction = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (eviction.is_discarded() || !eviction.is_object()) return NotJson("Eviction object");
    const json& kind = Member(eviction, "kind");
    if (!kind.is_null() && kind != "Eviction") {
      return Failure(400, absl::StrCat("not an Eviction object: kind ", Dump(kind)));
    }
    const json& api_version = Member(eviction, "apiVersion");
    if (!api_version.is_null() && api_version != "policy/v1" && api_version != "policy/v1beta1") {
      return Failure(400, absl::StrCat("Eviction: unsupported apiVersion ", Dump(api_version)));
    }
    const json& meta = Member(eviction, "metadata");
    if (!meta.is_null() && !meta.is_object()) return Failure(400, "metadata must be a JSON object");
    if (Str(Member(meta, "name")) != name) {
      return Failure(400, "name in URL does not match name in Eviction object");
    }
    const std::string body_ns = Str(Member(meta, "namespace"));
    if (!body_ns.empty() && body_ns != ns) return Failure(400, kNamespaceMismatch);
    absl::StatusOr<DeleteOptions> options = ParseDeleteOptions(Member(eviction, "deleteOptions"));
    if (!options.ok()) return Failure(400, std::string(options.status().message()));

    return store_.Write([&](ObjectStore::Txn& txn) -> Reply {
      const std::string key = ObjectKey(kPod, ns, name);
      ObjectPtr pod = txn.Find(kPod, key);
      if (pod == nullptr) return NotFound(HomeOf(kPod), name);
      // canIgnorePDB: the pod is not running (or no longer), so deleting it
      // disrupts nothing.
      const std::string phase = Str(Member(Member(*pod, "status"), "phase"));
      if (phase == "Succeeded" || phase == "Failed" || phase == "Pending" ||
          !Meta(*pod, "deletionTimestamp").empty()) {
        return Evicted(DeletePod(txn, key, name, *options));
      }
      std::vector<ObjectPtr> budgets;
      const json& labels = Member(Member(*pod, "metadata"), "labels");
      for (const auto& [budget_key, pdb] : txn.All(kPdb)) {
        if (!absl::StartsWith(budget_key, absl::StrCat(ns, "/"))) continue;
        const json& selector = Member(Member(*pdb, "spec"), "selector");
        if (selector.is_null()) continue;  // a missing selector selects nothing
        absl::StatusOr<std::vector<Requirement>> requirements = FromLabelSelector(selector);
        if (!requirements.ok()) continue;  // neither does an invalid one
        if (Matches(*requirements, labels)) budgets.push_back(pdb);
      }
      if (budgets.size() > 1) {
        return StatusReply(500, "Failure", "",
                           "This pod has more than one PodDisruptionBudget, which the eviction "
                           "subresource does not support.",
                           json());
      }
      if (budgets.size() == 1) {
        const json& status = Member(*budgets[0], "status");
        const int64_t desired = Int(Member(status, "desiredHealthy"));
        // A pod that is not ready does not count as healthy: evicting it
        // disrupts nothing while the budget is met.
        const bool unready_spare =
            !IsPodReady(*pod) && Int(Member(status, "currentHealthy")) >= desired && desired > 0;
        if (!unready_spare) {
          if (Reply refused = TakeDisruption(txn, *budgets[0], name); refused.code != 200) {
            return refused;
          }
        }
      }
      return Evicted(DeletePod(txn, key, name, *options));
    });
  }

  // The eviction's answer once the pod's deletion answered `deleted`.
  static Reply Evicted(const Reply& deleted) {
    return deleted.code == 200 ? Success(201) : deleted;
  }

  // checkAndDecrement: refuses (429, 403) or takes one disruption from the
  // budget for `pod_name` and answers 200.
  Reply TakeDisruption(ObjectStore::Txn& txn, const json& budget, const std::string& pod_name) {
    const std::string pdb_name = Meta(budget, "name");
    const json& status = Member(budget, "status");
    if (Int(Member(status, "observedGeneration")) <
        Int(Member(Member(budget, "metadata"), "generation"))) {
      return TooManyRequests(absl::StrCat("The disruption budget ", pdb_name,
                                          " is still being processed by the server."),
                             /*retry_after_seconds=*/10);
    }
    const int64_t allowed = Int(Member(status, "disruptionsAllowed"));
    if (allowed < 0) {
      return Failure(403,
                     absl::StrCat("poddisruptionbudget.policy \"", pdb_name,
                                  "\" is forbidden: pdb disruptions allowed is negative"),
                     Details("poddisruptionbudget", "policy", pdb_name));
    }
    const json& disrupted = Member(status, "disruptedPods");
    if (disrupted.is_object() && disrupted.size() > 2000) {  // MaxDisruptedPodSize
      return Failure(403,
                     absl::StrCat("poddisruptionbudget.policy \"", pdb_name,
                                  "\" is forbidden: DisruptedPods map too big - too many evictions "
                                  "not confirmed by PDB controller"),
                     Details("poddisruptionbudget", "policy", pdb_name));
    }
    if (allowed == 0) {
      return TooManyRequests(absl::StrCat(
          "The disruption budget ", pdb_name, " needs ", Int(Member(status, "desiredHealthy")),
          " healthy pods and has ", Int(Member(status, "currentHealthy")), " currently"));
    }
    // `allowed` > 0, so status is an object. currentHealthy is the
    // disruption controller's to change, not the eviction's.
    json pdb = budget;
    json& s = pdb["status"];
    s["disruptionsAllowed"] = allowed - 1;
    if (allowed - 1 == 0) {
      SetStatusCondition(s["conditions"], "DisruptionAllowed", "False", "InsufficientPods",
                         Int(Member(s, "observedGeneration")));
    }
    if (!s["disruptedPods"].is_object()) s["disruptedPods"] = json::object();
    s["disruptedPods"][pod_name] = TimeString(absl::Now());
    const std::string key = ObjectKey(kPdb, Meta(pdb, "namespace"), pdb_name);
    txn.Put(kPdb, key, std::move(pdb));
    return {200, json()};
  }

  const FakeApiServerOptions options_;
  ObjectStore store_;
  int port_ = -1;
  std::atomic<int> requests_{0};
  Reviews reviews_;
  mutable absl::Mutex lists_mu_;
  // GETs that are not watches, by path without the query.
  absl::flat_hash_map<std::string, int> lists_ ABSL_GUARDED_BY(lists_mu_);
  // Answers that are not watch streams, by method, path without the query
  // and HTTP code.
  std::map<std::tuple<std::string, std::string, int>, int> answered_ ABSL_GUARDED_BY(lists_mu_);
  std::atomic<int> watches_{0};
  std::atomic<int> force_gone_{0};

  mutable absl::Mutex events_mu_;
  std::vector<json> events_ ABSL_GUARDED_BY(events_mu_);

  absl::Mutex faults_mu_;
  std::vector<Injected> injected_ ABSL_GUARDED_BY(faults_mu_);
  std::map<std::string, absl::Duration> latency_ ABSL_GUARDED_BY(faults_mu_);  // by path prefix
};

// ---------------------------------------------------------------------------

std::optional<StoredKind> StoredKindOf(const std::string& kind) {
  const KindInfo* k = FindKind(kind);
  if (k == nullptr) return std::nullopt;
  return StoredKind{k->api_version, k->namespaced};
}

FakeApiServer::FakeApiServer(FakeApiServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(options))) {}

absl::StatusOr<std::unique_ptr<FakeApiServer>> FakeApiServer::Start(FakeApiServerOptions options) {
  if (options.history_size < 1) {
    return absl::InvalidArgumentError("FakeApiServerOptions.history_size must be at least 1");
  }
  if (options.max_watches < 1) {
    return absl::InvalidArgumentError("FakeApiServerOptions.max_watches must be at least 1");
  }
  if (options.bookmark_interval <= absl::ZeroDuration() ||
      options.watch_poll_interval <= absl::ZeroDuration() ||
      options.default_watch_timeout <= absl::ZeroDuration() ||
      options.max_watch_timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("FakeApiServerOptions: durations must be positive");
  }
  if (options.port < 0 || options.port > 65535) {
    return absl::InvalidArgumentError("FakeApiServerOptions.port must be in 0..65535");
  }
  const int threads = options.threads > 0 ? options.threads : options.max_watches + 16;
  if (threads <= options.max_watches) {
    return absl::InvalidArgumentError(
        "FakeApiServerOptions.threads must exceed max_watches, or watches starve other requests");
  }
  const int port = options.port;
  std::unique_ptr<FakeApiServer> server(new FakeApiServer(std::move(options)));
  Impl* impl = server->impl_.get();
  auto handler = [impl](const httplib::Request& req, httplib::Response& res) {
    // Named for top -H and perf: the pool's threads are httplib's.
    static thread_local bool named = [] {
      pthread_setname_np(pthread_self(), "apiserver");
      return true;
    }();
    (void)named;
    impl->Handle(req, res);
  };
  httplib::Server& http = server->server_;
  http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http.Get(".*", handler);
  http.Post(".*", handler);
  http.Put(".*", handler);
  http.Patch(".*", handler);
  http.Delete(".*", handler);
  http.Options(".*", handler);
  // Bounds how long the destructor waits for idle keep-alive connections.
  http.set_keep_alive_timeout(1);
  // kube-apiserver (Go's net/http) serves any number of requests on one
  // connection; httplib closes it after 5 by default, which would cost a
  // client a new TCP connection every fifth request.
  http.set_keep_alive_max_count(std::numeric_limits<size_t>::max());
  // A response is written in pieces (head, body); without this, Nagle's
  // algorithm holds the last piece for the client's delayed ACK, about
  // 40 ms a request on loopback. kube-apiserver (Go) sets TCP_NODELAY too.
  http.set_tcp_nodelay(true);
  // SO_REUSEADDR only: httplib's default adds SO_REUSEPORT, with which a
  // second server on a taken port binds too and the kernel splits the
  // connections between the two.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  if (port == 0) {
    server->port_ = http.bind_to_any_port("127.0.0.1");
  } else if (http.bind_to_port("127.0.0.1", port)) {
    server->port_ = port;
  }
  if (server->port_ < 0) {
    return absl::UnavailableError(
        port == 0 ? "fake API server: cannot bind 127.0.0.1"
                  : absl::StrCat("fake API server: cannot listen on 127.0.0.1:", port,
                                 " (in use, or not permitted)"));
  }
  impl->set_port(server->port_);
  auto done = std::make_shared<std::atomic<bool>>(false);
  server->thread_ = std::thread([&http, done] {
    http.listen_after_bind();
    *done = true;
  });
  // stop() only stops a server that runs, so wait until it does.
  while (!http.is_running() && !*done) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!http.is_running()) return absl::InternalError("fake API server: listen failed");
  return server;
}

FakeApiServer::~FakeApiServer() {
  impl_->Shutdown();
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

std::string FakeApiServer::url() const { return absl::StrCat("http://127.0.0.1:", port_); }

absl::Status FakeApiServer::Create(const std::string& json) { return impl_->Create(json); }

absl::StatusOr<nlohmann::json> FakeApiServer::Get(const std::string& kind, const std::string& ns,
                                                  const std::string& name) const {
  return impl_->Get(kind, ns, name);
}

absl::Status FakeApiServer::Update(const nlohmann::json& object) { return impl_->Update(object); }

absl::Status FakeApiServer::FinishDeletion(const std::string& ns, const std::string& name) {
  return impl_->FinishDeletion(ns, name);
}

int FakeApiServer::FinishDeletions() { return impl_->FinishDeletions(); }

std::vector<nlohmann::json> FakeApiServer::Events() const { return impl_->Events(); }

int64_t FakeApiServer::resource_version() const { return impl_->resource_version(); }

int FakeApiServer::watches() const { return impl_->watches(); }

int FakeApiServer::requests() const { return impl_->requests(); }
int FakeApiServer::gets(const std::string& path) const { return impl_->gets(path); }
int FakeApiServer::answered(const std::string& method, const std::string& path, int code) const {
  return impl_->answered(method, path, code);
}

void FakeApiServer::SetToken(const std::string& token, ReviewUser user) {
  impl_->reviews().SetToken(token, std::move(user));
}
void FakeApiServer::AllowPath(const std::string& user, const std::string& verb,
                              const std::string& path) {
  impl_->reviews().AllowPath(user, verb, path);
}
int FakeApiServer::token_reviews() const { return impl_->reviews().token_reviews(); }
int FakeApiServer::access_reviews() const { return impl_->reviews().access_reviews(); }

void FakeApiServer::FailNext(const std::string& method, const std::string& path_prefix, int code,
                             int times, int retry_after_seconds) {
  impl_->FailNext(method, path_prefix, code, times, retry_after_seconds);
}

void FakeApiServer::CloseNext(const std::string& method, const std::string& path_prefix,
                              int times) {
  impl_->CloseNext(method, path_prefix, times);
}

void FakeApiServer::SetLatency(absl::Duration latency, const std::string& path_prefix) {
  impl_->SetLatency(latency, path_prefix);
}

void FakeApiServer::DropWatches() { impl_->DropWatches(); }

void FakeApiServer::ForceGoneOnNextWatch() { impl_->ForceGoneOnNextWatch(); }

void FakeApiServer::CloseConnections() { impl_->CloseConnections(); }

std::vector<std::pair<std::string, std::string>> FakeApiServer::AnsweredRequests() const {
  return impl_->AnsweredRequests();
}

}  // namespace kestrel::kube::testing
