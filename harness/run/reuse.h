#pragma once
// Content addresses for incremental runs. An artifact's key is what determines its bytes: the
// producer's fingerprint (interpreter, CPU, package versions), the fixture's recipe hash (its
// seeds are in its source), the datasets' code, the format and its adapter's code, and the
// worker's code. A cell's key adds what determines its outcome: the consumer's fingerprint and
// the load policy (limits, sandbox). A later run that computes an equal key copies the result
// instead of training or loading again.
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "harness/store/records.h"
#include "harness/util/result.h"
#include "harness/util/sha256.h"  // sha256_text

namespace crossload {

// What crossload's own source contributes to the keys.
struct CodeVersions {
  std::string harness;                          // CROSSLOAD_VERSION and harness/worker/*.py
  std::string datasets;                         // fixtures/datasets.py
  std::map<std::string, std::string> adapters;  // format -> formats/<folder>/*.py and formats/*.py
};

// Hashes the files under `source_root`; an Error names a format folder or file it cannot read.
Result<CodeVersions> read_code_versions(const std::string& source_root, const std::vector<std::string>& formats);

struct ArtifactKeyParts {
  nlohmann::json producer_fingerprint;
  std::string recipe_sha256;
  std::string format;
};

// Empty (never reused) when a part is unknown: an environment without a fingerprint, a
// recipe whose source could not be hashed.
std::string artifact_key(const ArtifactKeyParts& parts, const CodeVersions& code);
std::string cell_key(const std::string& artifact_key, const nlohmann::json& consumer_fingerprint,
                     const nlohmann::json& load_policy);
// The same key from the consumer's fingerprint and the policy dumped once (consumer_dump,
// json::dump): a run computes a key per cell, and dumping a fingerprint each time was 6 % of a
// no-op rerun.
std::string consumer_dump(const nlohmann::json& consumer_fingerprint);
std::string cell_key_of_dumps(const std::string& artifact_key, const std::string& consumer_dump,
                              const std::string& policy_dump);

// Whether a computed cell may stand for later runs: an unavailable environment may be back.
bool reusable(const CellRecord& cell);

// A previous run's cell as this run's: its observed outcome back (the caller applies the
// current matrix's expectations again), reused_from naming the run that computed it.
CellRecord reused_copy(CellRecord previous);

// sha256 over the names and contents of the .py files directly in `dir`, in name order; an
// Error names a folder it cannot list or a file it cannot read.
Result<std::string> hash_python_files(const std::filesystem::path& dir);

}  // namespace crossload
