#include "harness/core/invariants.h"

#include <fmt/format.h>

namespace crossload {

void record_invariants(CellRecord& cell, const nlohmann::json& violations) {
  if (!violations.is_array() || violations.empty() || !violations[0].is_object()) return;
  if (!cell.detail.is_object()) cell.detail = nlohmann::json::object();
  cell.detail["invariants"] = violations;
  if (severity(cell.outcome) >= severity(Outcome::kMismatch)) return;
  const auto& first = violations[0];
  cell.outcome = Outcome::kMismatch;
  cell.detail["summary"] = fmt::format("output invariant {} broken: {}", first.value("name", std::string("?")),
                                       first.value("message", std::string()));
}

}  // namespace crossload
