#pragma once
// The reports of a run read from a results store, for `crossload report` and `crossload merge`.
#include <cstdint>
#include <string>
#include <vector>

#include "harness/util/result.h"

namespace crossload {

class Store;

// Each named report of run `run_id` into out_dir under its default file name; the paths written,
// in order. results.json is streamed from the store cell by cell (a run of a million cells is
// never in memory for it); the other reports render from the whole run, read only if one of them
// is named. An unknown name is a usage error.
Result<std::vector<std::string>> write_stored_reports(const Store& store, int64_t run_id,
                                                      const std::vector<std::string>& names, const std::string& out_dir);

}  // namespace crossload
