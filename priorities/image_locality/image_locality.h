// File: image_locality.h
//
// ImageLocality (upstream plugins/imagelocality): favours nodes that already
// have the pod's container images. For each container (init containers
// included) whose image the node lists in status.images, the image scores
// its size scaled by how widely it has spread:
//
//   size * (nodes that have the image / all nodes)
//
// The sum is clamped to [23 MiB, 1000 MiB * number of containers] and mapped
// linearly onto [0, 100] (integer division). Scores need no normalization.
// The spreading factor keeps pods from piling onto the few nodes that pulled
// an image first.
//
// Two inputs come through seams:
//   - the pod's images: PodImages(), model::Pod::images (the constructor
//     takes a replacement, which tests use);
//   - per image name, its size and how many of the snapshot's nodes have it:
//     SummarizeImage(), which scans the nodes once per image of the pod.
//
// Example:
//   ImageLocality plugin;  // reads PodImages()

#ifndef KESTREL_PRIORITIES_IMAGE_LOCALITY_IMAGE_LOCALITY_H_
#define KESTREL_PRIORITIES_IMAGE_LOCALITY_IMAGE_LOCALITY_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "model/objects.h"
#include "scheduler/framework/interface.h"

namespace kestrel::priorities {

// What the snapshot knows about one image name (upstream
// framework.ImageStateSummary).
struct ImageSummary {
  int64_t size_bytes = 0;
  int64_t num_nodes = 0;  // nodes whose status.images list the name
};

// PodImages()
//
// The pod's container images as written in its spec, init containers first,
// then app containers, one entry per container (duplicates kept: each
// container counts): model::Pod::images.
absl::Span<const std::string> PodImages(const model::Pod& pod);

// SummarizeImage()
//
// The summary of image `name` over `nodes`: how many list it, and the size
// given by the first that does (upstream keeps the size first reported for a
// name). Scans every node; to be replaced by a lookup in a per-snapshot
// image index (name -> size, node count) kept by the cache.
ImageSummary SummarizeImage(framework::NodeInfoList nodes, absl::string_view name);

// NormalizedImageName()
//
// Upstream normalizedImageName: appends ":latest" to a name without a tag
// (no ':' after the last '/'); digests ("name@sha256:...") are kept as they are.
std::string NormalizedImageName(absl::string_view image);

// ScaledImageScore()
//
// Upstream scaledImageScore: size * (num_nodes / total_nodes), in float64 as
// upstream, truncated.
int64_t ScaledImageScore(const ImageSummary& image, int64_t total_nodes);

// CalculatePriority()
//
// Upstream calculatePriority: `sum_scores` clamped to [23 MiB,
// 1000 MiB * num_containers], mapped onto [0, 100].
int64_t CalculatePriority(int64_t sum_scores, int64_t num_containers);

class ImageLocality : public framework::PreScorePlugin, public framework::ScorePlugin {
 public:
  static constexpr char kName[] = "ImageLocality";

  using PodImagesFn = std::function<absl::Span<const std::string>(const model::Pod&)>;

  // `pod_images` gives each pod's images (see PodImages()).
  explicit ImageLocality(PodImagesFn pod_images = PodImages);

  absl::string_view Name() const override { return kName; }

  // Summarizes the pod's images over all the snapshot's nodes (upstream
  // divides by the number of nodes in the snapshot, not of feasible ones;
  // without a snapshot in the CycleState, `feasible` stands for all nodes).
  // Never Skip: upstream has no PreScore here and scores every pod.
  framework::Status PreScore(framework::CycleState& state, const model::Pod& pod,
                             framework::NodeInfoList feasible) override;
  absl::StatusOr<int64_t> Score(const framework::CycleState& state, const model::Pod& pod,
                                const framework::NodeInfo& node) const override;
  // Rows, once PreScore has run: the same score through each row's
  // NodeInfo, all zeros at once when no node has any of the pod's images.
  bool ScoresRows(const framework::CycleState& state, const model::Pod& pod) const override;
  // 0 everywhere when no node has any of the pod's images.
  bool UniformScore(const framework::CycleState& state, const model::Pod& pod,
                    int64_t* score) const override;
  void ScoreRows(const framework::CycleState& state, const model::Pod& pod,
                 const framework::NodeTable& table, absl::Span<const uint32_t> rows,
                 int64_t* out) const override;

 private:
  PodImagesFn pod_images_;
};

}  // namespace kestrel::priorities

#endif  // KESTREL_PRIORITIES_IMAGE_LOCALITY_IMAGE_LOCALITY_H_
