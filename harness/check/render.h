#pragma once
// The one screen `check` prints, and its JSON twin for scripts (`--json`).
#include <string>

#include <nlohmann/json.hpp>

#include "harness/check/check.h"

namespace crossload::check {

// Per environment: outcome, max difference, versions, warnings (with the scikit-learn version
// that saved the model) and, for a failure, the error and one plain sentence on what it means.
std::string render_text(const CheckReport& report);

// {"schema_version": 1, "artifact", "format", "verdict", "recorded_versions", "reference",
//  "environments": [...], "bad_input", "exit_code"}.
nlohmann::json render_json(const CheckReport& report);

}  // namespace crossload::check
