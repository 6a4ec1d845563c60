#pragma once
// The audit as `crossload run` applies it: each artifact is inspected right after it is
// produced (statically, in the harness process), the record is kept in its manifest under
// "audit", and a consumer loads the artifact only when that record allows it.
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "harness/inspection/policy.h"

namespace crossload::audit {

// The bounds that keep a manifest small whatever the artifact holds (a hostile pickle can
// import thousands of names); what is left out is counted under "omitted".
struct ManifestBounds {
  std::size_t findings = 50;  // errors first, so a refusal always has its reason
  std::size_t globals = 100;
  std::size_t arrays = 50;
  std::size_t operators = 100;
  std::size_t text = 500;  // characters of one reason or name
};

// The inspection record of the file at `path` (the JSON of `crossload inspect --format json`),
// trimmed to `bounds`. A file the auditor cannot parse gives a record with verdict UNSAFE and
// the parse error under "error": unknown is never safe.
nlohmann::json audit_for_manifest(const std::string& path, const Policy& policy,
                                  const ManifestBounds& bounds = {});

// Why an artifact must not be loaded.
struct Refusal {
  std::string reason;  // the first error finding, or the parse error
  std::string rule;    // e.g. "CL100"; empty when there is no finding to cite
  std::uint64_t offset = 0;
  bool has_offset = false;
};

// nullopt when the audit record lets the artifact load (SAFE or UNTRUSTED); a Refusal for
// UNSAFE, for a record that could not be made, and for a missing or malformed one.
std::optional<Refusal> refusal(const nlohmann::json& audit);

}  // namespace crossload::audit
