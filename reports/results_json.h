#pragma once
// Reading results.json (the JSON reporter's document) back into records: whole, or streamed
// cell by cell so a file of a million cells never sits in memory as one document (crossload diff).
// Every error names the file; a schema_version outside what this crossload reads names both versions.
#include <string>

#include <nlohmann/json.hpp>

#include "harness/store/cell_visitor.h"
#include "reports/reporter.h"

namespace crossload {

// The oldest results.json schema_version this crossload still reads (the newest is
// kResultsSchemaVersion); anything outside the range is refused with both numbers named.
inline constexpr int kOldestReadableResultsSchema = 1;

Result<RunData> run_data_from_json(const nlohmann::json& doc, const std::string& path);

// Parses the file once, handing each element of "cells" to `visit` as it is read and keeping
// nothing of it; `head`, if given, receives the run, environments and artifacts (cells left
// empty). The schema is checked at the end (nlohmann writes "schema_version" after "cells"), and
// its error outranks a cell's: a newer file's unknown outcome is reported as the newer schema.
Status stream_results_json(const std::string& path, const CellVisitor& visit, RunData* head = nullptr);

// The whole run, cells included (streamed: the document is never held whole).
Result<RunData> read_results_json_data(const std::string& path);

}  // namespace crossload
