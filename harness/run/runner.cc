#include "harness/run/runner.h"

#include <fmt/format.h>

#include <filesystem>
#include <future>
#include <set>

#include "harness/run/consume.h"
#include "harness/run/environments.h"
#include "harness/run/matrix.h"
#include "harness/run/plan.h"
#include "harness/run/produce.h"
#include "harness/run/shard.h"
#include "harness/sandbox/sandbox.h"
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
  std::set<std::string> finished;
  RunSummary summary;
  std::size_t total = 0;
  RunLog& log;
};

Result<std::vector<FixtureInfo>> list_fixtures(EnvSessions& envs) {
  for (auto& [name, s] : envs) {
    if (!s.available()) continue;
    auto r = s.worker->request({{"op", "list"}}, std::chrono::seconds(120));
    if (!r.ok() || !r.answer.value("ok", false)) continue;
    std::vector<FixtureInfo> out;
    for (const auto& f : r.answer["result"]["fixtures"]) {
      out.push_back({f.value("name", ""), f.value("description", ""),
                     f.value("outputs", std::vector<std::string>{}), f.value("tags", std::vector<std::string>{}),
                     f.value("rtol", 1e-7), f.value("atol", 0.0)});
    }
    return out;
  }
  return make_error("no environment of the matrix could start a worker, so there is nothing to run "
                    "(see the errors above)");
}

Fingerprints fingerprints(const EnvSessions& envs) {
  Fingerprints out;
  for (const auto& [name, s] : envs) out[name] = s.record.fingerprint;
  return out;
}

void record_cell(RunState& st, CellRecord c) {
  apply_expectations(st.matrix.expectations, fingerprints(st.envs), c);
  if (auto s = st.store.put_cell(st.run.id, c); !s) {
    st.log.error("{}", s.error().message);
    return;
  }
  st.summary.counts[c.outcome]++;
  st.summary.cells++;
  std::string extra;
  if (c.detail.contains("summary")) extra = c.detail["summary"].get<std::string>();
  else if (c.detail.contains("message")) extra = c.detail["message"].get<std::string>();
  if (extra.size() > 120) extra = extra.substr(0, 117) + "...";
  st.log.info("[{}/{}] {:<15} {}{}", st.summary.cells + st.summary.skipped, st.total, to_string(c.outcome), c.id,
              extra.empty() ? "" : "  " + extra);
}

// Each consumer has its own worker, so one artifact loads in every consumer at once: the
// run then takes as long as its slowest (emulated) consumer, not the sum of them all.
void consume_artifact(RunState& st, const ArtifactRecord& a, const ConsumeContext& ctx) {
  std::vector<std::pair<std::string, std::future<Result<CellRecord>>>> pending;
  for (const auto& consumer : st.matrix.consumers) {
    if (st.finished.count(cell_id(a.fixture, a.format, a.producer, consumer))) {
      st.summary.skipped++;
      continue;
    }
    EnvSession& env = st.envs.at(consumer);
    pending.emplace_back(consumer, std::async(std::launch::async, [&st, &env, &a, &ctx] {
                           return consume_cell(env, a, ctx, st.log);
                         }));
  }
  for (auto& [consumer, future] : pending) {
    auto cell = future.get();
    EnvSession& env = st.envs.at(consumer);
    // Here, not in the pool thread: a worker's sandbox dies with the thread that started it.
    if (env.loader && !env.loader->running() && env.record.status == "ok") env.revive_loader(st.log);
    if (!cell) {
      st.log.error("{}", cell.error().message);
      st.summary.bad_inputs.push_back(cell.error().message);
      continue;
    }
    record_cell(st, *cell);
  }
}

bool fixture_done(const RunState& st, const std::string& producer, const FixtureInfo& f,
                  const std::vector<std::string>& formats) {
  for (const auto& fmt_name : formats)
    for (const auto& consumer : st.matrix.consumers)
      if (!st.finished.count(cell_id(f.name, fmt_name, producer, consumer))) return false;
  return true;
}

