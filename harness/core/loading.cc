#include "harness/core/loading.h"

#include <algorithm>

#include "harness/compare/npy.h"

namespace crossload {

using json = nlohmann::json;

namespace {

json comparison_json(const Comparison& cmp) {
  json j = {{"outcome", to_string(cmp.outcome)}, {"n_values", cmp.n_values},
            {"n_not_identical", cmp.n_not_identical}, {"n_beyond_tolerance", cmp.n_beyond_tolerance},
            {"max_abs", cmp.max_abs}, {"max_ulp", cmp.max_ulp}, {"summary", cmp.summary},
            {"first_differing", cmp.first_differing}};
  if (cmp.dtype_differs) j["dtype_note"] = cmp.dtype_note;
  return j;
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

}  // namespace crossload
