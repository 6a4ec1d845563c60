#include "harness/check/check.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <future>

#include "harness/audit/inspect.h"
#include "harness/check/detect.h"
#include "harness/check/loads.h"
#include "harness/core/invariants.h"
#include "harness/recipes/recipes.h"
#include "harness/check/rebuild.h"
#include "harness/check/reference.h"
#include "harness/recipes/retrain.h"
#include "harness/compare/npy.h"
#include "harness/core/loading.h"
#include "harness/core/environments.h"
#include "harness/core/matrix.h"
#include "harness/sandbox/sandbox.h"
#include "harness/util/exit_codes.h"
#include "harness/util/interrupt.h"
#include "reports/explain.h"

namespace crossload::check {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// What one check holds while it works; passed down, never global.
struct CheckState {
  const CheckOptions& o;
  RunLog& log;
  CheckReport report;
  RecordedStack recorded;  // the audit's reading of the stack that wrote the artifact
  std::string staged_artifact, inputs_npy, cells;
  EnvSessions envs;
  ReferenceOrder order;
  LoadRequest request;
  std::map<std::string, std::string> references;  // output -> .npy
};

Status must_exist(const std::string& path, const char* what) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return make_error(fmt::format("{}: no such file ({})", path, what));
  return ok_status();
}

Status audit_artifact(CheckState& st) {
  auto rec = audit::inspect_file(st.o.artifact, audit::Policy());
  if (!rec)
    return make_error(fmt::format("{}: not a readable model artifact: {}", st.o.artifact, rec.error().message));
  st.report.verdict = std::string(audit::verdict_name(rec->verdict));
  st.report.recorded_versions = rec->versions;
  st.recorded = recorded_stack(*rec);
  st.report.recorded_numpy_major = st.recorded.numpy_major;
  if (rec->verdict == audit::Verdict::kUnsafe) {
    std::string why = rec->findings.empty() ? "" : rec->findings.front().reason;
    for (const auto& f : rec->findings)
      if (f.severity == audit::Severity::kError) { why = f.reason; break; }
    if (!st.o.allow_unsafe)
      return make_error(fmt::format("{}: refused: the static audit judged it UNSAFE ({}); loading it could run "
                                    "code. See `crossload inspect {}`; pass --allow-unsafe to load it anyway, "
                                    "inside the sandbox only", st.o.artifact, why, st.o.artifact));
    st.report.audit_finding = why;
    st.log.info("warning: {} is UNSAFE ({}): loading it anyway (--allow-unsafe), sandboxed", st.o.artifact, why);
  }
  auto variant = load_variant(st.o.artifact, st.o.format, rec->format, rec->protocol);
  if (!variant) return variant.error();
  st.report.variant = *variant;
  return ok_status();
}

// The artifact and inputs are copied into the run directory: the one place every environment
// (a sandbox with a private /tmp, a Debian rootfs) sees at the same path.
Result<std::string> stage(const std::string& path, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::path to = dir / fs::path(path).filename();
  fs::copy_file(path, to, fs::copy_options::overwrite_existing, ec);
  if (ec) return make_error(fmt::format("{}: cannot copy to {}: {}", path, to.string(), ec.message()));
  return to.string();
}

Result<Matrix> check_matrix(const CheckOptions& o) {
  auto m = load_matrix(o.matrix_path);
  if (!m) return m.error();
  std::vector<std::string> chosen = o.envs.empty() ? m->consumers : o.envs;
  if (auto s = add_spec_envs(*m, chosen); !s) return s.error();
  for (const auto& name : chosen) {
    if (m->find_env(name)) continue;
    std::string known;
    for (const auto& e : m->envs) known += (known.empty() ? "" : ", ") + e.name;
    return make_error(ErrorKind::kUsage, fmt::format("--env {}: {} has no such environment (it has: {})", name, o.matrix_path, known));
  }
  m->producers.clear();
  m->consumers = chosen;
  return m;
}

std::string versions_of(const json& fp) {
  if (!fp.is_object()) return "-";  // an environment that could not start has no fingerprint
  const json packages = fp.value("packages", json::object());
  auto v = [&](const char* name) {
    auto it = packages.find(name);
    return it != packages.end() && it->is_string() ? it->get<std::string>() : std::string("-");
  };
  return fmt::format("python {}, numpy {}, scikit-learn {}", fp.value("python", std::string("?")), v("numpy"),
                     v("scikit-learn"));
}

