#pragma once
// A run's cells grouped by cause: what the reports lead with and what `crossload causes`
// measures (how much of a run the catalogue explains).
#include <algorithm>
#include <string>
#include <vector>

#include "harness/causes/catalogue.h"
#include "harness/store/records.h"

namespace crossload {

struct CauseGroup {
  std::string id;                       // a cause id or "unclassified"
  const Cause* cause = nullptr;         // null for unclassified
  std::vector<const CellRecord*> cells;
};

// Unclassified first (so the catalogue grows), then by number of cells, most first; groups in
// order of id before (a stable sort). Any group type with `cause` (null: unclassified) and `cells`.
template <class Group>
void order_cause_groups(std::vector<Group>& groups) {
  std::stable_sort(groups.begin(), groups.end(), [](const Group& a, const Group& b) {
    bool ua = a.cause == nullptr, ub = b.cause == nullptr;
    if (ua != ub) return ua;
    return a.cells.size() > b.cells.size();
  });
}

// Unclassified first (so the catalogue grows), then by number of cells, most first, then by id.
std::vector<CauseGroup> group_by_cause(const std::vector<CellRecord>& cells,
                                       const Catalogue& catalogue = builtin_catalogue());

struct CauseCoverage {
  std::size_t cells = 0;
  std::size_t needing = 0, unclassified = 0;          // cells that need a cause (needs_cause)
  std::size_t failing = 0, failing_unclassified = 0;  // of which are failures (is_failure)
  // Percentages, 0 when there is nothing to classify.
  double unclassified_percent() const;
  double failing_unclassified_percent() const;
};
CauseCoverage coverage(const std::vector<CauseGroup>& groups, std::size_t cells);

// "host → sklearn-1.5 (pickle-p5, joblib)": where a cause struck, one entry per pair.
std::vector<std::string> affected_pairs(const CauseGroup& group);

}  // namespace crossload
