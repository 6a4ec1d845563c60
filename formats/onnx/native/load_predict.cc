#include "load_predict.h"

#include <chrono>
#include <memory>
#include <stdexcept>

#include "model.h"
#include "npy.h"

namespace crossload_native {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

json error(const std::string& stage, const std::string& type, const std::string& message) {
  return {{"ok", false}, {"error", {{"stage", stage}, {"type", type}, {"message", message}}}};
}

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

bool loads_format(const std::string& format) { return format == "onnx"; }

json load_predict(const LoadPredictRequest& req) {
  if (!loads_format(req.format))
    return error("unsupported", "Unsupported",
                 "the native ONNX consumer (C++ onnxruntime, no Python) loads only the onnx format, not " + req.format);
  std::vector<float> rows;
  std::vector<int64_t> shape;
  std::string err;
  if (!read_float_matrix(req.inputs, &rows, &shape, &err)) return error("protocol", "InputError", err);
  if (req.max_rows > 0 && shape.size() == 2 && shape[0] > static_cast<int64_t>(req.max_rows)) {
    shape[0] = static_cast<int64_t>(req.max_rows);
    rows.resize(req.max_rows * static_cast<std::size_t>(shape[1]));
  }
  std::unique_ptr<Ort::Env> own_env;
  std::unique_ptr<OnnxModel> model;
  double load_seconds = 0;
  try {
    if (!req.env) own_env = std::make_unique<Ort::Env>(ORT_LOGGING_LEVEL_ERROR, "crossload-onnx-native");
    auto start = Clock::now();
    model = std::make_unique<OnnxModel>(req.env ? *req.env : *own_env, req.path);
    load_seconds = since(start);
  } catch (const Ort::Exception& e) {
    return error("load", error_type_name(e.GetOrtErrorCode()), e.what());
  } catch (const std::exception& e) {
    return error("load", "ValueError", e.what());
  }
  json written = json::array();
  auto start = Clock::now();
  try {
    for (const auto& output : req.outputs) {
      if (req.skip_missing && !model->serves(output)) continue;
      Array a = model->run(output, rows, shape);
      if (!write_npy(req.out_dir + "/" + req.out_name + "." + output + ".npy", a, &err)) return error("predict", "OSError", err);
      written.push_back(output);
    }
  } catch (const Ort::Exception& e) {
    return error("predict", error_type_name(e.GetOrtErrorCode()), e.what());
  } catch (const std::exception& e) {
    return error("predict", "RuntimeError", e.what());
  }
  return {{"ok", true},
          {"result", {{"load_seconds", load_seconds}, {"predict_seconds", since(start)}, {"outputs", written},
                      {"warnings", json::array()}}}};
}

}  // namespace crossload_native
