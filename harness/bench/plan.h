#pragma once
// What a bench measures: fixtures, each with the formats to persist it in. With no --fixture and
// no --format, the plan is the guide's claims (claims.h): the cases that decide them.
#include <string>
#include <vector>

#include "harness/util/result.h"

namespace crossload::bench {

struct PlanItem {
  std::string fixture;
  std::vector<std::string> formats;
};

// The bench's own joblib codec variants, `joblib-<codec>-3` (harness/worker/bench.py).
const std::vector<std::string>& codec_formats();
// The registry's formats, then the codec variants.
bool known_format(const std::string& name);
std::string artifact_extension(const std::string& format);

// The claims' plan when both lists are empty; otherwise every fixture with every format. An
// Error names an unknown format (fixtures are checked by the worker, which knows them).
Result<std::vector<PlanItem>> make_plan(const std::vector<std::string>& fixtures,
                                        const std::vector<std::string>& formats);

}  // namespace crossload::bench
