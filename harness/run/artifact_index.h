#pragma once
// The index of a produced directory (`crossload produce --out DIR` writes DIR/artifacts.json,
// `crossload consume --in DIR` reads it): the artifacts with their manifests, the producer's
// environment, and the sha256 of every file a consumer needs. Every path in it is relative to
// DIR, so a CI system can carry DIR between jobs and unpack it anywhere.
#include <map>
#include <string>
#include <vector>

#include "harness/store/records.h"
#include "harness/util/result.h"

namespace crossload {

// Bumped when the index changes incompatibly; a consumer refuses any other version.
inline constexpr int kArtifactIndexSchemaVersion = 1;
inline constexpr const char* kArtifactIndexFile = "artifacts.json";

struct IndexedArtifact {
  ArtifactRecord record;                     // record.path relative to DIR
  std::map<std::string, std::string> files;  // path relative to DIR -> sha256 (model, manifest, refs, inputs)
};

struct ArtifactIndex {
  std::string crossload_version = CROSSLOAD_VERSION;
  std::string matrix_path, matrix_sha256;
  EnvRecord producer;
  std::vector<IndexedArtifact> artifacts;
};

// Records each ok artifact's files with their sha256; `dir` is where the records' absolute paths
// live. An Error names a file that cannot be read.
Result<IndexedArtifact> index_artifact(const std::string& dir, ArtifactRecord record);

Status write_index(const std::string& dir, const ArtifactIndex& index);

// An Error names DIR/artifacts.json: missing, not JSON, another schema version, a path that
// leaves DIR.
Result<ArtifactIndex> read_index(const std::string& dir);

}  // namespace crossload
