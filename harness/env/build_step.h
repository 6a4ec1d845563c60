#pragma once
// One command of an environment build: echoed ("+ cmd   [where]", then its duration) to the
// console, its whole output appended to the build log, a failure summarised in one line that
// names the log.
#include <ostream>
#include <string>

#include "harness/util/process.h"
#include "harness/util/result.h"

namespace crossload {

struct StepContext {
  std::ostream* echo = nullptr;  // the console (may be null)
  std::string log_path;          // the build log (appended)
};

// Runs the command to completion; the result, whatever the exit status.
Result<ProcessResult> run_step(ProcessOptions options, const StepContext& ctx);

// Runs the command and turns any failure into "WHAT failed (exit 25): <last lines> (full log: PATH)".
Result<ProcessResult> run_step_checked(ProcessOptions options, const StepContext& ctx, const std::string& what);

// Appends a note (a fix-up, a decision) to the build log and echoes it indented.
void note(const StepContext& ctx, const std::string& text);

}  // namespace crossload
