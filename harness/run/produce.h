#pragma once
// Producing: a producer environment trains a fixture and persists it in every selected
// format, each artifact with a manifest (the metadata scikit-learn's guide recommends keeping).
#include <string>
#include <vector>

#include "harness/core/environments.h"
#include "harness/run/plan.h"
#include "harness/store/records.h"

namespace crossload {

inline constexpr int kManifestSchemaVersion = 1;

// Trains `fixture` in `producer` and dumps it in each format under
// <artifacts_dir>/<producer>/<fixture>/. Every format yields a record: "ok", "unsupported"
// (the format cannot hold the model; reason given) or "error". Once SIGINT/SIGTERM interrupted
// crossload (harness/util/interrupt.h) only the formats dumped completely are returned: the dump
// cut short leaves no file behind, and the formats after it are not tried.
std::vector<ArtifactRecord> produce_fixture(EnvSession& producer, const FixtureInfo& fixture,
                                            const std::vector<std::string>& formats,
                                            const std::string& artifacts_dir, RunLog& log);

std::string manifest_path(const std::string& artifact_path);

}  // namespace crossload
