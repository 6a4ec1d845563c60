#pragma once
// The load policy every command that loads artifacts enforces before it starts (run, consume; its
// flags are a group of flag_groups.h):
// an UNSAFE artifact runs code, so --allow-unsafe never goes without the sandbox; and a sandbox
// that does not work is this machine's problem (exit 4, as for an environment), not the input's.
#include <optional>
#include <string>

#include "harness/core/log.h"
#include "harness/run/split_common.h"
#include "harness/util/exit_codes.h"

namespace crossload::cli {

// The exit code to stop with, or nullopt when loading may go ahead.
inline std::optional<int> load_policy_exit(bool allow_unsafe, bool sandbox, RunLog& log) {
  if (allow_unsafe && !sandbox) {
    log.error("--allow-unsafe loads artifacts the audit judged UNSAFE, and only inside the sandbox: it cannot "
              "be combined with --no-sandbox. Drop --no-sandbox (install bubblewrap if it is missing) or drop "
              "--allow-unsafe");
    return exit_code::kUsage;
  }
  if (auto st = check_sandbox(sandbox, log); !st) {
    log.error("{}", st.error().message);
    return exit_code::kEnvironment;
  }
  return std::nullopt;
}

}  // namespace crossload::cli
