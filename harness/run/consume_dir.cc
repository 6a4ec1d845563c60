// `crossload consume`: the consumer half of `run`, from directories `crossload produce` wrote.
#include <fmt/format.h>

#include <filesystem>
#include <future>

#include "harness/audit/gate.h"
#include "harness/run/artifact_index.h"
#include "harness/run/consume.h"
#include "harness/run/reuse.h"
#include "harness/run/split.h"
#include "harness/run/split_common.h"
#include "harness/store/store.h"
#include "harness/util/interrupt.h"
#include "harness/util/sha256.h"
#include "reports/stored_reports.h"

namespace crossload {

namespace fs = std::filesystem;

namespace {

struct Input {
  std::string dir;
  ArtifactIndex index;
};

struct Consuming {
  const ConsumeOptions& options;
  const RoleMatrix& role;
  Store& store;
  int64_t run_id;
  EnvSession& env;
  Fingerprints fingerprints;
  ConsumeContext context;
  ConsumeSummary summary;
  std::size_t total = 0;
  RunLog& log;
  // Continuing an interrupted consume: its cells by id, with the sha256 of the artifact each loaded.
  std::map<std::string, std::string> kept{};
  // Files already copied and verified in this run (destination -> sha256): the inputs and
  // every reference a fixture's formats share are brought once, not once per format, so their
  // modification time stays and the worker keeps the inputs it read (session.py).
  std::map<std::string, std::string> brought{};
};

// Every index is read before anything starts: a bad one is an error before a single cell.
Result<std::vector<Input>> read_inputs(const ConsumeOptions& o, const RoleMatrix& role, RunLog& log) {
  std::vector<Input> out;
  for (const auto& dir : o.in_dirs) {
    auto index = read_index(dir);
    if (!index) return index.error();
    if (index->matrix_sha256 != role.sha256)
      log.info("note: {} was produced from another matrix file ({}) than {}: its cells are recorded all the same",
               dir, index->matrix_path, o.matrix_path);
    out.push_back({fs::absolute(dir).lexically_normal().string(), std::move(*index)});
  }
  return out;
}

// Copies one file of a produced directory into the output directory (which the sandbox shows the
// consumer) and checks the copy against the index: what is loaded is what was produced.
Status bring_file(const Input& in, const std::string& rel, const std::string& sha, const std::string& out_dir,
                  std::map<std::string, std::string>& brought) {
  fs::path from = fs::path(in.dir) / rel, to = fs::path(out_dir) / rel;
  if (auto it = brought.find(to.string()); it != brought.end() && it->second == sha) return ok_status();
  std::string index = (fs::path(in.dir) / kArtifactIndexFile).string();
  std::error_code ec;
  if (!fs::is_regular_file(from, ec))
    return make_error(fmt::format("{}: missing (listed in {})", from.string(), index));
  bool in_place = fs::exists(to, ec) && fs::equivalent(from, to, ec);  // --in DIR --out DIR
  fs::create_directories(to.parent_path(), ec);
  if (!in_place && !fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec))
    return make_error(fmt::format("{}: cannot copy to {}: {}", from.string(), to.string(), ec.message()));
  auto got = sha256_file(to.string());
  if (!got) return got.error();
  if (*got != sha)
    return make_error(fmt::format("{}: corrupt: sha256 {} does not match {} recorded in {}", from.string(), *got, sha,
                                  index));
  brought[to.string()] = sha;
  return ok_status();
}

// The artifact as the output directory holds it, its files copied and verified.
Result<ArtifactRecord> bring_in(const Input& in, const IndexedArtifact& a, const std::string& out_dir,
                                std::map<std::string, std::string>& brought) {
  for (const auto& [rel, sha] : a.files)
    if (auto st = bring_file(in, rel, sha, out_dir, brought); !st) return st.error();
  ArtifactRecord r = a.record;
  if (!r.path.empty()) r.path = (fs::path(out_dir) / r.path).string();
  // The producer's verdict travelled with the files: judge the copy here instead of trusting it.
  if (r.status == "ok") r.manifest["audit"] = audit::audit_for_manifest(r.path, audit::Policy());
  return r;
}

// Whether bringing `a` in would overwrite a file brought earlier with other contents.
bool overwrites(const Consuming& c, const IndexedArtifact& a) {
  for (const auto& [rel, sha] : a.files) {
    auto it = c.brought.find((fs::path(c.options.out_dir) / rel).string());
    if (it != c.brought.end() && it->second != sha) return true;
  }
  return false;
}

void bad_input(Consuming& c, const std::string& message) {
  c.log.error("{}", message);
  c.summary.bad_inputs.push_back(message);
}

void record_cell(Consuming& c, CellRecord cell) {
  apply_expectations(c.role.matrix.expectations, c.fingerprints, cell);
  if (auto st = c.store.put_cell(c.run_id, cell); !st) return bad_input(c, st.error().message);
  c.summary.counts[cell.outcome]++;
  c.summary.cells++;
  std::string extra;
  if (cell.detail.contains("summary")) extra = cell.detail["summary"].get<std::string>();
  else if (cell.detail.contains("message")) extra = cell.detail["message"].get<std::string>();
  if (extra.size() > 120) extra = extra.substr(0, 117) + "...";
  c.log.info("[{}/{}] {:<15} {}{}", c.summary.kept + c.summary.cells + c.summary.bad_inputs.size(), c.total,
             to_string(cell.outcome), cell.id, extra.empty() ? "" : "  " + extra);
}

// A cell the interrupted run this one continues already holds, of the very artifact it would load.
bool already_kept(Consuming& c, const ArtifactRecord& a) {
  auto found = c.kept.find(cell_id(a.fixture, a.format, a.producer, c.env.spec.name));
  if (found == c.kept.end() || found->second != a.sha256) return false;
  c.summary.kept++;
  c.log.detail("  kept from the interrupted run: {}", found->first);
  return true;
}

void consume_one(Consuming& c, Result<ArtifactRecord> artifact) {
  if (!artifact) return bad_input(c, artifact.error().message);
  if (auto st = c.store.put_artifact(c.run_id, *artifact); !st) return bad_input(c, st.error().message);
  auto cell = consume_cell(c.env, *artifact, c.context, c.log);
  if (interrupted()) return;  // the load was cut short: no cell (not a CRASH), the rerun loads it
  // A worker killed by the cell comes back for the next one (here, on the thread that started it).
  if (c.env.loader && !c.env.loader->running() && c.env.record.status == "ok") c.env.revive_loader(c.log);
  if (!cell) return bad_input(c, cell.error().message);
  record_cell(c, *cell);
}

Status record_environments(Consuming& c, const std::vector<Input>& inputs) {
  for (const auto& in : inputs) {
    c.fingerprints[in.index.producer.name] = in.index.producer.fingerprint;
    if (auto st = c.store.put_environment(c.run_id, in.index.producer); !st) return st;
  }
  c.fingerprints[c.env.spec.name] = c.env.record.fingerprint;
  return c.store.put_environment(c.run_id, c.env.record);
}

Status write_reports(Consuming& c) {
  auto written = write_stored_reports(c.store, c.run_id, c.options.reports, c.options.out_dir);
  if (!written) return written.error();
  c.summary.written.insert(c.summary.written.end(), written->begin(), written->end());
  return ok_status();
}

// The run's outcomes as the store holds them: a continued run counts the cells it kept too.
Status count_stored(Consuming& c) {
  c.summary.counts.clear();
  c.summary.cells = 0;
  return c.store.for_each_cell(
      c.run_id, [&](const CellRecord& cell) { return c.summary.counts[cell.outcome]++, c.summary.cells++, ok_status(); },
      CellDetail::kSkipped);
}

// SIGINT or SIGTERM stopped the loads (harness/util/interrupt.h): as `run`, the stored cells stay,
// the run is marked interrupted, no report is written, and the same command continues the run.
Error interrupted_consume(Consuming& c) {
  auto kept = c.store.finished_cell_ids(c.run_id);
  if (auto st = c.store.mark_run(c.run_id, "interrupted"); !st) return st.error();
  return make_error(ErrorKind::kInterrupted,
                    fmt::format("interrupted by {}: {} cells kept in {}; rerun the same command to continue",
                                interrupt_signal_name(), kept ? kept->size() : 0, c.store.path()));
}

Status consume_all(Consuming& c, const std::vector<Input>& inputs) {
  if (auto st = record_environments(c, inputs); !st) return st;
  for (const auto& in : inputs) c.total += in.index.artifacts.size();
  std::vector<std::pair<const Input*, const IndexedArtifact*>> todo;
  for (const auto& in : inputs)
    for (const auto& a : in.index.artifacts)
      if (!already_kept(c, a.record)) todo.emplace_back(&in, &a);
  auto prepare = [&c](std::pair<const Input*, const IndexedArtifact*> next) {
    return std::async(std::launch::async, [&c, next] { return bring_in(*next.first, *next.second, c.options.out_dir, c.brought); });
  };
  Stopwatch clock;
  // The next artifact is copied, hashed and audited on another thread while the worker loads
  // this one: the harness's own per-cell file work stays off the emulated cell's path. One
  // preparation at a time, so `brought` has one user; cells are still stored one by one, in order.
  std::future<Result<ArtifactRecord>> next;
  for (std::size_t i = 0; i < todo.size() && !interrupted(); ++i) {
    auto artifact = next.valid() ? next.get() : bring_in(*todo[i].first, *todo[i].second, c.options.out_dir, c.brought);
    // Never ahead when the next artifact would overwrite a file this cell loads (two --in
    // directories of one producer): then it is brought after this cell, as before.
    if (i + 1 < todo.size() && !overwrites(c, *todo[i + 1].second)) next = prepare(todo[i + 1]);
    consume_one(c, std::move(artifact));
  }
  c.summary.loading_seconds = clock.seconds();
  if (interrupted()) return interrupted_consume(c);
  if (auto st = c.store.mark_run(c.run_id, "finished"); !st) return st;
  if (auto st = count_stored(c); !st) return st;
  return write_reports(c);
}

// The latest run of this matrix in the store, when it is unfinished (an interrupted consume) and
// consumed in this environment as it is now: its cells stay and are not loaded again. Otherwise
// nothing, and a new run begins.
Result<std::optional<RunRecord>> run_to_continue(Store& store, const RoleMatrix& role, const EnvSession& env) {
  auto prev = store.resumable_run(role.sha256);
  if (!prev || !*prev) return prev;
  auto envs = store.environments((*prev)->id);
  if (!envs) return envs.error();
  std::string now = consumer_dump(env.record.fingerprint);  // canonical: BLAS libraries in any order
  for (const auto& e : *envs)
    if (e.name == env.spec.name && !now.empty() && consumer_dump(e.fingerprint) == now) return prev;
  return std::optional<RunRecord>();
}

Result<RunRecord> open_consume_run(Consuming& c, Store& store, const RoleMatrix& role, const std::string& matrix_path) {
  auto prev = run_to_continue(store, role, c.env);
  if (!prev) return prev.error();
  if (!*prev) return store.begin_run(matrix_path, role.sha256, CROSSLOAD_VERSION);
  const RunRecord& run = **prev;
  auto artifacts = store.artifacts(run.id);
  if (!artifacts) return artifacts.error();
  auto ids = store.finished_cell_ids(run.id);
  if (!ids) return ids.error();
  for (const auto& a : *artifacts) {
    std::string id = cell_id(a.fixture, a.format, a.producer, c.env.spec.name);
    if (ids->count(id)) c.kept[id] = a.sha256;
  }
  c.log.info("continuing run {} of {} (started {}, {}): its {} cells are kept", run.id, matrix_path, run.started_at,
             run.status, c.kept.size());
  if (auto st = store.mark_run(run.id, "running"); !st) return st.error();
  return run;
}

}  // namespace

