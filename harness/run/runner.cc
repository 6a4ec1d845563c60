#include "harness/run/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <set>
#include <thread>

#include "harness/recipes/recipes.h"
#include "harness/recipes/retrain.h"
#include "harness/run/cell_plan.h"
#include "harness/run/consume.h"
#include "harness/core/environments.h"
#include "harness/run/known_envs.h"
#include "harness/core/matrix.h"
#include "harness/run/narrow.h"
#include "harness/run/plan.h"
#include "harness/run/produce.h"
#include "harness/run/reuse.h"
#include "harness/run/scheduler.h"
#include "harness/run/second_opinion.h"
#include "harness/run/shard.h"
#include "harness/run/split_common.h"
#include "harness/store/store.h"
#include "harness/util/interrupt.h"
#include "harness/util/sha256.h"
#include "reports/stored_reports.h"

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
  const ProvisionContext* provision = nullptr;
  std::optional<KnownEnvs> known{};  // fingerprints and fixture list of earlier runs (known_envs.h)
};

// Starts the workers not started yet, keeps their fingerprints for later runs and records the
// environments in the store.
Status start_workers(RunState& st) {
  std::map<std::string, json> before;  // identities as the workers start: a change meanwhile is one next time
  for (const auto& [name, s] : st.envs)
    if (st.known && s.pending) before[name] = st.known->identity(s.provisioned);
  if (!start_pending(st.envs, *st.provision, st.options.sandbox, st.log, st.options.max_workers > 0))
    return ok_status();
  for (const auto& [name, s] : st.envs) {
    if (before.count(name) && s.record.status == "ok")
      st.known->keep_fingerprint(s.spec, s.provisioned, s.record.fingerprint, before[name]);
    if (auto r = st.store.put_environment(st.run.id, s.record); !r) return r.error();
  }
  return ok_status();
}

// The `list` op's answer, from a worker or known from an earlier run (harness/core/protocol.h).
using Listed = ListAnswer;

