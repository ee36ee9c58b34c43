#include "util/klog/klog.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_split.h"
#include "absl/time/civil_time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace kestrel::klog {
namespace {

// A logger writing into `lines` at 2026-12-06 12:00:00.000042 UTC as pid 1234.
struct Captured {
  explicit Captured(int verbosity = 0) {
    LoggerOptions options;
    options.sink = [this](absl::string_view line) { lines.emplace_back(line); };
    options.clock = [] {
      return absl::FromCivil(absl::CivilSecond(2026, 12, 6, 12, 0, 0), absl::UTCTimeZone()) +
             absl::Microseconds(42);
    };
    options.zone = absl::UTCTimeZone();
    options.pid = 1234;
    options.verbosity = verbosity;
    logger = std::make_unique<Logger>(options);
  }
  std::vector<std::string> lines;
  std::unique_ptr<Logger> logger;
};

TEST(KlogTest, Header) {
  struct Case {
    Severity severity;
    int pid;
    std::string file;
    int line;
    std::string want;
  };
  const absl::Time t =
      absl::FromCivil(absl::CivilSecond(2026, 1, 2, 3, 4, 5), absl::UTCTimeZone()) +
      absl::Microseconds(678);
  const std::vector<Case> cases = {
      {Severity::kInfo, 1234, "host/serving/server.cc", 123,
       "I0102 03:04:05.000678    1234 server.cc:123] "},
      {Severity::kWarning, 1, "a.cc", 7, "W0102 03:04:05.000678       1 a.cc:7] "},
      {Severity::kError, 12345678, "x/y/z.cc", 10, "E0102 03:04:05.000678 12345678 z.cc:10] "},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(FormatHeader(c.severity, t, absl::UTCTimeZone(), c.pid, c.file, c.line), c.want);
  }
}

TEST(KlogTest, GoQuote) {
  struct Case {
    std::string in;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"plain", R"("plain")"},
      {"say \"hi\"\\", R"("say \"hi\"\\")"},
      {"a\tb\nc\rd\a\b\f\v", R"("a\tb\nc\rd\a\b\f\v")"},
      {std::string("nul\0x", 5), R"("nul\x00x")"},
      {"\x1b[0m\x7f", R"("\x1b[0m\x7f")"},
      {"caf\xC3\xA9 \xE6\x97\xA5", "\"caf\xC3\xA9 \xE6\x97\xA5\""},  // printable UTF-8 kept
      {"bad\xff\xC3", R"("bad\xff\xc3")"},                            // invalid bytes
      {"\xC2\x85|\xE2\x80\x8B|\xEF\xBB\xBF", R"("\u0085|\u200b|\ufeff")"},
      {"\xF3\xA0\x80\x81", R"("\U000e0001")"},  // a tag character: not printable
  };
  for (const Case& c : cases) EXPECT_EQ(GoQuote(c.in), c.want) << c.in;
}

TEST(KlogTest, InfoSQuotesStringsAndPrintsNumbersBare) {
  Captured c;
  c.logger->At("host/scheduler.cc", 88)
      .InfoS("Successfully bound pod to node",
             {{"pod", "default/p-1"},
              {"node", std::string("node-a")},
              {"evaluatedNodes", 3},
              {"feasibleNodes", int64_t{2}},
              {"ratio", 0.5},
              {"big", 1234567.0},
              {"tiny", 0.00001},
              {"whole", 100000.0},
              {"ready", true},
              {"wait", absl::Milliseconds(1500)},
              {"short", absl::Nanoseconds(1500)},
              {"long", absl::Minutes(61)}});
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0],
            "I1206 12:00:00.000042    1234 scheduler.cc:88] \"Successfully bound pod to node\" "
            "pod=\"default/p-1\" node=\"node-a\" evaluatedNodes=3 feasibleNodes=2 ratio=0.5 "
            "big=1.234567e+06 tiny=1e-05 whole=100000 ready=true wait=\"1.5s\" "
            "short=\"1.5\xC2\xB5s\" long=\"1h1m0s\"\n");
}

TEST(KlogTest, ErrorSPutsErrFirst) {
  Captured c;
  c.logger->At("sched.cc", 5)
      .ErrorS(absl::NotFoundError("pods \"p\" not found"), "Error scheduling pod",
              {{"pod", "default/p"}});
  c.logger->At("sched.cc", 6).ErrorS(absl::OkStatus(), "No error");
  ASSERT_EQ(c.lines.size(), 2u);
  EXPECT_EQ(c.lines[0],
            "E1206 12:00:00.000042    1234 sched.cc:5] \"Error scheduling pod\" "
            "err=\"pods \\\"p\\\" not found\" pod=\"default/p\"\n");
  EXPECT_EQ(c.lines[1], "E1206 12:00:00.000042    1234 sched.cc:6] \"No error\"\n");
}

TEST(KlogTest, MultiLineValues) {
  Captured c;
  c.logger->At("f.cc", 1).InfoS("Config", {{"config", "a: 1\nb: 2\n"}, {"tail", "x\ny"}});
  ASSERT_EQ(c.lines.size(), 1u);
  EXPECT_EQ(c.lines[0],
            "I1206 12:00:00.000042    1234 f.cc:1] \"Config\" config=<\n\ta: 1\n\tb: 2\n >"
            " tail=<\n\tx\n\ty\n >\n");
}

TEST(KlogTest, InfoWritesTextAsIs) {
  Captured c;
  c.logger->At("f.cc", 2).Info("Starting \"x\"");
  c.logger->At("f.cc", 3).Warning("careful");
  ASSERT_EQ(c.lines.size(), 2u);
  EXPECT_EQ(c.lines[0], "I1206 12:00:00.000042    1234 f.cc:2] Starting \"x\"\n");
  EXPECT_EQ(c.lines[1], "W1206 12:00:00.000042    1234 f.cc:3] careful\n");
}

TEST(KlogTest, Verbosity) {
  struct Case {
    int verbosity;
    int level;
    bool written;
  };
  const std::vector<Case> cases = {
      {0, 0, true}, {0, 1, false}, {2, 2, true}, {2, 3, false}, {4, 2, true},
  };
  for (const Case& k : cases) {
    Captured c(k.verbosity);
    c.logger->At("v.cc", 1, k.level).InfoS("m");
    EXPECT_EQ(c.lines.size(), k.written ? 1u : 0u) << k.verbosity << " " << k.level;
  }
  Captured c;
  c.logger->set_verbosity(3);
  EXPECT_TRUE(c.logger->At("v.cc", 1, 3).enabled());
}

TEST(KlogTest, ConcurrentLinesStayWhole) {
  Captured c;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&c, t] {
      for (int i = 0; i < 200; ++i) c.logger->At("t.cc", t).InfoS("line", {{"i", i}});
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(c.lines.size(), 800u);
  for (const std::string& line : c.lines) {
    EXPECT_THAT(line, ::testing::MatchesRegex(
                          "I1206 12:00:00.000042    1234 t.cc:[0-3]\\] \"line\" i=[0-9]+\n"));
  }
}

}  // namespace
}  // namespace kestrel::klog
