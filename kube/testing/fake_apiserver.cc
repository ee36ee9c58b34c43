#include "kube/testing/fake_apiserver.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "api/validation.h"

namespace kestrel::kube::testing {
namespace {

using json = nlohmann::json;

constexpr char kWatchUnsupported[] = "watch is not supported by the fake API server";
constexpr char kModified[] =
    "the object has been modified; please apply your changes to the latest version and try "
    "again";
constexpr char kNamespaceMismatch[] =
    "the namespace of the provided object does not match the namespace sent on the request";

// What the fake knows of each kind it stores.
struct KindInfo {
  const char* kind;
  const char* api_version;  // "<group>/<version>", or "v1" for the core group
  const char* resource;     // plural, as in paths and error messages
  bool namespaced;
};

constexpr KindInfo kNode = {"Node", "v1", "nodes", false};
constexpr KindInfo kPod = {"Pod", "v1", "pods", true};
constexpr KindInfo kPdb = {"PodDisruptionBudget", "policy/v1", "poddisruptionbudgets", true};
constexpr KindInfo kPriorityClass = {"PriorityClass", "scheduling.k8s.io/v1", "priorityclasses",
                                     false};
constexpr KindInfo kEvent = {"Event", "v1", "events", true};
constexpr const KindInfo* kKinds[] = {&kNode, &kPod, &kPdb, &kPriorityClass, &kEvent};

const KindInfo* FindKind(absl::string_view kind) {
  for (const KindInfo* k : kKinds) {
    if (kind == k->kind) return k;
  }
  return nullptr;
}

// "" for the core group.
std::string Group(const KindInfo& k) {
  absl::string_view v = k.api_version;
  const size_t slash = v.find('/');
  return slash == absl::string_view::npos ? "" : std::string(v.substr(0, slash));
}

// How upstream names a resource in messages: "pods", "poddisruptionbudgets.policy".
std::string Qualified(absl::string_view resource, absl::string_view group) {
  return group.empty() ? std::string(resource) : absl::StrCat(resource, ".", group);
}

std::string Qualified(const KindInfo& k) { return Qualified(k.resource, Group(k)); }

// An HTTP answer: the code and the JSON body.
struct Reply {
  int code = 200;
  json body;
  int retry_after_seconds = 0;
};

// ---------------------------------------------------------------------------
// Reading JSON without exceptions: nlohmann throws on a type mismatch, so
// every access goes through these.

const json& Null() {
  static const json* const kNull = new json();
  return *kNull;
}

// The member `key` of `j`; null when `j` is no object or lacks it.
const json& Member(const json& j, const std::string& key) {
  if (!j.is_object()) return Null();
  auto it = j.find(key);
  return it == j.end() ? Null() : *it;
}

// `j` if it is a string, else "".
std::string Str(const json& j) { return j.is_string() ? j.get<std::string>() : ""; }

// `j` if it is an integer, else 0.
int64_t Int(const json& j) { return j.is_number_integer() ? j.get<int64_t>() : 0; }

std::string Meta(const json& object, const std::string& field) {
  return Str(Member(Member(object, "metadata"), field));
}

// Invalid UTF-8 (say, from a percent-decoded path) is replaced, not thrown on.
std::string Dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string Now() {
  return absl::FormatTime("%Y-%m-%d%ET%H:%M:%SZ", absl::Now(), absl::UTCTimeZone());
}

// ---------------------------------------------------------------------------
// Status objects.

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

json Details(absl::string_view resource, absl::string_view group, const std::string& name) {
  json d = json::object();
  d["name"] = name;
  if (!group.empty()) d["group"] = std::string(group);
  d["kind"] = std::string(resource);
  return d;
}

json Details(const KindInfo& k, const std::string& name) {
  return Details(k.resource, Group(k), name);
}

Reply NotFound(const KindInfo& k, const std::string& name) {
  return Failure(404, absl::StrCat(Qualified(k), " \"", name, "\" not found"), Details(k, name));
}

Reply AlreadyExists(const KindInfo& k, const std::string& name) {
  return StatusReply(409, "Failure", "AlreadyExists",
                     absl::StrCat(Qualified(k), " \"", name, "\" already exists"),
                     Details(k, name));
}

Reply Conflict(const KindInfo& k, const std::string& name, const std::string& why) {
  return Failure(
      409,
      absl::StrCat("Operation cannot be fulfilled on ", Qualified(k), " \"", name, "\": ", why),
      Details(k, name));
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

Reply EvictionSuccess() { return StatusReply(201, "Success", "", "", json()); }

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

// Go's strconv.ParseBool, true side: how upstream reads ?watch=.
bool IsTrue(const std::string& v) {
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}

// Checks and tidies an object of kind `k` about to be stored: an object,
// metadata an object whose system fields are strings (nulls dropped),
// labels a map of strings, kind and apiVersion `k`'s (filled in when
// absent). Returns why not, or "".
std::string Normalize(const KindInfo& k, json& object) {
  if (!object.is_object()) return "the object must be a JSON object";
  const std::string kind = Str(Member(object, "kind"));
  if (!Member(object, "kind").is_null() && kind != k.kind) {
    return absl::StrCat("the kind of the object (", Dump(object["kind"]),
                        ") does not match the expected kind (", k.kind, ")");
  }
  if (!Member(object, "apiVersion").is_null() && Str(object["apiVersion"]) != k.api_version) {
    return absl::StrCat("the API version of the object (", Dump(object["apiVersion"]),
                        ") does not match the expected API version (", k.api_version, ")");
  }
  object["kind"] = k.kind;
  object["apiVersion"] = k.api_version;
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
  auto labels = meta.find("labels");
  if (labels != meta.end() && !labels->is_null()) {
    if (!labels->is_object()) return "metadata.labels must be a map of strings";
    for (const json& v : *labels) {
      if (!v.is_string()) return "metadata.labels must be a map of strings";
    }
  }
  return "";
}

// ---------------------------------------------------------------------------
// Label selectors, from a LabelSelector object (budgets) or a string
// (?labelSelector=).

struct Requirement {
  enum class Op { kIn, kNotIn, kExists, kDoesNotExist };
  std::string key;
  Op op = Op::kExists;
  std::vector<std::string> values;
};

bool Matches(const std::vector<Requirement>& requirements, const json& labels) {
  for (const Requirement& r : requirements) {
    const json& v = Member(labels, r.key);
    const bool has = v.is_string();
    const bool listed =
        has && std::find(r.values.begin(), r.values.end(), v.get<std::string>()) != r.values.end();
    switch (r.op) {
      case Requirement::Op::kIn:
        if (!listed) return false;
        break;
      case Requirement::Op::kNotIn:
        if (listed) return false;
        break;
      case Requirement::Op::kExists:
        if (!has) return false;
        break;
      case Requirement::Op::kDoesNotExist:
        if (has) return false;
        break;
    }
  }
  return true;
}

// metav1.LabelSelectorAsSelector: matchLabels and matchExpressions (In,
// NotIn, Exists, DoesNotExist). No requirements at all selects everything.
absl::StatusOr<std::vector<Requirement>> FromLabelSelector(const json& selector) {
  if (!selector.is_object()) return absl::InvalidArgumentError("selector is not an object");
  std::vector<Requirement> out;
  const json& match_labels = Member(selector, "matchLabels");
  if (!match_labels.is_null()) {
    if (!match_labels.is_object()) return absl::InvalidArgumentError("bad matchLabels");
    for (auto it = match_labels.begin(); it != match_labels.end(); ++it) {
      if (!it->is_string()) return absl::InvalidArgumentError("bad matchLabels");
      out.push_back({it.key(), Requirement::Op::kIn, {it->get<std::string>()}});
    }
  }
  const json& expressions = Member(selector, "matchExpressions");
  if (!expressions.is_null()) {
    if (!expressions.is_array()) return absl::InvalidArgumentError("bad matchExpressions");
    for (const json& e : expressions) {
      Requirement r;
      r.key = Str(Member(e, "key"));
      if (r.key.empty()) return absl::InvalidArgumentError("matchExpressions: key is required");
      const json& values = Member(e, "values");
      if (!values.is_null() && !values.is_array()) {
        return absl::InvalidArgumentError("matchExpressions: values must be a list");
      }
      for (const json& v : values) {
        if (!v.is_string()) return absl::InvalidArgumentError("matchExpressions: bad value");
        r.values.push_back(v.get<std::string>());
      }
      const std::string op = Str(Member(e, "operator"));
      if (op == "In" || op == "NotIn") {
        r.op = op == "In" ? Requirement::Op::kIn : Requirement::Op::kNotIn;
        if (r.values.empty()) {
          return absl::InvalidArgumentError("matchExpressions: In and NotIn need values");
        }
      } else if (op == "Exists" || op == "DoesNotExist") {
        r.op = op == "Exists" ? Requirement::Op::kExists : Requirement::Op::kDoesNotExist;
        if (!r.values.empty()) {
          return absl::InvalidArgumentError("matchExpressions: Exists and DoesNotExist take none");
        }
      } else {
        return absl::InvalidArgumentError(absl::StrCat("matchExpressions: bad operator ", op));
      }
      out.push_back(std::move(r));
    }
  }
  return out;
}

// Splits `s` at the commas outside parentheses.
std::vector<std::string> SplitTerms(absl::string_view s) {
  std::vector<std::string> out(1);
  int depth = 0;
  for (char c : s) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.emplace_back();
    } else {
      out.back().push_back(c);
    }
  }
  return out;
}

// The labelSelector query: "a=b", "a==b", "a!=b", "a", "!a", "a in (x,y)",
// "a notin (x)", joined by commas.
absl::StatusOr<std::vector<Requirement>> ParseLabelSelector(absl::string_view selector) {
  std::vector<Requirement> out;
  if (absl::StripAsciiWhitespace(selector).empty()) return out;
  for (const std::string& raw : SplitTerms(selector)) {
    absl::string_view term = absl::StripAsciiWhitespace(raw);
    const absl::Status bad =
        absl::InvalidArgumentError(absl::StrCat("unable to parse requirement: \"", term, "\""));
    Requirement r;
    size_t at;
    if (absl::ConsumePrefix(&term, "!")) {
      r.key = std::string(absl::StripAsciiWhitespace(term));
      r.op = Requirement::Op::kDoesNotExist;
    } else if ((at = term.find('=')) != absl::string_view::npos) {
      absl::string_view key = term.substr(0, at);
      absl::string_view value = term.substr(at + 1);
      r.op = Requirement::Op::kIn;
      if (absl::ConsumeSuffix(&key, "!")) {
        r.op = Requirement::Op::kNotIn;
      } else {
        absl::ConsumePrefix(&value, "=");
      }
      r.key = std::string(absl::StripAsciiWhitespace(key));
      r.values.emplace_back(absl::StripAsciiWhitespace(value));
    } else if ((at = term.find_first_of(" \t(")) != absl::string_view::npos) {
      r.key = std::string(term.substr(0, at));
      absl::string_view rest = absl::StripAsciiWhitespace(term.substr(at));
      if (absl::ConsumePrefix(&rest, "notin")) {
        r.op = Requirement::Op::kNotIn;
      } else if (absl::ConsumePrefix(&rest, "in")) {
        r.op = Requirement::Op::kIn;
      } else {
        return bad;
      }
      rest = absl::StripAsciiWhitespace(rest);
      if (!absl::ConsumePrefix(&rest, "(") || !absl::ConsumeSuffix(&rest, ")")) return bad;
      for (absl::string_view v : absl::StrSplit(rest, ',')) {
        r.values.emplace_back(absl::StripAsciiWhitespace(v));
        if (r.values.back().empty()) return bad;
      }
    } else {
      r.key = std::string(term);
      r.op = Requirement::Op::kExists;
    }
    // Upstream's label key and value rules (labels.NewRequirement).
    if (!api::QualifiedNameErrors(r.key).empty()) return bad;
    for (const std::string& v : r.values) {
      if (!api::LabelValueErrors(v).empty()) return bad;
    }
    out.push_back(std::move(r));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Field selectors.

struct FieldRequirement {
  std::string field;
  std::string value;
  bool equal = true;
};

// The fields upstream lets a list select on, per kind.
bool SupportedField(const KindInfo& k, const std::string& field) {
  if (field == "metadata.name") return true;
  if (field == "metadata.namespace") return k.namespaced;
  if (&k == &kNode) return field == "spec.unschedulable";
  if (&k == &kPod) {
    for (const char* f :
         {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
          "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"}) {
      if (field == f) return true;
    }
  }
  return false;
}

// The value a field selector compares: strings as they are, booleans as
// "true" / "false" (false when absent), anything else absent as "".
std::string FieldValue(const json& object, const std::string& field) {
  const json* v = &object;
  for (absl::string_view part : absl::StrSplit(field, '.')) v = &Member(*v, std::string(part));
  if (v->is_boolean()) return v->get<bool>() ? "true" : "false";
  if (v->is_null() && (field == "spec.unschedulable" || field == "spec.hostNetwork")) {
    return "false";
  }
  if (v->is_string()) return v->get<std::string>();
  return v->is_null() ? "" : Dump(*v);
}

absl::StatusOr<std::vector<FieldRequirement>> ParseFieldSelector(const KindInfo& k,
                                                                 absl::string_view selector) {
  std::vector<FieldRequirement> out;
  if (absl::StripAsciiWhitespace(selector).empty()) return out;
  for (absl::string_view term : absl::StrSplit(selector, ',')) {
    const size_t at = term.find('=');
    if (at == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("invalid selector: '", selector, "'; can't understand '", term, "'"));
    }
    FieldRequirement r;
    absl::string_view field = term.substr(0, at);
    absl::string_view value = term.substr(at + 1);
    if (absl::ConsumeSuffix(&field, "!")) {
      r.equal = false;
    } else {
      absl::ConsumePrefix(&value, "=");
    }
    r.field = std::string(absl::StripAsciiWhitespace(field));
    r.value = std::string(absl::StripAsciiWhitespace(value));
    if (!SupportedField(k, r.field)) {
      return absl::InvalidArgumentError(absl::StrCat("field label not supported: ", r.field));
    }
    out.push_back(std::move(r));
  }
  return out;
}

bool FieldsMatch(const std::vector<FieldRequirement>& requirements, const json& object) {
  for (const FieldRequirement& r : requirements) {
    if ((FieldValue(object, r.field) == r.value) != r.equal) return false;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Routes.

enum class Endpoint {
  kNodeList,
  kNode,
  kPodListAll,
  kPodList,
  kPod,
  kEviction,
  kEvents,
  kPdbListAll,
  kPdbList,
  kPriorityClassList,
};

struct Route {
  const char* pattern;  // path segments; "*" captures one
  Endpoint endpoint;
  const char* methods;  // allowed, space-separated
};

constexpr Route kRoutes[] = {
    {"api/v1/nodes", Endpoint::kNodeList, "GET"},
    {"api/v1/nodes/*", Endpoint::kNode, "GET PATCH PUT"},
    {"api/v1/pods", Endpoint::kPodListAll, "GET"},
    {"api/v1/namespaces/*/pods", Endpoint::kPodList, "GET"},
    {"api/v1/namespaces/*/pods/*", Endpoint::kPod, "GET DELETE"},
    {"api/v1/namespaces/*/pods/*/eviction", Endpoint::kEviction, "POST"},
    {"api/v1/namespaces/*/events", Endpoint::kEvents, "POST"},
    {"apis/policy/v1/poddisruptionbudgets", Endpoint::kPdbListAll, "GET"},
    {"apis/policy/v1/namespaces/*/poddisruptionbudgets", Endpoint::kPdbList, "GET"},
    {"apis/scheduling.k8s.io/v1/priorityclasses", Endpoint::kPriorityClassList, "GET"},
};

// The route `segments` take, with the "*" segments in `args`.
const Route* FindRoute(const std::vector<std::string>& segments, std::vector<std::string>* args) {
  for (const Route& route : kRoutes) {
    std::vector<absl::string_view> pattern = absl::StrSplit(route.pattern, '/');
    if (pattern.size() != segments.size()) continue;
    args->clear();
    bool match = true;
    for (size_t i = 0; i < pattern.size() && match; ++i) {
      if (pattern[i] == "*") {
        args->push_back(segments[i]);
      } else {
        match = pattern[i] == segments[i];
      }
    }
    if (match) return &route;
  }
  return nullptr;
}

bool Allows(const Route& route, const std::string& method) {
  for (absl::string_view m : absl::StrSplit(route.methods, ' ')) {
    if (m == method) return true;
  }
  return false;
}

}  // namespace

// ---------------------------------------------------------------------------
// The store.

class FakeApiServer::Store {
 public:
  void Handle(const httplib::Request& req, httplib::Response& res) {
    Reply reply;
    {
      absl::MutexLock lock(&mu_);
      reply = Serve(req);
    }
    res.status = reply.code;
    if (reply.retry_after_seconds > 0) {
      res.set_header("Retry-After", std::to_string(reply.retry_after_seconds));
    }
    res.set_content(Dump(reply.body), "application/json");
  }

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
    absl::MutexLock lock(&mu_);
    return ToStatus(Insert(*k, std::move(object)));
  }

  absl::StatusOr<json> Get(const std::string& kind, const std::string& ns,
                           const std::string& name) {
    const KindInfo* k = FindKind(kind);
    if (k == nullptr) {
      return absl::InvalidArgumentError(absl::StrCat("Get: unsupported kind ", kind));
    }
    absl::MutexLock lock(&mu_);
    const json* object = Find(*k, ns, name);
    if (object == nullptr) return ToStatus(NotFound(*k, name));
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
    absl::MutexLock lock(&mu_);
    json* stored = Find(*k, Meta(object, "namespace"), Meta(object, "name"));
    if (stored == nullptr) return ToStatus(NotFound(*k, Meta(object, "name")));
    json& meta = object["metadata"];
    meta["uid"] = Meta(*stored, "uid");
    meta["creationTimestamp"] = Meta(*stored, "creationTimestamp");
    meta["resourceVersion"] = Bump();
    *stored = std::move(object);
    return absl::OkStatus();
  }

  std::vector<json> Events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }

  void FailNext(const std::string& method, const std::string& path_prefix, int code, int times) {
    if (times <= 0) return;
    absl::MutexLock lock(&mu_);
    failures_.push_back({method, path_prefix, code, times});
  }

  int requests() {
    absl::MutexLock lock(&mu_);
    return requests_;
  }

 private:
  using Key = std::pair<std::string, std::string>;  // namespace, name
  using Objects = std::map<Key, json>;              // sorted as lists are

  struct Injected {
    std::string method;
    std::string path_prefix;
    int code;
    int times;
  };

  // The next resourceVersion, as a string.
  std::string Bump() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return std::to_string(++rv_); }

