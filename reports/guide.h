#pragma once
// scikit-learn's persistence guide sums the methods up as "Persistence method | Pros | Risks /
// Cons". This fills that table with one run's evidence per format: where each loaded, how fast,
// how big, how safe, what it could not hold. The claims stay crossload's own words.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "reports/reporter.h"

namespace crossload {

struct FormatEvidence {
  std::string format;
  std::size_t cells = 0, loaded = 0;  // loaded: OK_EXACT or OK_TOLERANCE
  // Per producer → consumer pair: cells and how many loaded, in the order met.
  std::vector<std::pair<std::string, std::pair<std::size_t, std::size_t>>> pairs;
  std::vector<std::string> unsupported_fixtures;
  // Failing outcomes: how many cells, and the first error text seen.
  std::map<Outcome, std::pair<std::size_t, std::string>> failures;
  std::vector<std::pair<std::string, double>> median_load;  // per consumer, over loaded cells
  std::optional<double> median_size;                       // bytes, over the artifacts written
  std::size_t artifacts = 0;
  // skops: the types get_untrusted_types reported at dump (the manifest's format_details).
  std::vector<std::string> untrusted_types;
  std::size_t artifacts_with_untrusted = 0;
  // ONNX: fidelity of onnxruntime to scikit-learn, worst over artifacts and outputs.
  std::optional<double> min_label_agreement, max_abs_diff;
  std::map<std::string, std::size_t> audit_verdicts;  // manifest.audit.verdict, when recorded
};

struct GuideRow {
  std::string method;  // "pickle", "joblib", ... as the guide names them
  std::string pros, cons;  // the method's general properties
  std::vector<FormatEvidence> formats;  // this run's variants of the method
};

FormatEvidence format_evidence(const RunData& data, const std::string& format);
// The guide's methods in its order, then any other format family the run holds (with its
// descriptor's pros and risks when formats/registry knows it).
std::vector<GuideRow> guide_rows(const RunData& data);
// True when a cell or an artifact of the run is of a variant of `family` ("pickle", "dill").
bool run_holds_family(const RunData& data, std::string_view family);
// "pickle" for "pickle-p5": the format's folder in formats/, or the name itself if unknown.
std::string format_family(const std::string& format);

}  // namespace crossload
