// Tests for kube/codec.h. The protobuf fixtures are bytes derived by hand
// from upstream's generated.proto field numbers (tag = number << 3 | wire
// type; 0 varint, 2 length-delimited), written the way upstream's gogo
// marshalling writes them: fields in number order, empty strings and zero
// integers of non-pointer Go fields written all the same, and fields that
// api/*.proto leaves out (managedFields, dnsPolicy) present. Each decodes to
// the same message as its JSON twin decoded by api/decode.

#include "kube/codec.h"

#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/config/config.pb.h"
#include "api/coordination.pb.h"
#include "api/core.pb.h"
#include "api/events.pb.h"
#include "api/meta.pb.h"
#include "api/policy.pb.h"
#include "api/scheduling.pb.h"
#include "gmock/gmock.h"
#include "google/protobuf/descriptor.pb.h"
#include "google/protobuf/message.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"

namespace kestrel::kube {
namespace {

namespace core = ::k8s::io::api::core::v1;
namespace meta = ::k8s::io::apimachinery::pkg::apis::meta::v1;
namespace policy = ::k8s::io::api::policy::v1;
namespace coordination = ::k8s::io::api::coordination::v1;
namespace events = ::k8s::io::api::events::v1;
using ::google::protobuf::util::MessageDifferencer;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

// Equal, where a field set to its zero value equals an unset one: upstream
// writes those in protobuf and leaves them out of JSON, and Go cannot tell
// them apart either.
testing::AssertionResult Equivalent(const google::protobuf::Message& a,
                                    const google::protobuf::Message& b) {
  MessageDifferencer differ;
  differ.set_message_field_comparison(MessageDifferencer::EQUIVALENT);
  std::string diff;
  differ.ReportDifferencesToString(&diff);
  if (differ.Compare(a, b)) return testing::AssertionSuccess();
  return testing::AssertionFailure() << diff;
}

// Pod default/web-1 as a 1.25 API server sends it in protobuf.
const std::string& PodFixture() {
  static const std::string* bytes = new std::string(Bytes({
      0x6B, 0x38, 0x73, 0x00,  // "k8s\x00"
      0x0A, 0x09,              // Unknown.typeMeta = 1, LEN 9
        0x0A, 0x02, 'v', '1',            // apiVersion = 1
        0x12, 0x03, 'P', 'o', 'd',       // kind = 2
      0x12, 0x9D, 0x01,        // Unknown.raw = 2, LEN 157: the Pod
        0x0A, 0x3E,  // Pod.metadata = 1, LEN 62
          0x0A, 0x05, 'w', 'e', 'b', '-', '1',  // ObjectMeta.name = 1
          0x12, 0x00,  // generateName = 2: empty, as upstream always writes it
          0x1A, 0x07, 'd', 'e', 'f', 'a', 'u', 'l', 't',  // namespace = 3
          0x2A, 0x02, 'u', '1',  // uid = 5
          0x32, 0x02, '4', '2',  // resourceVersion = 6
          0x38, 0x00,  // generation = 7: zero, written all the same
          0x42, 0x08,  // creationTimestamp = 8, LEN 8
            0x08, 0xA5, 0xFA, 0xCD, 0xAC, 0x06,  // Time.seconds = 1: 2024-01-02T03:04:05Z
            0x10, 0x00,  // Time.nanos = 2
          0x5A, 0x0A,  // labels = 11, one entry, LEN 10
            0x0A, 0x03, 'a', 'p', 'p',  // key = 1
            0x12, 0x03, 'w', 'e', 'b',  // value = 2
          0x8A, 0x01, 0x09,  // managedFields = 17: not in api/meta.proto, LEN 9
            0x0A, 0x07, 'k', 'u', 'b', 'e', 'c', 't', 'l',  // ManagedFieldsEntry.manager = 1
        0x12, 0x50,  // Pod.spec = 2, LEN 80
          0x12, 0x1B,  // PodSpec.containers = 2, LEN 27
            0x0A, 0x01, 'c',  // Container.name = 1
            0x12, 0x05, 'n', 'g', 'i', 'n', 'x',  // image = 2
            0x42, 0x0F,  // resources = 8, LEN 15
              0x12, 0x0D,  // requests = 2, one entry, LEN 13
                0x0A, 0x03, 'c', 'p', 'u',  // key = 1
                0x12, 0x06,  // value = 2, LEN 6
                  0x0A, 0x04, '1', '0', '0', 'm',  // Quantity.string = 1
          0x32, 0x0C, 'C', 'l', 'u', 's', 't', 'e', 'r', 'F', 'i', 'r', 's', 't',
                       // dnsPolicy = 6: not in api/core.proto
          0x52, 0x02, 'n', '1',  // nodeName = 10
          0xB2, 0x01, 0x1A,  // tolerations = 22, LEN 26
            0x0A, 0x01, 'k',  // Toleration.key = 1
            0x12, 0x06, 'E', 'x', 'i', 's', 't', 's',  // operator = 2
            0x22, 0x0A, 'N', 'o', 'S', 'c', 'h', 'e', 'd', 'u', 'l', 'e',  // effect = 4
            0x28, 0xAC, 0x02,  // tolerationSeconds = 5: 300
          0xC8, 0x01, 0xE8, 0x07,  // priority = 25: 1000
        0x1A, 0x09,  // Pod.status = 3, LEN 9
          0x0A, 0x07, 'R', 'u', 'n', 'n', 'i', 'n', 'g',  // PodStatus.phase = 1
      0x1A, 0x00,  // Unknown.contentEncoding = 3
      0x22, 0x00,  // Unknown.contentType = 4
  }));
  return *bytes;
}

constexpr char kPodJson[] = R"({
  "kind": "Pod", "apiVersion": "v1",
  "metadata": {"name": "web-1", "namespace": "default", "uid": "u1",
               "resourceVersion": "42", "creationTimestamp": "2024-01-02T03:04:05Z",
               "labels": {"app": "web"},
               "managedFields": [{"manager": "kubectl"}]},
  "spec": {"containers": [{"name": "c", "image": "nginx",
                           "resources": {"requests": {"cpu": "100m"}}}],
           "dnsPolicy": "ClusterFirst", "nodeName": "n1",
           "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule",
                            "tolerationSeconds": 300}],
           "priority": 1000},
  "status": {"phase": "Running"}
})";

