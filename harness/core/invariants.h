#pragma once
// Output invariants that need no reference (harness/worker/invariants.py computes them in the
// consumer environment): a cell whose outputs break one is a MISMATCH naming the invariant,
// whatever the comparison with the producer said, so a wrong answer is never blessed as OK
// (not even the reference of `check`).
#include <nlohmann/json.hpp>

#include "harness/store/records.h"

namespace crossload {

// `violations` is the worker's result["invariants"]: [{"name", "message"}, ...]. Records them
// under detail["invariants"] and, when there is one, makes an outcome better than MISMATCH a
// MISMATCH whose summary names the first. Anything else (absent, malformed) changes nothing.
void record_invariants(CellRecord& cell, const nlohmann::json& violations);

}  // namespace crossload