EnvCheck blank(const CheckState& st, const std::string& env_name, const std::string& producer) {
  const EnvSession& env = st.envs.at(env_name);
  EnvCheck e;
  e.cell.fixture = fs::path(st.o.artifact).filename().string();
  e.cell.format = st.report.variant;
  e.cell.producer = producer;
  e.cell.consumer = env_name;
  e.cell.id = cell_id(e.cell.fixture, e.cell.format, producer, env_name);
  e.where = env.record.where;
  e.versions = versions_of(env.record.fingerprint);
  return e;
}

LoadRequest request_for(const CheckState& st, const std::string& env_name, const Matrix& m) {
  ConsumeContext c = make_consume_context(m, st.cells);
  LoadRequest q;
  q.variant = st.report.variant;
  q.artifact = st.staged_artifact;
  q.inputs = st.inputs_npy;
  q.out_prefix = (fs::path(st.cells) / env_file_name(env_name) / "predictions").string();
  q.limits = c.limits;
  q.timeout = c.timeout;
  return q;
}

void settle(CheckState& st, EnvCheck e, const LoadResult& r) {
  e.cell = r.cell;
  // After the comparison: a reference that breaks an invariant is not blessed as OK either.
  record_invariants(e.cell, r.invariants);
  if (!r.inputs_error.empty() && !st.report.bad_input)
    st.report.bad_input = fmt::format("{}: {} (seen in {})", st.o.inputs, r.inputs_error, e.cell.consumer);
  if (e.cell.outcome != Outcome::kOkExact && e.cell.outcome != Outcome::kOkTolerance) e.explanation = explain(e.cell);
  else if (!e.cell.warnings.empty()) e.explanation = explain(e.cell);
  st.report.envs.push_back(std::move(e));
}

// A rebuilt producer that could not load the artifact gives no reference: its row leaves the
// screen (it is no environment the user chose) and its error becomes the rebuild's failure.
void settle_rebuilt(CheckState& st, const std::string& used) {
  if (!st.report.rebuilt || st.report.rebuilt->spec.empty() || !st.report.rebuilt->failure.empty()) return;
  auto& envs = st.report.envs;
  auto it = std::find_if(envs.begin(), envs.end(),
                         [&](const EnvCheck& e) { return e.cell.consumer == st.report.rebuilt->spec; });
  if (it == envs.end() || used == it->cell.consumer) return;
  st.report.rebuilt->failure = fmt::format("it did not load the artifact: {} {}", to_string(it->cell.outcome),
                                           it->cell.detail.value("message", it->cell.detail.value("summary", std::string())));
  st.log.error("reference: the rebuilt {}: {}", st.report.rebuilt->spec, st.report.rebuilt->failure);
  envs.erase(it);
}

// Computes the reference where the recorded scikit-learn lives, falling back in order.
// Returns the environments still to load.
std::vector<std::string> compute_reference(CheckState& st, const Matrix& m) {
  std::vector<std::string> rest;
  std::string used;
  for (const auto& name : st.order.envs) {
    if (!used.empty() || st.report.bad_input) {
      rest.push_back(name);
      continue;
    }
    LoadRequest q = request_for(st, name, m);
    st.log.info("reference: loading in {} ...", name);
    EnvCheck e = blank(st, name, "reference");
    LoadResult r = load_in(st.envs.at(name), q, e.cell);
    if (r.predicted()) {
      used = name;
      e.reference = true;
      st.report.reference_outputs = r.outputs;
      for (const auto& out : r.outputs) st.references[out] = q.out_prefix + "." + out + ".npy";
      r.cell.detail = {{"max_abs", 0.0}};
    }
    settle(st, std::move(e), r);
  }
  settle_rebuilt(st, used);
  for (auto& e : st.report.envs) e.trusted = !e.reference || reference_trusted(st.order, used);
  std::string rebuilt = st.report.rebuilt ? st.report.rebuilt->spec : "";
  st.report.reference_note = st.report.bad_input ? "no reference: the inputs do not fit the model"
                                                 : reference_sentence(st.order, used, rebuilt);
  return rest;
}

Status given_reference(CheckState& st) {
  auto ref = read_npy(st.o.reference);
  if (!ref) return make_error(fmt::format("{}: not a readable .npy reference: {}", st.o.reference, ref.error().message));
  auto staged = stage(st.o.reference, fs::path(st.o.out_dir) / "input" / "reference");
  if (!staged) return staged.error();
  st.references["predict"] = *staged;
  st.report.reference_outputs = {"predict"};
  st.report.reference_note = fmt::format("reference: {} (given), compared with predict", st.o.reference);
  return ok_status();
}