// The `list` op's answer from the first environment whose worker answers it; a parked producer
// (run --max-workers) starts its worker for it, which the scheduler then counts as running.
Result<Listed> list_fixtures(EnvSessions& envs, const ProvisionContext& ctx) {
  for (auto& [name, s] : envs) {
    if (s.record.status == "ok" && s.produces && !s.worker) (void)start_producer(s, ctx);
    if (!s.available()) continue;
    auto r = ask(*s.worker, list_request(), std::chrono::seconds(120));
    if (r.result) return std::move(*r.result);
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

ConsumeContext consume_context(const RunState& st) {
  ConsumeContext c = make_consume_context(st.matrix, st.options.out_dir + "/cells");
  c.allow_unsafe = st.options.allow_unsafe;
  c.isolation = st.options.isolation;
  return c;
}

Status run_cells(RunState& st, const Selection& sel, const Shard& shard, const Listed& listed,
                 const ProvisionContext& provision) {
  SchedulerOptions so{jobs_of(st.options), st.options.out_dir + "/artifacts", consume_context(st), provision,
                      st.options.max_workers, nullptr};
  if (!st.options.recipes.empty()) so.after_load = recipes::add_retrain_check;  // recipes only in such a run
  auto finished = st.store.finished_cell_ids(st.run.id);
  if (!finished) return finished.error();
  auto code = read_code_versions(st.options.source_root, sel.formats);
  if (!code) return code.error();
  CellPlan plan({st.matrix, st.store, st.run.id, *finished, fingerprints(st.envs), listed.recipes, *code,
                 load_policy(so.consume, st.options), st.options.rerun},
                st.summary, st.log);
  std::vector<ProduceJob> produce;
  std::vector<LoadJob> loads;
  {
    auto batch = st.store.batch("record the cells reused from earlier runs");
    if (!batch) return batch.error();
    plan.plan(sel, shard, produce, loads);
    if (auto s = batch->commit(); !s) return s.error();
  }
  if (produce.empty() && loads.empty()) {
    bool started = std::any_of(st.envs.begin(), st.envs.end(), [](const auto& e) { return e.second.worker || e.second.loader; });
    st.log.detail("{}", started ? "every cell reused" : "every cell reused: no worker started");
    return ok_status();
  }
  if (st.options.max_workers > 0) park_pending(st.envs, provision, st.options.sandbox);  // the scheduler starts them
  else if (auto s = start_workers(st); !s) return s.error();
  st.log.detail("{} fixtures to produce, {} loads of artifacts earlier runs produced, {} jobs at once", produce.size(),
                loads.size(), so.jobs);
  run_scheduler(st.envs, std::move(produce), std::move(loads), so, plan, st.log);
  st.log.clear_status();
  return ok_status();
}

// hash_python_files over `dir` and each folder below it, in path order.
Result<std::string> hash_tree(const fs::path& dir) {
  auto top = hash_python_files(dir);
  if (!top) return top.error();
  std::string all = *top + "\n";
  std::vector<fs::path> subdirs;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory() && it->path().filename() != "__pycache__") subdirs.push_back(it->path());
  std::sort(subdirs.begin(), subdirs.end());
  for (const auto& d : subdirs) {
    auto h = hash_python_files(d);
    if (!h) return h.error();
    all += d.lexically_relative(dir).string() + " " + *h + "\n";
  }
  return sha256_text(all);
}

// The zoo's fixtures for the early check of the matrix's globs: the fixture list an earlier run
// kept (known_envs.h) when there is one, else a python3 worker's (a Python start, through a pyenv
// shim here: a few hundred ms of every no-op rerun).
Result<std::vector<FixtureInfo>> zoo_for_check(const RunOptions& o) {
  auto worker_code = hash_python_files(fs::path(o.source_root) / "harness" / "worker");
  auto fixtures_code = hash_tree(fs::path(o.source_root) / "fixtures");
  if (worker_code && fixtures_code && !std::getenv("CROSSLOAD_EXTRA_FIXTURES") && !std::getenv("CROSSLOAD_RECIPES")) {
    KnownEnvs known(o.cache_dir, std::string(CROSSLOAD_VERSION) + " " + *worker_code, o.sandbox);
    if (auto listing = known.listing(*fixtures_code))
      if (auto answer = ListAnswer::from_json(*listing)) return answer->fixtures;
  }
  return list_zoo(o.source_root);
}

// The fixture list, and every environment's fingerprint, from earlier runs when all are known
// (known_envs.h) and the run may skip the workers (no --rerun: it would compute every cell; no
// user recipes or extra fixtures: their list depends on files outside the tree); otherwise the
// workers start now and tell.
Result<Listed> known_or_listed(RunState& st, bool plain_fixtures) {
  const RunOptions& o = st.options;
  auto worker_code = hash_python_files(fs::path(o.source_root) / "harness" / "worker");
  auto fixtures_code = hash_tree(fs::path(o.source_root) / "fixtures");
  plain_fixtures = plain_fixtures && !std::getenv("CROSSLOAD_EXTRA_FIXTURES") && !std::getenv("CROSSLOAD_RECIPES");
  if (worker_code && fixtures_code) st.known.emplace(o.cache_dir, std::string(CROSSLOAD_VERSION) + " " + *worker_code, o.sandbox);
  std::optional<json> listing;
  if (st.known && plain_fixtures && !o.rerun) {
    listing = st.known->listing(*fixtures_code);
    if (!listing) st.log.detail("the fixture list is not known from an earlier run: the workers start");
  }
  std::map<std::string, json> fingerprints;
  for (const auto& [name, s] : st.envs) {
    if (!listing || !s.pending) continue;
    auto fp = st.known->fingerprint(s.spec, s.provisioned);
    if (fp) {
      fingerprints[name] = *fp;
      continue;
    }
    st.log.detail("{}: its workers start: {}", name, fp.error().message);
    listing.reset();  // one unknown environment: the workers start anyway
  }
  if (listing) {
    for (auto& [name, s] : st.envs)
      if (s.pending) adopt_fingerprint(s, fingerprints[name], o.sandbox);
    st.log.detail("fingerprints and fixture list known from earlier runs: workers start only if a cell needs them");
    return ListAnswer::from_json(*listing);
  }
  if (auto s = start_workers(st); !s) return s.error();
  auto listed = list_fixtures(st.envs, *st.provision);
  if (!listed) return listed.error();
  if (st.known && plain_fixtures) st.known->keep_listing(*fixtures_code, listed->raw);
  return listed;
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

// The reports from the store, one pass over its cells (the run is never read whole for them).
Status write_reports(RunState& st) {
  st.summary.counts.clear();  // the stored run, so a resumed run counts what its first part found
  auto counted = st.store.for_each_cell(
      st.run.id, [&](const CellRecord& c) { return st.summary.counts[c.outcome]++, ok_status(); }, CellDetail::kSkipped);
  if (!counted) return counted;
  auto written = write_stored_reports(st.store, st.run.id, st.options.reports, st.options.out_dir);
  if (!written) return written.error();
  st.summary.written.insert(st.summary.written.end(), written->begin(), written->end());
  return ok_status();
}


// SIGINT or SIGTERM stopped the run (harness/util/interrupt.h): every cell stored so far stays,
// the run is marked interrupted (a rerun reuses its cells, --resume continues it), and no report
// is written, since a report describes the whole matrix.
Error interrupted_run(RunState& st) {
  std::string store = st.options.out_dir + "/results.db";
  auto kept = st.store.finished_cell_ids(st.run.id);
  if (auto s = st.store.mark_run(st.run.id, "interrupted"); !s) return s.error();
  return make_error(ErrorKind::kInterrupted,
                    fmt::format("interrupted by {}: {} cells kept in {}; rerun the same command to continue",
                                interrupt_signal_name(), kept ? kept->size() : 0, store));
}

// The run once its record exists: environments, cells, second opinions, reports.
Status run_opened(RunState& st, Matrix& matrix, const Shard& shard) {
  const RunOptions& o = st.options;
  ProvisionContext ctx{o.source_root, o.out_dir, o.cache_dir, &st.log.echo()};
  ctx.qemu = o.qemu;
  auto recipes = recipes::stage_recipes(o.recipes, o.out_dir);
  if (!recipes) return recipes.error();
  if (!o.recipes.empty()) matrix.fixtures = recipes->fixtures, matrix.list_origin["fixtures"] = "--recipe";
  st.provision = &ctx;
  st.envs = provision_environments(matrix, ctx, st.log, recipes->worker_env);
  if (interrupted()) return ok_status();
  auto fixtures = known_or_listed(st, recipes->worker_env.empty());
  if (!fixtures) return fixtures.error();
  for (const auto& [name, s] : st.envs)
    if (auto r = st.store.put_environment(st.run.id, s.record); !r) return r.error();
  auto selection = select(matrix, fixtures->fixtures);
  if (!selection) return selection.error();
  if (auto s = run_cells(st, *selection, shard, *fixtures, ctx); !s) return s.error();
  if (interrupted()) return ok_status();
  if (o.second_opinion && st.summary.reused < st.summary.cells + st.summary.skipped)  // copies have theirs
    if (auto s = give_second_opinions(st.store, st.run.id, st.envs, consume_context(st), ctx, st.log); !s) return s.error();
  if (interrupted()) return ok_status();
  if (auto s = st.store.mark_run(st.run.id, "finished"); !s) return s.error();
  return write_reports(st);
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
    if (auto zoo = zoo_for_check(o))  // environments' own listing decides again below
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
  auto done = run_opened(st, *matrix, *shard);
  st.envs.clear();  // every worker stops (and its children with it) before the run's end is told
  if (interrupted()) return interrupted_run(st);  // whatever failed meanwhile failed because of it
  if (!done) return done.error();
  return st.summary;
}

}  // namespace crossload
