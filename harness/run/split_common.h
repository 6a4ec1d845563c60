#pragma once
// What `crossload produce` and `crossload consume` share: the matrix narrowed to the one
// environment a job works in, and the fixture list its worker knows.
#include <string>
#include <vector>

#include "harness/core/environments.h"
#include "harness/core/matrix.h"
#include "harness/run/plan.h"
#include "harness/util/result.h"

namespace crossload {

enum class SplitRole { kProducer, kConsumer };

struct RoleMatrix {
  Matrix matrix;              // producers or consumers reduced to the one environment, the other list empty
  std::size_t position = 0;   // the environment's place among the matrix's producers (or consumers)
  std::string sha256;         // of the matrix file, as `run` records it
};

// An Error names the matrix file and the environments the role allows.
Result<RoleMatrix> load_role_matrix(const std::string& path, const std::string& env, SplitRole role);

Result<std::vector<FixtureInfo>> list_fixtures(EnvSession& producer);

// Loads run sandboxed, or unsandboxed because the user said so (loudly); an Error says how to fix bwrap.
Status check_sandbox(bool sandbox, RunLog& log);

// SIGINT/SIGTERM came while the environment was starting (harness/util/interrupt.h): `what`
// ("produce", "consume") did not begin, and `where`, its output, is as it was.
Error interrupted_before_starting(const std::string& what, const std::string& where);

}  // namespace crossload
