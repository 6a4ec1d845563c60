#pragma once
// Expected outcomes declared by a matrix ([[expect]] tables): known breakages report as
// XFAIL, and a cell that unexpectedly succeeds as XPASS, so CI fails only on what is new.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "harness/compare/outcome.h"
#include "harness/store/records.h"
#include "harness/util/result.h"

namespace crossload {

struct Expectation {
  std::vector<std::string> fixtures{"*"}, formats{"*"}, producers{"*"}, consumers{"*"};  // globs
  // Conditions on the environments' fingerprints, e.g. "<1.3" on scikit-learn, "s390x".
  std::string producer_sklearn, consumer_sklearn, producer_numpy, consumer_numpy;
  std::string producer_machine, consumer_machine;
  std::vector<Outcome> outcomes;  // what counts as the expected failure
  std::string reason;
  std::string origin;             // file:line
};

Result<std::vector<Expectation>> parse_expectations(const toml::node* node, const std::string& path);

using Fingerprints = std::map<std::string, nlohmann::json>;  // environment name -> fingerprint

// Rewrites the cell's outcome to XFAIL/XPASS when an expectation selects it; the observed
// outcome and the reason stay in detail.expected.
void apply_expectations(const std::vector<Expectation>& expectations, const Fingerprints& fingerprints,
                        CellRecord& cell);

// "1.2.2" against "<1.3", ">=1.0,<1.3", "==1.5.*"; an empty spec matches everything.
bool version_matches(const std::string& version, const std::string& spec);

}  // namespace crossload
