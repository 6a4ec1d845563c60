#include "harness/bench/measure.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>

#include "harness/bench/machine_load.h"
#include "harness/bench/plan.h"
#include "harness/env/env_spec.h"
#include "harness/compare/compare.h"
#include "harness/compare/npy.h"
#include "harness/util/process.h"

namespace crossload::bench {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// The worker kills a step's child at the wall limit; the harness waits a little longer for that answer.
std::chrono::milliseconds answer_timeout(const CaseSettings& s) {
  return std::chrono::milliseconds(static_cast<long>((s.wall_seconds + 60) * 1000));
}

template <class R>
bool fail(BenchCase& c, const char* step, const StepResult<R>& r) {
  if (const auto* e = std::get_if<StepError>(&r)) {
    c.failures[step] = e->stage + ": " + e->message;
    return true;
  }
  return false;
}

BenchRequest base_request(const char* step, const BenchCase& c, const Artifact& a, const CaseSettings& s) {
  return {step, {{"format", c.format}, {"path", a.path}, {"trusted_types", a.trusted_types},
                 {"wall_seconds", s.wall_seconds}}};
}

void append(std::vector<double>& to, const std::vector<double>& values) { to.insert(to.end(), values.begin(), values.end()); }

// `repetitions` warm loads in one forked child, after its own first load; the first turn's first
// load is the one whose time and predictions the case keeps.
void measure(BenchEnv& env, BenchCase& c, const Trained& t, const Artifact& a, const CaseSettings& s, int repetitions,
             bool first) {
  std::string prefix = output_prefix(c, s);
  BenchRequest req = base_request("measure", c, a, s);
  req.fields.update({{"inputs", t.inputs}, {"outputs", t.outputs}, {"repetitions", repetitions}, {"out_prefix", prefix}});
  auto r = request_step<BenchMeasureAnswer>(env, req, answer_timeout(s));
  if (fail(c, "measure", r)) return;
  const auto& res = std::get<BenchMeasureAnswer>(r);
  append(c.samples[kWarmLoad], res.warm_load_seconds);
  append(c.samples[kFirstPredict], res.first_predict_seconds);
  append(c.samples[kBatchPredict], res.batch_seconds);
  if (!first) return;
  c.values[kBatchRows] = static_cast<double>(res.batch_rows);
  c.values[kFirstLoadSeconds] = res.first_load_seconds;
  judge_outputs(c, t, a.path, prefix);
}

void rss(BenchEnv& env, BenchCase& c, const Artifact& a, const CaseSettings& s) {
  auto r = request_step<BenchRssAnswer>(env, base_request("rss", c, a, s), answer_timeout(s));
  if (fail(c, "rss", r)) return;
  c.values[kRssGrowth] = std::get<BenchRssAnswer>(r).rss_growth_kb * 1024;
}

void share(BenchEnv& env, BenchCase& c, const Artifact& a, const CaseSettings& s) {
  BenchRequest req = base_request("share", c, a, s);
  req.fields["processes"] = s.processes;
  auto r = request_step<BenchShareAnswer>(env, req, answer_timeout(s));
  if (fail(c, "share", r)) return;
  const auto& res = std::get<BenchShareAnswer>(r);
  double before = 0, after = 0;
  for (double v : res.pss_before_kb) before += v;
  for (double v : res.pss_after_kb) after += v;
  c.values[kPssGrowthTotal] = std::max(0.0, after - before) * 1024;
  c.values[kPssProcesses] = s.processes;
}

ColdCommand python_cold(const BenchEnv& env, const BenchCase& c, const Artifact& a, const CaseSettings& s) {
  ColdCommand cmd{env.launch.python, env.launch.env};
  for (const auto& arg : {s.source_root + "/harness/worker/bench.py", std::string("cold"), std::string("--root"),
                          s.source_root, std::string("--format"), c.format, std::string("--path"), a.path,
                          std::string("--trusted-types"), a.trusted_types.dump()})
    cmd.argv.push_back(arg);
  return cmd;
}

// One fresh process up to the loaded model: seconds until its "loaded" line, and its peak RSS;
// a StepError "timeout" when it outlived the wall limit, "crash" when it ended before loading.
std::variant<std::pair<double, double>, StepError> cold_once(const ColdCommand& cmd, const CaseSettings& s) {
  ProcessOptions o;
  o.argv = cmd.argv;
  o.set_env = cmd.env;
  o.timeout = std::chrono::milliseconds(static_cast<long>(s.wall_seconds * 1000));
  Stopwatch clock;
  double loaded_at = -1;
  json line;
  o.on_out_line = [&](std::string_view text) {
    if (loaded_at < 0) loaded_at = clock.seconds(), line = json::parse(text, nullptr, false);
  };
  auto p = run_process(o);
  if (!p) return StepError{"crash", p.error().message};
  if (loaded_at < 0 || !line.is_object() || !line.value("loaded", false))
    return StepError{p->timed_out ? "timeout" : "crash",
                     fmt::format("the cold load ended with {} before loading: {}", p->status_text(), p->tail())};
  return std::pair{loaded_at, line.value("max_rss_kb", 0.0) * 1024};
}

std::optional<Artifact> dump(BenchEnv& env, BenchCase& c, const Trained& t, const CaseSettings& s) {
  Artifact a{artifact_path(t, c.format)};
  auto r = request_step<DumpAnswer>(env, BenchRequest{"dump", {{"fixture", t.fixture}, {"format", c.format},
                                                                   {"path", a.path}, {"inputs", t.inputs}}},
                                    answer_timeout(s));
  if (fail(c, "dump", r)) return std::nullopt;
  const auto& res = std::get<DumpAnswer>(r);
  c.values[kSizeBytes] = static_cast<double>(res.size_bytes);
  c.values[kDumpSeconds] = res.dump_seconds;
  a.trusted_types = res.untrusted_types();
  return a;
}

}  // namespace

