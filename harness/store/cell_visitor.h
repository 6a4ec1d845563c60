#pragma once
// Reading a run cell by cell: what the store's for_each_cell, a results.json streamed and the
// reporters that write one cell at a time have in common, so none holds a million cells at once.
#include <functional>

#include "harness/store/records.h"
#include "harness/util/result.h"

namespace crossload {

// Whether a reader wants each cell's detail (most of its bytes and of the time to read it).
enum class CellDetail { kParsed, kSkipped };

// Called with each cell of a run in turn; an error stops the reading and is returned.
using CellVisitor = std::function<Status(const CellRecord&)>;
// The cells of a run handed one at a time to a visitor (Store::for_each_cell, a results.json
// streamed, a vector); returns the visitor's error or its own.
using CellSource = std::function<Status(const CellVisitor&)>;

}  // namespace crossload
