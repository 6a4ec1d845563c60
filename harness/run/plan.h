#pragma once
// Planning: which fixtures and formats a matrix selects, and the cells they make.
#include <string>
#include <vector>

#include "harness/core/matrix.h"
#include "harness/core/protocol.h"  // FixtureInfo: a fixture as the `list` op describes it
#include "harness/util/result.h"

namespace crossload {

struct Selection {
  std::vector<FixtureInfo> fixtures;
  std::vector<std::string> formats;
};

// Applies the matrix's fixture and format filters. A name or glob that matches nothing, or a list
// that selects nothing, is an error naming where the list came from (file:line, or the flag),
// with the closest name: a typo must not silently shrink the matrix.
Result<Selection> select(const Matrix& m, const std::vector<FixtureInfo>& known_fixtures);

// The zoo's fixtures as `source_root`'s worker lists them. Listing imports no scikit-learn, so
// any python3 answers: `plan` provisions nothing, and `run` checks its globs before it does.
// An Error (kind environment) when no python3 can start the worker.
Result<std::vector<FixtureInfo>> list_zoo(const std::string& source_root);

}  // namespace crossload
