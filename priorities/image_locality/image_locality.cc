#include "priorities/image_locality/image_locality.h"

#include <algorithm>
#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "scheduler/cache/snapshot.h"

namespace kestrel::priorities {
namespace {

constexpr int64_t kMiB = 1024 * 1024;
constexpr int64_t kMinThreshold = 23 * kMiB;
constexpr int64_t kMaxContainerThreshold = 1000 * kMiB;

constexpr char kStateKey[] = "PreScoreImageLocality";

// The pod's images, summarized at PreScore.
struct PreScoreState : framework::StateData {
  struct Image {
    std::string name;  // normalized
    ImageSummary summary;
  };
  std::vector<Image> images;  // one per container, pod order
  int64_t total_nodes = 0;
  bool any_present = false;  // some node has some of the images

  std::unique_ptr<framework::StateData> Clone() const override {
    return std::make_unique<PreScoreState>(*this);
  }
};

bool HasImage(const model::Node& node, absl::string_view name) {
  for (const model::ImageState& image : node.images) {
    for (const std::string& n : image.names) {
      if (n == name) return true;
    }
  }
  return false;
}

// Upstream sumImageScores then calculatePriority.
int64_t NodeScore(const PreScoreState& s, const model::Node& node) {
  int64_t sum = 0;
  if (s.any_present) {
    for (const PreScoreState::Image& image : s.images) {
      if (image.summary.num_nodes > 0 && HasImage(node, image.name)) {
        sum += ScaledImageScore(image.summary, s.total_nodes);
      }
    }
  }
  return CalculatePriority(sum, static_cast<int64_t>(s.images.size()));
}

}  // namespace

absl::Span<const std::string> PodImages(const model::Pod& pod) { return pod.images; }

ImageSummary SummarizeImage(framework::NodeInfoList nodes, absl::string_view name) {
  ImageSummary summary;
  for (const framework::NodeInfo* info : nodes) {
    if (info->node() == nullptr) continue;
    for (const model::ImageState& image : info->node()->images) {
      bool listed = false;
      for (const std::string& n : image.names) listed |= n == name;
      if (!listed) continue;
      if (summary.num_nodes == 0) summary.size_bytes = image.size_bytes;
      ++summary.num_nodes;
      break;
    }
  }
  return summary;
}

std::string NormalizedImageName(absl::string_view image) {
  // Go's strings.LastIndex: -1 when absent.
  auto last = [&](char c) -> int64_t {
    const size_t i = image.rfind(c);
    return i == absl::string_view::npos ? -1 : static_cast<int64_t>(i);
  };
  if (last(':') <= last('/')) return absl::StrCat(image, ":latest");
  return std::string(image);
}

int64_t ScaledImageScore(const ImageSummary& image, int64_t total_nodes) {
  const double spread = static_cast<double>(image.num_nodes) / static_cast<double>(total_nodes);
  return static_cast<int64_t>(static_cast<double>(image.size_bytes) * spread);
}

int64_t CalculatePriority(int64_t sum_scores, int64_t num_containers) {
  const int64_t max_threshold = kMaxContainerThreshold * num_containers;
  if (sum_scores < kMinThreshold) {
    sum_scores = kMinThreshold;
  } else if (sum_scores > max_threshold) {
    sum_scores = max_threshold;
  }
  return framework::kMaxNodeScore * (sum_scores - kMinThreshold) / (max_threshold - kMinThreshold);
}

ImageLocality::ImageLocality(PodImagesFn pod_images) : pod_images_(std::move(pod_images)) {}

framework::Status ImageLocality::PreScore(framework::CycleState& state, const model::Pod& pod,
                                          framework::NodeInfoList feasible) {
  const framework::NodeInfoList all =
      state.snapshot != nullptr ? state.snapshot->nodes() : feasible;
  auto s = std::make_unique<PreScoreState>();
  s->total_nodes = static_cast<int64_t>(all.size());
  for (const std::string& image : pod_images_(pod)) {
    PreScoreState::Image entry{NormalizedImageName(image), {}};
    // Containers often share an image: summarize each name once.
    bool seen = false;
    for (const PreScoreState::Image& prior : s->images) {
      if (prior.name == entry.name) {
        entry.summary = prior.summary;
        seen = true;
        break;
      }
    }
    if (!seen) {
      if (state.snapshot != nullptr) {
        // The snapshot keeps these per image name as nodes come and go.
        const cache::Snapshot::ImageInfo info = state.snapshot->Image(entry.name);
        entry.summary = ImageSummary{info.size_bytes, info.num_nodes};
      } else {
        entry.summary = SummarizeImage(all, entry.name);
      }
    }
    s->any_present |= entry.summary.num_nodes > 0;
    s->images.push_back(std::move(entry));
  }
  state.Write(kStateKey, std::move(s));
  return framework::Status();
}

absl::StatusOr<int64_t> ImageLocality::Score(const framework::CycleState& state,
                                             const model::Pod& /*pod*/,
                                             const framework::NodeInfo& node) const {
  const PreScoreState* s = state.Read<PreScoreState>(kStateKey);
  if (s == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("reading \"", kStateKey, "\" from cycleState: not found"));
  }
  if (node.node() == nullptr) return absl::NotFoundError("node not found");
  return NodeScore(*s, *node.node());
}

bool ImageLocality::ScoresRows(const framework::CycleState& state,
                               const model::Pod& /*pod*/) const {
  return state.Read<PreScoreState>(kStateKey) != nullptr;
}

bool ImageLocality::UniformScore(const framework::CycleState& state, const model::Pod& /*pod*/,
                                 int64_t* score) const {
  const PreScoreState* s = state.Read<PreScoreState>(kStateKey);
  if (s == nullptr || s->any_present) return false;
  *score = 0;  // CalculatePriority(0, n) for every n
  return true;
}

void ImageLocality::ScoreRows(const framework::CycleState& state, const model::Pod& /*pod*/,
                              const framework::NodeTable& table, absl::Span<const uint32_t> rows,
                              int64_t* out) const {
  const PreScoreState& s = *state.Read<PreScoreState>(kStateKey);
  if (!s.any_present) {
    std::fill(out, out + rows.size(), 0);  // CalculatePriority(0, n) for every n
    return;
  }
  for (size_t i = 0; i < rows.size(); ++i) out[i] = NodeScore(s, *table.infos[rows[i]]->node());
}

}  // namespace kestrel::priorities
