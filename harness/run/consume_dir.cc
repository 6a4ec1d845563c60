// `crossload consume`: the consumer half of `run`, from directories `crossload produce` wrote.
#include <fmt/format.h>

#include <filesystem>
#include <future>

#include "harness/audit/gate.h"
#include "harness/run/artifact_index.h"
#include "harness/run/consume.h"
#include "harness/run/split.h"
#include "harness/run/split_common.h"
#include "harness/store/store.h"
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
  c.log.info("[{}/{}] {:<15} {}{}", c.summary.cells + c.summary.bad_inputs.size(), c.total, to_string(cell.outcome),
             cell.id, extra.empty() ? "" : "  " + extra);
}

void consume_one(Consuming& c, Result<ArtifactRecord> artifact) {
  if (!artifact) return bad_input(c, artifact.error().message);
  if (auto st = c.store.put_artifact(c.run_id, *artifact); !st) return bad_input(c, st.error().message);
  auto cell = consume_cell(c.env, *artifact, c.context, c.log);
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

Status consume_all(Consuming& c, const std::vector<Input>& inputs) {
  if (auto st = record_environments(c, inputs); !st) return st;
  for (const auto& in : inputs) c.total += in.index.artifacts.size();
  std::vector<std::pair<const Input*, const IndexedArtifact*>> todo;
  for (const auto& in : inputs)
    for (const auto& a : in.index.artifacts) todo.emplace_back(&in, &a);
  auto prepare = [&c](std::pair<const Input*, const IndexedArtifact*> next) {
    return std::async(std::launch::async, [&c, next] { return bring_in(*next.first, *next.second, c.options.out_dir, c.brought); });
  };
  Stopwatch clock;
  // The next artifact is copied, hashed and audited on another thread while the worker loads
  // this one: the harness's own per-cell file work stays off the emulated cell's path. One
  // preparation at a time, so `brought` has one user; cells are still stored one by one, in order.
  std::future<Result<ArtifactRecord>> next;
  for (std::size_t i = 0; i < todo.size(); ++i) {
    auto artifact = next.valid() ? next.get() : bring_in(*todo[i].first, *todo[i].second, c.options.out_dir, c.brought);
    // Never ahead when the next artifact would overwrite a file this cell loads (two --in
    // directories of one producer): then it is brought after this cell, as before.
    if (i + 1 < todo.size() && !overwrites(c, *todo[i + 1].second)) next = prepare(todo[i + 1]);
    consume_one(c, std::move(artifact));
  }
  c.summary.loading_seconds = clock.seconds();
  if (auto st = c.store.mark_run(c.run_id, "finished"); !st) return st;
  return write_reports(c);
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
  if (!envs.at(o.env).can_load())  // as `run` and `produce` when no environment can start: exit 4
    return make_error(ErrorKind::kEnvironment, fmt::format("environment {} unavailable, nothing loaded: {}", o.env,
                                                           envs.at(o.env).record.reason));
  auto run = store->begin_run(o.matrix_path, role->sha256, CROSSLOAD_VERSION);
  if (!run) return run.error();
  Consuming c{o, *role, *store, run->id, envs.at(o.env), {}, make_consume_context(role->matrix, o.out_dir + "/cells"),
              {}, 0, log};
  c.context.allow_unsafe = o.allow_unsafe;
  c.context.isolation = o.isolation;
  c.summary.run_id = run->id;
  if (auto st = consume_all(c, *inputs); !st) return st.error();
  return c.summary;
}

}  // namespace crossload
