#pragma once
// Plain words for what a failure means. The harness finds breakages by running; this only
// explains the error text it observed (a table of known messages), never predicts them.
#include <string>

#include "harness/store/records.h"

namespace crossload {

// One sentence for a failing or warned cell, or "" when there is nothing to add.
std::string explain(const CellRecord& cell);

}  // namespace crossload
