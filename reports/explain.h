#pragma once
// Plain words for what a failure means: its cause's "what" and "fix" from the catalogue
// (harness/causes/catalogue.toml). The harness finds breakages by running; this only explains
// what it observed.
#include <string>

#include "harness/store/records.h"

namespace crossload {

// One sentence for a failing or warned cell, or "" when there is nothing to add.
std::string explain(const CellRecord& cell);
// The same, for a cell whose cause id (cause_id(cell)) is known: not classified again.
std::string explain(const CellRecord& cell, const std::string& cause);

// "Retrain check: the model ..." for a cell of a recipe (run/check --recipe), or "".
std::string retrain_check(const CellRecord& cell);

}  // namespace crossload
