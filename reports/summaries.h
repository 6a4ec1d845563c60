#pragma once
// Aggregations every human-facing reporter shares (counts, groupings, medians, units).
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "harness/store/records.h"

namespace crossload {

std::map<Outcome, std::size_t> outcome_counts(const std::vector<CellRecord>& cells);
std::vector<std::string> distinct(const std::vector<CellRecord>& cells, std::string CellRecord::*field);
const CellRecord* find_cell(const std::vector<CellRecord>& cells, const std::string& id);

using PairKey = std::pair<std::string, std::string>;  // producer, consumer
std::map<PairKey, std::map<std::string, std::vector<const CellRecord*>>> group_by_pair(
    const std::vector<CellRecord>& cells);

struct FormatCost {
  std::string consumer, format;
  std::size_t cells = 0;
  double size = 0, load = 0, predict = 0, rss = 0;  // medians over the cells that loaded
};
std::vector<FormatCost> format_costs(const std::vector<CellRecord>& cells);

double median(std::vector<double> values);
std::string human_bytes(double bytes);
std::string human_seconds(double seconds);
// "1.2.2" from a fingerprint's packages table, "–" when absent or not importable.
std::string package_version(const nlohmann::json& fingerprint, const std::string& name);

}  // namespace crossload
