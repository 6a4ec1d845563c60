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

// A case measured in rounds: each round's warm loads, on a machine of the given load (quiet when
// none is given), pooled into its samples as a bench does.
inline BenchCase in_rounds(const std::string& fixture, const std::string& format,
                           const std::vector<std::vector<double>>& per_round, std::map<std::string, double> values = {},
                           std::vector<MachineLoad> loads = {}) {
  BenchCase c = BenchCase::of("host", fixture, format);
  c.values = std::move(values);
  for (std::size_t i = 0; i < per_round.size(); ++i) {
    Round r;
    r.index = static_cast<int>(i);
    r.samples[kWarmLoad] = per_round[i];
    r.load = i < loads.size() ? loads[i] : MachineLoad{0.5, 0.5, 0.5, 0, 50, 2, true};
    c.samples[kWarmLoad].insert(c.samples[kWarmLoad].end(), per_round[i].begin(), per_round[i].end());
    c.rounds.push_back(r);
  }
  return c;
}

inline MachineLoad busy_machine() { return MachineLoad{7.7, 3.3, 1.3, 0, 100, 2, true}; }

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
