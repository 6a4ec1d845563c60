#pragma once
// The producer's environment, rebuilt from the versions an artifact records: when none of the
// environments `check` was given has the artifact's scikit-learn (and numpy major), the
// reference predictions come from a pip environment of that release with the numpy and scipy of
// its time (the table producer_stacks.toml, compiled into the binary), not from whichever newer
// environment happens to load the file and may answer wrongly (docs/check.md, "Reference").
//
// Errors are values: a release the table has no stack for, a stack that never existed (scikit-learn
// 1.3 on numpy 2) or a malformed table is an Error whose message check prints as the reason the
// rebuild was not done.
#include <string>
#include <string_view>
#include <vector>

#include "harness/inspection/record.h"
#include "harness/core/environments.h"
#include "harness/util/result.h"

namespace crossload::check {

// What the artifact says about the stack that wrote it, read statically by the audit.
struct RecordedStack {
  std::vector<std::string> sklearn;  // `_sklearn_version` values (usually one)
  int numpy_major = 0;               // 1 (`numpy.core`), 2 (`numpy._core`), 0 when it names neither
  std::string compression;           // joblib's codec, if any (lz4 needs its package)
};

RecordedStack recorded_stack(const audit::InspectionRecord& record);

// "numpy 1.x" / "numpy 2.x" / "" for the screen.
std::string numpy_words(int major);

// One row of producer_stacks.toml.
struct ProducerStack {
  std::string sklearn;             // minor release, "1.3"
  int numpy = 0;                   // major
  std::string python;              // "3.11"
  std::vector<std::string> pins;   // the rest of the stack
  std::string why, none;           // why these pins; or why no such stack exists
};

struct ProducerStacks {
  std::vector<ProducerStack> stacks;
  std::vector<std::pair<std::string, std::vector<std::string>>> compression;  // codec -> packages
};

// `source` names the text in errors ("producer_stacks.toml").
Result<ProducerStacks> parse_producer_stacks(std::string_view text, const std::string& source);
const ProducerStacks& builtin_producer_stacks();  // the compiled-in table (a malformed one fails the build's tests)
std::string_view builtin_producer_stacks_text();  // generated from producer_stacks.toml

// The `pip:` environment spec (harness/env/env_text.h) of the stack that wrote the artifact:
// `pip:scikit-learn==1.3.2,numpy==1.26.4,scipy==1.11.4,cloudpickle,skops@3.11`. The first
// recorded scikit-learn version is the one rebuilt; an unknown numpy major takes the table's
// first row for that release.
Result<std::string> producer_spec(const RecordedStack& recorded, const ProducerStacks& table);

// Provisions the environment of `spec` (cached like any other: ~/.cache/crossload), adds it to
// `m` as its first consumer and starts its sandboxed consumer worker. An Error says why it is not
// there (a pin with no wheel for that Python, a worker that cannot start).
Result<EnvSession> start_producer_env(Matrix& m, const std::string& spec, const ProvisionContext& ctx, RunLog& log,
                                      const std::map<std::string, std::string>& worker_env);

}  // namespace crossload::check