const std::string& PodListFixture() {
  static const std::string* bytes = new std::string(Bytes({
      0x6B, 0x38, 0x73, 0x00,  // "k8s\x00"
      0x0A, 0x0D,              // Unknown.typeMeta = 1, LEN 13
        0x0A, 0x02, 'v', '1',                               // apiVersion = 1
        0x12, 0x07, 'P', 'o', 'd', 'L', 'i', 's', 't',      // kind = 2
      0x12, 0x42,              // Unknown.raw = 2, LEN 66: the PodList
        0x0A, 0x08,  // PodList.metadata = 1, LEN 8
          0x0A, 0x00,  // ListMeta.selfLink = 1
          0x12, 0x02, '4', '3',  // resourceVersion = 2
          0x1A, 0x00,  // continue = 3
        0x12, 0x14,  // PodList.items = 2 [0], LEN 20
          0x0A, 0x0C,  // Pod.metadata = 1, LEN 12
            0x0A, 0x01, 'a',  // name = 1
            0x1A, 0x07, 'd', 'e', 'f', 'a', 'u', 'l', 't',  // namespace = 3
          0x12, 0x04,  // Pod.spec = 2, LEN 4
            0x52, 0x02, 'n', '1',  // PodSpec.nodeName = 10
        0x12, 0x20,  // PodList.items = 2 [1], LEN 32
          0x0A, 0x0C,  // Pod.metadata = 1, LEN 12
            0x0A, 0x01, 'b',  // name = 1
            0x1A, 0x07, 'd', 'e', 'f', 'a', 'u', 'l', 't',  // namespace = 3
          0x12, 0x05,  // Pod.spec = 2, LEN 5
            0x12, 0x03,  // PodSpec.containers = 2, LEN 3
              0x0A, 0x01, 'c',  // Container.name = 1
          0x1A, 0x09,  // Pod.status = 3, LEN 9
            0x0A, 0x07, 'P', 'e', 'n', 'd', 'i', 'n', 'g',  // PodStatus.phase = 1
      0x1A, 0x00,  // Unknown.contentEncoding = 3
      0x22, 0x00,  // Unknown.contentType = 4
  }));
  return *bytes;
}

constexpr char kPodListJson[] = R"({
  "kind": "PodList", "apiVersion": "v1",
  "metadata": {"resourceVersion": "43"},
  "items": [
    {"metadata": {"name": "a", "namespace": "default"}, "spec": {"nodeName": "n1"}},
    {"metadata": {"name": "b", "namespace": "default"}, "spec": {"containers": [{"name": "c"}]},
     "status": {"phase": "Pending"}}
  ]
})";

// Whether `m` holds unknown fields anywhere, by reflection.
bool KeepsUnknownFields(const google::protobuf::Message& m) {
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  m.GetReflection()->ListFields(m, &fields);
  if (!m.GetReflection()->GetUnknownFields(m).empty()) return true;
  for (const auto* f : fields) {
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (f->is_repeated()) {
      for (int i = 0; i < m.GetReflection()->FieldSize(m, f); ++i) {
        if (KeepsUnknownFields(m.GetReflection()->GetRepeatedMessage(m, f, i))) return true;
      }
    } else if (KeepsUnknownFields(m.GetReflection()->GetMessage(m, f))) {
      return true;
    }
  }
  return false;
}

