#include "priorities/pod_topology_spread/pod_topology_spread.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "api/validation.h"
#include "scheduler/cache/affinity_index.h"
#include "scheduler/cache/snapshot.h"

namespace kestrel::priorities {
namespace {

using cache::AffinityIndex;
using framework::Status;

constexpr char kSystemDefaulting[] = "System";
constexpr char kListDefaulting[] = "List";
constexpr char kDoNotSchedule[] = "DoNotSchedule";
constexpr char kScheduleAnyway[] = "ScheduleAnyway";
// Upstream invalidScore: marks ignored nodes inside NormalizeScore.
constexpr int64_t kInvalidScore = -1;

// ---- Args validation: upstream's field errors, word for word. ----

using Errors = std::vector<std::string>;

// ---- Scoring state. ----

// One ScheduleAnyway constraint with what PreScore counted.
struct ScoreConstraint {
  model::TopologySpreadConstraint spec;
  bool hostname = false;  // counted per node, in Score
  const AffinityIndex::Topology* topology = nullptr;
  const std::vector<int32_t>* row_counts = nullptr;  // matching pods per row
  // Buckets: the domains of `topology`, then one more for nodes without the
  // key (upstream reads their value as "", so it is the "" domain when some
  // node has the key with an empty value). Per bucket: matching pods, and
  // whether a scored node is in it (upstream: TopologyValueToPodCounts has
  // the value).
  std::vector<int64_t> counts;
  std::vector<uint8_t> made;
  int32_t missing_bucket = -1;
  double weight = 0;

  int32_t BucketOf(const model::Node& node) const {
    const model::Id v = node.labels.Get(spec.topology_key);
    if (v == model::kNoId) return missing_bucket;
    auto it = topology->domain_of_value.find(v);
    return it == topology->domain_of_value.end() ? -1 : it->second;
  }
};

struct ScoreData {
  std::vector<ScoreConstraint> constraints;
  // Upstream requireAllTopologies: nodes lacking a key are ignored.
  bool require_all = true;
  // With one non-hostname constraint, a row's score depends on its domain
  // only: the rounded score per domain.
  std::vector<int64_t> score_by_domain;

  bool Ignored(const model::Node& node) const {
    if (!require_all) return false;
    for (const ScoreConstraint& c : constraints) {
      if (!node.labels.Has(c.spec.topology_key)) return true;
    }
    return false;
  }
  bool IgnoredRow(uint32_t r) const {
    if (!require_all) return false;
    for (const ScoreConstraint& c : constraints) {
      if (c.topology->domain_of_row[r] < 0) return true;
    }
    return false;
  }
};

// Read-only after PreScore: copies share it.
class PreScoreState : public framework::StateData {
 public:
  explicit PreScoreState(std::shared_ptr<const ScoreData> data) : data(std::move(data)) {}
  std::unique_ptr<framework::StateData> Clone() const override {
    return std::make_unique<PreScoreState>(data);
  }
  std::shared_ptr<const ScoreData> data;
};

const ScoreData* ReadScoreData(const framework::CycleState& state) {
  const auto* s = state.Read<PreScoreState>(PodTopologySpread::kPreScoreStateKey);
  return s == nullptr ? nullptr : s->data.get();
}

std::string MissingScoreState() {
  return absl::StrCat("error reading \"", PodTopologySpread::kPreScoreStateKey,
                      "\" from cycleState: not found");
}

// Upstream countPodsMatchSelector.
int64_t CountPodsMatchSelector(const framework::NodeInfo& info,
                               const model::LabelSelector& selector, model::Id ns) {
  int64_t count = 0;
  for (const model::PodPtr& p : info.pods()) {
    if (p->terminating || p->ns_id != ns) continue;
    count += selector.Matches(p->labels) ? 1 : 0;
  }
  return count;
}

// Upstream scoreForCount, added to the running sum as upstream does.
void AddScoreForCount(int64_t count, const ScoreConstraint& c, double* score) {
  *score += static_cast<double>(count) * c.weight + static_cast<double>(c.spec.max_skew - 1);
}

// Go's int64(math.Round(score)).
int64_t RoundScore(double score) { return static_cast<int64_t>(std::round(score)); }

// Fills score_by_domain when one non-hostname constraint decides every
// row's score: what ScoreRows computes for a row in that domain.
void ScoreByDomain(ScoreData* data) {
  if (data->constraints.size() != 1 || data->constraints[0].hostname) return;
  const ScoreConstraint& c = data->constraints[0];
  data->score_by_domain.resize(c.topology->num_domains());
  for (size_t d = 0; d < data->score_by_domain.size(); ++d) {
    double score = 0;
    AddScoreForCount(c.counts[d], c, &score);
    data->score_by_domain[d] = RoundScore(score);
  }
}

}  // namespace

// Built with -ffp-contract=off: no fused multiply-add may change a rounding.
double GoLog(double x) {
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kL1 = 6.666666666666735130e-01;
  constexpr double kL2 = 3.999999999940941908e-01;
  constexpr double kL3 = 2.857142874366239149e-01;
  constexpr double kL4 = 2.222219843214978396e-01;
  constexpr double kL5 = 1.818357216161805012e-01;
  constexpr double kL6 = 1.531383769920937332e-01;
  constexpr double kL7 = 1.479819860511658591e-01;
  constexpr double kHalfSqrt2 = 7.07106781186547524401e-01;
  if (std::isnan(x) || x == std::numeric_limits<double>::infinity()) return x;
  if (x < 0) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0) return -std::numeric_limits<double>::infinity();
  int ki;
  double f1 = std::frexp(x, &ki);
  if (f1 < kHalfSqrt2) {
    f1 *= 2;
    --ki;
  }
  const double f = f1 - 1;
  const double k = ki;
  const double s = f / (2 + f);
  const double s2 = s * s;
  const double s4 = s2 * s2;
  const double t1 = s2 * (kL1 + s4 * (kL3 + s4 * (kL5 + s4 * kL7)));
  const double t2 = s4 * (kL2 + s4 * (kL4 + s4 * kL6));
  const double r = t1 + t2;
  const double hfsq = 0.5 * f * f;
  return k * kLn2Hi - ((hfsq - (s * (hfsq + r) + k * kLn2Lo)) - f);
}

