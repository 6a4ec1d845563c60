#pragma once
// The slice flags of a big matrix, the same on every command that reads one (run, plan), so
// `plan` counts exactly the cells the same `run` line would run.
#include <CLI/CLI.hpp>

#include "harness/run/narrow.h"

namespace crossload::cli {

inline void add_narrowing_flags(CLI::App* cmd, Narrowing& n) {
  cmd->add_option("--producers", n.producers, "only these environments produce (comma list)")->delimiter(',');
  cmd->add_option("--consumers", n.consumers, "only these environments consume (comma list)")->delimiter(',');
  cmd->add_option("--fixtures", n.fixtures, "only these fixtures (globs, '-' excludes)")->delimiter(',');
  cmd->add_option("--formats", n.formats, "only these formats (globs, '-' excludes)")->delimiter(',');
}

}  // namespace crossload::cli