TEST(ProtobufFixtureTest, PodDecodesToItsJsonTwin) {
  core::Pod from_protobuf;
  ASSERT_TRUE(Decode(kContentTypeProtobuf, PodFixture(), &from_protobuf, "GET pod").ok());
  core::Pod from_json;
  ASSERT_TRUE(Decode(kContentTypeJson, kPodJson, &from_json, "GET pod").ok());
  EXPECT_TRUE(Equivalent(from_protobuf, from_json));
  // Spot checks that the comparison is not vacuous.
  EXPECT_EQ(from_protobuf.metadata().creationtimestamp().seconds(), 1704164645);
  EXPECT_EQ(from_protobuf.spec().tolerations(0).tolerationseconds(), 300);
  EXPECT_EQ(from_protobuf.spec().containers(0).resources().requests().at("cpu").string(), "100m");
  // managedFields and dnsPolicy are not kept.
  EXPECT_FALSE(KeepsUnknownFields(from_protobuf));
}

TEST(ProtobufFixtureTest, PodListDecodesToItsJsonTwin) {
  core::PodList from_protobuf;
  ASSERT_TRUE(Decode("application/vnd.kubernetes.protobuf", PodListFixture(), &from_protobuf,
                     "GET pods")
                  .ok());
  core::PodList from_json;
  ASSERT_TRUE(Decode("application/json; charset=utf-8", kPodListJson, &from_json, "GET pods")
                  .ok());
  EXPECT_TRUE(Equivalent(from_protobuf, from_json));
  ASSERT_EQ(from_protobuf.items_size(), 2);
  EXPECT_EQ(from_protobuf.metadata().resourceversion(), "43");
  EXPECT_EQ(from_protobuf.items(1).status().phase(), "Pending");
}

// The encoder writes the envelope upstream's decoder expects (the empty
// contentEncoding and contentType included, as upstream writes them).
TEST(EncodeProtobufTest, Envelope) {
  core::Namespace ns;
  ns.mutable_metadata()->set_name("n");
  absl::StatusOr<std::string> bytes = EncodeProtobuf(ns);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(*bytes, Bytes({
                        0x6B, 0x38, 0x73, 0x00,
                        0x0A, 0x0F,  // typeMeta, LEN 15
                        0x0A, 0x02, 'v', '1',
                        0x12, 0x09, 'N', 'a', 'm', 'e', 's', 'p', 'a', 'c', 'e',
                        0x12, 0x05,  // raw, LEN 5
                        0x0A, 0x03, 0x0A, 0x01, 'n',
                        0x1A, 0x00, 0x22, 0x00,
                    }));
  EXPECT_THAT(EncodeProtobuf(config::KubeSchedulerConfiguration()).status().message(),
              HasSubstr("not a Kubernetes API kind"));
}

// Labels and resource lists are maps: upstream writes their entries sorted
// by key, so an object's bytes do not depend on map iteration order.
TEST(EncodeProtobufTest, MapEntriesSortedByKey) {
  core::Node node;
  std::vector<std::string> keys;
  for (int i = 0; i < 40; ++i) keys.push_back(absl::StrCat("label-", 100 + i));
  // Inserted in reverse, so insertion order is not the sorted order either.
  for (auto it = keys.rbegin(); it != keys.rend(); ++it) {
    (*node.mutable_metadata()->mutable_labels())[*it] = "v";
  }
  absl::StatusOr<std::string> bytes = EncodeProtobuf(node);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  size_t last = 0;
  for (const std::string& key : keys) {
    const size_t at = bytes->find(key);
    ASSERT_NE(at, std::string::npos) << key;
    EXPECT_GT(at, last) << key << " is not after the keys that sort before it";
    last = at;
  }
}