// Loads in every remaining environment side by side, then compares on this thread.
Status load_everywhere(CheckState& st, const std::vector<std::string>& names, const Matrix& m) {
  std::vector<std::pair<std::string, std::future<LoadResult>>> pending;
  for (const auto& name : names) {
    LoadRequest q = request_for(st, name, m);
    q.outputs = st.report.reference_outputs;
    EnvCheck e = blank(st, name, st.o.reference.empty() ? "reference" : "given");
    pending.emplace_back(name, std::async(std::launch::async, [&st, name, q, cell = e.cell] {
                           return load_in(st.envs.at(name), q, cell);
                         }));
  }
  for (auto& [name, future] : pending) {
    LoadResult r = future.get();
    EnvCheck e = blank(st, name, r.cell.producer);
    if (r.predicted()) {
      if (auto s = compare_with(r.cell, st.references, request_for(st, name, m).out_prefix,
                                {st.o.rtol, st.o.atol}); !s)
        return s;
    }
    settle(st, std::move(e), r);
  }
  return ok_status();
}

Status prepare(CheckState& st) {
  if (auto s = must_exist(st.o.artifact, "the artifact"); !s) return s;
  if (auto s = must_exist(st.o.inputs, "--inputs"); !s) return s;
  if (!st.o.reference.empty())
    if (auto s = must_exist(st.o.reference, "--reference"); !s) return s;
  if (auto s = audit_artifact(st); !s) return s;
  auto artifact = stage(st.o.artifact, fs::path(st.o.out_dir) / "input" / "artifact");
  if (!artifact) return artifact.error();
  st.staged_artifact = *artifact;
  auto inputs = stage(st.o.inputs, fs::path(st.o.out_dir) / "input" / "inputs");
  if (!inputs) return inputs.error();
  st.cells = sandbox_cells_dir(st.o.out_dir);
  fs::create_directories(st.cells);
  st.inputs_npy = st.cells + "/inputs.npy";
  st.request.inputs = *inputs;  // the staged original; converted once environments are up
  return ok_status();
}

// With --recipe: the recipe's CV score where the reference came from stands for the producer's;
// each failing environment retrains it (add_retrain_check) and says whether it reproduces it.
// Nothing is retrained when nothing failed: five trainings of a user's model cost minutes.
void retrain_failures(CheckState& st, const std::string& recipe) {
  if (std::none_of(st.report.envs.begin(), st.report.envs.end(),
                   [](const EnvCheck& e) { return recipes::retrain_applies(e.cell); }))
    return;
  ArtifactRecord a;
  a.fixture = recipe;
  a.manifest = {{"training", {{"cv_score", json()}}}};
  for (const auto& e : st.report.envs) {
    if (!e.reference) continue;
    json r = recipes::retrain_once(st.envs.at(e.cell.consumer), recipe);
    if (r.contains("skipped"))
      st.log.error("retrain check: no CV score of {} in {}, where the reference came from: {}", recipe,
                   e.cell.consumer, r["skipped"].get<std::string>());
    else a.manifest["training"]["cv_score"] = r.value("cv_score", json());
  }
  for (auto& e : st.report.envs) {
    recipes::add_retrain_check(st.envs.at(e.cell.consumer), a, e.cell);
    if (e.cell.detail.contains("retrain")) e.explanation = explain(e.cell);
  }
}

std::vector<std::pair<std::string, json>> fingerprints(const CheckState& st, const Matrix& m) {
  std::vector<std::pair<std::string, json>> out;
  for (const auto& name : m.consumers) out.emplace_back(name, st.envs.at(name).record.fingerprint);
  return out;
}

