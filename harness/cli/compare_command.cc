#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "harness/cli/commands.h"
#include "harness/compare/compare.h"
#include "harness/compare/npy.h"
#include "harness/util/exit_codes.h"

namespace crossload::cli {

namespace {

struct CompareFlags {
  std::string reference, candidate;
  Tolerance tol;
};

int compare(const CompareFlags& f) {
  auto ref = read_npy(f.reference);
  if (!ref) return std::cerr << "error: " << ref.error().message << '\n', exit_code::kBadInput;
  auto got = read_npy(f.candidate);
  if (!got) return std::cerr << "error: " << got.error().message << '\n', exit_code::kBadInput;
  Comparison c = compare_arrays(*ref, *got, f.tol);
  std::cout << fmt::format("{}: {}\n", to_string(c.outcome), c.summary);
  if (c.n_values)
    std::cout << fmt::format("values {}, not identical {}, beyond tolerance {}, max abs {:g}, max ulp {}\n",
                             c.n_values, c.n_not_identical, c.n_beyond_tolerance, c.max_abs, c.max_ulp);
  if (c.dtype_differs) std::cout << c.dtype_note << '\n';
  return c.outcome == Outcome::kMismatch ? exit_code::kCellsFailed : exit_code::kOk;
}

}  // namespace

CommandRun compare_command(CLI::App& app) {
  auto flags = std::make_shared<CompareFlags>();
  CLI::App* cmd = &app;
  cmd->add_option("reference", flags->reference, "reference predictions (.npy)")->required();
  cmd->add_option("candidate", flags->candidate, "predictions to judge (.npy)")->required();
  cmd->add_option("--rtol", flags->tol.rtol, "relative tolerance")->capture_default_str();
  cmd->add_option("--atol", flags->tol.atol, "absolute tolerance")->capture_default_str();
  return [flags](const CommandFlags&) { return compare(*flags); };
}

}  // namespace crossload::cli