Result<ConsumeSummary> consume_from_dirs(const ConsumeOptions& given, RunLog& log) {
  ConsumeOptions o = given;  // workers in other mount namespaces need absolute paths
  o.out_dir = fs::absolute(given.out_dir).lexically_normal().string();
  auto role = load_role_matrix(o.matrix_path, o.env, SplitRole::kConsumer);
  if (!role) return role.error();
  auto inputs = read_inputs(o, *role, log);
  if (!inputs) return inputs.error();
  fs::create_directories(o.out_dir);
  auto store = Store::open(o.out_dir + "/results.db");
  if (!store) return store.error();
  if (auto st = store->lock_for_writing(); !st) return st.error();
  ProvisionContext ctx{o.source_root, o.out_dir, o.cache_dir, &log.stream()};
  EnvSessions envs = start_environments(role->matrix, ctx, o.sandbox, log);
  if (interrupted()) return interrupted_before_starting("consume", store->path());
  if (!envs.at(o.env).can_load())  // as `run` and `produce` when no environment can start: exit 4
    return make_error(ErrorKind::kEnvironment, fmt::format("environment {} unavailable, nothing loaded: {}", o.env,
                                                           envs.at(o.env).record.reason));
  Consuming c{o, *role, *store, 0, envs.at(o.env), {}, make_consume_context(role->matrix, o.out_dir + "/cells"),
              {}, 0, log};
  auto run = open_consume_run(c, *store, *role, o.matrix_path);
  if (!run) return run.error();
  c.run_id = run->id;
  c.context.allow_unsafe = o.allow_unsafe;
  c.context.isolation = o.isolation;
  c.summary.run_id = run->id;
  auto done = consume_all(c, *inputs);
  envs.clear();  // every worker stops (and its children with it) before the end is told
  if (!done) return done.error();
  return c.summary;
}

}  // namespace crossload
