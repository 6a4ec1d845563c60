#pragma once
// Where `check` computes the reference predictions when the user gives none: in an environment
// whose scikit-learn is the one the artifact records (`_sklearn_version`), so the reference is
// the model as its authors ran it. When the artifact names numpy's modules, the numpy major must
// match too (`numpy.core` is 1.x, `numpy._core` 2.x: rebuild.h).
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace crossload::check {

struct ReferenceOrder {
  std::vector<std::string> envs;  // every environment, the matching ones first (in given order)
  std::string matched;            // the first environment that matches; empty when none does
  std::string version;            // the recorded version it matched, or the first recorded one
  int numpy_major = 0;            // the recorded numpy major, 0 when the artifact names neither
};

// `envs`: (name, fingerprint) in the order the user chose them; `recorded`: the audit's versions.
ReferenceOrder reference_order(const std::vector<std::pair<std::string, nlohmann::json>>& envs,
                               const std::vector<std::string>& recorded, int numpy_major = 0);

// Whether the reference `used` came from the recorded stack: false when another version had to
// stand in for it (its answer may itself be wrong), true when the artifact records no version.
bool reference_trusted(const ReferenceOrder& order, const std::string& used);

// One sentence for the screen: which environment computed the reference, and why that one.
// `rebuilt` is the spec of the producer's environment check rebuilt (rebuild.h), if any.
std::string reference_sentence(const ReferenceOrder& order, const std::string& used,
                               const std::string& rebuilt = "");

}  // namespace crossload::check
