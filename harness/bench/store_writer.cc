#include "harness/bench/store_writer.h"

#include "harness/bench/stats.h"
#include "harness/store/store.h"
#include "harness/util/sha256.h"

namespace crossload::bench {

using json = nlohmann::json;

namespace {

EnvRecord env_record(const EnvironmentInfo& e) {
  EnvRecord r;
  r.name = e.name;
  r.where = e.where + (e.emulated ? " (emulated)" : "");
  r.status = e.status;
  r.reason = e.reason;
  r.fingerprint = e.fingerprint;
  return r;
}

CellRecord cell_record(const BenchCase& c) {
  CellRecord cell;
  // The native consumer's case is a cell of its own: produced by the env's Python, loaded natively.
  cell.id = cell_id(c.fixture, c.format, c.env, c.consumer());
  cell.fixture = c.fixture;
  cell.format = c.format;
  cell.producer = c.env;
  cell.consumer = c.consumer();
  cell.outcome = outcome_from_string(c.outcome).value_or(Outcome::kLoadError);
  json samples = json::object(), failures = json::object();
  for (const auto& [metric, v] : c.samples) {
    Summary s = summarize(v);
    cell.measurements.push_back({metric, s.median, "s"});
    cell.measurements.push_back({metric + "_iqr", s.iqr, "s"});
    samples[metric] = v;
  }
  for (const auto& [key, value] : c.values)
    cell.measurements.push_back({key, value, key.ends_with("_bytes") ? "bytes" : key.ends_with("_seconds") ? "s" : ""});
  for (const auto& [step, why] : c.failures) failures[step] = why;
  json rounds = json::array();
  for (const auto& r : c.rounds)
    rounds.push_back({{"round", r.index + 1}, {"started", r.started}, {"samples", r.samples}, {"load", to_json(r.load)}});
  cell.detail = {{"bench", {{"samples", samples}, {"rounds", rounds}, {"failures", failures}, {"emulated", c.emulated},
                          {"consumer", c.native ? "onnx-native" : "python"}}}};
  if (!c.failures.empty()) cell.detail["message"] = c.failures.begin()->first + ": " + c.failures.begin()->second;
  return cell;
}

}  // namespace

Result<int64_t> store_bench_run(const std::string& db_path, const std::string& matrix_path,
                                const BenchResults& results) {
  auto store = Store::open(db_path);
  if (!store) return store.error();
  if (auto st = store->lock_for_writing(); !st) return st.error();
  auto sha = sha256_file(matrix_path);
  if (!sha) return sha.error();
  auto run = store->begin_run("bench:" + matrix_path, *sha, CROSSLOAD_VERSION);
  if (!run) return run.error();
  for (const auto& e : results.environments)
    if (auto st = store->put_environment(run->id, env_record(e)); !st) return st.error();
  for (const auto& c : results.cases)
    if (auto st = store->put_cell(run->id, cell_record(c)); !st) return st.error();
  if (auto st = store->mark_run(run->id, "finished"); !st) return st.error();
  return run->id;
}

}  // namespace crossload::bench
