#pragma once
// The records of a run: what the orchestrator writes into the results store and what
// every reporter reads back. Plain values; the store is their only persistence.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/compare/outcome.h"

namespace crossload {

struct RunRecord {
  int64_t id = 0;
  std::string started_at;   // ISO-8601 UTC, e.g. 2024-05-01T12:00:00Z
  std::string finished_at;  // empty until the run is marked finished
  std::string matrix_path;
  std::string matrix_sha256;
  std::string crossload_version;
  std::string status;  // "running" | "finished" | "interrupted"

  bool operator==(const RunRecord&) const = default;
};

struct EnvRecord {
  std::string name;
  std::string provider;
  std::string where;   // human text: "rootfs bookworm/s390x under qemu-s390x-static"
  std::string status;  // "ok" | "unavailable"
  std::string reason;  // why unavailable; empty when ok
  nlohmann::json fingerprint;  // versions, byte order, word size, CPU
  double provision_seconds = 0;

  bool operator==(const EnvRecord&) const = default;
};

struct ArtifactRecord {
  std::string producer;  // environment name
  std::string fixture;
  std::string format;
  std::string path;
  std::string sha256;
  int64_t size_bytes = 0;
  std::string status;  // "ok" | "unsupported" | "error"
  std::string reason;
  nlohmann::json manifest;
  // Content address (harness/run/reuse.h): equal keys mean the same artifact, so a later run
  // loads it again without training. Empty: never reused.
  std::string reuse_key{};

  bool operator==(const ArtifactRecord&) const = default;
};

struct CellWarning {
  std::string category;  // e.g. "InconsistentVersionWarning"
  std::string message;
  std::optional<std::string> original_sklearn_version;  // only version warnings carry one

  bool operator==(const CellWarning&) const = default;
};

struct Measurement {
  std::string name;  // "load", "predict", "max_rss", ...
  double value = 0;  // NaN survives the store
  std::string unit;  // "s", "bytes", ...

  bool operator==(const Measurement&) const = default;
};

struct CellRecord {
  std::string id;  // cell_id(fixture, format, producer, consumer)
  std::string fixture;
  std::string format;
  std::string producer;
  std::string consumer;
  Outcome outcome = Outcome::kOkExact;
  nlohmann::json detail;  // error text, max abs / ULP, disagreeing samples, state_identical
  std::vector<CellWarning> warnings;
  std::vector<Measurement> measurements;  // in the order they were recorded
  // Equal keys mean the same artifact loaded in the same environment under the same limits
  // (harness/run/reuse.h). Empty: never reused (e.g. ENV_UNAVAILABLE).
  std::string reuse_key{};
  int64_t reused_from = 0;  // the run this cell was copied from, 0 when computed in its own run

  bool operator==(const CellRecord&) const = default;
};

// The stable id users filter and diff by: <fixture>/<format>/<producer>/<consumer>.
inline std::string cell_id(const std::string& fixture, const std::string& format,
                           const std::string& producer, const std::string& consumer) {
  return fixture + "/" + format + "/" + producer + "/" + consumer;
}

}  // namespace crossload
