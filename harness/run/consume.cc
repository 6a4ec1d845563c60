#include "harness/run/consume.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "harness/compare/compare.h"
#include "harness/compare/npy.h"
#include "harness/audit/gate.h"
#include "harness/run/invariants.h"
#include "harness/util/sha256.h"

namespace crossload {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

CellRecord base_cell(const ArtifactRecord& a, const std::string& consumer) {
  CellRecord c;
  c.id = cell_id(a.fixture, a.format, a.producer, consumer);
  c.fixture = a.fixture;
  c.format = a.format;
  c.producer = a.producer;
  c.consumer = consumer;
  return c;
}

Status verify_artifact(const ArtifactRecord& a) {
  if (!fs::exists(a.path)) return make_error(fmt::format("{}: artifact missing (was it moved or deleted?)", a.path));
  auto sha = sha256_file(a.path);
  if (!sha) return sha.error();
  if (*sha != a.sha256)
    return make_error(fmt::format("{}: artifact corrupt: sha256 {} does not match the manifest's {}", a.path,
                                  *sha, a.sha256));
  return ok_status();
}



json comparison_json(const Comparison& cmp) {
  json j = {{"outcome", to_string(cmp.outcome)}, {"n_values", cmp.n_values},
            {"n_not_identical", cmp.n_not_identical}, {"n_beyond_tolerance", cmp.n_beyond_tolerance},
            {"max_abs", cmp.max_abs}, {"max_ulp", cmp.max_ulp}, {"summary", cmp.summary},
            {"first_differing", cmp.first_differing}};
  if (cmp.dtype_differs) j["dtype_note"] = cmp.dtype_note;
  return j;
}

// Compares every output; the cell's outcome is the worst of them.
Status compare_outputs(CellRecord& c, const ArtifactRecord& a, const std::string& out_prefix) {
  const json& m = a.manifest;
  Tolerance tol{m["tolerance"].value("rtol", 1e-7), m["tolerance"].value("atol", 0.0)};
  fs::path dir = fs::path(a.path).parent_path();
  std::map<std::string, std::string> references;
  for (const auto& [output, ref_name] : m["references"].items())
    references[output] = (dir / ref_name.get<std::string>()).string();
  return compare_to_references(c, references, out_prefix, tol);
}

void add_measurements(CellRecord& c, const json& res, const ArtifactRecord& a) {
  c.measurements = {{"load", res.value("load_seconds", 0.0), "s"},
                    {"predict", res.value("predict_seconds", 0.0), "s"},
                    {"rss_at_fork", res.value("rss_at_fork_kb", 0.0) * 1024.0, "bytes"},
                    {"rss_peak", res.value("rss_peak_kb", 0.0) * 1024.0, "bytes"},
                    {"size", static_cast<double>(a.size_bytes), "bytes"}};
}

json limits_json(const LoadLimits& l) {
  return {{"wall_seconds", l.wall_seconds}, {"cpu_seconds", l.cpu_seconds},
          {"address_space_bytes", l.address_space_bytes}, {"processes", l.processes}};
}

}  // namespace

Status compare_to_references(CellRecord& c, const std::map<std::string, std::string>& references,
                             const std::string& out_prefix, Tolerance tolerance) {
  c.outcome = Outcome::kOkExact;
  json outputs = json::object();
  std::string worst_summary;
  for (const auto& [output, path] : references) {
    auto ref = read_npy(path);
    if (!ref) return ref.error();
    auto got = read_npy(out_prefix + "." + output + ".npy");
    if (!got) {
      c.outcome = Outcome::kPredictError;
      c.detail = {{"stage", "predict"}, {"message", "unreadable predictions: " + got.error().message}};
      return ok_status();
    }
    Comparison cmp = compare_arrays(*ref, *got, tolerance);
    outputs[output] = comparison_json(cmp);
    if (severity(cmp.outcome) > severity(c.outcome)) c.outcome = cmp.outcome, worst_summary = output + ": " + cmp.summary;
  }
  c.detail = {{"outputs", outputs}};
  if (!worst_summary.empty()) c.detail["summary"] = worst_summary;
  return ok_status();
}

