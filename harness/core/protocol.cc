#include "harness/core/protocol.h"

#include <fmt/format.h>

#include "harness/env/qemu.h"

namespace crossload {

using json = nlohmann::json;

namespace {

Error malformed(const std::string& op, const std::string& what) {
  return make_error(fmt::format("the worker's '{}' answer is malformed: {} (harness/worker/PROTOCOL.md)", op, what));
}

}  // namespace

Result<ListAnswer> ListAnswer::from_json(const json& result) {
  if (!result.is_object()) return malformed("list", "the result is not an object");
  const json fixtures = result.value("fixtures", json::array());
  if (!fixtures.is_array()) return malformed("list", "'fixtures' is not a list");
  ListAnswer out;
  try {
    for (const auto& f : fixtures) {
      out.fixtures.push_back({f.value("name", ""), f.value("description", ""),
                              f.value("outputs", std::vector<std::string>{}), f.value("tags", std::vector<std::string>{}),
                              f.value("rtol", 1e-7), f.value("atol", 0.0)});
      const json recipe = f.value("recipe_sha256", json());
      out.recipes[out.fixtures.back().name] = recipe.is_string() ? recipe.get<std::string>() : "";
    }
    for (const auto& f : result.value("formats", json::array())) out.formats.push_back(f.value("name", ""));
  } catch (const json::exception& e) {
    return malformed("list", e.what());
  }
  return out;
}

json TrainRequest::to_json() const { return {{"op", "train"}, {"fixture", fixture}, {"out_dir", out_dir}, {"cv", cv}}; }

json DumpRequest::to_json() const {
  return {{"op", "dump"}, {"fixture", fixture}, {"format", format}, {"path", path}, {"inputs", inputs}};
}

json PrepareLoadsRequest::to_json() const { return {{"op", "prepare_loads"}, {"formats", formats}}; }

json LoadLimits::to_json() const {
  return {{"wall_seconds", wall_seconds}, {"cpu_seconds", cpu_seconds},
          {"address_space_bytes", address_space_bytes}, {"processes", processes}};
}

json LoadPredictRequest::to_json() const {
  return {{"op", "load_predict"}, {"format", format}, {"path", path}, {"inputs", inputs}, {"outputs", outputs},
          {"out_prefix", out_prefix}, {"trusted_types", trusted_types}, {"limits", limits.to_json()},
          {"isolation", isolation}};
}

json CheckPredictRequest::to_json() const {
  json q = {{"op", "check_predict"}, {"format", format}, {"path", path}, {"inputs", inputs},
            {"out_prefix", out_prefix}, {"limits", limits.to_json()}};
  if (outputs) q["outputs"] = *outputs;
  return q;
}

json ConvertInputsRequest::to_json() const {
  json q = {{"op", "convert_inputs"}, {"path", path}, {"out", out}};
  if (!key.empty()) q["key"] = key;
  return q;
}

json RetrainCvRequest::to_json() const { return {{"op", "retrain_cv"}, {"fixture", fixture}}; }

json BenchRequest::to_json() const {
  json q = fields;
  q["op"] = "bench";
  q["step"] = step;
  return q;
}

const json& Answer::result() const {
  static const json kNone;
  auto it = reply.answer.find("result");
  return it != reply.answer.end() ? *it : kNone;
}

json Answer::error() const {
  if (!reply.ok()) return json::object();
  json e = reply.answer.value("error", json::object());
  return e.is_object() ? e : json::object();
}

std::string Answer::why() const {
  if (!reply.ok()) return reply.failure.message;
  return error().value("message", reply.answer.dump());
}

Result<Greeting> greet_worker(WorkerClient& worker, std::chrono::milliseconds timeout) {
  Greeting g;
  for (const BareRequest& q : {hello_request(), fingerprint_request()}) {
    Answer a = call(worker, q, timeout);
    if (!a.reply.ok()) return make_error(a.reply.failure.message);  // it names the worker's log
    if (!a.ok())
      return make_error(fmt::format("the worker refused '{}': {} (worker log: {})", q.op, a.why(), worker.log_path()));
    g.fingerprint = a.result();
    g.fingerprint_seconds = a.reply.seconds;
  }
  record_qemu(g.fingerprint, worker.launch().qemu);  // harness-side: the guest cannot see its emulator
  return g;
}

}  // namespace crossload
