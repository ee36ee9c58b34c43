// File: report.h
//
// Renders simulate and explain results as text (for people) and JSON (for
// tools; the shapes are the command-line contract of DESIGN.md section 7).

#ifndef KESTREL_SIM_REPORT_H_
#define KESTREL_SIM_REPORT_H_

#include <string>

#include "sim/explain.h"
#include "sim/simulator.h"
#include "sim/whatif.h"

namespace kestrel::sim {

// `with_timing`: include wall-clock figures (seconds, pods/s). Golden tests
// turn them off, as they change from run to run.
std::string SimulateJson(const Report& report, bool with_timing = true);
std::string SimulateText(const Report& report, bool placements = true, bool with_timing = true);

std::string ExplainJson(const Explanation& explanation);
std::string ExplainText(const Explanation& explanation);

// `kestrel place`: the placements in scheduling order. JSON:
// {"placements": [{"pod", "node" (null when none), "message",
// "nominatedNode", "victims"}], "summary": {"scheduled", "unschedulable"}}.
std::string PlaceJson(const std::vector<Placement>& placements);
std::string PlaceText(const std::vector<Placement>& placements);

// `kestrel capacity`. JSON: {"count": N, "perNode": {"<node>": n, ...},
// "stoppedBy": "<FitError>" or null}.
std::string CapacityJson(const CapacityResult& result);
std::string CapacityText(const CapacityResult& result);

// `kestrel scaleup`. JSON: {"fitExisting": [{"pod", "node"}], "templates":
// [{"name", "nodesNeeded", "maxCountReached", "nodes": [{"name", "pods"}],
// "unplaced": [{"pod", "message"}]}], "noTemplate": [{"pod", "message"}]}.
std::string ScaleUpJson(const ScaleUpResult& result);
std::string ScaleUpText(const ScaleUpResult& result);

// `kestrel drain`. JSON: {"nodes": [{"node", "drainable", "pods": [{"pod",
// "action", "node" (moved only), "reason" (when there is one)}]}]}.
std::string DrainJson(const std::vector<NodeDrain>& nodes);
std::string DrainText(const std::vector<NodeDrain>& nodes);

}  // namespace kestrel::sim

#endif  // KESTREL_SIM_REPORT_H_
