#pragma once
// Aggregations every human-facing reporter shares (counts, groupings, medians, units).
#include <array>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "harness/store/records.h"

namespace crossload {

std::map<Outcome, std::size_t> outcome_counts(const std::vector<CellRecord>& cells);
std::vector<std::string> distinct(const std::vector<CellRecord>& cells, std::string CellRecord::*field);
// Appends `value` to `seen` unless it is there: distinct() one cell at a time.
void add_distinct(std::vector<std::string>& seen, const std::string& value);
const CellRecord* find_cell(const std::vector<CellRecord>& cells, const std::string& id);

// Names in the order first met, each with its index in that order: add_distinct with a hash
// table beside the list, for tallies that meet a name per cell of a million (a walk along 70
// names with a string compare each was most of a tally's time).
class DistinctNames {
 public:
  // The index of `name`, appended if new.
  std::size_t add(const std::string& name) {
    auto [it, added] = index_.try_emplace(name, names_.size());
    if (added) names_.push_back(name);
    return it->second;
  }
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<std::string> names_;
  std::unordered_map<std::string, std::size_t> index_;
};

using PairKey = std::pair<std::string, std::string>;  // producer, consumer

struct FormatCost {
  std::string consumer, format;
  std::size_t cells = 0;
  double size = 0, load = 0, predict = 0, rss = 0;  // medians over the cells that loaded
};
// The format costs per (consumer, format), gathered one cell at a time (four numbers kept per cell
// that loaded).
class FormatCostTally {
 public:
  void add(const CellRecord& c);
  std::vector<FormatCost> rows() const;

 private:
  std::map<std::pair<std::string, std::string>, std::array<std::vector<double>, 4>> groups_;  // consumer, format
};

double median(std::vector<double> values);
std::string human_bytes(double bytes);
std::string human_seconds(double seconds);
// "1.2.2" from a fingerprint's packages table, "–" when absent or not importable.
std::string package_version(const nlohmann::json& fingerprint, const std::string& name);

// JUnit, the diff and the HTML report agree on these classes of outcome. A failure is a cell
// that ran and did not give the producer's answers; a skip is a cell that could not or was
// not meant to run (or failed exactly as the matrix expects).
// The worst by severity(); OK_EXACT for no cells.
Outcome worst_outcome(const std::vector<const CellRecord*>& cells);

// Every value recorded under `name` (repetitions record one each), NaN and negatives dropped.
std::vector<double> measurement_samples(const CellRecord& cell, const std::string& name);
std::optional<Measurement> first_measurement(const CellRecord& cell, const std::string& name);
// Measurement names in the order first met, over all cells.
std::vector<std::string> measurement_names(const std::vector<CellRecord>& cells);

// Median of one measurement per (consumer, format), over the cells that recorded it.
struct MeasurementMedian {
  std::string consumer, format, unit;
  std::size_t cells = 0;
  double median = 0;
};
std::vector<MeasurementMedian> measurement_medians(const std::vector<CellRecord>& cells, const std::string& name);
// "1.2 ms", "3.4 MiB", "0.97" by unit ("s", "bytes", anything else).
std::string human_value(double value, const std::string& unit);

// "LoadError: message" or the comparison summary, cut to `limit` characters ("" for none).
// The short mark of a cell's second opinion under the other QEMU build (harness/run/second_opinion.h):
// "2nd QEMU (debian:trixie 10.0.13): reproduced", "... not reproduced: OK_EXACT", or "" without one.
std::string second_opinion_mark(const CellRecord& c);

std::string cell_error_text(const CellRecord& cell, std::size_t limit = 300);
// At most `limit` bytes ending in "..." when cut, never inside a UTF-8 character.
std::string utf8_prefix(const std::string& text, std::size_t limit);

}  // namespace crossload