  Objects& Of(const KindInfo& k) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return objects_[k.kind]; }

  json* Find(const KindInfo& k, const std::string& ns, const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Objects& objects = Of(k);
    auto it = objects.find({k.namespaced ? ns : "", name});
    return it == objects.end() ? nullptr : &it->second;
  }

  // Stores a new, normalized object (its namespace set when namespaced).
  Reply Insert(const KindInfo& k, json object) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
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
        int64_t n = generated_++;
        std::string suffix(5, kAlphabet[0]);
        for (int i = 4; i >= 0; --i, n /= kAlphabet.size()) {
          suffix[i] = kAlphabet[n % kAlphabet.size()];
        }
        name = prefix + suffix;
      } while (Find(k, ns, name) != nullptr);
      meta["name"] = name;
    }
    if (name.empty()) return NameRequired(k);
    if (Find(k, ns, name) != nullptr) return AlreadyExists(k, name);
    meta["resourceVersion"] = Bump();
    if (Str(Member(meta, "uid")).empty()) {
      meta["uid"] = absl::StrFormat("5f3a0c1e-0000-4000-8000-%012x", ++uids_);
    }
    if (Str(Member(meta, "creationTimestamp")).empty()) meta["creationTimestamp"] = Now();
    Of(k)[{ns, name}] = object;
    return {201, std::move(object)};
  }

  // Replaces `stored` by `updated` (from a PATCH or PUT): keeps what the
  // client may not change, and the resourceVersion when nothing changed.
  Reply Replace(const KindInfo& k, const std::string& name, json& stored, json updated)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (std::string why = Normalize(k, updated); !why.empty()) return Failure(400, why);
    if (Meta(updated, "name") != name) {
      return Failure(400, absl::StrCat("the name of the object (", Meta(updated, "name"),
                                       ") does not match the name on the URL (", name, ")"));
    }
    json& meta = updated["metadata"];
    if (k.namespaced) {
      if (!Meta(updated, "namespace").empty() &&
          Meta(updated, "namespace") != Meta(stored, "namespace")) {
        return Failure(400, kNamespaceMismatch);
      }
      meta["namespace"] = Meta(stored, "namespace");
    } else {
      meta.erase("namespace");
    }
    meta["uid"] = Meta(stored, "uid");
    meta["creationTimestamp"] = Meta(stored, "creationTimestamp");
    meta["resourceVersion"] = Meta(stored, "resourceVersion");
    if (updated != stored) {
      meta["resourceVersion"] = Bump();
      stored = std::move(updated);
    }
    return {200, stored};
  }

  // Removes a stored object; answers it with the resourceVersion of its deletion.
  json Remove(const KindInfo& k, const std::string& ns, const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Objects& objects = Of(k);
    auto it = objects.find({ns, name});
    json object = std::move(it->second);
    objects.erase(it);
    object["metadata"]["resourceVersion"] = Bump();
    return object;
  }

  std::optional<Reply> TakeInjected(const httplib::Request& req)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (auto it = failures_.begin(); it != failures_.end(); ++it) {
      if (it->method != req.method || !absl::StartsWith(req.path, it->path_prefix)) continue;
      const int code = it->code;
      if (--it->times == 0) failures_.erase(it);
      return Failure(code, GenericMessage(code));
    }
    return std::nullopt;
  }

  Reply Serve(const httplib::Request& req) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    ++requests_;
    if (std::optional<Reply> injected = TakeInjected(req)) return *std::move(injected);
    const std::vector<std::string> segments = absl::StrSplit(req.path, '/', absl::SkipEmpty());
    // /api/v1/watch/... and /apis/<group>/<version>/watch/...
    if ((segments.size() > 2 && segments[0] == "api" && segments[2] == "watch") ||
        (segments.size() > 3 && segments[0] == "apis" && segments[3] == "watch")) {
      return Failure(400, kWatchUnsupported);
    }
    std::vector<std::string> args;
    const Route* route = FindRoute(segments, &args);
    if (route == nullptr) return Failure(404, GenericMessage(404), json::object());
    const std::string method = req.method == "HEAD" ? "GET" : req.method;
    if (!Allows(*route, method)) return Failure(405, GenericMessage(405), json::object());
    switch (route->endpoint) {
      case Endpoint::kNodeList:
        return List(kNode, "", req);
      case Endpoint::kNode:
        if (method == "GET") return GetOne(kNode, "", args[0]);
        if (method == "PATCH") return PatchNode(args[0], req);
        return PutNode(args[0], req);
      case Endpoint::kPodListAll:
        return List(kPod, "", req);
      case Endpoint::kPodList:
        return List(kPod, args[0], req);
      case Endpoint::kPod:
        if (method == "GET") return GetOne(kPod, args[0], args[1]);
        return DeletePod(args[0], args[1], req);
      case Endpoint::kEviction:
        return Evict(args[0], args[1], req);
      case Endpoint::kEvents:
        return PostEvent(args[0], req);
      case Endpoint::kPdbListAll:
        return List(kPdb, "", req);
      case Endpoint::kPdbList:
        return List(kPdb, args[0], req);
      case Endpoint::kPriorityClassList:
        return List(kPriorityClass, "", req);
    }
    return Failure(404, GenericMessage(404), json::object());
  }

  // `ns` empty: all namespaces.
  Reply List(const KindInfo& k, const std::string& ns, const httplib::Request& req)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (IsTrue(req.get_param_value("watch"))) return Failure(400, kWatchUnsupported);
    absl::StatusOr<std::vector<Requirement>> labels =
        ParseLabelSelector(req.get_param_value("labelSelector"));
    if (!labels.ok()) return Failure(400, std::string(labels.status().message()));
    absl::StatusOr<std::vector<FieldRequirement>> fields =
        ParseFieldSelector(k, req.get_param_value("fieldSelector"));
    if (!fields.ok()) return Failure(400, std::string(fields.status().message()));
    json items = json::array();
    for (const auto& [key, object] : Of(k)) {
      if (!ns.empty() && key.first != ns) continue;
      if (!Matches(*labels, Member(Member(object, "metadata"), "labels"))) continue;
      if (!FieldsMatch(*fields, object)) continue;
      items.push_back(object);
    }
    json list = json::object();
    list["kind"] = absl::StrCat(k.kind, "List");
    list["apiVersion"] = k.api_version;
    list["metadata"] = {{"resourceVersion", std::to_string(rv_)}};
    list["items"] = std::move(items);
    return {200, std::move(list)};
  }

  Reply GetOne(const KindInfo& k, const std::string& ns, const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const json* object = Find(k, ns, name);
    if (object == nullptr) return NotFound(k, name);
    return {200, *object};
  }

  Reply PatchNode(const std::string& name, const httplib::Request& req)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (MediaType(req.get_header_value("Content-Type")) != "application/merge-patch+json") {
      return UnsupportedMediaType("application/merge-patch+json");
    }
    const json patch = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (patch.is_discarded() || !patch.is_object()) return NotJson("merge patch object");
    json* node = Find(kNode, "", name);
    if (node == nullptr) return NotFound(kNode, name);
    const json& rv = Member(Member(patch, "metadata"), "resourceVersion");
    if (!rv.is_null() && !rv.is_string()) {
      return Failure(400, "metadata.resourceVersion must be a string");
    }
    if (rv.is_string() && rv.get<std::string>() != Meta(*node, "resourceVersion")) {
      return Conflict(kNode, name, kModified);
    }
    json patched = *node;
    patched.merge_patch(patch);
    return Replace(kNode, name, *node, std::move(patched));
  }

  Reply PutNode(const std::string& name, const httplib::Request& req)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!IsJson(req)) return UnsupportedMediaType("application/json");
    json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (body.is_discarded() || !body.is_object()) return NotJson("object");
    if (std::string why = Normalize(kNode, body); !why.empty()) return Failure(400, why);
    if (Meta(body, "name") != name) {
      return Failure(400, absl::StrCat("the name of the object (", Meta(body, "name"),
                                       ") does not match the name on the URL (", name, ")"));
    }
    json* node = Find(kNode, "", name);
    if (node == nullptr) return NotFound(kNode, name);
    const std::string rv = Meta(body, "resourceVersion");
    if (!rv.empty() && rv != Meta(*node, "resourceVersion")) {
      return Conflict(kNode, name, kModified);
    }
    return Replace(kNode, name, *node, std::move(body));
  }

  Reply DeletePod(const std::string& ns, const std::string& name, const httplib::Request& req)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    json options = json::object();
    if (!absl::StripAsciiWhitespace(req.body).empty()) {
      options = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
      if (options.is_discarded() || !options.is_object()) return NotJson("DeleteOptions object");
    }
    const json* pod = Find(kPod, ns, name);
    if (pod == nullptr) return NotFound(kPod, name);
    // DeleteOptions.preconditions, as storage checks them.
    const json& preconditions = Member(options, "preconditions");
    const std::string uid = Str(Member(preconditions, "uid"));
    if (!uid.empty() && uid != Meta(*pod, "uid")) {
      return Conflict(kPod, name,
                      absl::StrCat("Precondition failed: UID in precondition: ", uid,
                                   ", UID in object meta: ", Meta(*pod, "uid")));
    }
    const std::string rv = Str(Member(preconditions, "resourceVersion"));
    if (!rv.empty() && rv != Meta(*pod, "resourceVersion")) {
      return Conflict(
          kPod, name,
          absl::StrCat("Precondition failed: ResourceVersion in precondition: ", rv,
                       ", ResourceVersion in object meta: ", Meta(*pod, "resourceVersion")));
    }
    return {200, Remove(kPod, ns, name)};
  }

  // The Eviction subresource, as pkg/registry/core/pod/storage/eviction.go
  // decides: the pod's one budget must allow a disruption.
  Reply Evict(const std::string& ns, const std::string& name, const httplib::Request& req)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
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

    const json* pod = Find(kPod, ns, name);
    if (pod == nullptr) return NotFound(kPod, name);
    // canIgnorePDB: the pod is not running (or no longer), so evicting it
    // disrupts nothing.
    const std::string phase = Str(Member(Member(*pod, "status"), "phase"));
    if (phase == "Succeeded" || phase == "Failed" || phase == "Pending" ||
        !Meta(*pod, "deletionTimestamp").empty()) {
      Remove(kPod, ns, name);
      return EvictionSuccess();
    }

    std::vector<json*> budgets;
    const json& labels = Member(Member(*pod, "metadata"), "labels");
    for (auto& [key, pdb] : Of(kPdb)) {
      if (key.first != ns) continue;
      const json& selector = Member(Member(pdb, "spec"), "selector");
      if (selector.is_null()) continue;  // a missing selector selects nothing
      absl::StatusOr<std::vector<Requirement>> requirements = FromLabelSelector(selector);
      if (!requirements.ok()) continue;  // neither does an invalid one
      if (Matches(*requirements, labels)) budgets.push_back(&pdb);
    }
    if (budgets.size() > 1) {
      return StatusReply(500, "Failure", "",
                         "This pod has more than one PodDisruptionBudget, which the eviction "
                         "subresource does not support.",
                         json());
    }
    if (budgets.size() == 1) {
      if (Reply refused = TakeDisruption(*budgets[0], name); refused.code != 200) return refused;
    }
    Remove(kPod, ns, name);
    return EvictionSuccess();
  }

  // checkAndDecrement: refuses (429, 403) or takes one disruption from `pdb`
  // for pod `pod_name` and answers 200.
  Reply TakeDisruption(json& pdb, const std::string& pod_name) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    const std::string pdb_name = Meta(pdb, "name");
    const json& status = Member(pdb, "status");
    if (Int(Member(status, "observedGeneration")) <
        Int(Member(Member(pdb, "metadata"), "generation"))) {
      Reply r = TooManyRequests(absl::StrCat("The disruption budget ", pdb_name,
                                             " is still being processed by the server."));
      r.body["details"]["retryAfterSeconds"] = 10;
      r.retry_after_seconds = 10;
      return r;
    }
    const int64_t allowed = Int(Member(status, "disruptionsAllowed"));
    if (allowed < 0) {
      return Failure(403,
                     absl::StrCat("poddisruptionbudget.policy \"", pdb_name,
                                  "\" is forbidden: pdb disruptions allowed is negative"),
                     Details("poddisruptionbudget", "policy", pdb_name));
    }
    if (allowed == 0) {
      return TooManyRequests(absl::StrCat(
          "The disruption budget ", pdb_name, " needs ", Int(Member(status, "desiredHealthy")),
          " healthy pods and has ", Int(Member(status, "currentHealthy")), " currently"));
    }
    // `allowed` > 0, so status is an object.
    json& s = pdb["status"];
    s["disruptionsAllowed"] = allowed - 1;
    s["currentHealthy"] = std::max<int64_t>(0, Int(Member(s, "currentHealthy")) - 1);
    if (!s["disruptedPods"].is_object()) s["disruptedPods"] = json::object();
    s["disruptedPods"][pod_name] = Now();
    pdb["metadata"]["resourceVersion"] = Bump();
    return {200, json()};
  }

  static Reply TooManyRequests(const std::string& cause) {
    json details = json::object();
    details["causes"] = json::array({{{"reason", "DisruptionBudget"}, {"message", cause}}});
    return Failure(429, "Cannot evict pod as it would violate the pod's disruption budget.",
                   std::move(details));
  }

  Reply PostEvent(const std::string& ns, const httplib::Request& req)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (!IsJson(req)) return UnsupportedMediaType("application/json");
    json event = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
    if (event.is_discarded() || !event.is_object()) return NotJson("object");
    if (std::string why = Normalize(kEvent, event); !why.empty()) return Failure(400, why);
    const std::string body_ns = Meta(event, "namespace");
    if (!body_ns.empty() && body_ns != ns) return Failure(400, kNamespaceMismatch);
    event["metadata"]["namespace"] = ns;
    Reply reply = Insert(kEvent, std::move(event));
    if (reply.code == 201) events_.push_back(reply.body);
    return reply;
  }

  absl::Mutex mu_;
  int64_t rv_ ABSL_GUARDED_BY(mu_) = 1;
  int64_t uids_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t generated_ ABSL_GUARDED_BY(mu_) = 0;
  int requests_ ABSL_GUARDED_BY(mu_) = 0;
  // By kind.
  std::map<std::string, Objects> objects_ ABSL_GUARDED_BY(mu_);
  std::vector<json> events_ ABSL_GUARDED_BY(mu_);
  std::vector<Injected> failures_ ABSL_GUARDED_BY(mu_);
};

