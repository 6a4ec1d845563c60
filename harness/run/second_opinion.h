#pragma once
// A second opinion on failures only emulation shows: users of emulated CI ask whether a failure
// is their model's or the emulator's. After a run's cells are consumed, every cell computed in
// this run whose consumer runs under QEMU and whose outcome is CRASH, TIMEOUT, LOAD_ERROR or
// PREDICT_ERROR, while no native consumer of the same artifact (producer, fixture, format) has
// that outcome, is loaded once more in the same environment under the other QEMU build
// (harness/env/qemu.h). The cell keeps its outcome and gains, in its detail,
//   "second_opinion": {"qemu": {"build", "version"}, "outcome", "error_type", "reproduced"}
// `reproduced` is true when the other build gave the same outcome (and, for an error, the same
// exception type). Where no other build is installed the cell says so ("reproduced": null).
#include <string>
#include <vector>

#include "harness/run/consume.h"
#include "harness/core/environments.h"
#include "harness/store/records.h"
#include "harness/store/store.h"

namespace crossload {

// The cells of `cells` that get a second opinion, by the rule above. `emulated` names the
// consumers that run under QEMU, `native` those that do not.
std::vector<const CellRecord*> second_opinion_candidates(const std::vector<CellRecord>& cells,
                                                         const std::vector<std::string>& emulated,
                                                         const std::vector<std::string>& native);

// Whether a second load's cell reproduces the first's failure.
bool reproduces(const CellRecord& first, const CellRecord& second);

// Re-runs the candidates of run `run_id` and stores each cell again with its second opinion.
// Never fails the run: a second opinion that cannot be had is recorded with the reason.
Status give_second_opinions(Store& store, int64_t run_id, EnvSessions& sessions, const ConsumeContext& consume,
                            const ProvisionContext& provision, RunLog& log);

}  // namespace crossload
