#pragma once
// `crossload merge`: join the result stores of shards (or of split produce/consume jobs)
// into one store. Cells are upserted by id, so merging the same store twice changes nothing.
#include <string>
#include <vector>

#include "harness/util/result.h"

namespace crossload {

struct MergeSummary {
  int64_t run_id = 0;
  std::size_t inputs = 0, cells = 0, artifacts = 0, environments = 0;
};

// Takes the latest run of each input store and merges them into the merged run of
// <out_dir>/results.db that carries the same matrix (created when there is none).
Result<MergeSummary> merge_stores(const std::vector<std::string>& inputs, const std::string& out_dir);

}  // namespace crossload
