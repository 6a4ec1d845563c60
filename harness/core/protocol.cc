#include "harness/core/protocol.h"

#include <fmt/format.h>

#include "harness/env/qemu.h"

namespace crossload {

using json = nlohmann::json;

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
