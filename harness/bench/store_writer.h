#pragma once
// A bench run in the results store: its environments, its artifacts, and one cell per case
// (<fixture>/<format>/<env>/<env>) whose measurements are the medians and single values and
// whose detail keeps every sample and every failed step. Its matrix_path reads "bench:<matrix>".
#include <string>

#include "harness/bench/records.h"
#include "harness/util/result.h"

namespace crossload::bench {

Result<int64_t> store_bench_run(const std::string& db_path, const std::string& matrix_path,
                                const BenchResults& results);

}  // namespace crossload::bench