TEST(TypeMetaOfTest, GroupsAndVersions) {
  struct Case {
    const google::protobuf::Descriptor* type;
    std::string api_version;
    std::string kind;
  };
  const std::vector<Case> cases = {
      {core::Pod::descriptor(), "v1", "Pod"},
      {core::NodeList::descriptor(), "v1", "NodeList"},
      {policy::PodDisruptionBudget::descriptor(), "policy/v1", "PodDisruptionBudget"},
      {policy::Eviction::descriptor(), "policy/v1", "Eviction"},
      {coordination::Lease::descriptor(), "coordination.k8s.io/v1", "Lease"},
      {::k8s::io::api::scheduling::v1::PriorityClass::descriptor(), "scheduling.k8s.io/v1",
       "PriorityClass"},
      {events::Event::descriptor(), "events.k8s.io/v1", "Event"},
      {meta::Status::descriptor(), "v1", "Status"},
  };
  for (const Case& c : cases) {
    absl::StatusOr<TypeMeta> t = TypeMetaOf(c.type);
    ASSERT_TRUE(t.ok()) << c.type->full_name() << ": " << t.status();
    EXPECT_EQ(t->api_version, c.api_version) << c.type->full_name();
    EXPECT_EQ(t->kind, c.kind) << c.type->full_name();
    EXPECT_TRUE(HasProtobuf(c.type)) << c.type->full_name();
  }
  EXPECT_EQ(TypeMetaOf(config::KubeSchedulerConfiguration::descriptor()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(TypeMetaOf(core::PodSpec::descriptor()).status().code(), absl::StatusCode::kNotFound);
  EXPECT_FALSE(HasProtobuf(config::KubeSchedulerConfiguration::descriptor()));
}

// Objects with every type whose JSON form is special.
std::vector<std::unique_ptr<google::protobuf::Message>> RoundTripObjects() {
  std::vector<std::unique_ptr<google::protobuf::Message>> out;
  auto pod = std::make_unique<core::Pod>();
  EXPECT_TRUE(DecodeJson(kPodJson, pod.get(), "fixture").ok());
  out.push_back(std::move(pod));
  auto volumes = std::make_unique<core::Pod>();
  core::Volume* v = volumes->mutable_spec()->add_volumes();
  v->set_name("scratch");
  v->mutable_volumesource()->mutable_emptydir()->mutable_sizelimit()->set_string("1Gi");
  volumes->mutable_spec()->add_volumes()->set_name("empty");
  volumes->mutable_metadata()->set_name("quote\"back\\slash\nnewline\x01");
  out.push_back(std::move(volumes));
  auto pdb = std::make_unique<policy::PodDisruptionBudget>();
  pdb->mutable_spec()->mutable_maxunavailable()->set_type(1);
  pdb->mutable_spec()->mutable_maxunavailable()->set_strval("25%");
  pdb->mutable_spec()->mutable_minavailable()->set_type(0);
  pdb->mutable_spec()->mutable_minavailable()->set_intval(2);
  (*pdb->mutable_spec()->mutable_selector()->mutable_matchlabels())["app"] = "web";
  out.push_back(std::move(pdb));
  auto lease = std::make_unique<coordination::Lease>();
  lease->mutable_spec()->set_holderidentity("kestrel-1");
  lease->mutable_spec()->mutable_renewtime()->set_seconds(1704164645);
  lease->mutable_spec()->mutable_renewtime()->set_nanos(123456000);
  lease->mutable_spec()->set_leasedurationseconds(15);
  out.push_back(std::move(lease));
  auto event = std::make_unique<events::Event>();
  event->mutable_eventtime()->set_seconds(1704164645);
  event->mutable_eventtime()->set_nanos(0);  // JSON times always set both
  event->set_reason("Scheduled");
  event->mutable_regarding()->set_kind("Pod");
  event->set_note("Successfully assigned default/web-1 to n1");
  out.push_back(std::move(event));
  auto node = std::make_unique<core::Node>();
  core::Taint* taint = node->mutable_spec()->add_taints();
  taint->set_key("k");
  taint->mutable_timeadded()->set_seconds(1704164645);
  taint->mutable_timeadded()->set_nanos(0);
  (*node->mutable_status()->mutable_allocatable())["cpu"].set_string("4");
  (*node->mutable_status()->mutable_allocatable())["memory"].set_string("16Gi");
  out.push_back(std::move(node));
  return out;
}

TEST(RoundTripTest, ProtobufAndJson) {
  const auto objects = RoundTripObjects();
  ASSERT_EQ(objects.size(), 6u);
  for (const auto& object : objects) {
    SCOPED_TRACE(object->GetDescriptor()->name());
    absl::StatusOr<std::string> bytes = EncodeProtobuf(*object);
    ASSERT_TRUE(bytes.ok()) << bytes.status();
    std::unique_ptr<google::protobuf::Message> back(object->New());
    ASSERT_TRUE(DecodeProtobuf(*bytes, back.get(), "protobuf").ok());
    EXPECT_TRUE(MessageDifferencer::Equals(*object, *back));

    const std::string json = EncodeJson(*object);
    back->Clear();
    absl::Status s = DecodeJson(json, back.get(), "json");
    ASSERT_TRUE(s.ok()) << s << "\n" << json;
    EXPECT_TRUE(MessageDifferencer::Equals(*object, *back)) << json;
  }
}

TEST(EncodeJsonTest, KubernetesForms) {
  core::Pod pod;
  pod.mutable_metadata()->set_name("p");
  pod.mutable_metadata()->mutable_creationtimestamp()->set_seconds(1704164645);
  core::Volume* v = pod.mutable_spec()->add_volumes();
  v->set_name("v");
  v->mutable_volumesource()->mutable_emptydir()->mutable_sizelimit()->set_string("1Gi");
  pod.mutable_spec()->set_priority(7);
  EXPECT_EQ(EncodeJson(pod),
            R"({"apiVersion":"v1","kind":"Pod",)"
            R"("metadata":{"name":"p","creationTimestamp":"2024-01-02T03:04:05Z"},)"
            R"("spec":{"volumes":[{"name":"v","emptyDir":{"sizeLimit":"1Gi"}}],"priority":7}})");

  policy::PodDisruptionBudgetSpec spec;
  spec.mutable_minavailable()->set_intval(2);
  spec.mutable_maxunavailable()->set_type(1);
  spec.mutable_maxunavailable()->set_strval("25%");
  // Not a top-level kind: no apiVersion and kind.
  EXPECT_EQ(EncodeJson(spec), R"({"minAvailable":2,"maxUnavailable":"25%"})");

  coordination::LeaseSpec lease;
  lease.mutable_renewtime()->set_seconds(1704164645);
  lease.mutable_renewtime()->set_nanos(123456000);
  EXPECT_EQ(EncodeJson(lease), R"({"renewTime":"2024-01-02T03:04:05.123456Z"})");
}

struct DecodeErrorCase {
  std::string name;
  std::string content_type;
  std::string body;
  std::string want;  // the whole message
};

void PrintTo(const DecodeErrorCase& c, std::ostream* os) { *os << c.name; }

class DecodeErrorTest : public ::testing::TestWithParam<DecodeErrorCase> {};

TEST_P(DecodeErrorTest, NamesTheRequestAndTheObject) {
  const bool list = GetParam().name.find("List") != std::string::npos;
  core::Pod pod;
  core::PodList pods;
  absl::Status s = Decode(GetParam().content_type, GetParam().body,
                          list ? static_cast<google::protobuf::Message*>(&pods) : &pod,
                          "GET /api/v1/x");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), GetParam().want);
}

