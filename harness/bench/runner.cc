#include "harness/bench/runner.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <ctime>
#include <filesystem>
#include <fstream>

#include "harness/bench/claims.h"
#include "harness/bench/environment.h"
#include "harness/bench/fingerprint.h"
#include "harness/bench/gbench_json.h"
#include "harness/bench/native_case.h"
#include "harness/bench/plan.h"
#include "harness/bench/rounds.h"
#include "harness/bench/store_writer.h"
#include "harness/core/matrix.h"
#include "harness/bench/report.h"
#include "harness/util/interrupt.h"

namespace crossload::bench {

namespace fs = std::filesystem;

namespace {

Result<std::vector<const EnvSpec*>> chosen_envs(const Matrix& m, const std::vector<std::string>& names) {
  std::vector<const EnvSpec*> out;
  for (const auto& name : names) {
    const EnvSpec* spec = m.find_env(name);
    if (!spec) return make_error(fmt::format("{}: no [env.{}] table (--env names an environment of the matrix)", m.path, name));
    out.push_back(spec);
  }
  return out;
}

// A case whose fixture could not be trained: nothing to measure.
BenchCase untrained(const BenchEnv& env, const std::string& fixture, const std::string& format, const Error& why) {
  BenchCase c = BenchCase::of(env.info.name, fixture, format);
  c.emulated = env.info.emulated;
  c.where = env.info.where;
  c.outcome = "LOAD_ERROR";
  c.failures["dump"] = "train: " + why.message;
  return c;
}

// One fixture's cases: every dump, then the measuring turns interleaved (round 1 of every case,
// round 2 of every case, ...), then each case's memory steps. ONNX cases in an environment with
// the native consumer get a native case each, right after. A worker that dies is revived (the
// fixture retrained while dumps remain; the turns load from the files).
void bench_fixture(BenchEnv& env, const PlanItem& item, const CaseSettings& s, BenchResults& out, RunLog& log) {
  auto trained = train_fixture(env, item.fixture, s);
  if (interrupted()) return;  // SIGINT/SIGTERM: nothing of the fixture is kept (run_bench), no step more
  if (!trained) {
    log.error("{}", trained.error().message);
    for (const auto& format : item.formats) out.cases.push_back(untrained(env, item.fixture, format, trained.error()));
    return;
  }
  const Trained files = *trained;  // where the artifacts, inputs and references are: all a turn needs
  std::vector<PendingCase> cases;
  for (const auto& format : item.formats) {
    if (interrupted()) return;
    if (!trained) {
      out.cases.push_back(untrained(env, item.fixture, format, trained.error()));
      continue;
    }
    cases.push_back(start_case(env, *trained, format, s));
    if (measures_natively(env, format)) cases.push_back(start_native_case(env, *trained, cases.back().c, s));
    if (!env.ready() && env.revive(log)) trained = train_fixture(env, item.fixture, s);
  }
  for (const Turn& turn : interleaved(cases.size(), s.rounds, s.repetitions, s.cold_repetitions)) {
    if (interrupted()) return;
    PendingCase& p = cases[turn.item];
    if (p.c.native)
      native_turn(env, p, files, turn, s);
    else
      python_turn(env, p, files, turn, s);
    if (!env.ready()) env.revive(log);
  }
  for (auto& p : cases) {
    if (interrupted()) return;
    out.cases.push_back(finish_case(env, p, s, log));
    if (!env.ready()) env.revive(log);
  }
}

std::string local_date() {
  std::time_t now = std::time(nullptr);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S%z}", fmt::localtime(now));
}

Status write_text(const std::string& path, const std::string& text) {
  std::ofstream out(path);
  out << text;
  if (!out) return make_error(path + ": cannot be written");
  return ok_status();
}

Status write_outputs(const BenchOptions& o, const BenchResults& r, const std::string& out_dir, BenchSummary& summary) {
  auto verdicts = judge_claims(r);
  WriteInfo info{o.executable, local_date(), to_json(verdicts)};
  const std::vector<std::pair<std::string, std::string>> files = {
      {out_dir + "/bench.json", to_gbench_json(r, info).dump(2) + "\n"},
      {out_dir + "/bench.md", render_bench_markdown(r, verdicts)},
      {out_dir + "/bench.html", render_bench_html(r, verdicts)}};
  for (const auto& [path, text] : files) {
    if (auto st = write_text(path, text); !st) return st;
    summary.written.push_back(path);
  }
  return ok_status();
}

}  // namespace

Result<BenchSummary> run_bench(const BenchOptions& given, RunLog& log) {
  BenchOptions o = given;
  const std::string out_dir = fs::absolute(o.out_dir).lexically_normal().string();
  o.settings.out_dir = out_dir;
  auto plan = make_plan(o.fixtures, o.formats);
  if (!plan) return plan.error();
  auto matrix = load_matrix(o.matrix_path);
  if (!matrix) return matrix.error();
  if (auto s = add_spec_envs(*matrix, o.envs); !s) return s.error();
  auto specs = chosen_envs(*matrix, o.envs);
  if (!specs) return specs.error();
  fs::create_directories(out_dir);
  BenchResults results;
  results.host = host_fingerprint();
  results.repetitions = o.settings.repetitions;
  results.cold_repetitions = o.settings.cold_repetitions;
  results.processes = o.settings.processes;
  results.rounds = o.settings.rounds;
  ProvisionContext ctx{o.settings.source_root, out_dir, o.cache_dir, &log.stream()};
  for (const EnvSpec* spec : *specs) {
    if (interrupted()) break;
    BenchEnv env = start_bench_env(*spec, ctx, log);
    if (env.info.status == "ok")
      for (const auto& item : *plan)
        if (!interrupted()) bench_fixture(env, item, o.settings, results, log);
    results.environments.push_back(env.info);
  }
  // SIGINT/SIGTERM (harness/util/interrupt.h): the outputs describe every case of the plan, so none
  // is written from part of it; the previous ones stay as they were.
  if (interrupted())
    return make_error(ErrorKind::kInterrupted,
                      fmt::format("interrupted by {}: {} cases measured, none written (bench's outputs hold every "
                                  "case of the plan: those in {} stay as they were); rerun the same command to measure",
                                  interrupt_signal_name(), results.cases.size(), out_dir));
  BenchSummary summary;
  summary.cases = results.cases.size();
  for (const auto& c : results.cases) summary.failed_steps += c.failures.size();
  // The files first: they hold everything even if the store then refuses.
  if (auto st = write_outputs(o, results, out_dir, summary); !st) return st.error();
  auto run_id = store_bench_run(out_dir + "/results.db", o.matrix_path, results);
  if (!run_id) return run_id.error();
  summary.run_id = *run_id;
  summary.written.push_back(out_dir + "/results.db");
  return summary;
}

}  // namespace crossload::bench
