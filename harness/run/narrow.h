#pragma once
// Narrowing a matrix from the command line: run the slice of a big matrix a user deploys to
// (`--consumers host,sklearn-1.5`) without copying its environment tables into a new file.
#include <string>
#include <vector>

#include "harness/core/matrix.h"
#include "harness/util/result.h"

namespace crossload {

struct Narrowing {
  std::vector<std::string> producers, consumers;  // environment names defined in the matrix
  std::vector<std::string> fixtures, formats;     // glob patterns, as in the matrix file
  bool empty() const { return producers.empty() && consumers.empty() && fixtures.empty() && formats.empty(); }
  // A stable text of the narrowing, so runs of different slices of one matrix file are
  // different runs for --resume.
  std::string describe() const;
};

// Replaces the matrix's lists by the non-empty lists of `n`. An environment name the matrix
// does not define is an error naming the flag, the matrix file and the closest name.
Status narrow_matrix(Matrix& m, const Narrowing& n);

}  // namespace crossload