double TopologyNormalizingWeight(int64_t size) {
  return GoLog(static_cast<double>(size + 2));
}

void SetDefaults(config::PodTopologySpreadArgs& args) {
  if (args.defaultingtype().empty()) args.set_defaultingtype(kSystemDefaulting);
}

absl::Status Validate(const config::PodTopologySpreadArgs& args) {
  Errors errs;
  const std::string& type = args.defaultingtype();
  if (type != kSystemDefaulting && type != kListDefaulting) {
    errs.push_back(absl::StrCat("defaultingType: Unsupported value: ", api::GoQuote(type),
                                ": supported values: \"System\", \"List\""));
  } else if (type == kSystemDefaulting && args.defaultconstraints_size() > 0) {
    errs.push_back(absl::StrCat("defaultingType: Invalid value: ", api::GoQuote(type),
                                ": when .defaultConstraints are not empty"));
  }
  const auto& constraints = args.defaultconstraints();
  for (int i = 0; i < constraints.size(); ++i) {
    const auto& c = constraints[i];
    const std::string p = absl::StrCat("defaultConstraints[", i, "]");
    if (c.maxskew() <= 0) {
      errs.push_back(absl::StrCat(p, ".maxSkew: Invalid value: ", c.maxskew(),
                                  ": not in valid range (0, inf)"));
    }
    if (c.topologykey().empty()) {
      errs.push_back(absl::StrCat(p, ".topologyKey: Required value: can not be empty"));
    } else {
      api::ValidateLabelName(c.topologykey(), absl::StrCat(p, ".topologyKey"), errs);
    }
    const std::string& when = c.whenunsatisfiable();
    if (when.empty()) {
      errs.push_back(absl::StrCat(p, ".whenUnsatisfiable: Required value: can not be empty"));
    } else if (when != kDoNotSchedule && when != kScheduleAnyway) {
      errs.push_back(absl::StrCat(p, ".whenUnsatisfiable: Unsupported value: ", api::GoQuote(when),
                                  ": supported values: \"DoNotSchedule\", \"ScheduleAnyway\""));
    }
    if (c.has_labelselector()) {
      errs.push_back(absl::StrCat(
          p, ".labelSelector: Forbidden: constraint must not define a selector, as they "
             "deduced for each pod"));
    }
    for (int j = 0; j < i; ++j) {
      if (constraints[j].topologykey() == c.topologykey() &&
          constraints[j].whenunsatisfiable() == when) {
        errs.push_back(absl::StrCat(
            p, ": Duplicate value: ", api::GoQuote(absl::StrCat("{", c.topologykey(), ", ", when, "}"))));
        break;
      }
    }
  }
  return api::AggregateErrors(errs);
}

absl::StatusOr<std::unique_ptr<PodTopologySpread>> PodTopologySpread::Create(
    const config::PodTopologySpreadArgs& args, model::Interner& names) {
  config::PodTopologySpreadArgs defaulted = args;
  SetDefaults(defaulted);
  if (absl::Status s = Validate(defaulted); !s.ok()) return s;
  return std::unique_ptr<PodTopologySpread>(new PodTopologySpread(defaulted, names));
}

PodTopologySpread::PodTopologySpread(const config::PodTopologySpreadArgs& args,
                                     model::Interner& names)
    : PodTopologySpreadFilter(args, names),
      hostname_key_(names.Intern(kLabelHostname)),
      empty_value_(names.Intern("")) {}

