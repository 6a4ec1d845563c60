#pragma once
// Consuming: one artifact loaded and predicted in one consumer environment, its predictions
// compared with the producer's reference predictions — the outcome of one cell.
#include <chrono>
#include <cstdint>
#include <map>
#include <string>

#include "harness/core/loading.h"
#include "harness/core/environments.h"
#include "harness/core/matrix.h"
#include "harness/run/plan.h"
#include "harness/store/records.h"

namespace crossload {

// The outcome of the cell (artifact × consumer). An Error means bad input the run cannot
// judge (the artifact or its reference predictions are missing or corrupt): it names the file.
Result<CellRecord> consume_cell(EnvSession& consumer, const ArtifactRecord& artifact,
                                const ConsumeContext& ctx, RunLog& log);

// A cell that needs no load: UNSUPPORTED or ENV_UNAVAILABLE, from the artifact's or the
// environments' state, or BLOCKED by the artifact's audit (manifest "audit": UNSAFE, unparseable
// or missing) unless ctx.allow_unsafe; std::nullopt when the cell must really be consumed.
std::optional<CellRecord> settled_without_loading(const EnvSession& consumer, const ArtifactRecord& artifact,
                                                  const ConsumeContext& ctx);

// The BLOCKED cell of `artifact` in `consumer` when its audit refuses it; nullopt when it may load.
std::optional<CellRecord> blocked_by_audit(const ArtifactRecord& artifact, const std::string& consumer);

}  // namespace crossload
