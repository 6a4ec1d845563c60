#include "harness/run/runner.h"

#include <fmt/format.h>

#include <filesystem>
#include <set>
#include <thread>

#include "harness/check/recipes.h"
#include "harness/check/retrain.h"
#include "harness/run/cell_plan.h"
#include "harness/run/consume.h"
#include "harness/run/environments.h"
#include "harness/run/matrix.h"
#include "harness/run/narrow.h"
#include "harness/run/plan.h"
#include "harness/run/produce.h"
#include "harness/run/reuse.h"
#include "harness/run/scheduler.h"
#include "harness/run/shard.h"
#include "harness/run/split_common.h"
#include "harness/store/store.h"
#include "harness/util/sha256.h"
#include "reports/reporter.h"

namespace crossload {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// Everything one run holds while it works; passed down instead of living in globals.
struct RunState {
  const RunOptions& options;
  const Matrix& matrix;
  Store& store;
  RunRecord run;
  EnvSessions envs;
  RunSummary summary;
  RunLog& log;
};

struct Listed {
  std::vector<FixtureInfo> fixtures;
  std::map<std::string, std::string> recipes;  // fixture -> recipe_sha256, "" when unknown
};

Result<Listed> list_fixtures(EnvSessions& envs) {
  for (auto& [name, s] : envs) {
    if (!s.available()) continue;
    auto r = s.worker->request({{"op", "list"}}, std::chrono::seconds(120));
    if (!r.ok() || !r.answer.value("ok", false)) continue;
    Listed out;
    for (const auto& f : r.answer["result"]["fixtures"]) {
      out.fixtures.push_back({f.value("name", ""), f.value("description", ""),
                              f.value("outputs", std::vector<std::string>{}), f.value("tags", std::vector<std::string>{}),
                              f.value("rtol", 1e-7), f.value("atol", 0.0)});
      const json& recipe = f.value("recipe_sha256", json());
      out.recipes[out.fixtures.back().name] = recipe.is_string() ? recipe.get<std::string>() : "";
    }
    return out;
  }
  return make_error(ErrorKind::kEnvironment, "no environment of the matrix could start a worker, so there is nothing to run "
                    "(see the errors above)");
}

Fingerprints fingerprints(const EnvSessions& envs) {
  Fingerprints out;
  for (const auto& [name, s] : envs) out[name] = s.record.fingerprint;
  return out;
}

// What, beside the artifact and the consumer, decides a cell's outcome.
json load_policy(const ConsumeContext& ctx, const RunOptions& o) {
  return {{"wall_seconds", ctx.limits.wall_seconds}, {"cpu_seconds", ctx.limits.cpu_seconds},
          {"address_space_bytes", ctx.limits.address_space_bytes}, {"processes", ctx.limits.processes},
          {"sandbox", o.sandbox}, {"allow_unsafe", o.allow_unsafe}, {"recipes", !o.recipes.empty()}};
}

int jobs_of(const RunOptions& o) {
  if (o.jobs > 0) return o.jobs;
  return std::max(1u, std::thread::hardware_concurrency());
}

Status run_cells(RunState& st, const Selection& sel, const Shard& shard, const Listed& listed,
                 const ProvisionContext& provision) {
  SchedulerOptions so{jobs_of(st.options), st.options.out_dir + "/artifacts",
                      make_consume_context(st.matrix, st.options.out_dir + "/cells"), provision, nullptr};
  so.consume.allow_unsafe = st.options.allow_unsafe;
  if (!st.options.recipes.empty()) so.after_load = check::add_retrain_check;  // recipes only in such a run
  auto finished = st.store.finished_cell_ids(st.run.id);
  if (!finished) return finished.error();
  auto code = read_code_versions(st.options.source_root, sel.formats);
  if (!code) return code.error();
  CellPlan plan({st.matrix, st.store, st.run.id, *finished, fingerprints(st.envs), listed.recipes, *code,
                 load_policy(so.consume, st.options), st.options.rerun},
                st.summary, st.log);
  std::vector<ProduceJob> produce;
  std::vector<LoadJob> loads;
  plan.plan(sel, shard, produce, loads);
  st.log.detail("{} fixtures to produce, {} loads of artifacts earlier runs produced, {} jobs at once", produce.size(),
                loads.size(), so.jobs);
  run_scheduler(st.envs, std::move(produce), std::move(loads), so, plan, st.log);
  st.log.clear_status();
  return ok_status();
}

Result<RunRecord> open_run(Store& store, const RunOptions& o, const std::string& sha, RunLog& log) {
  if (o.resume) {
    auto prev = store.resumable_run(sha);
    if (!prev) return prev.error();
    if (*prev) {
      log.info("resuming run {} of {} (started {})", (*prev)->id, o.matrix_path, (*prev)->started_at);
      if (auto s = store.mark_run((*prev)->id, "running"); !s) return s.error();
      return **prev;
    }
    log.info("nothing to resume for {}: starting a new run", o.matrix_path);
  }
  return store.begin_run(o.matrix_path, sha, CROSSLOAD_VERSION);
}

Status write_reports(RunState& st) {
  auto data = load_run_data(st.store, st.run.id);
  if (!data) return data.error();
  st.summary.counts.clear();  // the stored run, so a resumed run counts what its first part found
  for (const auto& c : data->cells) st.summary.counts[c.outcome]++;
  auto written = write_reports(*data, st.options.reports, st.options.out_dir);
  if (!written) return written.error();
  st.summary.written.insert(st.summary.written.end(), written->begin(), written->end());
  return ok_status();
}


}  // namespace

