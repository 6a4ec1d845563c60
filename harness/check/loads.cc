#include "harness/check/loads.h"

#include <fmt/format.h>

#include <algorithm>

#include "harness/core/loading.h"

namespace crossload::check {

namespace {

using json = nlohmann::json;

constexpr std::chrono::seconds kConvertTimeout{600};  // a large CSV under QEMU

}  // namespace

LoadResult load_in(EnvSession& env, const LoadRequest& req, CellRecord cell) {
  LoadResult r{std::move(cell), {}, {}};
  if (!env.can_load()) {
    r.cell.outcome = Outcome::kEnvUnavailable;
    r.cell.detail = {{"message", "environment unavailable: " + env.record.reason}};
    return r;
  }
  CheckPredictRequest q{req.variant, req.artifact, req.inputs, req.out_prefix, req.outputs, req.limits};
  auto reply = ask(*env.loader, q, req.timeout);
  if (!reply.answered()) {
    record_worker_failure(r.cell, *reply.failure);
    return r;
  }
  if (reply.error) {
    record_worker_error(r.cell, *reply.error);
    if (reply.error->stage == "inputs") r.inputs_error = reply.error->message;
    return r;
  }
  const CheckPredictAnswer& res = *reply.result;
  r.cell.outcome = Outcome::kOkExact;
  r.cell.warnings = res.warnings;
  r.cell.measurements = {{"load", res.load_seconds, "s"}, {"predict", res.predict_seconds, "s"}};
  r.outputs = res.outputs;
  r.invariants = res.invariants;
  if (r.outputs.empty()) {
    r.cell.outcome = Outcome::kPredictError;
    r.cell.detail = {{"stage", "predict"}, {"message", "the loaded model serves none of predict, predict_proba, "
                                                       "decision_function, transform, score_samples"}};
  }
  return r;
}

Status compare_with(CellRecord& c, const std::map<std::string, std::string>& references, const std::string& out_prefix,
                    Tolerance tolerance) {
  if (auto s = compare_to_references(c, references, out_prefix, tolerance); !s) return s;
  if (!c.detail.contains("outputs")) return ok_status();  // unreadable predictions: no difference to give
  double max_abs = 0;
  for (const auto& [output, cmp] : c.detail["outputs"].items()) max_abs = std::max(max_abs, cmp.value("max_abs", 0.0));
  c.detail["max_abs"] = max_abs;
  return ok_status();
}

Result<InputsRead> convert_inputs(EnvSessions& envs, const std::vector<std::string>& order, const std::string& path,
                                  const std::string& key, const std::string& out) {
  InputsRead read;
  std::string problems;
  for (const auto& name : order) {
    EnvSession& env = envs.at(name);
    if (!env.can_load()) continue;
    auto reply = ask(*env.loader, ConvertInputsRequest{path, out, key}, kConvertTimeout);
    if (!reply.answered()) {
      problems += fmt::format("; in {}: {}", name, reply.failure->message);
      continue;
    }
    if (reply.result) {
      read.env = name;
      return read;
    }
    const std::string& message = reply.error->message;
    // Only a missing reader (pyarrow) is worth asking the next environment about.
    if (reply.error->type != "ImportError") return make_error(message);
    problems += fmt::format("; in {}: {}", name, message);
    read.passed.push_back(fmt::format("{}: {}", name, message));
  }
  if (problems.empty()) return make_error(ErrorKind::kEnvironment, "no environment could start to read it");
  return make_error("no environment could read it" + problems);
}

}  // namespace crossload::check
