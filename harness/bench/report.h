#pragma once
// The bench report (bench.md, bench.html): the host and its environments (emulated ones
// labelled), the guide's claims as verdicts, one row per case, and every failed step.
#include <string>
#include <vector>

#include "harness/bench/claims.h"
#include "harness/bench/records.h"

namespace crossload {

std::string render_bench_markdown(const bench::BenchResults& r, const std::vector<bench::Verdict>& verdicts);
std::string render_bench_html(const bench::BenchResults& r, const std::vector<bench::Verdict>& verdicts);

}  // namespace crossload