Result<RunSummary> run_matrix(const RunOptions& given, RunLog& log) {
  RunOptions o = given;  // workers in other mount namespaces need absolute paths
  o.out_dir = fs::absolute(given.out_dir).lexically_normal().string();
  auto matrix = load_matrix(o.matrix_path);
  if (!matrix) return matrix.error();
  if (auto s = narrow_matrix(*matrix, o.narrow); !s) return s.error();
  auto shard = o.shard.empty() ? Result<Shard>(Shard{}) : parse_shard(o.shard);
  if (!shard) return shard.error();
  if (o.recipes.empty())  // a glob that matches nothing fails before anything is built; the
    if (auto zoo = list_zoo(o.source_root))  // environments' own listing decides again below
      if (auto sel = select(*matrix, *zoo); !sel) return sel.error();
  auto sha = sha256_file(o.matrix_path);
  if (!sha) return sha.error();
  if (!o.narrow.empty()) *sha += " " + o.narrow.describe();  // another slice is another run
  fs::create_directories(o.out_dir);
  auto store = Store::open(o.out_dir + "/results.db");
  if (!store) return store.error();
  if (auto s = store->lock_for_writing(); !s) return s.error();
  auto run = open_run(*store, o, *sha, log);
  if (!run) return run.error();
  RunState st{o, *matrix, *store, *run, {}, {}, log};
  st.summary.run_id = run->id;
  ProvisionContext ctx{o.source_root, o.out_dir, o.cache_dir, &log.echo()};
  auto recipes = check::stage_recipes(o.recipes, o.out_dir);
  if (!recipes) return recipes.error();
  if (!o.recipes.empty()) matrix->fixtures = recipes->fixtures, matrix->list_origin["fixtures"] = "--recipe";
  st.envs = start_environments(*matrix, ctx, o.sandbox, log, recipes->worker_env);
  for (const auto& [name, s] : st.envs)
    if (auto r = store->put_environment(run->id, s.record); !r) return r.error();
  auto fixtures = list_fixtures(st.envs);
  if (!fixtures) return fixtures.error();
  auto selection = select(*matrix, fixtures->fixtures);
  if (!selection) return selection.error();
  if (auto s = run_cells(st, *selection, *shard, *fixtures, ctx); !s) return s.error();
  if (auto s = store->mark_run(run->id, "finished"); !s) return s.error();
  if (auto s = write_reports(st); !s) return s.error();
  return st.summary;
}

}  // namespace crossload