Status PodTopologySpread::PreScore(framework::CycleState& state, const model::Pod& pod,
                                   framework::NodeInfoList feasible) {
  if (state.snapshot == nullptr || state.mutable_index() == nullptr) {
    return Status::Error("PodTopologySpread: no snapshot in the cycle state");
  }
  const cache::Snapshot& snapshot = *state.snapshot;
  const framework::NodeInfoList all = snapshot.nodes();
  if (all.empty()) return Status::Skip();
  std::vector<model::TopologySpreadConstraint> specs =
      Constraints(pod, model::UnsatisfiableAction::kScheduleAnyway);
  if (specs.empty()) return Status::Skip();

  auto data = std::make_shared<ScoreData>();
  // Only the system defaults let nodes without a zone still score by
  // hostname.
  data->require_all = !pod.spread_constraints.empty() || !system_defaulted();
  AffinityIndex& index = *state.mutable_index();
  std::vector<AffinityIndex::SelectionId> selections;
  for (model::TopologySpreadConstraint& spec : specs) {
    ScoreConstraint c;
    c.spec = std::move(spec);
    c.hostname = c.spec.topology_key == hostname_key_;
    c.topology = &index.GetTopology(c.spec.topology_key);
    const size_t num_domains = c.topology->num_domains();
    auto empty = c.topology->domain_of_value.find(empty_value_);
    c.missing_bucket = empty != c.topology->domain_of_value.end()
                           ? empty->second
                           : static_cast<int32_t>(num_domains);
    c.counts.assign(num_domains + 1, 0);
    c.made.assign(num_domains + 1, 0);
    selections.push_back(
        index.Select({AffinityIndex::ClauseOf(c.spec, pod.ns_id)}, /*skip_terminating=*/true));
    data->constraints.push_back(std::move(c));
  }
  std::vector<ScoreConstraint>& constraints = data->constraints;
  for (size_t i = 0; i < constraints.size(); ++i) {
    constraints[i].row_counts = &index.RowCounts(selections[i]);
  }

  // The feasible nodes: which are ignored, and which domains get a count.
  int64_t scored_nodes = 0;
  std::vector<int64_t> sizes(constraints.size(), 0);
  const bool have_rows = state.feasible_rows.size() == feasible.size();
  for (size_t f = 0; f < feasible.size(); ++f) {
    const framework::NodeInfo* info = feasible[f];
    // By row where the node is the snapshot's (always, outside preemption).
    const int32_t row = have_rows ? static_cast<int32_t>(state.feasible_rows[f])
                                  : snapshot.RowOf(info);
    const model::Node& node = *info->node();
    if (row >= 0 ? data->IgnoredRow(static_cast<uint32_t>(row)) : data->Ignored(node)) continue;
    ++scored_nodes;
    for (size_t i = 0; i < constraints.size(); ++i) {
      ScoreConstraint& c = constraints[i];
      if (c.hostname) continue;
      int32_t b;
      if (row >= 0) {
        const int32_t d = c.topology->domain_of_row[row];
        b = d >= 0 ? d : c.missing_bucket;
      } else {
        b = c.BucketOf(node);
      }
      if (b < 0 || c.made[b]) continue;
      c.made[b] = 1;
      ++sizes[i];
    }
  }
  for (size_t i = 0; i < constraints.size(); ++i) {
    constraints[i].weight =
        TopologyNormalizingWeight(constraints[i].hostname ? scored_nodes : sizes[i]);
  }

  // Every node counts towards the domains the feasible nodes are in.
  const framework::NodeTable& table = snapshot.table();
  const RowInclusion inclusion(pod, constraints, index, table, all.size());
  // One non-hostname constraint over every node: a row is ignored exactly
  // when it lacks the key, so the index's per-domain counts are the sums.
  if (inclusion.all() && data->require_all && constraints.size() == 1 &&
      !constraints[0].hostname) {
    ScoreConstraint& c = constraints[0];
    const std::vector<int32_t>& by_domain =
        index.DomainCounts(selections[0], c.spec.topology_key);
    for (size_t d = 0; d < by_domain.size(); ++d) {
      if (c.made[d]) c.counts[d] = by_domain[d];
    }
    ScoreByDomain(data.get());
    state.Write(kPreScoreStateKey, std::make_unique<PreScoreState>(std::move(data)));
    return Status();
  }
  for (size_t r = 0; r < all.size(); ++r) {
    if (data->IgnoredRow(static_cast<uint32_t>(r))) continue;
    NodeInclusion row = inclusion.Row(r, *all[r]->node());
    for (ScoreConstraint& c : constraints) {
      if (c.hostname) continue;
      const int32_t d = c.topology->domain_of_row[r];
      const int32_t b = d >= 0 ? d : c.missing_bucket;
      if (!c.made[b] || !(inclusion.all() || row.Matches(c.spec))) continue;
      c.counts[b] += (*c.row_counts)[r];
    }
  }
  ScoreByDomain(data.get());
  state.Write(kPreScoreStateKey, std::make_unique<PreScoreState>(std::move(data)));
  return Status();
}

