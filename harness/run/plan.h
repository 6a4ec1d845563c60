#pragma once
// Planning: which fixtures and formats a matrix selects, and the cells they make.
#include <string>
#include <vector>

#include "harness/run/matrix.h"
#include "harness/util/result.h"

namespace crossload {

// A fixture as the worker's `list` op describes it.
struct FixtureInfo {
  std::string name, description;
  std::vector<std::string> outputs, tags;
  double rtol = 1e-7, atol = 0;
};

struct Selection {
  std::vector<FixtureInfo> fixtures;
  std::vector<std::string> formats;
};

// Applies the matrix's fixture and format filters. A plain name (no glob) that matches
// nothing is an error naming the matrix file: a typo must not silently shrink the matrix.
Result<Selection> select(const Matrix& m, const std::vector<FixtureInfo>& known_fixtures);

}  // namespace crossload