// No chosen environment has the stack the artifact records: the producer's is rebuilt from it
// (rebuild.h) and asked first. When that fails the note says why and the reference falls back
// to the given order, labelled not trusted.
void rebuild_reference(CheckState& st, Matrix& m, const ProvisionContext& ctx,
                       const std::map<std::string, std::string>& worker_env) {
  if (!st.order.matched.empty() || st.recorded.sklearn.empty()) return;
  // With no chosen environment up there is nothing to compare a reference with: building one
  // would only delay the error that says so.
  if (std::none_of(st.envs.begin(), st.envs.end(), [](const auto& kv) { return kv.second.can_load(); })) return;
  RebuiltReference& rb = st.report.rebuilt.emplace();
  if (!st.o.rebuild_reference) {
    rb.failure = "turned off (--no-rebuild-reference)";
    return;
  }
  auto spec = producer_spec(st.recorded, builtin_producer_stacks());
  if (spec && st.envs.count(*spec)) spec = make_error(*spec + " is checked already and does not have it");
  if (!spec) rb.failure = spec.error().message;
  if (!spec) return st.log.error("reference: cannot rebuild the artifact's producer: {}", rb.failure);
  rb.spec = *spec;
  std::string numpy = st.recorded.numpy_major ? " with " + numpy_words(st.recorded.numpy_major) : "";
  st.log.info("reference: no environment has scikit-learn {}{}: rebuilding it from the artifact's recorded "
              "versions as {}", st.recorded.sklearn.front(), numpy, rb.spec);
  auto env = start_producer_env(m, rb.spec, ctx, st.log, worker_env);
  if (!env) rb.failure = "it was not built: " + env.error().message;
  if (!env) return st.log.error("reference: rebuilding {} failed: {}", rb.spec, rb.failure);
  st.envs.emplace(rb.spec, std::move(*env));
  st.order = reference_order(fingerprints(st, m), st.recorded.sklearn, st.recorded.numpy_major);
}

// The check itself; run_check turns an interrupted one into its error. Once interrupted it
// returns at the next step, whatever it holds: no step after would get an answer.
Result<CheckReport> check_everywhere(const CheckOptions& given, RunLog& log) {
  CheckOptions o = given;  // workers in other mount namespaces need absolute paths
  o.out_dir = fs::absolute(given.out_dir).lexically_normal().string();
  CheckState st{o, log, {}, {}, {}, {}, {}, {}, {}, {}, {}};
  st.report.artifact = o.artifact;
  auto matrix = check_matrix(o);
  if (!matrix) return matrix.error();
  if (auto s = prepare(st); !s) return s.error();
  if (auto s = probe_sandbox(nullptr); !s) {  // not the user's input: this machine's (exit 4, like env build)
    st.report.unavailable = "check loads only inside the sandbox, which does not work on this machine: " +
                            s.error().message + ". Install or fix bubblewrap (docs/isolation.md)";
    return st.report;
  }
  auto recipes = recipes::stage_recipes(o.recipe.empty() ? std::vector<std::string>{} : std::vector{o.recipe}, o.out_dir);
  if (!recipes) return recipes.error();
  ProvisionContext ctx{o.source_root, o.out_dir, o.cache_dir, &log.stream()};
  st.envs = start_environments(*matrix, ctx, true, log, recipes->worker_env);
  if (interrupted()) return st.report;
  st.order = reference_order(fingerprints(st, *matrix), st.recorded.sklearn, st.recorded.numpy_major);
  if (o.reference.empty()) rebuild_reference(st, *matrix, ctx, recipes->worker_env);
  if (interrupted()) return st.report;
  auto read = convert_inputs(st.envs, st.order.envs, st.request.inputs, o.inputs_key, st.inputs_npy);
  if (!read) return make_error(read.error().kind, fmt::format("{}: {}", o.inputs, read.error().message));
  for (const auto& passed : read->passed) log.info("inputs: not readable in {}", passed);
  log.info("inputs: {} read in {}", o.inputs, read->env);
  std::vector<std::string> rest = st.order.envs;
  if (!o.reference.empty()) {
    if (auto s = given_reference(st); !s) return s.error();
  } else {
    rest = compute_reference(st, *matrix);
  }
  if (interrupted()) return st.report;
  if (!st.references.empty())
    if (auto s = load_everywhere(st, rest, *matrix); !s) return s.error();
  if (!recipes->fixtures.empty() && !st.report.bad_input && !interrupted())
    retrain_failures(st, recipes->fixtures.front());
  return st.report;
}

}  // namespace

Result<CheckReport> run_check(const CheckOptions& options, RunLog& log) {
  auto report = check_everywhere(options, log);  // its workers have stopped when it returns
  if (!interrupted()) return report;
  return make_error(ErrorKind::kInterrupted,
                    fmt::format("interrupted by {}: no verdict (it needs every environment's answer); the working "
                                "files are in {}; rerun the same command to check", interrupt_signal_name(),
                                fs::absolute(options.out_dir).lexically_normal().string()));
}

int check_exit_code(const CheckReport& r) {
  if (r.unavailable) return exit_code::kEnvironment;
  if (r.bad_input) return exit_code::kBadInput;
  if (r.envs.empty()) return exit_code::kCellsFailed;
  for (const auto& e : r.envs)
    if (e.cell.outcome != Outcome::kOkExact && e.cell.outcome != Outcome::kOkTolerance)
      return exit_code::kCellsFailed;
  return exit_code::kOk;
}

}  // namespace crossload::check
