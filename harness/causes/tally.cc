#include "harness/causes/tally.h"

#include <algorithm>
#include <map>

#include "harness/causes/classify.h"
#include "harness/util/text.h"

namespace crossload {

namespace {

double percent(std::size_t part, std::size_t whole) { return whole ? 100.0 * part / whole : 0.0; }

}  // namespace

std::vector<CauseGroup> group_by_cause(const std::vector<CellRecord>& cells, const Catalogue& catalogue) {
  std::map<std::string, CauseGroup> by_id;
  for (const auto& c : cells) {
    std::string id = cause_id(c, catalogue);
    if (id.empty()) continue;
    CauseGroup& g = by_id[id];
    g.id = id;
    g.cause = catalogue.find(id);
    g.cells.push_back(&c);
  }
  std::vector<CauseGroup> out;
  for (auto& [id, g] : by_id) out.push_back(std::move(g));
  order_cause_groups(out);
  return out;
}

double CauseCoverage::unclassified_percent() const { return percent(unclassified, needing); }
double CauseCoverage::failing_unclassified_percent() const { return percent(failing_unclassified, failing); }

CauseCoverage coverage(const std::vector<CauseGroup>& groups, std::size_t cells) {
  CauseCoverage cov;
  cov.cells = cells;
  for (const auto& g : groups) {
    cov.needing += g.cells.size();
    if (!g.cause) cov.unclassified += g.cells.size();
    for (const auto* c : g.cells) {
      if (!is_failure(c->outcome)) continue;
      ++cov.failing;
      if (!g.cause) ++cov.failing_unclassified;
    }
  }
  return cov;
}

std::vector<std::string> affected_pairs(const CauseGroup& group) {
  std::map<std::pair<std::string, std::string>, std::vector<std::string>> formats;
  for (const auto* c : group.cells) {
    auto& list = formats[{c->producer, c->consumer}];
    if (std::find(list.begin(), list.end(), c->format) == list.end()) list.push_back(c->format);
  }
  std::vector<std::string> out;
  for (const auto& [pair, list] : formats) out.push_back(pair.first + " → " + pair.second + " (" + join(list, ", ") + ")");
  return out;
}

}  // namespace crossload
