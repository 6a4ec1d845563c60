#pragma once
// What one benchmark case (an artifact in an environment) measured. Each measuring step runs in
// its own process; a step that crashed or timed out leaves its failure here and the others'
// numbers stand.
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "harness/bench/machine_load.h"

namespace crossload::bench {

// Timed series, each in seconds, one sample per repetition.
inline constexpr const char* kWarmLoad = "load_warm";          // in-process, the stack imported
inline constexpr const char* kColdLoad = "load_cold";          // fresh interpreter: exec to loaded
inline constexpr const char* kFirstPredict = "predict_first";  // one row, right after a load
inline constexpr const char* kBatchPredict = "predict_batch";  // batch_rows rows, model loaded

// Single values.
inline constexpr const char* kSizeBytes = "artifact_bytes";
inline constexpr const char* kDumpSeconds = "dump_seconds";
inline constexpr const char* kFirstLoadSeconds = "first_load_seconds";  // the load that imported modules
inline constexpr const char* kRssGrowth = "rss_growth_bytes";           // peak RSS over RSS before a load
inline constexpr const char* kPssGrowthTotal = "pss_growth_total_bytes";  // K loaders together
inline constexpr const char* kPssProcesses = "pss_processes";
inline constexpr const char* kColdPeakRss = "cold_peak_rss_bytes";  // the fresh interpreter's peak
inline constexpr const char* kBatchRows = "batch_rows";

inline constexpr const char* kNativeSuffix = ":native";

// One round of a case: the cases of a fixture are measured in turns (round 1 of every case, then
// round 2 of every case, ...), so a change in the machine's load hits all of them alike and shows
// as rounds that disagree. The case's `samples` are its rounds' samples, in round order.
struct Round {
  int index = 0;
  double started = 0;  // seconds since the epoch: the order the turns really ran in
  std::map<std::string, std::vector<double>> samples;  // this round's share of each timed series
  MachineLoad load;                                     // the machine while it was measured
};

struct BenchCase {
  std::string env, fixture, format;
  bool emulated = false;             // absolute times are QEMU's, not the CPU's
  std::string where;                 // how the environment ran
  // Loaded by the environment's native ONNX consumer (C++, no Python in the process) rather than
  // its Python: the same artifact as the Python case of the same fixture, format and env.
  bool native = false;
  std::string outcome = "OK_EXACT";  // of the first load's predictions against the producer's
  std::map<std::string, std::vector<double>> samples;
  std::vector<Round> rounds;
  std::map<std::string, double> values;
  std::map<std::string, std::string> failures;  // step (dump, measure, rss, share, cold) -> what happened

  static BenchCase of(const std::string& env, const std::string& fixture, const std::string& format) {
    BenchCase c;
    c.env = env;
    c.fixture = fixture;
    c.format = format;
    return c;
  }
  // Who loaded it: the environment's name, with ":native" for the native consumer.
  std::string consumer() const { return native ? env + kNativeSuffix : env; }
  std::string name(const std::string& metric) const { return metric + "/" + fixture + "/" + format + "/" + consumer(); }
  bool ok() const { return failures.empty(); }
};

struct EnvironmentInfo {
  std::string name, where, status, reason;
  bool emulated = false;
  nlohmann::json fingerprint;  // the worker's: python, machine, byteorder, packages
};

struct BenchResults {
  nlohmann::json host;  // host_fingerprint()
  std::vector<EnvironmentInfo> environments;
  std::vector<BenchCase> cases;
  int repetitions = 0, cold_repetitions = 0, processes = 0, rounds = 0;
};

}  // namespace crossload::bench