std::string artifact_path(const Trained& t, const std::string& format) {
  return (fs::path(t.dir) / ("model-" + format + artifact_extension(format))).string();
}

std::string output_prefix(const BenchCase& c, const CaseSettings& s) {
  std::string prefix = (fs::path(s.out_dir) / "cells" / c.consumer() / c.fixture / c.format).string();
  fs::create_directories(fs::path(prefix).parent_path());
  return prefix;
}

// The first load's predictions against the producer's own: the case's outcome.
void judge_outputs(BenchCase& c, const Trained& t, const std::string& artifact, const std::string& prefix) {
  Outcome worst = Outcome::kOkExact;
  for (const auto& output : t.outputs) {
    auto ref = read_npy(artifact + ".ref." + output + ".npy");
    auto got = read_npy(prefix + "." + output + ".npy");
    if (!ref || !got) continue;  // an output this format's runtime does not serve (ONNX)
    Comparison cmp = compare_arrays(*ref, *got, {t.rtol, t.atol});
    if (severity(cmp.outcome) > severity(worst)) worst = cmp.outcome;
  }
  c.outcome = std::string(to_string(worst));
}

void measure_cold(BenchCase& c, const ColdCommand& command, const CaseSettings& s, int count) {
  double peak = c.values.count(kColdPeakRss) ? c.values[kColdPeakRss] : 0;
  for (int i = 0; i < count; ++i) {
    auto r = cold_once(command, s);
    if (const auto* e = std::get_if<StepError>(&r)) {
      c.failures["cold"] = e->stage + ": " + e->message;
      c.samples.erase(kColdLoad);
      return;
    }
    const auto& [seconds, rss] = std::get<std::pair<double, double>>(r);
    c.samples[kColdLoad].push_back(seconds);
    peak = std::max(peak, rss);
  }
  if (count > 0) c.values[kColdPeakRss] = peak;
}

