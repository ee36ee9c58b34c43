// Wire-compatibility checks for the api/*.proto subsets: each expected byte
// string below was computed by hand from upstream Kubernetes'
// generated.proto field numbers (tag = field_number << 3 | wire_type;
// wire type 0 = varint, 2 = length-delimited). A wrong field number, wire
// type or label in api/*.proto changes the bytes and fails the test.
//
// Maps hold one entry each so the serialized order is fixed.

#include <initializer_list>
#include <string>

#include "absl/strings/str_cat.h"
#include "api/apps.pb.h"
#include "api/batch.pb.h"
#include "api/coordination.pb.h"
#include "api/core.pb.h"
#include "api/events.pb.h"
#include "api/intstr.pb.h"
#include "api/meta.pb.h"
#include "api/policy.pb.h"
#include "api/runtime.pb.h"
#include "api/scheduling.pb.h"
#include "gtest/gtest.h"

namespace kestrel::api {
namespace {

namespace core = ::k8s::io::api::core::v1;
namespace meta = ::k8s::io::apimachinery::pkg::apis::meta::v1;
namespace policy = ::k8s::io::api::policy::v1;
namespace scheduling = ::k8s::io::api::scheduling::v1;
namespace coordination = ::k8s::io::api::coordination::v1;
namespace intstr = ::k8s::io::apimachinery::pkg::util::intstr;
namespace runtime = ::k8s::io::apimachinery::pkg::runtime;
namespace events = ::k8s::io::api::events::v1;
namespace apps = ::k8s::io::api::apps::v1;
namespace batch = ::k8s::io::api::batch::v1;

std::string Bytes(std::initializer_list<int> bytes) {
  std::string out;
  for (int b : bytes) out.push_back(static_cast<char>(b));
  return out;
}

std::string Hex(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    absl::StrAppend(&out, absl::Hex(static_cast<unsigned>(c), absl::kZeroPad2),
                    " ");
  }
  return out;
}

#define EXPECT_WIRE(msg, expected) \
  EXPECT_EQ(Hex((msg).SerializeAsString()), Hex(expected))

// Pod{metadata{name:"p", labels{a:b}},
//     spec{containers[{name:"c", resources{requests{cpu:"1"}}}],
//          nodeName:"n",
//          tolerations[{key:"k", operator:"Exists", effect:"NoSchedule"}],
//          priority:1000}}
TEST(ProtoCompatTest, Pod) {
  core::Pod pod;
  pod.mutable_metadata()->set_name("p");
  (*pod.mutable_metadata()->mutable_labels())["a"] = "b";
  core::PodSpec* spec = pod.mutable_spec();
  core::Container* c = spec->add_containers();
  c->set_name("c");
  (*c->mutable_resources()->mutable_requests())["cpu"].set_string("1");
  spec->set_nodename("n");
  core::Toleration* t = spec->add_tolerations();
  t->set_key("k");
  t->set_operator_("Exists");
  t->set_effect("NoSchedule");
  spec->set_priority(1000);

  const std::string expected = Bytes({
      0x0A, 0x0B,                    // Pod.metadata = 1, LEN 11
      0x0A, 0x01, 'p',               //   ObjectMeta.name = 1
      0x5A, 0x06,                    //   ObjectMeta.labels = 11, entry LEN 6
      0x0A, 0x01, 'a',               //     key = 1
      0x12, 0x01, 'b',               //     value = 2
      0x12, 0x34,                    // Pod.spec = 2, LEN 52
      0x12, 0x11,                    //   PodSpec.containers = 2, LEN 17
      0x0A, 0x01, 'c',               //     Container.name = 1
      0x42, 0x0C,                    //     Container.resources = 8, LEN 12
      0x12, 0x0A,                    //       requests = 2, entry LEN 10
      0x0A, 0x03, 'c', 'p', 'u',     //         key
      0x12, 0x03,                    //         value: Quantity, LEN 3
      0x0A, 0x01, '1',               //           Quantity.string = 1
      0x52, 0x01, 'n',               //   PodSpec.nodeName = 10
      0xB2, 0x01, 0x17,              //   PodSpec.tolerations = 22, LEN 23
      0x0A, 0x01, 'k',               //     Toleration.key = 1
      0x12, 0x06, 'E', 'x', 'i', 's', 't', 's',  // operator = 2
      0x22, 0x0A, 'N', 'o', 'S', 'c', 'h', 'e', 'd', 'u', 'l', 'e',  // effect = 4
      0xC8, 0x01, 0xE8, 0x07,        //   PodSpec.priority = 25, varint 1000
  });
  EXPECT_WIRE(pod, expected);

  core::Pod parsed;
  ASSERT_TRUE(parsed.ParseFromString(expected));
  EXPECT_EQ(
      parsed.spec().containers(0).resources().requests().at("cpu").string(),
      "1");
  EXPECT_EQ(parsed.spec().tolerations(0).effect(), "NoSchedule");
  EXPECT_EQ(parsed.spec().priority(), 1000);
}

// Node{metadata{name:"n"},
//      spec{unschedulable:true, taints[{key:"k", value:"v", effect:"NoSchedule"}]},
//      status{allocatable{cpu:"4"}}}
TEST(ProtoCompatTest, Node) {
  core::Node node;
  node.mutable_metadata()->set_name("n");
  node.mutable_spec()->set_unschedulable(true);
  core::Taint* taint = node.mutable_spec()->add_taints();
  taint->set_key("k");
  taint->set_value("v");
  taint->set_effect("NoSchedule");
  (*node.mutable_status()->mutable_allocatable())["cpu"].set_string("4");

  const std::string expected = Bytes({
      0x0A, 0x03,                    // Node.metadata = 1, LEN 3
      0x0A, 0x01, 'n',               //   ObjectMeta.name = 1
      0x12, 0x16,                    // Node.spec = 2, LEN 22
      0x20, 0x01,                    //   NodeSpec.unschedulable = 4, true
      0x2A, 0x12,                    //   NodeSpec.taints = 5, LEN 18
      0x0A, 0x01, 'k',               //     Taint.key = 1
      0x12, 0x01, 'v',               //     Taint.value = 2
      0x1A, 0x0A, 'N', 'o', 'S', 'c', 'h', 'e', 'd', 'u', 'l', 'e',  // effect = 3
      0x1A, 0x0C,                    // Node.status = 3, LEN 12
      0x12, 0x0A,                    //   NodeStatus.allocatable = 2, entry LEN 10
      0x0A, 0x03, 'c', 'p', 'u',     //     key
      0x12, 0x03, 0x0A, 0x01, '4',   //     value: Quantity{string = 1}
  });
  EXPECT_WIRE(node, expected);
}

// Single fields whose numbers are far from their neighbours' or easy to
// misremember; each is the whole serialized message.
TEST(ProtoCompatTest, SingleFields) {
  {
    core::Container c;
    c.set_restartpolicy("Always");  // 24 -> tag 194
    EXPECT_WIRE(c, Bytes({0xC2, 0x01, 0x06, 'A', 'l', 'w', 'a', 'y', 's'}));
  }
  {
    core::PodSpec s;
    s.add_initcontainers()->set_name("i");  // 20 -> tag 162
    EXPECT_WIRE(s, Bytes({0xA2, 0x01, 0x03, 0x0A, 0x01, 'i'}));
  }
  {
    core::PodSpec s;
    s.set_preemptionpolicy("Never");  // 31 -> tag 250
    EXPECT_WIRE(s, Bytes({0xFA, 0x01, 0x05, 'N', 'e', 'v', 'e', 'r'}));
  }
  {
    core::PodSpec s;
    (*s.mutable_overhead())["cpu"].set_string("1");  // 32 -> tag 258
    EXPECT_WIRE(s, Bytes({0x82, 0x02, 0x0A, 0x0A, 0x03, 'c', 'p', 'u', 0x12,
                          0x03, 0x0A, 0x01, '1'}));
  }
  {
    core::PodSpec s;
    s.add_topologyspreadconstraints()->set_maxskew(1);  // 33 -> tag 266
    EXPECT_WIRE(s, Bytes({0x8A, 0x02, 0x02, 0x08, 0x01}));
  }
  {
    core::PodSpec s;
    s.add_schedulinggates()->set_name("g");  // 38 -> tag 306
    EXPECT_WIRE(s, Bytes({0xB2, 0x02, 0x03, 0x0A, 0x01, 'g'}));
  }
  {
    core::PodStatus st;
    st.set_nominatednodename("n");  // 11
    st.set_qosclass("B");           // 9
    EXPECT_WIRE(st, Bytes({0x4A, 0x01, 'B', 0x5A, 0x01, 'n'}));
  }
  {
    core::NodeSpec s;
    s.add_podcidrs("x");  // 7
    EXPECT_WIRE(s, Bytes({0x3A, 0x01, 'x'}));
  }
  {
    core::NodeStatus st;
    st.add_images()->set_sizebytes(1);  // images 8, sizeBytes 2
    EXPECT_WIRE(st, Bytes({0x42, 0x02, 0x10, 0x01}));
  }
  {
    core::Toleration t;
    t.set_tolerationseconds(5);  // 5, varint
    EXPECT_WIRE(t, Bytes({0x28, 0x05}));
  }
  {
    core::PodAffinityTerm term;
    term.set_topologykey("z");         // 3
    term.add_mismatchlabelkeys("m");   // 6
    EXPECT_WIRE(term, Bytes({0x1A, 0x01, 'z', 0x32, 0x01, 'm'}));
  }
  {
    core::VolumeSource v;
    v.mutable_persistentvolumeclaim()->set_claimname("c");  // 10
    EXPECT_WIRE(v, Bytes({0x52, 0x03, 0x0A, 0x01, 'c'}));
  }
  {
    core::Event e;
    e.set_reportingcomponent("r");  // 14
    EXPECT_WIRE(e, Bytes({0x72, 0x01, 'r'}));
  }
  {
    meta::OwnerReference o;
    o.set_apiversion("v");   // 5
    o.set_controller(true);  // 6
    EXPECT_WIRE(o, Bytes({0x2A, 0x01, 'v', 0x30, 0x01}));
  }
  {
    meta::ListMeta l;
    l.set_remainingitemcount(3);  // 4
    EXPECT_WIRE(l, Bytes({0x20, 0x03}));
  }
  {
    intstr::IntOrString v;
    v.set_type(1);
    v.set_strval("5%");  // 3
    EXPECT_WIRE(v, Bytes({0x08, 0x01, 0x1A, 0x02, '5', '%'}));
  }
  {
    scheduling::PriorityClass pc;
    pc.set_value(7);                // 2
    pc.set_preemptionpolicy("N");   // 5
    EXPECT_WIRE(pc, Bytes({0x10, 0x07, 0x2A, 0x01, 'N'}));
  }
  {
    policy::PodDisruptionBudgetSpec s;
    s.set_unhealthypodevictionpolicy("A");  // 4
    EXPECT_WIRE(s, Bytes({0x22, 0x01, 'A'}));
  }
  {
    coordination::LeaseSpec s;
    s.set_leasedurationseconds(15);           // 2
    s.mutable_renewtime()->set_seconds(1);    // 4, MicroTime.seconds 1
    EXPECT_WIRE(s, Bytes({0x10, 0x0F, 0x22, 0x02, 0x08, 0x01}));
  }
}

// The protobuf envelope (runtime/generated.proto): runtime.TypeMeta numbers
// apiVersion 1 and kind 2, the reverse of meta/v1 TypeMeta.
TEST(ProtoCompatTest, UnknownEnvelope) {
  runtime::Unknown u;
  u.mutable_typemeta()->set_apiversion("v1");
  u.mutable_typemeta()->set_kind("Pod");
  u.set_raw("R");
  u.set_contentencoding("");
  u.set_contenttype("");
  EXPECT_WIRE(u, Bytes({
                     0x0A, 0x09,                     // Unknown.typeMeta = 1, LEN 9
                     0x0A, 0x02, 'v', '1',           //   apiVersion = 1
                     0x12, 0x03, 'P', 'o', 'd',      //   kind = 2
                     0x12, 0x01, 'R',                // raw = 2
                     0x1A, 0x00,                     // contentEncoding = 3
                     0x22, 0x00,                     // contentType = 4
                 }));
  meta::TypeMeta m;
  m.set_kind("K");        // 1
  m.set_apiversion("A");  // 2
  EXPECT_WIRE(m, Bytes({0x0A, 0x01, 'K', 0x12, 0x01, 'A'}));
}

// Lists are {metadata = 1 (ListMeta), items = 2}; Status and the write
// bodies have fields far apart.
TEST(ProtoCompatTest, ListsStatusAndWriteBodies) {
  {
    core::NamespaceList l;
    l.mutable_metadata()->set_resourceversion("7");  // ListMeta.resourceVersion 2
    l.add_items()->mutable_metadata()->set_name("n");
    EXPECT_WIRE(l, Bytes({0x0A, 0x03, 0x12, 0x01, '7',  // metadata
                          0x12, 0x05, 0x0A, 0x03, 0x0A, 0x01, 'n'}));  // items
  }
  {
    policy::PodDisruptionBudgetList l;
    l.add_items()->mutable_spec()->mutable_minavailable()->set_intval(1);
    EXPECT_WIRE(l, Bytes({0x12, 0x06, 0x12, 0x04, 0x0A, 0x02, 0x10, 0x01}));
  }
  {
    coordination::LeaseList l;
    l.add_items()->mutable_spec()->set_holderidentity("h");
    EXPECT_WIRE(l, Bytes({0x12, 0x05, 0x12, 0x03, 0x0A, 0x01, 'h'}));
  }
  {
    scheduling::PriorityClassList l;
    l.add_items()->set_value(1);
    EXPECT_WIRE(l, Bytes({0x12, 0x02, 0x10, 0x01}));
  }
  {
    meta::Status st;
    st.set_message("m");                              // 3
    st.set_reason("Conflict");                        // 4
    st.mutable_details()->set_retryafterseconds(2);   // details 5, field 5
    st.mutable_details()->set_uid("u");               // 6
    st.set_code(409);                                 // 6, varint 0x99 0x03
    EXPECT_WIRE(st, Bytes({0x1A, 0x01, 'm',
                           0x22, 0x08, 'C', 'o', 'n', 'f', 'l', 'i', 'c', 't',
                           0x2A, 0x05, 0x28, 0x02, 0x32, 0x01, 'u',
                           0x30, 0x99, 0x03}));
  }
  {
    policy::Eviction e;
    e.mutable_metadata()->set_name("p");
    e.mutable_deleteoptions()->mutable_preconditions()->set_resourceversion("5");
    e.mutable_deleteoptions()->set_propagationpolicy("B");
    EXPECT_WIRE(e, Bytes({0x0A, 0x03, 0x0A, 0x01, 'p',   // metadata = 1
                          0x12, 0x08,                    // deleteOptions = 2
                          0x12, 0x03, 0x12, 0x01, '5',   //   preconditions.resourceVersion
                          0x22, 0x01, 'B'}));            //   propagationPolicy = 4
  }
  {
    events::Event e;
    e.mutable_eventtime()->set_seconds(1);     // 2
    e.set_reportingcontroller("c");            // 4
    e.set_reason("r");                         // 7
    e.mutable_regarding()->set_kind("Pod");    // 8
    e.set_note("n");                           // 10
    e.set_type("Normal");                      // 11
    e.set_deprecatedcount(3);                  // 15
    EXPECT_WIRE(e, Bytes({0x12, 0x02, 0x08, 0x01,
                          0x22, 0x01, 'c',
                          0x3A, 0x01, 'r',
                          0x42, 0x05, 0x0A, 0x03, 'P', 'o', 'd',
                          0x52, 0x01, 'n',
                          0x5A, 0x06, 'N', 'o', 'r', 'm', 'a', 'l',
                          0x78, 0x03}));
  }
}


// StatefulSet{spec{replicas:2, serviceName:"s", podManagementPolicy:"P",
//                  ordinals{start:1}}}
TEST(ProtoCompatTest, StatefulSet) {
  apps::StatefulSet ss;
  apps::StatefulSetSpec* spec = ss.mutable_spec();
  spec->set_replicas(2);
  spec->set_servicename("s");
  spec->set_podmanagementpolicy("P");
  spec->mutable_ordinals()->set_start(1);
  EXPECT_WIRE(ss, Bytes({
                      0x12, 0x0C,             // StatefulSet.spec = 2, LEN 12
                      0x08, 0x02,             //   replicas = 1
                      0x2A, 0x01, 's',        //   serviceName = 5
                      0x32, 0x01, 'P',        //   podManagementPolicy = 6
                      0x5A, 0x02, 0x08, 0x01  //   ordinals = 11 {start = 1}
                  }));
}

// Deployment{spec{replicas:1, paused:true}, status{collisionCount:2}};
// DaemonSet{spec{template{metadata{name:"t"}}}}
TEST(ProtoCompatTest, DeploymentAndDaemonSet) {
  apps::Deployment d;
  d.mutable_spec()->set_replicas(1);
  d.mutable_spec()->set_paused(true);
  d.mutable_status()->set_collisioncount(2);
  EXPECT_WIRE(d, Bytes({
                     0x12, 0x04, 0x08, 0x01, 0x38, 0x01,  // spec = 2 {replicas = 1, paused = 7}
                     0x1A, 0x02, 0x40, 0x02,              // status = 3 {collisionCount = 8}
                 }));
  apps::DaemonSet ds;
  ds.mutable_spec()->mutable_template_()->mutable_metadata()->set_name("t");
  EXPECT_WIRE(ds, Bytes({
                      0x12, 0x07,                    // DaemonSet.spec = 2
                      0x12, 0x05,                    //   template = 2
                      0x0A, 0x03, 0x0A, 0x01, 't'    //     metadata = 1 {name = 1}
                  }));
}

// Job{spec{parallelism:3, completions:2,
//          template{spec{hostname:"h", subdomain:"d"}}, completionMode:"I"}};
// CronJob{spec{schedule:"s", jobTemplate{spec{suspend:true}}}}
TEST(ProtoCompatTest, JobAndCronJob) {
  batch::Job job;
  batch::JobSpec* spec = job.mutable_spec();
  spec->set_parallelism(3);
  spec->set_completions(2);
  spec->mutable_template_()->mutable_spec()->set_hostname("h");
  spec->mutable_template_()->mutable_spec()->set_subdomain("d");
  spec->set_completionmode("I");
  EXPECT_WIRE(job, Bytes({
                       0x12, 0x13,              // Job.spec = 2, LEN 19
                       0x08, 0x03,              //   parallelism = 1
                       0x10, 0x02,              //   completions = 2
                       0x32, 0x0A,              //   template = 6
                       0x12, 0x08,              //     PodTemplateSpec.spec = 2
                       0x82, 0x01, 0x01, 'h',   //       PodSpec.hostname = 16
                       0x8A, 0x01, 0x01, 'd',   //       PodSpec.subdomain = 17
                       0x4A, 0x01, 'I',         //   completionMode = 9
                   }));
  batch::CronJob cj;
  cj.mutable_spec()->set_schedule("s");
  cj.mutable_spec()->mutable_jobtemplate()->mutable_spec()->set_suspend(true);
  EXPECT_WIRE(cj, Bytes({
                      0x12, 0x09,               // CronJob.spec = 2
                      0x0A, 0x01, 's',          //   schedule = 1
                      0x2A, 0x04,               //   jobTemplate = 5
                      0x12, 0x02, 0x50, 0x01,   //     spec = 2 {suspend = 10}
                  }));
}

}  // namespace
}  // namespace kestrel::api
