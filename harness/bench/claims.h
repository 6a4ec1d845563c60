#pragma once
// The claims of scikit-learn's persistence guide, each judged from cases measured side by side
// in one bench run: "confirmed" or "not confirmed" on this machine, and by how much (timings as
// a ratio with its 95% interval); "inconclusive" when a timing the claim rests on was measured on
// a busy machine or its rounds disagree (rounds.h); "not measured" when the run lacks a case the
// claim needs (or a step of it failed).
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/bench/plan.h"
#include "harness/bench/records.h"

namespace crossload::bench {

// The cases the claims are decided on.
inline constexpr const char* kLargeFixture = "bench_large_arrays";  // harness/worker/bench.py
inline constexpr const char* kSmallFixture = "iris_logistic_regression";
// A forest whose 67 MB take long enough to decompress that the codec, not noise, decides.
inline constexpr const char* kCodecFixture = "large_extra_trees_regressor";

std::vector<PlanItem> claims_plan();

struct Verdict {
  std::string id;        // "protocol5", "mmap_sharing", "onnx_ram", "compression/xz", ...
  std::string claim;     // the guide's claim, in its words
  std::string env;
  std::string status;    // "confirmed" | "not confirmed" | "inconclusive" | "not measured"
  std::string measured;  // how much, in one sentence
  bool emulated = false; // the environment ran under QEMU: ratios hold, absolute times do not
  nlohmann::json numbers;
};

std::vector<Verdict> judge_claims(const BenchResults& results);
nlohmann::json to_json(const std::vector<Verdict>& verdicts);

}  // namespace crossload::bench
