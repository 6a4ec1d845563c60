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
  // The bench's first-prediction latency is of one row, as the Python bench times it: 1 here.
  std::size_t max_rows = 0;  // 0: every row of the inputs
  // Outputs the artifact does not serve are left out, not an error (the Python adapter's
  // skip_missing): the bench asks for the fixture's outputs, and ONNX may serve fewer.
  bool skip_missing = false;
};

// The whole answer: {"ok": true, "result": {load_seconds, predict_seconds, outputs, warnings}}
// or {"ok": false, "error": {stage, type, message}}. Never throws.
nlohmann::json load_predict(const LoadPredictRequest& req);

// The formats this consumer loads; any other is answered with stage "unsupported".
bool loads_format(const std::string& format);

}  // namespace crossload_native
