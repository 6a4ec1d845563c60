#pragma once
// A matrix file (matrix/*.toml): which fixtures and formats to cross, which environments
// produce and which consume. See the README's "Matrix file reference".
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "harness/env/env_spec.h"
#include "harness/core/expectations.h"
#include "harness/util/result.h"

namespace crossload {

// The matrix a subcommand uses when given none; locate_matrix finds it.
inline constexpr const char* kDefaultMatrix = "matrix/quick.toml";

struct Matrix {
  std::string path;                    // as given
  std::string name;
  std::string description;
  std::vector<std::string> fixtures;   // glob patterns; a leading '-' excludes
  std::vector<std::string> formats;    // glob patterns over format names; a leading '-' excludes
  std::vector<std::string> producers;  // environment names
  std::vector<std::string> consumers;  // environment names
  double cell_timeout_seconds = 300;   // wall time of one load+predict (its child is killed after)
  double memory_limit_mb = 4096;       // address space one load may add to its worker's (RLIMIT_AS)
  double cpu_limit_seconds = 300;      // CPU time of one load+predict (RLIMIT_CPU); default: cell_timeout
  std::vector<EnvSpec> envs;           // every [env.NAME] table, in file order
  std::vector<Expectation> expectations;  // every [[expect]] table
  // Where each list (fixtures, formats, producers, consumers) came from, for errors about it:
  // "PATH:LINE: [matrix] fixtures", or the flag that replaced it ("--fixtures").
  std::map<std::string, std::string> list_origin;

  const EnvSpec* find_env(const std::string& name) const;
};

// Upper bounds of the [matrix] limits: beyond them a value is a typo, and a wall time past
// int64 nanoseconds overflows into nonsense (cell_timeout = 1e10 timed every cell out).
inline constexpr double kMaxLimitSeconds = 7 * 24 * 3600;   // a week, for cell_timeout and cpu_limit
inline constexpr double kMaxMemoryLimitMb = 16 * 1024 * 1024;  // 16 TiB

// A relative matrix path that is not under the current directory is looked up in crossload's
// own tree `root` (source or installed), so the default and `--matrix matrix/full.toml` work from
// any directory. Anything else is returned as given (load_matrix names it when it is missing).
std::string locate_matrix(const std::string& path, const std::string& root);

// Adds an environment for each name written as a spec (`debian:sid/s390x`, `pip:...`,
// harness/env/env_text.h) that the matrix does not define, so a flag can name an environment no
// file declares. An Error names the spec and the problem.
Status add_spec_envs(Matrix& m, const std::vector<std::string>& names);

// Parses and validates a matrix file. Errors read "PATH:LINE: [table] key: problem".
Result<Matrix> load_matrix(const std::string& path);
Result<Matrix> parse_matrix(const std::string& text, const std::string& path);

// A filter list of globs (harness/util/text.h) where a leading '-' excludes (last match wins).
bool filter_selects(const std::vector<std::string>& patterns, const std::string& name);

}  // namespace crossload