absl::StatusOr<int64_t> PodTopologySpread::Score(const framework::CycleState& state,
                                                 const model::Pod& pod,
                                                 const framework::NodeInfo& info) const {
  const ScoreData* s = ReadScoreData(state);
  if (s == nullptr) return absl::InternalError(MissingScoreState());
  const model::Node* node = info.node();
  if (node == nullptr) return absl::NotFoundError("node not found");
  if (s->Ignored(*node)) return 0;
  double score = 0;
  for (const ScoreConstraint& c : s->constraints) {
    if (!node->labels.Has(c.spec.topology_key)) continue;
    int64_t count = 0;
    if (c.hostname) {
      count = CountPodsMatchSelector(info, c.spec.selector, pod.ns_id);
    } else {
      const int32_t b = c.BucketOf(*node);
      count = b >= 0 ? c.counts[b] : 0;
    }
    AddScoreForCount(count, c, &score);
  }
  return RoundScore(score);
}

bool PodTopologySpread::ScoresRows(const framework::CycleState& state,
                                   const model::Pod& /*pod*/) const {
  return ReadScoreData(state) != nullptr;
}

void PodTopologySpread::ScoreRows(const framework::CycleState& state, const model::Pod& /*pod*/,
                                  const framework::NodeTable& /*table*/,
                                  absl::Span<const uint32_t> rows, int64_t* out) const {
  const ScoreData* s = ReadScoreData(state);
  if (s == nullptr) return;
  if (!s->score_by_domain.empty()) {
    const int32_t* domain = s->constraints[0].topology->domain_of_row.data();
    for (size_t i = 0; i < rows.size(); ++i) {
      const int32_t d = domain[rows[i]];
      out[i] = d < 0 ? 0 : s->score_by_domain[d];  // no key: ignored or no score
    }
    return;
  }
  for (size_t i = 0; i < rows.size(); ++i) {
    const uint32_t r = rows[i];
    if (s->IgnoredRow(r)) {
      out[i] = 0;
      continue;
    }
    double score = 0;
    for (const ScoreConstraint& c : s->constraints) {
      const int32_t d = c.topology->domain_of_row[r];
      if (d < 0) continue;
      AddScoreForCount(c.hostname ? (*c.row_counts)[r] : c.counts[d], c, &score);
    }
    out[i] = RoundScore(score);
  }
}

Status PodTopologySpread::NormalizeScore(const framework::CycleState& state,
                                         const model::Pod& /*pod*/,
                                         absl::Span<framework::NodeScore> scores) const {
  const ScoreData* s = ReadScoreData(state);
  if (s == nullptr) return Status::Error(MissingScoreState());
  int64_t min_score = std::numeric_limits<int64_t>::max();
  int64_t max_score = 0;
  const bool have_rows = state.feasible_rows.size() == scores.size();
  for (size_t i = 0; i < scores.size(); ++i) {
    framework::NodeScore& score = scores[i];
    const model::Node* node = score.node->node();
    const int32_t row = have_rows                  ? static_cast<int32_t>(state.feasible_rows[i])
                        : state.snapshot != nullptr ? state.snapshot->RowOf(score.node)
                                                    : -1;
    if (node != nullptr &&
        (row >= 0 ? s->IgnoredRow(static_cast<uint32_t>(row)) : s->Ignored(*node))) {
      score.score = kInvalidScore;
      continue;
    }
    min_score = std::min(min_score, score.score);
    max_score = std::max(max_score, score.score);
  }
  // Raw scores span a small range (a few values per domain count): the
  // division below is done once per distinct value.
  std::vector<int64_t> memo;
  if (max_score > 0 && min_score <= max_score && max_score - min_score < 4096) {
    memo.resize(static_cast<size_t>(max_score - min_score + 1));
    for (size_t v = 0; v < memo.size(); ++v) {
      const int64_t raw = min_score + static_cast<int64_t>(v);
      memo[v] = framework::kMaxNodeScore * (max_score + min_score - raw) / max_score;
    }
  }
  for (framework::NodeScore& score : scores) {
    if (score.score == kInvalidScore) {
      score.score = 0;
    } else if (max_score == 0) {
      score.score = framework::kMaxNodeScore;
    } else if (!memo.empty()) {
      score.score = memo[static_cast<size_t>(score.score - min_score)];
    } else {
      score.score = framework::kMaxNodeScore * (max_score + min_score - score.score) / max_score;
    }
  }
  return Status();
}

}  // namespace kestrel::priorities