// "k8s\x00" + Unknown{typeMeta{v1, `kind`}, raw}.
std::string Envelope(const std::string& kind, const std::string& raw) {
  std::string type = Bytes({0x0A, 0x02, 'v', '1', 0x12, static_cast<int>(kind.size())}) + kind;
  return Bytes({0x6B, 0x38, 0x73, 0x00, 0x0A, static_cast<int>(type.size())}) + type +
         Bytes({0x12, static_cast<int>(raw.size())}) + raw;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, DecodeErrorTest,
    ::testing::Values(
        DecodeErrorCase{"NoMagic", kContentTypeProtobuf, "<html>oops</html>",
                        "GET /api/v1/x: not a Kubernetes protobuf message (no k8s\\x00 prefix): "
                        "\"<html>oops</html>\""},
        DecodeErrorCase{"EmptyProtobuf", kContentTypeProtobuf, "", "GET /api/v1/x: empty body"},
        DecodeErrorCase{"EmptyJson", kContentTypeJson, " \n", "GET /api/v1/x: empty body"},
        DecodeErrorCase{"BadEnvelope", kContentTypeProtobuf, Bytes({0x6B, 0x38, 0x73, 0x00, 0xFF}),
                        "GET /api/v1/x: malformed protobuf envelope"},
        DecodeErrorCase{"WrongKind", kContentTypeProtobuf, Envelope("Node", ""),
                        "GET /api/v1/x: expected kind Pod, got \"Node\""},
        DecodeErrorCase{"Status", kContentTypeProtobuf,
                        Envelope("Status", Bytes({0x1A, 0x09, 'n', 'o', 't', ' ', 'f', 'o', 'u',
                                                  'n', 'd'})),
                        "GET /api/v1/x: expected a Pod, got a Status: not found"},
        // Pod{metadata{name: "web", namespace: "ns"}, spec: LEN 2 holding a
        // field that claims 5 bytes}.
        DecodeErrorCase{"BrokenPod", kContentTypeProtobuf,
                        Envelope("Pod", Bytes({0x0A, 0x09, 0x0A, 0x03, 'w', 'e', 'b', 0x1A, 0x02,
                                               'n', 's', 0x12, 0x02, 0x0A, 0x05})),
                        "GET /api/v1/x: Pod ns/web: malformed protobuf"},
        // PodList{items[0]: Pod a, items[1]: Pod b whose status is cut}.
        DecodeErrorCase{"BrokenPodListItem", kContentTypeProtobuf,
                        Envelope("PodList", Bytes({0x12, 0x05, 0x0A, 0x03, 0x0A, 0x01, 'a',  //
                                                   0x12, 0x07, 0x0A, 0x03, 0x0A, 0x01, 'b',  //
                                                   0x1A, 0x09})),
                        "GET /api/v1/x: PodList items[1]: Pod b: malformed protobuf"},
        DecodeErrorCase{"JsonBadField", kContentTypeJson,
                        R"({"spec":{"containers":[{"resources":{"requests":{"cpu":"two"}}}]}})",
                        "GET /api/v1/x: spec.containers[0].resources.requests.cpu: quantities "
                        "must match the regular expression "
                        "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$' (got \"two\")"},
        DecodeErrorCase{"OtherContentType", "text/html", "<html>",
                        "GET /api/v1/x: unexpected content type \"text/html\", body \"<html>\""}),
    [](const auto& info) { return info.param.name; });

TEST(StatusMessageOfTest, BothFormats) {
  EXPECT_EQ(StatusMessageOf(R"({"kind":"Status","message":"pods \"x\" not found"})"),
            "pods \"x\" not found");
  EXPECT_EQ(StatusMessageOf(Envelope("Status", Bytes({0x1A, 0x02, 'n', 'o'}))), "no");
  EXPECT_EQ(StatusMessageOf("garbage"), "");
  EXPECT_EQ(StatusMessageOf(Envelope("Pod", "")), "");
}

// --- Watch streams ----------------------------------------------------------