void record_worker_error(CellRecord& c, const json& error) {
  std::string stage = error.value("stage", std::string("load"));
  c.outcome = outcome_of_stage(stage);
  std::string tb = error.value("traceback", std::string());
  if (tb.size() > 4000) {
    std::size_t from = tb.size() - 4000;
    while (from < tb.size() && (static_cast<unsigned char>(tb[from]) & 0xC0) == 0x80) ++from;  // whole UTF-8 characters
    tb = "..." + tb.substr(from);
  }
  c.detail = {{"stage", stage},
              {"error_type", error.value("type", std::string())},
              {"message", error.value("message", std::string())},
              {"traceback", tb}};
  for (const char* key : {"signal", "exit_status", "limit", "seconds"})
    if (error.contains(key)) c.detail[key] = error[key];
  // Beside the outcome, not among the measurements: the reports' costs are those of loads that worked.
  for (auto [from, to] : {std::pair{"rss_at_fork_kb", "rss_at_fork_bytes"}, std::pair{"rss_peak_kb", "rss_peak_bytes"}})
    if (error.contains(from) && error[from].is_number()) c.detail[to] = error[from].get<double>() * 1024.0;
  c.warnings = parse_warnings(error.value("warnings", json::array()));
}

void record_worker_failure(CellRecord& c, const WorkerFailure& f) {
  c.outcome = f.kind == WorkerFailure::Kind::kTimeout ? Outcome::kTimeout : Outcome::kCrash;
  c.detail = {{"message", f.message}};
  if (f.signal) c.detail["signal"] = f.signal;
  if (f.exit_status >= 0) c.detail["exit_status"] = f.exit_status;
}

std::vector<CellWarning> parse_warnings(const json& list) {
  std::vector<CellWarning> out;
  for (const auto& w : list) {
    CellWarning cw{w.value("category", std::string()), w.value("message", std::string()), std::nullopt};
    if (w.contains("original_sklearn_version") && w["original_sklearn_version"].is_string())
      cw.original_sklearn_version = w["original_sklearn_version"].get<std::string>();
    out.push_back(std::move(cw));
  }
  return out;
}

Outcome outcome_of_stage(const std::string& stage) {
  if (stage == "predict" || stage == "inputs") return Outcome::kPredictError;  // inputs: check's conversion
  if (stage == "crash") return Outcome::kCrash;      // the load's child died (signal or exit status)
  if (stage == "timeout") return Outcome::kTimeout;  // the worker killed it at the wall or CPU limit
  if (stage == "unsupported") return Outcome::kUnsupported;  // a consumer that loads only some formats (onnx-native)
  return Outcome::kLoadError;
}


ConsumeContext make_consume_context(const Matrix& m, const std::string& cells_dir) {
  ConsumeContext ctx;
  ctx.cells_dir = cells_dir;
  ctx.limits.wall_seconds = m.cell_timeout_seconds;
  ctx.limits.cpu_seconds = m.cpu_limit_seconds;
  ctx.limits.address_space_bytes = static_cast<int64_t>(m.memory_limit_mb * 1024.0 * 1024.0);
  // The worker needs time beyond the wall limit to kill the child and sweep what it left.
  double margin = std::max(30.0, 0.25 * m.cell_timeout_seconds);
  ctx.timeout = std::chrono::milliseconds(static_cast<long>((m.cell_timeout_seconds + margin) * 1000));
  return ctx;
}

// The producer's own round trip failed: in the producer itself that is an observed
// LOAD_ERROR/PREDICT_ERROR; elsewhere there is no reference to judge against.
CellRecord settle_failed_round_trip(const ArtifactRecord& a, const std::string& consumer) {
  CellRecord c = base_cell(a, consumer);
  // A training failure leaves no manifest at all (null): value() on null would throw.
  const json error = a.manifest.is_object() ? a.manifest.value("error", json::object()) : json::object();
  std::string stage = error.value("stage", std::string("dump"));
  if (consumer == a.producer && (stage == "load" || stage == "predict")) {
    record_worker_error(c, error);
    c.detail["observed"] = "in the producer's own round trip, while dumping";
    return c;
  }
  c.outcome = Outcome::kUnsupported;
  c.detail = {{"stage", stage}, {"message", a.reason}};
  return c;
}

