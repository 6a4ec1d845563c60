#include "harness/bench/native_case.h"

#include <algorithm>

#include "harness/bench/stats.h"
#include "harness/env/native_onnx.h"

namespace crossload::bench {

namespace {

std::chrono::milliseconds step_timeout(const CaseSettings& s) {
  return std::chrono::milliseconds(static_cast<long>(s.wall_seconds * 1000));
}

// One load in a fresh child with every output the artifact serves, copied out to be judged
// against the producer's references, as the Python case's first load is.
void first_load(const BenchEnv& env, BenchCase& c, const Trained& t, const std::string& artifact, const CaseSettings& s) {
  std::string prefix = output_prefix(c, s);
  NativeMeasure m{artifact, t.inputs, t.outputs, 1, 0, true, prefix, step_timeout(s)};
  auto r = measure_native_onnx(env.launch, m);
  if (!r) {
    c.failures["measure"] = r.error().message;
    return;
  }
  c.values[kFirstLoadSeconds] = r->front().load_seconds;
  judge_outputs(c, t, artifact, prefix);
}

// `repetitions` loads, each in a fresh child forked from a consumer that has onnxruntime
// initialised (its Ort::Env made): the native counterpart of the Python worker's warm loads.
// Each predicts one row of the first output right after, as the Python bench times it. The RSS
// growth is the median child's peak RSS over the consumer's RSS at the fork, in the first turn.
void warm_loads(const BenchEnv& env, BenchCase& c, const Trained& t, const std::string& artifact, const CaseSettings& s,
                int repetitions, bool first) {
  NativeMeasure m{artifact, t.inputs, {t.outputs.front()}, repetitions, 1, false, "", step_timeout(s)};
  auto r = measure_native_onnx(env.launch, m);
  if (!r) {
    c.failures["measure"] = r.error().message;
    return;
  }
  std::vector<double> growth;
  for (const auto& load : *r) {
    c.samples[kWarmLoad].push_back(load.load_seconds);
    c.samples[kFirstPredict].push_back(load.predict_seconds);
    growth.push_back(std::max(0L, load.rss_peak_kb - load.rss_at_fork_kb) * 1024.0);
  }
  if (first) c.values[kRssGrowth] = summarize(growth).median;
}

}  // namespace

bool measures_natively(const BenchEnv& env, const std::string& format) {
  return !env.launch.loader_program.empty() && format == "onnx";
}

PendingCase start_native_case(const BenchEnv& env, const Trained& t, const BenchCase& python, const CaseSettings& s) {
  PendingCase p{BenchCase::of(env.info.name, t.fixture, python.format), std::nullopt, 0};
  BenchCase& c = p.c;
  c.native = true;
  c.emulated = env.info.emulated;
  c.where = env.info.where;
  Stopwatch clock;
  if (auto dumped = python.failures.find("dump"); dumped != python.failures.end()) {
    c.failures["dump"] = dumped->second;  // nothing to load: the Python side could not write it
  } else if (t.outputs.empty()) {
    c.failures["measure"] = "protocol: the fixture declares no outputs";
  } else {
    p.artifact = Artifact{artifact_path(t, c.format)};
    if (auto size = python.values.find(kSizeBytes); size != python.values.end()) c.values[kSizeBytes] = size->second;
    first_load(env, c, t, p.artifact->path, s);
  }
  p.seconds = clock.seconds();
  return p;
}

void native_turn(const BenchEnv& env, PendingCase& p, const Trained& t, const Turn& turn, const CaseSettings& s) {
  if (!p.artifact) return;
  Stopwatch clock;
  BenchCase& c = p.c;
  in_round(c, turn.round, [&] {
    if (!c.failures.count("measure")) warm_loads(env, c, t, p.artifact->path, s, turn.warm, turn.round == 0);
    if (!c.failures.count("cold")) measure_cold(c, {native_cold_argv(env.launch, p.artifact->path), env.launch.env}, s, turn.cold);
  });
  p.seconds += clock.seconds();
}

}  // namespace crossload::bench
