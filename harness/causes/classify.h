#pragma once
// Attributes a cell to one cause of the catalogue: the first cause (in catalogue order) one of
// whose signatures matches the cell's facts. Pure functions of the cell record, so a stored
// run (results.json of any crossload version) is classified the same way as a new one.
#include <string>
#include <string_view>

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

}  // namespace crossload