void produce_and_consume(RunState& st, const Selection& sel, const Shard& shard) {
  ConsumeContext ctx = make_consume_context(st.matrix, st.options.out_dir + "/cells");
  ctx.allow_unsafe = st.options.allow_unsafe;
  std::size_t pairs = sel.fixtures.size() * st.matrix.producers.size(), pair = 0;
  st.total = (pairs / shard.count + (pairs % shard.count >= static_cast<std::size_t>(shard.index))) *
             sel.formats.size() * st.matrix.consumers.size();
  for (const auto& producer : st.matrix.producers) {
    for (const auto& fixture : sel.fixtures) {
      if (!shard.holds(pair++)) continue;
      if (fixture_done(st, producer, fixture, sel.formats)) {
        st.summary.skipped += sel.formats.size() * st.matrix.consumers.size();
        continue;
      }
      auto artifacts = produce_fixture(st.envs.at(producer), fixture, sel.formats,
                                       st.options.out_dir + "/artifacts", st.log);
      for (const auto& a : artifacts) {
        if (auto s = st.store.put_artifact(st.run.id, a); !s) st.log.error("{}", s.error().message);
        consume_artifact(st, a, ctx);
      }
    }
  }
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
  for (const auto& name : st.options.reports) {
    auto reporter = find_reporter(name);
    if (!reporter) return make_error(fmt::format("unknown report format '{}'", name));
    std::string path = st.options.out_dir + "/" + std::string(reporter->default_file());
    if (auto s = write_report(*reporter, *data, path); !s) return s;
    st.summary.written.push_back(path);
  }
  return ok_status();
}

// Loads run sandboxed, or unsandboxed because the user said so; never silently either way.
Status check_sandbox(const RunOptions& o, RunLog& log) {
  if (!o.sandbox) {  // shown even with --quiet
    log.stream() << "warning: --no-sandbox: artifacts load WITHOUT the sandbox: with network access, and able "
                    "to write wherever the worker's user can. Use it only for artifacts you trust.\n";
    return ok_status();
  }
  if (auto st = probe_sandbox(nullptr); !st)
    return make_error("the consumer sandbox does not work on this machine: " + st.error().message +
                      ". Install or fix bubblewrap, or pass --no-sandbox to load artifacts unsandboxed "
                      "(only for artifacts you trust)");
  log.info("loads run sandboxed: bwrap, no network, own PID namespace, run directory read-only but cells/, "
           "private /tmp (docs/isolation.md)");
  return ok_status();
}

}  // namespace

Result<RunSummary> run_matrix(const RunOptions& given, RunLog& log) {
  RunOptions o = given;  // workers in other mount namespaces need absolute paths
  o.out_dir = fs::absolute(given.out_dir).lexically_normal().string();
  auto matrix = load_matrix(o.matrix_path);
  if (!matrix) return matrix.error();
  auto shard = o.shard.empty() ? Result<Shard>(Shard{}) : parse_shard(o.shard);
  if (!shard) return shard.error();
  auto sha = sha256_file(o.matrix_path);
  if (!sha) return sha.error();
  fs::create_directories(o.out_dir);
  auto store = Store::open(o.out_dir + "/results.db");
  if (!store) return store.error();
  if (auto s = store->lock_for_writing(); !s) return s.error();
  auto run = open_run(*store, o, *sha, log);
  if (!run) return run.error();
  RunState st{o, *matrix, *store, *run, {}, {}, {}, 0, log};
  st.summary.run_id = run->id;
  auto finished = store->finished_cell_ids(run->id);
  if (!finished) return finished.error();
  st.finished = *finished;
  ProvisionContext ctx{o.source_root, o.out_dir, o.cache_dir, &log.stream()};
  if (auto s = check_sandbox(o, log); !s) return s.error();
  st.envs = start_environments(*matrix, ctx, o.sandbox, log);
  for (const auto& [name, s] : st.envs)
    if (auto r = store->put_environment(run->id, s.record); !r) return r.error();
  auto fixtures = list_fixtures(st.envs);
  if (!fixtures) return fixtures.error();
  auto selection = select(*matrix, *fixtures);
  if (!selection) return selection.error();
  produce_and_consume(st, *selection, *shard);
  if (auto s = store->mark_run(run->id, "finished"); !s) return s.error();
  if (auto s = write_reports(st); !s) return s.error();
  return st.summary;
}

}  // namespace crossload