void in_round(BenchCase& c, int round, const std::function<void()>& steps) {
  std::map<std::string, std::size_t> before;
  for (const auto& [metric, v] : c.samples) before[metric] = v.size();
  Round r;
  r.index = round;
  r.started = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  LoadSnapshot start = read_load();
  steps();
  r.load = load_between(start, read_load(), online_cpus());
  for (const auto& [metric, v] : c.samples) {
    std::size_t from = before.count(metric) ? before[metric] : 0;
    if (v.size() > from) r.samples[metric].assign(v.begin() + static_cast<std::ptrdiff_t>(from), v.end());
  }
  c.rounds.push_back(std::move(r));
}

// The outcome when the dump or the first load did not get as far as predictions.
void settle_failed(BenchCase& c) {
  auto it = c.failures.count("dump") ? c.failures.find("dump") : c.failures.find("measure");
  if (it == c.failures.end()) return;
  const std::string& why = it->second;
  auto stage_is = [&](const char* s) { return why.rfind(std::string(s) + ":", 0) == 0; };
  c.outcome = stage_is("unsupported") ? "UNSUPPORTED" : stage_is("crash") ? "CRASH" : stage_is("timeout") ? "TIMEOUT"
              : stage_is("predict") ? "PREDICT_ERROR" : "LOAD_ERROR";
}


void log_case(const BenchCase& c, double seconds, RunLog& log) {
  for (const auto& [step, why] : c.failures) log.error("{}/{}/{} {}: {}", c.fixture, c.format, c.consumer(), step, why);
  log.info("benched {}/{} in {} ({:.1f} s)", c.fixture, c.format, c.consumer(), seconds);
}

Result<Trained> train_fixture(BenchEnv& env, const std::string& fixture, const CaseSettings& s) {
  Trained t;
  t.fixture = fixture;
  t.dir = (fs::path(s.out_dir) / "artifacts" / env_file_name(env.info.name) / fixture).string();
  auto r = request_step<BenchTrainAnswer>(env, BenchRequest{"train", {{"fixture", fixture}, {"out_dir", t.dir}}},
                                          answer_timeout(s) * 3);
  if (const auto* e = std::get_if<StepError>(&r))
    return make_error(fmt::format("training {} in {} failed ({}): {}", fixture, env.info.name, e->stage, e->message));
  const auto& res = std::get<BenchTrainAnswer>(r);
  t.inputs = res.inputs;
  t.outputs = res.outputs;
  t.rtol = res.rtol;
  t.atol = res.atol;
  return t;
}

PendingCase start_case(BenchEnv& env, const Trained& t, const std::string& format, const CaseSettings& s) {
  PendingCase p{BenchCase::of(env.info.name, t.fixture, format), std::nullopt, 0};
  p.c.emulated = env.info.emulated;
  p.c.where = env.info.where;
  Stopwatch clock;
  p.artifact = dump(env, p.c, t, s);
  p.seconds = clock.seconds();
  return p;
}

void python_turn(BenchEnv& env, PendingCase& p, const Trained& t, const Turn& turn, const CaseSettings& s) {
  if (!p.artifact) return;
  Stopwatch clock;
  BenchCase& c = p.c;
  in_round(c, turn.round, [&] {
    if (!c.failures.count("measure")) measure(env, c, t, *p.artifact, s, turn.warm, turn.round == 0);
    if (!c.failures.count("cold")) measure_cold(c, python_cold(env, c, *p.artifact, s), s, turn.cold);
  });
  p.seconds += clock.seconds();
}

BenchCase finish_case(BenchEnv& env, PendingCase& p, const CaseSettings& s, RunLog& log) {
  Stopwatch clock;
  if (p.artifact && !p.c.native) {
    rss(env, p.c, *p.artifact, s);
    share(env, p.c, *p.artifact, s);
  }
  settle_failed(p.c);
  log_case(p.c, p.seconds + clock.seconds(), log);
  return std::move(p.c);
}

}  // namespace crossload::bench
