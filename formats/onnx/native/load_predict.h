#pragma once
// The load_predict operation of the worker protocol (harness/worker/PROTOCOL.md) done natively:
// load an ONNX artifact with onnxruntime, compute the requested outputs on the inputs, write one
// .npy per output. Errors are answers with the protocol's stages (load, predict, unsupported).
#include <onnxruntime_cxx_api.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace crossload_native {

struct LoadPredictRequest {
  std::string format, path, inputs;
  std::vector<std::string> outputs;
  std::string out_dir;  // where <name>.<output>.npy files are written
  std::string out_name;
  // onnxruntime's environment (logging, registries), made once by the consumer before it forks,
  // so each load pays for its own session, not for the library's start-up; null: one of its own.
  Ort::Env* env = nullptr;
};

// The whole answer: {"ok": true, "result": {load_seconds, predict_seconds, outputs, warnings}}
// or {"ok": false, "error": {stage, type, message}}. Never throws.
nlohmann::json load_predict(const LoadPredictRequest& req);

// The formats this consumer loads; any other is answered with stage "unsupported".
bool loads_format(const std::string& format);

}  // namespace crossload_native
