#pragma once
// Attributes a cell to one cause of the catalogue: the first cause (in catalogue order) one of
// whose signatures matches the cell's facts. Pure functions of the cell record, so a stored
// run (results.json of any crossload version) is classified the same way as a new one.
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "harness/causes/catalogue.h"
#include "harness/store/records.h"

namespace crossload {

// What a signature is matched against, read from one cell.
struct CellFacts {
  Outcome outcome = Outcome::kOkExact;  // for XFAIL: the outcome observed
  std::string stage;      // detail.stage; "compare" for MISMATCH
  std::string exception;  // detail.error_type; "InvariantViolation" or "Mismatch" for MISMATCH
  std::string message;    // normalised
  std::string format;
  std::string fixture;
};

// Newlines and runs of blanks become one space, file paths "<path>", hexadecimal addresses
// "<addr>": what differs between two occurrences of one cause on two machines.
std::string normalise_message(std::string_view message);
CellFacts cell_facts(const CellRecord& cell);

// Cells that need a cause: every outcome but OK_EXACT, OK_TOLERANCE and XPASS.
bool needs_cause(Outcome o);
bool matches(const Signature& s, const CellFacts& f);
const Cause* classify(const Catalogue& catalogue, const CellFacts& facts);
// The cause id of a cell: "" when it needs none, "unclassified" when no cause matches.
std::string cause_id(const CellRecord& cell, const Catalogue& catalogue = builtin_catalogue());

// cause_id over the many cells of one pass (a report of a million cells): the regular expression
// of a signature is matched once per distinct normalised message, not once per cell, since
// cells that fail alike share their message; the rest of a signature is checked per cell. The
// answers are cause_id's. The messages remembered are bounded (forgotten all at once past it).
class Classifier {
 public:
  explicit Classifier(const Catalogue& catalogue = builtin_catalogue());
  std::string cause_id(const CellRecord& cell);

 private:
  bool pattern_matches(std::size_t signature, const Signature& s, std::vector<signed char>& known, const std::string& message);

  const Catalogue& catalogue_;
  std::size_t signatures_ = 0;  // in the catalogue, numbered in catalogue order
  // normalised message → per signature: 1 its pattern matches, 0 not, -1 not tried yet
  std::unordered_map<std::string, std::vector<signed char>> by_message_;
};

}  // namespace crossload
