#pragma once
// Consuming: one artifact loaded and predicted in one consumer environment, its predictions
// compared with the producer's reference predictions — the outcome of one cell.
#include <chrono>
#include <string>

#include "harness/run/environments.h"
#include "harness/run/plan.h"
#include "harness/store/records.h"

namespace crossload {

struct ConsumeContext {
  std::string cells_dir;                 // <out>/cells
  std::chrono::milliseconds timeout{300'000};
};

// The outcome of the cell (artifact × consumer). An Error means bad input the run cannot
// judge (the artifact or its reference predictions are missing or corrupt): it names the file.
Result<CellRecord> consume_cell(EnvSession& consumer, const ArtifactRecord& artifact,
                                const ConsumeContext& ctx, RunLog& log);

// A cell that needs no load: UNSUPPORTED or ENV_UNAVAILABLE, from the artifact's or the
// environments' state; std::nullopt when the cell must really be consumed.
std::optional<CellRecord> settled_without_loading(const EnvSession& consumer, const ArtifactRecord& artifact);

}  // namespace crossload
