#pragma once
// Renderers of inspection results, one file each (render_text.cc, render_json.cc,
// render_sarif.cc). Records are rendered as given; errors (files that could not be parsed)
// are passed too so SARIF can carry them as tool notifications.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/inspection/record.h"

namespace crossload::audit {

struct InspectError {
  std::string path;
  std::string message;
};

std::string render_text(const std::vector<InspectionRecord>& records);

// The record contract of ARCHITECTURE.md: a JSON list, one object per inspected file.
nlohmann::json record_to_json(const InspectionRecord& record);
std::string render_json(const std::vector<InspectionRecord>& records);

// SARIF 2.1.0: one run; every finding a result located by byte offset; rules from
// record.h's rule table; unparseable files as tool execution notifications.
std::string render_sarif(const std::vector<InspectionRecord>& records,
                         const std::vector<InspectError>& errors);

}  // namespace crossload::audit
