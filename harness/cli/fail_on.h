#pragma once
// --fail-on, the same on every command that loads cells (run, consume): outcomes named there
// make the exit code 1; by default only the run itself fails, because a finding (a LOAD_ERROR
// across versions) is the product, not a bug.
#include <fmt/format.h>

#include <algorithm>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "harness/compare/outcome.h"
#include "harness/core/log.h"
#include "harness/util/exit_codes.h"
#include "harness/util/text.h"

namespace crossload::cli {

// False (after saying which) when a name is not an outcome.
inline bool valid_fail_on(const std::vector<std::string>& fail_on, RunLog& log) {
  for (const auto& name : fail_on) {
    if (!outcome_from_string(name)) {
      log.error("--fail-on: unknown outcome '{}'", name);
      return false;
    }
  }
  return true;
}

// The exit code of a finished run: bad input first, then any cell with a --fail-on outcome. A
// failing exit says on stderr which outcomes caused it, so a red CI job is not a riddle.
inline int exit_for(const std::map<Outcome, std::size_t>& counts, bool bad_inputs,
                    const std::vector<std::string>& fail_on, RunLog& log) {
  if (bad_inputs) return exit_code::kBadInput;
  std::vector<std::string> hits;
  for (const auto& [outcome, n] : counts)
    if (n && std::find(fail_on.begin(), fail_on.end(), to_string(outcome)) != fail_on.end())
      hits.push_back(fmt::format("{} {} cell{}", n, to_string(outcome), n == 1 ? "" : "s"));
  if (hits.empty()) return exit_code::kOk;
  log.error("exit {}: --fail-on {} matched {} (the reports list them)", exit_code::kCellsFailed, join(fail_on, ","),
            join(hits, ", "));
  return exit_code::kCellsFailed;
}

}  // namespace crossload::cli