// Two protobuf watch frames, by hand: ADDED Pod a, then MODIFIED Pod b.
const std::string& WatchFixture() {
  static const std::string* bytes = new std::string(Bytes({
      0x00, 0x00, 0x00, 0x25,  // frame length 37, big-endian
      0x0A, 0x05, 'A', 'D', 'D', 'E', 'D',  // WatchEvent.type = 1
      0x12, 0x1C,                           // WatchEvent.object = 2, LEN 28
        0x0A, 0x1A,                         //   RawExtension.raw = 1, LEN 26
          0x6B, 0x38, 0x73, 0x00,           //     "k8s\x00"
          0x0A, 0x09, 0x0A, 0x02, 'v', '1', 0x12, 0x03, 'P', 'o', 'd',  // typeMeta
          0x12, 0x05, 0x0A, 0x03, 0x0A, 0x01, 'a',  // raw: Pod{metadata{name "a"}}
          0x1A, 0x00, 0x22, 0x00,
      0x00, 0x00, 0x00, 0x28,  // frame length 40
      0x0A, 0x08, 'M', 'O', 'D', 'I', 'F', 'I', 'E', 'D',
      0x12, 0x1C,
        0x0A, 0x1A,
          0x6B, 0x38, 0x73, 0x00,
          0x0A, 0x09, 0x0A, 0x02, 'v', '1', 0x12, 0x03, 'P', 'o', 'd',
          0x12, 0x05, 0x0A, 0x03, 0x0A, 0x01, 'b',
          0x1A, 0x00, 0x22, 0x00,
  }));
  return *bytes;
}

constexpr size_t kFirstFrame = 4 + 37;

core::Pod PodNamed(const std::string& name) {
  core::Pod pod;
  pod.mutable_metadata()->set_name(name);
  return pod;
}

