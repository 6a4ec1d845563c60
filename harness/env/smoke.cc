#include "harness/env/smoke.h"

#include <fmt/format.h>

namespace crossload {

const char* smoke_script() {
  return R"(import json, platform, sys
out = {"python": platform.python_version(), "byteorder": sys.byteorder, "machine": platform.machine(), "packages": {}}
for mod, dist in [("numpy", "numpy"), ("scipy", "scipy"), ("sklearn", "scikit-learn"), ("joblib", "joblib"),
                  ("threadpoolctl", "threadpoolctl"), ("cloudpickle", "cloudpickle"), ("onnx", "onnx"),
                  ("onnxruntime", "onnxruntime"), ("skops", "skops"), ("skl2onnx", "skl2onnx"), ("lz4", "lz4")]:
    try:
        m = __import__(mod)
        out["packages"][dist] = getattr(m, "__version__", "?")
    except ModuleNotFoundError as e:
        # absent is None; installed but missing something it imports is broken
        out["packages"][dist] = None if e.name == mod else "broken: %s: %s" % (type(e).__name__, e)
    except Exception as e:
        out["packages"][dist] = "broken: %s: %s" % (type(e).__name__, e)
print(json.dumps(out))
import numpy, sklearn.linear_model, scipy.linalg
numpy.dot(numpy.ones((3, 3)), numpy.ones(3))
)";
}

Result<nlohmann::json> parse_smoke_output(const std::string& out, const std::string& where) {
  try {
    return nlohmann::json::parse(out.substr(0, out.find('\n')));
  } catch (const nlohmann::json::exception&) {
    return make_error(fmt::format("{}: unexpected output of the import check: {}", where, out));
  }
}

}  // namespace crossload