// ---------------------------------------------------------------------------

FakeApiServer::FakeApiServer() : store_(std::make_unique<Store>()) {}

absl::StatusOr<std::unique_ptr<FakeApiServer>> FakeApiServer::Start() {
  std::unique_ptr<FakeApiServer> server(new FakeApiServer());
  Store* store = server->store_.get();
  auto handler = [store](const httplib::Request& req, httplib::Response& res) {
    store->Handle(req, res);
  };
  httplib::Server& http = server->server_;
  http.Get(".*", handler);
  http.Post(".*", handler);
  http.Put(".*", handler);
  http.Patch(".*", handler);
  http.Delete(".*", handler);
  http.Options(".*", handler);
  // Bounds how long the destructor waits for idle keep-alive connections.
  http.set_keep_alive_timeout(1);
  server->port_ = http.bind_to_any_port("127.0.0.1");
  if (server->port_ < 0) return absl::UnavailableError("fake API server: cannot bind 127.0.0.1");
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
  server_.stop();
  if (thread_.joinable()) thread_.join();
}

std::string FakeApiServer::url() const { return absl::StrCat("http://127.0.0.1:", port_); }

absl::Status FakeApiServer::Create(const std::string& json) { return store_->Create(json); }

absl::StatusOr<nlohmann::json> FakeApiServer::Get(const std::string& kind, const std::string& ns,
                                                  const std::string& name) const {
  return store_->Get(kind, ns, name);
}

absl::Status FakeApiServer::Update(const nlohmann::json& object) { return store_->Update(object); }

std::vector<nlohmann::json> FakeApiServer::Events() const { return store_->Events(); }

void FakeApiServer::FailNext(const std::string& method, const std::string& path_prefix, int code,
                             int times) {
  store_->FailNext(method, path_prefix, code, times);
}

int FakeApiServer::requests() const { return store_->requests(); }

}  // namespace kestrel::kube::testing
