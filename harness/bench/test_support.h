#pragma once
// Small bench results for the unit tests: cases with known samples and values.
#include <vector>

#include "harness/bench/records.h"

namespace crossload::bench::testing {

inline BenchCase make_case(const std::string& fixture, const std::string& format, std::vector<double> warm,
                           std::map<std::string, double> values = {}, const std::string& env = "host") {
  BenchCase c = BenchCase::of(env, fixture, format);
  c.samples[kWarmLoad] = std::move(warm);
  c.values = std::move(values);
  return c;
}

inline std::vector<double> around(double center, std::size_t n = 9, double step = 0.01) {
  std::vector<double> v;
  for (std::size_t i = 0; i < n; ++i) v.push_back(center * (1 + step * (static_cast<double>(i) - double(n) / 2)));
  return v;
}

inline BenchResults results_of(std::vector<BenchCase> cases, bool emulated = false) {
  BenchResults r;
  EnvironmentInfo host;
  host.name = host.where = "host";
  host.status = "ok";
  host.emulated = emulated;
  r.environments.push_back(host);
  r.cases = std::move(cases);
  r.repetitions = 9;
  r.processes = 4;
  return r;
}

}  // namespace crossload::bench::testing
