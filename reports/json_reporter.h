#pragma once
#include "harness/store/cell_visitor.h"
#include "reports/reporter.h"

namespace crossload {

// results.json: the documented, versioned schema users script against (README, "results.json").
class JsonReporter : public Reporter {
 public:
  std::string_view name() const override { return "json"; }
  std::string_view default_file() const override { return "results.json"; }
  void write(const RunData& data, std::ostream& out) const override;
};

nlohmann::json cell_to_json(const CellRecord& c);

// results.json written cell by cell: `head` holds the run, environments and artifacts (its cells
// are ignored); the bytes are those of the whole document dumped at once.
Status write_results_json(const RunData& head, const CellSource& cells, std::ostream& out);

}  // namespace crossload