std::optional<CellRecord> blocked_by_audit(const ArtifactRecord& a, const std::string& consumer) {
  auto refusal = audit::refusal(a.manifest.value("audit", json()));
  if (!refusal) return std::nullopt;
  CellRecord c = base_cell(a, consumer);
  c.outcome = Outcome::kBlocked;
  std::string where = refusal->has_offset ? fmt::format(" at byte offset {}", refusal->offset) : "";
  std::string rule = refusal->rule.empty() ? "" : fmt::format(" [{}]", refusal->rule);
  c.detail = {{"stage", "audit"},
              {"message", fmt::format("not loaded: the static audit judged {} UNSAFE: {}{}{}. To load it anyway, "
                                      "inside the sandbox only, run again with --allow-unsafe "
                                      "(see crossload inspect {})",
                                      a.path, refusal->reason, where, rule, a.path)},
              {"audit_reason", refusal->reason}};
  if (!refusal->rule.empty()) c.detail["audit_rule"] = refusal->rule;
  if (refusal->has_offset) c.detail["audit_offset"] = refusal->offset;
  return c;
}

std::optional<CellRecord> settled_without_loading(const EnvSession& consumer, const ArtifactRecord& a,
                                                  const ConsumeContext& ctx) {
  CellRecord c = base_cell(a, consumer.spec.name);
  if (a.status == "unsupported") {
    c.outcome = Outcome::kUnsupported;
    c.detail = {{"stage", "unsupported"}, {"message", a.reason}};
    return c;
  }
  if (a.status == "error" && a.reason.rfind("producer environment", 0) != 0)
    return settle_failed_round_trip(a, consumer.spec.name);
  if (a.status != "ok") {
    c.outcome = Outcome::kEnvUnavailable;
    c.detail = {{"message", a.reason}};
    return c;
  }
  // Before the consumer's state: the artifact is refused in every consumer alike.
  if (!ctx.allow_unsafe) {
    if (auto blocked = blocked_by_audit(a, consumer.spec.name)) return blocked;
  }
  if (!consumer.can_load()) {
    c.outcome = Outcome::kEnvUnavailable;
    c.detail = {{"message", "consumer environment unavailable: " + consumer.record.reason}};
    return c;
  }
  return std::nullopt;
}

namespace {

// Loads and predicts in the consumer's (sandboxed) worker and compares: fills `c`. An Error is
// bad input (unreadable reference predictions).
Status load_and_compare(EnvSession& consumer, const ArtifactRecord& a, const ConsumeContext& ctx, CellRecord& c) {
  fs::path prefix = fs::path(ctx.cells_dir) / consumer.spec.name / a.producer / a.fixture / a.format;
  fs::create_directories(prefix.parent_path());
  json req = {{"op", "load_predict"}, {"format", a.format}, {"path", a.path},
              {"inputs", (fs::path(a.path).parent_path() / a.manifest.value("inputs", "inputs.npy")).string()},
              {"outputs", a.manifest["outputs"]}, {"out_prefix", prefix.string()},
              {"trusted_types", a.manifest["format_details"].value("untrusted_types", json::array())},
              {"limits", limits_json(ctx.limits)}, {"isolation", ctx.isolation}};
  auto r = consumer.loader->request(req, ctx.timeout);
  if (!r.ok()) {
    record_worker_failure(c, r.failure);  // the caller revives the worker, from its main thread
    return ok_status();
  }
  if (!r.answer.value("ok", false)) {
    record_worker_error(c, r.answer["error"]);
    return ok_status();
  }
  const json& res = r.answer["result"];
  c.warnings = parse_warnings(res.value("warnings", json::array()));
  if (auto st = compare_outputs(c, a, prefix.string()); !st) return st;
  record_invariants(c, res.value("invariants", json::array()));
  add_measurements(c, res, a);
  return ok_status();
}

}  // namespace

Result<CellRecord> consume_cell(EnvSession& consumer, const ArtifactRecord& a, const ConsumeContext& ctx,
                                RunLog& /*log*/) {
  if (auto settled = settled_without_loading(consumer, a, ctx)) return *settled;
  if (auto st = verify_artifact(a); !st) return st.error();
  CellRecord c = base_cell(a, consumer.spec.name);
  if (auto st = load_and_compare(consumer, a, ctx, c); !st) return st.error();
  // Reached only with --allow-unsafe: the cell says what it was allowed to load.
  if (auto refused = audit::refusal(a.manifest.value("audit", json())))
    c.detail["audit"] = "loaded in the sandbox despite the audit (--allow-unsafe): " + refused->reason;
  return c;
}

}  // namespace crossload
