#include "reports/explain.h"

#include <array>
#include <string_view>

namespace crossload {

namespace {

struct Known {
  std::string_view needle;   // a fragment of the observed error text
  std::string_view meaning;
};

constexpr std::array kKnown{
    Known{"No module named 'numpy._core",
          "The artifact was written with numpy 2 (which renamed numpy.core to numpy._core); numpy 1.x "
          "cannot unpickle it. Load it with numpy >= 2 or persist it from an environment with numpy 1.x."},
    Known{"missing_go_to_left",
          "The tree node layout differs between the producer's and the consumer's scikit-learn (1.3 added "
          "the node field missing_go_to_left): tree models do not cross that version boundary."},
    Known{"is not a known BitGenerator module",
          "The model holds a numpy random generator pickled by another numpy major version (2.x writes "
          "BitGenerator classes 1.x does not recognise): load it with the producer's numpy major version."},
    Known{"Can't find loader",
          "This skops cannot read how a newer scikit-learn stored one of the model's objects (skops' per-type "
          "loaders changed between versions): load it with the producer's skops and scikit-learn."},
    Known{"__pyx_unpickle",
          "The artifact contains a compiled (Cython) object whose layout this scikit-learn does not have: "
          "compiled internals do not cross scikit-learn versions."},
    Known{"node array from the pickle has an incompatible dtype",
          "The tree node layout stored in the artifact is not the one this scikit-learn expects: tree models "
          "do not cross that version boundary."},
    Known{"Buffer dtype mismatch",
          "Index widths differ between the producer and the consumer (typically a 64-bit artifact on a "
          "32-bit build, or the reverse)."},
    Known{"No module named 'sklearn",
          "The artifact references a scikit-learn module that the consumer's version does not have (it "
          "was added, moved or made private between versions)."},
    Known{"Can't get attribute",
          "The artifact references a class or function that does not exist in the consumer's library "
          "versions."},
    Known{"unsupported pickle protocol",
          "The consumer's Python is too old for the pickle protocol the artifact was written with."},
    Known{"code expected", "cloudpickle stores code objects, which are tied to the Python version that "
                           "wrote them: the consumer's Python cannot rebuild them."},
    Known{"code() argument", "cloudpickle stores code objects, which are tied to the Python version that "
                             "wrote them: the consumer's Python cannot rebuild them."},
    Known{"UntrustedTypesFoundException",
          "skops refused types that were not explicitly trusted; review them with get_untrusted_types."},
    Known{"No module named 'skops'", "skops is not installed in the consumer environment."},
    Known{"No module named 'onnxruntime'", "onnxruntime is not installed in the consumer environment."},
    Known{"No module named 'cloudpickle'",
          "cloudpickle artifacts need cloudpickle importable where they are loaded."},
    Known{"Opset", "The ONNX model needs an operator set this onnxruntime does not implement."},
    Known{"opset", "The ONNX model needs an operator set this onnxruntime does not implement."},
    Known{"is not a zip file", "The artifact is not the container the format expects (corrupt or truncated)."},
};

std::string error_text(const CellRecord& c) {
  std::string text;
  for (const char* key : {"error_type", "message", "traceback"})
    if (c.detail.contains(key) && c.detail[key].is_string()) text += c.detail[key].get<std::string>() + "\n";
  return text;
}

std::string explain_outcome(const CellRecord& c) {
  switch (c.outcome) {
    case Outcome::kMismatch:
      return "Predictions differ beyond the fixture's tolerance: the model loads but gives other answers.";
    case Outcome::kPredictError:
      return "The model loaded but predicting raised: a failure met only in production.";
    case Outcome::kCrash: return "The loading process died; the artifact or the runtime crashes there.";
    case Outcome::kTimeout: return "Loading or predicting did not finish within the cell timeout.";
    default: return "";
  }
}

std::string explain_failure(const CellRecord& c) {
  std::string text = error_text(c);
  for (const auto& k : kKnown)
    if (text.find(k.needle) != std::string::npos) return std::string(k.meaning);
  for (const auto& w : c.warnings) {
    if (w.original_sklearn_version && !w.original_sklearn_version->empty())
      return "Loaded with another scikit-learn version than it was saved with (" +
             *w.original_sklearn_version +
             "): scikit-learn does not support this and results may silently differ.";
  }
  return explain_outcome(c);
}

// run --recipe and check --recipe: the guide's retrain check (harness/check/retrain.h), beside the
// load outcome. "the model", not "this recipe": in a check the thing that failed is the user's file.
std::string retrain_text(const CellRecord& c) {
  if (!c.detail.is_object() || !c.detail.contains("retrain")) return "";
  const auto& r = c.detail["retrain"];
  if (!r.is_object() || !r.contains("sentence") || !r["sentence"].is_string()) return "";
  return "Retrain check: the model " + r["sentence"].get<std::string>() + ".";
}

}  // namespace

std::string explain(const CellRecord& c) {
  std::string text = explain_failure(c), retrain = retrain_text(c);
  if (retrain.empty()) return text;
  return text.empty() ? retrain : text + " " + retrain;
}

}  // namespace crossload
