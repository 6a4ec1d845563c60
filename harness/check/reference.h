#pragma once
// Where `check` computes the reference predictions when the user gives none: in an environment
// whose scikit-learn is the one the artifact records (`_sklearn_version`), so the reference is
// the model as its authors ran it.
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace crossload::check {

struct ReferenceOrder {
  std::vector<std::string> envs;  // every environment, the matching ones first (in given order)
  std::string matched;            // the first environment that matches; empty when none does
  std::string version;            // the recorded version it matched, or the first recorded one
};

// `envs`: (name, fingerprint) in the order the user chose them; `recorded`: the audit's versions.
ReferenceOrder reference_order(const std::vector<std::pair<std::string, nlohmann::json>>& envs,
                               const std::vector<std::string>& recorded);

// One sentence for the screen: which environment computed the reference, and why that one.
std::string reference_sentence(const ReferenceOrder& order, const std::string& used);

}  // namespace crossload::check