// Feeds `stream` in chunks of `chunk` bytes; "TYPE name" per event.
absl::Status FeedInChunks(WatchDecoder& decoder, const std::string& stream, size_t chunk,
                          std::vector<std::string>* seen) {
  for (size_t at = 0; at < stream.size(); at += chunk) {
    absl::Status s = decoder.Feed(absl::string_view(stream).substr(at, chunk), [&](DecodedEvent e) {
      if (e.type == "ERROR") {
        const auto& status = static_cast<const meta::Status&>(*e.object);
        seen->push_back(absl::StrCat("ERROR ", status.code(), " ", status.message()));
      } else {
        seen->push_back(
            absl::StrCat(e.type, " ", static_cast<const core::Pod&>(*e.object).metadata().name()));
      }
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
  }
  return absl::OkStatus();
}

TEST(WatchTest, ProtobufFramesInAnyChunking) {
  for (size_t chunk = 1; chunk <= WatchFixture().size(); ++chunk) {
    SCOPED_TRACE(chunk);
    WatchDecoder decoder(WatchFormat::kLengthDelimited, core::Pod::default_instance(), "watch");
    std::vector<std::string> seen;
    ASSERT_TRUE(FeedInChunks(decoder, WatchFixture(), chunk, &seen).ok());
    EXPECT_TRUE(decoder.Finish().ok());
    EXPECT_THAT(seen, ElementsAre("ADDED a", "MODIFIED b"));
  }
}

TEST(WatchTest, EncoderWritesTheFixture) {
  absl::StatusOr<std::string> a = EncodeWatchFrame(WatchFormat::kLengthDelimited, "ADDED",
                                                   PodNamed("a"));
  absl::StatusOr<std::string> b = EncodeWatchFrame(WatchFormat::kLengthDelimited, "MODIFIED",
                                                   PodNamed("b"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a + *b, WatchFixture());
}

TEST(WatchTest, StreamCutInsideAFrame) {
  struct Case {
    size_t bytes;
    std::string want;
  };
  const std::vector<Case> cases = {
      {kFirstFrame + 10, "watch: event 2: the stream ended inside the frame (6 of 40 bytes)"},
      {kFirstFrame + 2, "watch: event 2: the stream ended inside a frame's length (2 of 4 bytes)"},
      {20, "watch: event 1: the stream ended inside the frame (16 of 37 bytes)"},
  };
  for (const Case& c : cases) {
    WatchDecoder decoder(WatchFormat::kLengthDelimited, core::Pod::default_instance(), "watch");
    std::vector<std::string> seen;
    ASSERT_TRUE(FeedInChunks(decoder, WatchFixture().substr(0, c.bytes), 7, &seen).ok());
    absl::Status s = decoder.Finish();
    EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
    EXPECT_EQ(s.message(), c.want);
    EXPECT_EQ(seen.size(), c.bytes > kFirstFrame ? 1u : 0u);
  }
}

TEST(WatchTest, JsonLines) {
  const std::string stream =
      "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\"}}}\n"
      "\n"
      "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"metadata\":"
      "{\"name\":\"\",\"resourceVersion\":\"9\"}}}\n"
      "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"code\":410,"
      "\"reason\":\"Expired\",\"message\":\"too old resource version: 1 (9)\"}}\n";
  for (size_t chunk : {1, 5, 64, 1000}) {
    SCOPED_TRACE(chunk);
    WatchDecoder decoder(WatchFormat::kJsonLines, core::Pod::default_instance(), "watch");
    std::vector<std::string> seen;
    ASSERT_TRUE(FeedInChunks(decoder, stream, chunk, &seen).ok());
    EXPECT_TRUE(decoder.Finish().ok());
    EXPECT_THAT(seen, ElementsAre("ADDED a", "BOOKMARK ",
                                  "ERROR 410 too old resource version: 1 (9)"));
    EXPECT_EQ(decoder.events(), 3);
  }
  // Cut: the last line has no newline.
  WatchDecoder decoder(WatchFormat::kJsonLines, core::Pod::default_instance(), "watch");
  std::vector<std::string> seen;
  ASSERT_TRUE(FeedInChunks(decoder, stream.substr(0, 100), 100, &seen).ok());
  EXPECT_EQ(decoder.Finish().message(),
            "watch: event 2: the stream ended inside the event (34 bytes after the last newline)");
}

TEST(WatchTest, BadFramesAreErrorsAndStopTheDecoder) {
  struct Case {
    std::string name;
    WatchFormat format;
    std::string stream;
    std::string want;
  };
  const std::string first = WatchFixture().substr(0, kFirstFrame);
  const std::vector<Case> cases = {
      {"UnknownType", WatchFormat::kJsonLines, "{\"type\":\"RENAMED\",\"object\":{}}\n",
       "w: event 1: unknown watch event type \"RENAMED\""},
      {"NotJson", WatchFormat::kJsonLines, "<html>\n",
       "w: event 1: not a watch event {\"type\": ..., \"object\": {...}}: \"<html>\""},
      {"BadObject", WatchFormat::kJsonLines,
       "{\"type\":\"ADDED\",\"object\":{\"spec\":{\"priority\":\"high\"}}}\n",
       "w: event 1: ADDED Pod: spec.priority: expected an integer (int32), got \"high\""},
      {"TooLarge", WatchFormat::kLengthDelimited, first + Bytes({0xFF, 0xFF, 0xFF, 0xFF, 0x00}),
       "w: event 2: a frame of 4294967295 bytes: object to decode was longer than maximum "
       "allowed size (16777216)"},
      {"MalformedEvent", WatchFormat::kLengthDelimited, Bytes({0, 0, 0, 2, 0x0A, 0x05}),
       "w: event 1: malformed WatchEvent: \"\\n\\x05\""},
      {"ObjectNotEnveloped", WatchFormat::kLengthDelimited,
       Bytes({0, 0, 0, 11, 0x0A, 0x05, 'A', 'D', 'D', 'E', 'D', 0x12, 0x02, 0x0A, 0x00}),
       "w: event 1: empty body"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    WatchDecoder decoder(c.format, core::Pod::default_instance(), "w");
    std::vector<std::string> seen;
    absl::Status s = FeedInChunks(decoder, c.stream, c.stream.size(), &seen);
    EXPECT_EQ(s.message(), c.want);
    // The decoder stays failed.
    EXPECT_EQ(decoder.Feed("", [](DecodedEvent) { return absl::OkStatus(); }).message(), c.want);
    EXPECT_EQ(decoder.Finish().message(), c.want);
  }
}

TEST(WatchTest, OnBadFrameSkipsWholeFramesThatDoNotDecode) {
  WatchDecoder decoder(WatchFormat::kJsonLines, core::Pod::default_instance(), "w");
  std::vector<std::string> bad;
  decoder.OnBadFrame([&](absl::Status s) {
    bad.push_back(std::string(s.message()));
    return absl::OkStatus();
  });
  std::vector<std::string> seen;
  const std::string stream =
      "<html>\n"
      "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"namespace\":\"ns\",\"name\":\"a\"},"
      "\"spec\":{\"priority\":\"high\"}}}\n"
      "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}\n";
  ASSERT_TRUE(FeedInChunks(decoder, stream, 7, &seen).ok());
  EXPECT_THAT(seen, ElementsAre("ADDED b"));
  EXPECT_THAT(bad, ElementsAre("w: event 1: not a watch event {\"type\": ..., \"object\": {...}}: "
                               "\"<html>\"",
                               "w: event 2: ADDED Pod ns/a: spec.priority: expected an integer "
                               "(int32), got \"high\""));
  // Framing errors still end the stream.
  ASSERT_TRUE(decoder.Feed("{\"type\"", [](DecodedEvent) { return absl::OkStatus(); }).ok());
  EXPECT_EQ(decoder.Finish().code(), absl::StatusCode::kDataLoss);
}

TEST(WatchTest, JsonTakesALastEventWithoutItsNewline) {
  WatchDecoder decoder(WatchFormat::kJsonLines, core::Pod::default_instance(), "w");
  std::vector<std::string> seen;
  ASSERT_TRUE(FeedInChunks(decoder,
                           "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"b\"}}}",
                           5, &seen).ok());
  EXPECT_THAT(seen, IsEmpty());
  EXPECT_TRUE(decoder.Finish([&](DecodedEvent e) {
    seen.push_back(absl::StrCat(e.type, " ", static_cast<const core::Pod&>(*e.object).metadata().name()));
    return absl::OkStatus();
  }).ok());
  EXPECT_THAT(seen, ElementsAre("ADDED b"));
}

TEST(WatchTest, SinkErrorsStopTheStream) {
  WatchDecoder decoder(WatchFormat::kLengthDelimited, core::Pod::default_instance(), "w");
  int calls = 0;
  absl::Status s = decoder.Feed(WatchFixture(), [&](DecodedEvent) {
    ++calls;
    return absl::CancelledError("enough");
  });
  EXPECT_EQ(s, absl::CancelledError("enough"));
  EXPECT_EQ(calls, 1);
}

TEST(WatchFormatOfTest, ContentTypes) {
  EXPECT_EQ(*WatchFormatOf("application/vnd.kubernetes.protobuf;stream=watch"),
            WatchFormat::kLengthDelimited);
  EXPECT_EQ(*WatchFormatOf("application/json"), WatchFormat::kJsonLines);
  EXPECT_EQ(WatchFormatOf("text/plain").status().message(),
            "not a watch stream: content type \"text/plain\"");
}


// A varint under 2^14, in one or two bytes.
std::string Varint(int v) {
  return v < 128 ? Bytes({v}) : Bytes({(v & 127) | 128, v >> 7});
}

// A length-delimited field: tag, length, bytes.
std::string Field(int number, const std::string& value) {
  return absl::StrCat(Varint(number << 3 | 2), Varint(static_cast<int>(value.size())), value);
}

// Requests of one "cpu" entry whose Quantity carries `quantity_extra`.
std::string Requests(const std::string& quantity_extra) {
  const std::string quantity = absl::StrCat(Field(1, "100m"), quantity_extra);
  return Field(2, absl::StrCat(Field(1, "cpu"), Field(2, quantity)));
}

struct UnknownFieldsCase {
  std::string name;
  const google::protobuf::Descriptor* type;
  std::string bytes;
  bool has_unknown;
  // What the message serializes to once they are dropped.
  std::string clean;
};

class UnknownFieldsTest : public testing::TestWithParam<UnknownFieldsCase> {};

// HasUnknownFields decides whether DecodeProtobuf and protobuf lists walk
// the message to drop fields: it must find them wherever the parser keeps
// them, and nowhere else.
TEST_P(UnknownFieldsTest, FoundWhereTheParserKeepsThemAndDropped) {
  const UnknownFieldsCase& c = GetParam();
  EXPECT_EQ(HasUnknownFields(c.type, c.bytes), c.has_unknown);
  std::unique_ptr<google::protobuf::Message> message(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(c.type)->New());
  ASSERT_TRUE(message->ParseFromString(c.bytes));
  DiscardUnknownFields(c.bytes, message.get());
  EXPECT_EQ(message->SerializeAsString(), c.clean);
}

const std::string kMetadata = Field(1, absl::StrCat(Field(1, "web-1"), Field(3, "default")));
const std::string kManagedFields = Field(17, Field(1, "kubectl"));
const std::string kTrailingVarint = absl::StrCat(Varint(99 << 3 | 0), Varint(300));

INSTANTIATE_TEST_SUITE_P(
    Cases, UnknownFieldsTest,
    testing::Values(
        UnknownFieldsCase{"None", core::Pod::descriptor(), kMetadata, false, kMetadata},
        UnknownFieldsCase{"MapOfMessagesWithoutAny", core::ResourceRequirements::descriptor(),
                          Requests(""), false, Requests("")},
        UnknownFieldsCase{"TopLevel", core::Pod::descriptor(),
                          absl::StrCat(kMetadata, kTrailingVarint), true, kMetadata},
        UnknownFieldsCase{"ManagedFieldsInMetadata", core::Pod::descriptor(),
                          Field(1, absl::StrCat(Field(1, "web-1"), kManagedFields)), true,
                          Field(1, Field(1, "web-1"))},
        UnknownFieldsCase{"InAMapValue", core::ResourceRequirements::descriptor(),
                          Requests(Bytes({2 << 3 | 0, 7})), true, Requests("")},
        // metadata.name (a string) written as a varint: the parser keeps
        // it as an unknown field.
        UnknownFieldsCase{"KnownNumberWrongWireType", core::Pod::descriptor(),
                          Field(1, absl::StrCat(Field(3, "default"), Bytes({1 << 3 | 0, 5}))),
                          true, Field(1, Field(3, "default"))},
        // A packable repeated field reads both ways.
        UnknownFieldsCase{"PackedAndUnpacked",
                          google::protobuf::SourceCodeInfo::Location::descriptor(),
                          absl::StrCat(Field(1, Bytes({4, 0})), Bytes({1 << 3 | 0, 3})), false,
                          Field(1, Bytes({4, 0, 3}))}),
    [](const testing::TestParamInfo<UnknownFieldsCase>& info) { return info.param.name; });

}  // namespace
}  // namespace kestrel::kube
