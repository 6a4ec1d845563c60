#include "harness/env/smoke.h"

#include <fmt/format.h>

#include "formats/registry.h"

namespace crossload {

namespace {

// The stack every format stands on; the formats' own packages come from their descriptors.
constexpr std::pair<const char*, const char*> kBaseModules[] = {
    {"numpy", "numpy"}, {"scipy", "scipy"}, {"sklearn", "scikit-learn"}, {"threadpoolctl", "threadpoolctl"}};

std::string module_list() {
  std::string list;
  for (const auto& [module, dist] : kBaseModules) list += fmt::format("(\"{}\", \"{}\"), ", module, dist);
  for (const auto& p : format_packages()) list += fmt::format("(\"{}\", \"{}\"), ", p.module, p.dist);
  return list;
}

}  // namespace

std::string smoke_script() {
  return R"(import json, platform, sys
out = {"python": platform.python_version(), "byteorder": sys.byteorder, "machine": platform.machine(), "packages": {}}
for mod, dist in [)" + module_list() + R"(]:
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
