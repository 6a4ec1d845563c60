#pragma once
// The flags several commands share, in groups, each group added by one function so that a flag
// has one name, one help text and one meaning wherever it appears. A command names its groups in
// the table of harness/cli/cli.cc; their values reach the command in CommandFlags, the matrix
// already located.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "harness/core/log.h"

namespace crossload::cli {

enum FlagGroup : unsigned {
  kMatrixFlags = 1u << 0,      // --matrix/-m, --root: which matrix, from which crossload tree
  kCacheFlags = 1u << 1,       // --cache-dir: where built environments are kept
  kLoadPolicyFlags = 1u << 2,  // --isolation, --no-sandbox, --allow-unsafe: how artifacts are loaded
  kReportFlags = 1u << 3,      // --report: which reports are written
  kFailOnFlags = 1u << 4,      // --fail-on: which outcomes make the exit code 1
  kVerbosityFlags = 1u << 5,   // --quiet/-q, --verbose/-v
};

struct CommandFlags {
  // The matrix file: --matrix or the default, looked up in the crossload tree (locate_matrix)
  // once the command line is parsed.
  std::string matrix;
  std::string root;       // --root: the crossload tree (worker, formats, fixtures, matrices)
  std::string cache_dir;  // --cache-dir
  std::string isolation = "batch";
  bool sandbox = true, allow_unsafe = false;
  std::vector<std::string> reports;  // --report; by default those RunOptions names
  std::vector<std::string> fail_on;
  bool quiet = false, verbose = false;

  CommandFlags();
  Verbosity verbosity() const;
};

// Adds the flags of every group in `groups` to `cmd`, bound to `f`.
void add_flag_groups(CLI::App* cmd, unsigned groups, CommandFlags& f);

// What the groups leave until the command line is parsed: the matrix is located in the tree
// that --root names. The one place the default matrix is resolved.
void resolve_flags(CommandFlags& f);

// Copies the groups' values into a command's options, whose fields have the library's names.
template <class Options>
void apply_matrix_flags(const CommandFlags& f, Options& o) {
  o.matrix_path = f.matrix;
  o.source_root = f.root;
  o.cache_dir = f.cache_dir;
}
template <class Options>
void apply_load_policy_flags(const CommandFlags& f, Options& o) {
  o.isolation = f.isolation;
  o.sandbox = f.sandbox;
  o.allow_unsafe = f.allow_unsafe;
}

// The one flag of the load policy `check` has too (it loads one artifact, always sandboxed).
void add_allow_unsafe_flag(CLI::App* cmd, bool& allow_unsafe);

}  // namespace crossload::cli
