#pragma once
// An ONNX artifact written by crossload's ONNX adapter (formats/onnx/adapter.py), loaded with
// onnxruntime's C++ API and its CPU provider, answering the same methods the Python adapter
// answers: the artifact's "crossload.outputs" metadata maps each scikit-learn method (predict,
// predict_proba, ...) to an ONNX output name; inputs are float32 rows.
#include <onnxruntime_cxx_api.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "npy.h"

namespace crossload_native {

class OnnxModel {
 public:
  // Throws Ort::Exception (onnxruntime's own message) or std::runtime_error (no metadata).
  OnnxModel(Ort::Env& env, const std::string& path);

  // One method's output on `rows` (n x d float32), shaped as scikit-learn shapes it. Throws
  // Ort::Exception or std::runtime_error.
  Array run(const std::string& method, const std::vector<float>& rows, const std::vector<int64_t>& shape);
  bool serves(const std::string& method) const { return output_map_.count(method) > 0; }

 private:
  Ort::Session session_{nullptr};
  std::string input_name_;
  std::map<std::string, std::string> output_map_;  // method -> ONNX output name
};

// Python onnxruntime's exception class name for an error code ("InvalidProtobuf", "Fail"...),
// so a native LOAD_ERROR reads like the Python consumer's.
std::string error_type_name(OrtErrorCode code);

}  // namespace crossload_native
