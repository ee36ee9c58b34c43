// NodeToStatus and StatusCounts: copies of one status count as one entry,
// counts follow adds and removes, and the listed and row views visit,
// count and find the same nodes.

#include "scheduler/framework/node_to_status.h"

#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

namespace kestrel::framework {
namespace {

// (code, plugin, reasons joined) -> count, from ForEach.
using Tally = std::map<std::tuple<Code, std::string, std::string>, size_t>;

Tally TallyOf(const StatusCounts& c) {
  Tally t;
  c.ForEach([&](const Status& s, size_t n) {
    t[{s.code(), std::string(s.plugin()), s.Message()}] += n;
  });
  return t;
}

TEST(StatusCountsTest, CopiesShareAnEntryAndCountsFollowRemoves) {
  const Status cpu = Status::Unresolvable("Insufficient cpu").WithPlugin("NodeResourcesFit");
  const Status taint = Status::Unschedulable("taint").WithPlugin("TaintToleration");
  StatusCounts c;
  for (int i = 0; i < 5; ++i) c.Add(cpu);
  c.Add(taint, 3);
  int entries = 0;
  c.ForEach([&](const Status&, size_t) { ++entries; });
  EXPECT_EQ(entries, 2);
  EXPECT_EQ(c.total(), 8u);
  EXPECT_EQ(c.Count(Code::kUnschedulableAndUnresolvable), 5u);
  EXPECT_EQ(c.Count(Code::kUnschedulable), 3u);
  c.Remove(taint);
  c.Remove(taint);
  c.Remove(taint);
  EXPECT_EQ(c.Count(Code::kUnschedulable), 0u);
  entries = 0;
  c.ForEach([&](const Status&, size_t) { ++entries; });
  EXPECT_EQ(entries, 1);
  // The same text made apart is its own entry; the same reasons under
  // another plugin or code too.
  c.Add(Status::Unresolvable("Insufficient cpu").WithPlugin("NodeResourcesFit"));
  Status other_plugin = cpu;
  other_plugin.WithPlugin("Other");
  c.Add(other_plugin);
  entries = 0;
  c.ForEach([&](const Status&, size_t) { ++entries; });
  EXPECT_EQ(entries, 3);
  const Tally t = TallyOf(c);
  EXPECT_EQ((t.at({Code::kUnschedulableAndUnresolvable, "NodeResourcesFit", "Insufficient cpu"})),
            6u);
  c.Clear();
  EXPECT_EQ(c.total(), 0u);
  EXPECT_TRUE(TallyOf(c).empty());
}

// Random statuses over rows, changed one by one as the scheduler changes
// kept verdicts: the counts always equal a recount, and the listed form of
// the same nodes visits, counts and finds the same.
TEST(NodeToStatusTest, RowsAndListedAgree) {
  std::mt19937_64 rng(3);
  const std::vector<Status> kinds = {
      Status::Unresolvable("Insufficient cpu").WithPlugin("NodeResourcesFit"),
      Status::Unschedulable("Insufficient memory").WithPlugin("NodeResourcesFit"),
      Status::Unschedulable("node(s) had untolerated taint {a: b}").WithPlugin("TaintToleration"),
  };
  const size_t n = 50;
  std::vector<NodeInfo> infos(n);
  std::vector<const NodeInfo*> nodes;
  for (const NodeInfo& i : infos) nodes.push_back(&i);
  std::vector<Status> statuses(n);
  StatusCounts counts;
  for (size_t r = 0; r < n; ++r) {
    statuses[r] = kinds[rng() % kinds.size()];
    counts.Add(statuses[r]);
  }
  for (int step = 0; step < 200; ++step) {
    const size_t r = rng() % n;
    counts.Remove(statuses[r]);
    // Now and then a status made apart, with the text of a kind.
    const Status& k = kinds[rng() % kinds.size()];
    statuses[r] = rng() % 4 == 0 ? Status(k.code(), k.reasons()).WithPlugin(k.plugin()) : k;
    counts.Add(statuses[r]);

    StatusCounts recount;
    for (const Status& s : statuses) recount.Add(s);
    ASSERT_EQ(TallyOf(counts), TallyOf(recount)) << "step " << step;

    const size_t start = rng() % n;
    NodeToStatus rows;
    rows.SetRows(nodes, statuses, start, &counts);
    NodeToStatus listed;
    for (size_t i = 0; i < n; ++i) listed.Add(nodes[(start + i) % n], statuses[(start + i) % n]);
    std::vector<std::pair<const NodeInfo*, std::string>> a, b;
    rows.ForEach([&](const NodeInfo* node, const Status& s) { a.push_back({node, s.Message()}); });
    listed.ForEach([&](const NodeInfo* node, const Status& s) { b.push_back({node, s.Message()}); });
    ASSERT_EQ(a, b);
    Tally ta, tb;
    rows.ForEachCount([&](const Status& s, size_t c) {
      ta[{s.code(), std::string(s.plugin()), s.Message()}] += c;
    });
    listed.ForEachCount([&](const Status& s, size_t c) {
      tb[{s.code(), std::string(s.plugin()), s.Message()}] += c;
    });
    ASSERT_EQ(ta, tb);
    for (Code code : {Code::kUnschedulable, Code::kUnschedulableAndUnresolvable}) {
      ASSERT_EQ(rows.Count(code), listed.Count(code));
    }
    ASSERT_EQ(rows.num_evaluated(), n);
    const size_t q = rng() % n;
    ASSERT_EQ(rows.Find(nodes[q], static_cast<int32_t>(q)), &statuses[q]);
    ASSERT_NE(listed.Find(nodes[q]), nullptr);
    EXPECT_EQ(listed.Find(nodes[q])->Message(), statuses[q].Message());
  }
}

TEST(NodeToStatusTest, AbsentNodesAreNotEvaluated) {
  NodeInfo a, b;
  NodeToStatus m;
  m.Add(&a, Status::Unschedulable("Insufficient cpu"));
  m.SetAbsent(4, Status::Unresolvable("node(s) didn't satisfy plugin(s) [NodeAffinity]"));
  EXPECT_EQ(m.num_evaluated(), 1u);
  EXPECT_EQ(m.absent_nodes(), 4u);
  EXPECT_EQ(m.Count(Code::kUnschedulable), 1u);
  EXPECT_EQ(m.Count(Code::kUnschedulableAndUnresolvable), 0u);
  EXPECT_NE(m.Find(&a), nullptr);
  EXPECT_EQ(m.Find(&b), nullptr);
  // A row hint that does not name the node finds nothing among rows.
  EXPECT_EQ(m.Find(&b, 0), nullptr);
}

}  // namespace
}  // namespace kestrel::framework
