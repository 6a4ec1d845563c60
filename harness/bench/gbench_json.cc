#include "harness/bench/gbench_json.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "harness/bench/stats.h"

namespace crossload::bench {

using json = nlohmann::json;

namespace {

constexpr const char* kEmulatedLabel = "under QEMU emulation: absolute times are the emulator's";
// Timed series in the order they appear in the file.
constexpr const char* kTimed[] = {kWarmLoad, kColdLoad, kFirstPredict, kBatchPredict};

// Which measuring step produces each timed series (a failed step fails its series).
std::string step_of(const std::string& metric) {
  if (metric == kColdLoad) return "cold";
  return "measure";
}

json base_entry(const std::string& name, int family, const BenchCase& c) {
  json e = {{"name", name}, {"family_index", family}, {"per_family_instance_index", 0},
            {"run_name", name}, {"threads", 1}};
  if (c.emulated) e["label"] = kEmulatedLabel;
  return e;
}

void add_counters(json& e, const BenchCase& c) {
  for (const auto& [key, value] : c.values) e[key] = value;
}

void add_times(json& e, double seconds) {
  e["real_time"] = seconds * 1e3;
  e["cpu_time"] = seconds * 1e3;  // wall time: the load's own CPU is not what a user waits for
  e["time_unit"] = "ms";
}

// The round each sample of a series was measured in (none when the case has no rounds).
std::vector<const Round*> rounds_of_samples(const BenchCase& c, const std::string& metric, std::size_t n) {
  std::vector<const Round*> out;
  for (const auto& r : c.rounds)
    if (auto it = r.samples.find(metric); it != r.samples.end()) out.insert(out.end(), it->second.size(), &r);
  if (out.size() != n) out.clear();
  return out;
}

// The round and the machine's load beside the sample, as counters compare.py passes over.
void add_round(json& e, const Round* r) {
  if (!r) return;
  e["round"] = r->index + 1;
  e["load_avg_1m"] = r->load.load1;
  e["steal_percent"] = r->load.steal_percent;
  e["machine_busy"] = busy_reason(r->load).empty() ? 0 : 1;
}

json iteration(const std::string& name, int family, const BenchCase& c, std::size_t index, std::size_t n,
               double seconds, const Round* round) {
  json e = base_entry(name, family, c);
  e.update({{"run_type", "iteration"}, {"repetitions", n}, {"repetition_index", index}, {"iterations", 1}});
  add_times(e, seconds);
  add_counters(e, c);
  add_round(e, round);
  if (auto rows = c.values.find(kBatchRows); rows != c.values.end() && name.starts_with(kBatchPredict) && seconds > 0)
    e["items_per_second"] = rows->second / seconds;
  return e;
}

json aggregate(const std::string& name, int family, const BenchCase& c, std::size_t n, const char* which,
               double value, bool percentage) {
  json e = base_entry(name + "_" + which, family, c);
  e["run_name"] = name;
  e.update({{"run_type", "aggregate"}, {"repetitions", n}, {"iterations", n}, {"aggregate_name", which},
            {"aggregate_unit", percentage ? "percentage" : "time"}});
  if (percentage) {
    e["real_time"] = value;
    e["cpu_time"] = value;
    e["time_unit"] = "ms";
  } else {
    add_times(e, value);
  }
  return e;
}

json failed(const std::string& name, int family, const BenchCase& c, const std::string& message) {
  json e = base_entry(name, family, c);
  e.update({{"run_type", "iteration"}, {"repetitions", 0}, {"repetition_index", 0}, {"iterations", 0},
            {"error_occurred", true}, {"error_message", message}});
  add_times(e, 0);
  return e;
}

void add_series(json& out, int family, const BenchCase& c, const std::string& metric) {
  const std::string name = c.name(metric);
  if (auto f = c.failures.find(step_of(metric)); f != c.failures.end()) {
    out.push_back(failed(name, family, c, f->first + ": " + f->second));
    return;
  }
  if (auto f = c.failures.find("dump"); f != c.failures.end()) {
    out.push_back(failed(name, family, c, "dump: " + f->second));
    return;
  }
  auto it = c.samples.find(metric);
  if (it == c.samples.end() || it->second.empty()) return;
  const auto& v = it->second;
  auto rounds = rounds_of_samples(c, metric, v.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    out.push_back(iteration(name, family, c, i, v.size(), v[i], rounds.empty() ? nullptr : rounds[i]));
  Summary s = summarize(v);
  out.push_back(aggregate(name, family, c, v.size(), "mean", s.mean, false));
  out.push_back(aggregate(name, family, c, v.size(), "median", s.median, false));
  out.push_back(aggregate(name, family, c, v.size(), "stddev", s.stddev, false));
  out.push_back(aggregate(name, family, c, v.size(), "cv", s.cv, true));
  out.push_back(aggregate(name, family, c, v.size(), "iqr", s.iqr, false));
}

json caches_of(const json& host) {
  json out = json::array();
  for (const auto& c : host.value("caches", json::array()))
    out.push_back({{"type", c.value("type", std::string("Unified"))}, {"level", c.value("level", 0)},
                   {"size", c.value("size", 0)}, {"num_sharing", c.value("num_sharing", 0)}});
  return out;
}

json context(const BenchResults& r, const WriteInfo& info) {
  json envs = json::array(), failures = json::array(), loads = json::array();
  for (const auto& e : r.environments)
    envs.push_back({{"name", e.name}, {"where", e.where}, {"status", e.status}, {"reason", e.reason},
                    {"emulated", e.emulated}, {"fingerprint", e.fingerprint}});
  for (const auto& c : r.cases)
    for (const auto& [step, message] : c.failures)
      failures.push_back({{"case", c.fixture + "/" + c.format + "/" + c.consumer()}, {"step", step}, {"message", message}});
  for (const auto& c : r.cases)
    for (const auto& round : c.rounds)
      loads.push_back({{"case", c.fixture + "/" + c.format + "/" + c.consumer()}, {"round", round.index + 1},
                       {"started", round.started}, {"load", to_json(round.load)}});
  const json host = r.host.is_object() ? r.host : json::object();  // no fingerprint: empty fields, not a throw
  return {{"date", info.date},
          {"host_name", host.value("host_name", std::string())},
          {"executable", info.executable},
          {"num_cpus", host.value("logical_cpus", 0)},
          {"mhz_per_cpu", host.value("mhz_per_cpu", 0)},
          {"cpu_scaling_enabled", false},
          {"caches", caches_of(host)},
          {"load_avg", host.value("load_avg", json::array())},
          {"library_build_type", "release"},
          {"json_schema_version", 1},
          {"crossload", {{"version", CROSSLOAD_VERSION},
                         {"host", host},
                         {"environments", envs},
                         {"repetitions", r.repetitions},
                         {"cold_repetitions", r.cold_repetitions},
                         {"pss_processes", r.processes},
                         {"rounds", r.rounds},
                         {"busy_rule", {{"load_avg_1m_above_cpus", true}, {"steal_percent_above", kBusyStealPercent}}},
                         {"machine_load", loads},
                         {"failures", failures},
                         {"verdicts", info.verdicts}}}};
}

// Milliseconds and friends back to seconds.
Result<double> to_seconds(double value, const std::string& unit) {
  if (unit == "ns") return value * 1e-9;
  if (unit == "us") return value * 1e-6;
  if (unit == "ms") return value * 1e-3;
  if (unit == "s") return value;
  return make_error(fmt::format("unknown time_unit '{}'", unit));
}

Status read_entry(const json& b, std::map<std::string, Series>& out) {
  if (!b.is_object() || !b.contains("name") || !b["name"].is_string()) return make_error("a benchmark has no \"name\"");
  if (b.value("run_type", std::string("iteration")) != "iteration") return ok_status();
  Series& s = out[b.value("run_name", b["name"].get<std::string>())];
  s.label = b.value("label", s.label);
  if (b.value("error_occurred", false)) {
    s.error = b.value("error_message", std::string("error"));
    return ok_status();
  }
  if (!b.contains("real_time") || !b["real_time"].is_number())
    return make_error(fmt::format("benchmark '{}' has no numeric real_time", b["name"].get<std::string>()));
  auto seconds = to_seconds(b["real_time"].get<double>(), b.value("time_unit", std::string("ns")));
  if (!seconds) return make_error(fmt::format("benchmark '{}': {}", b["name"].get<std::string>(), seconds.error().message));
  // Google Benchmark's real_time is per iteration already: one sample per repetition.
  s.seconds.push_back(*seconds);
  return ok_status();
}

}  // namespace

json to_gbench_json(const BenchResults& results, const WriteInfo& info) {
  json benchmarks = json::array();
  int family = 0;
  for (const auto& c : results.cases)
    for (const char* metric : kTimed) {
      std::size_t before = benchmarks.size();
      add_series(benchmarks, family, c, metric);
      if (benchmarks.size() != before) ++family;
    }
  return {{"context", context(results, info)}, {"benchmarks", benchmarks}};
}

Result<std::map<std::string, Series>> read_series(const json& doc, const std::string& path) {
  if (!doc.is_object() || !doc.contains("benchmarks") || !doc["benchmarks"].is_array())
    return make_error(path + ": not Google Benchmark JSON: no \"benchmarks\" list");
  std::map<std::string, Series> out;
  for (const auto& b : doc["benchmarks"])
    if (auto st = read_entry(b, out); !st) return make_error(path + ": " + st.error().message);
  return out;
}

Result<json> read_json_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error(path + ": cannot be read (does it exist?)");
  std::stringstream text;
  text << in.rdbuf();
  json doc = json::parse(text.str(), nullptr, false);
  if (doc.is_discarded()) return make_error(path + ": not valid JSON");
  return doc;
}

}  // namespace crossload::bench
