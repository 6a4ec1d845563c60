#pragma once
// The environments a forecast is made for, as `forecast`, `check` and `inspect --forecast`
// choose them: names of a matrix (default: its consumers) or environment specs
// (`debian:trixie/armhf`, `pip:...`), each resolved to facts without starting it.
#include <string>
#include <vector>

#include "harness/inspection/record.h"
#include "harness/forecast/environments.h"
#include "harness/util/result.h"

namespace crossload::cli {

Result<std::vector<forecast::EnvFacts>> forecast_envs(const std::string& matrix_path,
                                                      const std::vector<std::string>& names,
                                                      const std::string& cache_dir);

// The short forecast `check` and `inspect --forecast` print before anything is loaded: one line
// per environment. Empty when the artifact cannot be parsed or the environments not resolved
// (the command itself then reports the problem its own way).
std::string forecast_section(const std::string& artifact, const std::string& matrix_path,
                             const std::vector<std::string>& names, const std::string& cache_dir);
// The same for an artifact already inspected (`inspect --forecast`), so it is not parsed twice
// and the command's own policy and limits are the ones its facts came from.
std::string forecast_section(const audit::InspectionRecord& record, const std::string& matrix_path,
                             const std::vector<std::string>& names, const std::string& cache_dir);

}  // namespace crossload::cli
