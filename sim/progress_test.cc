// The progress line: quiet unless stderr is a terminal and a phase has run
// for more than a second; rewritten in place; erased at the end.

#include "sim/progress.h"

#include <sstream>
#include <string>

#include "gtest/gtest.h"

namespace kestrel::sim {
namespace {

class ProgressLineTest : public ::testing::Test {
 protected:
  ProgressLine::Options Options(bool enabled) {
    ProgressLine::Options o;
    o.enabled = enabled;
    o.now = [this] { return now_; };
    return o;
  }
  absl::Time now_ = absl::UnixEpoch();
  std::ostringstream out_;
};

TEST_F(ProgressLineTest, QuietWhenNotATerminal) {
  ProgressLine p(&out_, Options(false));
  p.Update("scheduling", 0, 100);
  now_ += absl::Seconds(5);
  p.Update("scheduling", 50, 100);
  p.Finish();
  EXPECT_EQ(out_.str(), "");
}

TEST_F(ProgressLineTest, QuietForTheFirstSecondOfAPhase) {
  ProgressLine p(&out_, Options(true));
  p.Update("scheduling", 0, 100);
  now_ += absl::Milliseconds(900);
  p.Update("scheduling", 90, 100);
  p.Finish();
  EXPECT_EQ(out_.str(), "");
}

TEST_F(ProgressLineTest, DrawsInPlaceThenErases) {
  ProgressLine p(&out_, Options(true));
  p.Update("scheduling", 0, 1000);
  now_ += absl::Seconds(2);
  p.Update("scheduling", 400, 1000);
  EXPECT_EQ(out_.str(), "\rscheduling: 400/1000 pods (40%), 200/s, ETA 3s\x1b[K");
  // Within 100 ms of the last draw: not redrawn.
  now_ += absl::Milliseconds(50);
  p.Update("scheduling", 410, 1000);
  EXPECT_EQ(out_.str(), "\rscheduling: 400/1000 pods (40%), 200/s, ETA 3s\x1b[K");
  // A new phase starts its own second.
  p.Update("report", 0, 10);
  now_ += absl::Milliseconds(500);
  p.Update("report", 5, 10);
  out_.str("");
  p.Finish();
  EXPECT_EQ(out_.str(), "\r\x1b[K");
  out_.str("");
  p.Finish();  // nothing drawn since: nothing to erase
  EXPECT_EQ(out_.str(), "");
}

TEST_F(ProgressLineTest, Format) {
  EXPECT_EQ(ProgressLine::Format("loading", 25600, 0, absl::Seconds(2)),
            "loading: 25600 objects, 12800/s");
  EXPECT_EQ(ProgressLine::Format("expanding", 3, 4, absl::Seconds(3)),
            "expanding: 3/4 workloads (75%), 1/s, ETA 1s");
  EXPECT_EQ(ProgressLine::Format("scheduling", 100, 10000, absl::Seconds(1)),
            "scheduling: 100/10000 pods (1%), 100/s, ETA 1m39s");
  EXPECT_EQ(ProgressLine::Format("scheduling", 10, 10, absl::Seconds(1)),
            "scheduling: 10/10 pods (100%), 10/s");
}

}  // namespace
}  // namespace kestrel::sim
