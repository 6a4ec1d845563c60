#include "model.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace crossload_native {

namespace {

constexpr const char* kOutputMapKey = "crossload.outputs";
// skl2onnx gives column vectors where scikit-learn gives 1-D arrays (as the Python adapter says).
const std::vector<std::string> kVectorOutputs{"predict", "decision_function", "score_samples"};

template <typename T>
Array numeric(const Ort::Value& v, char kind) {
  auto info = v.GetTensorTypeAndShapeInfo();
  Array a;
  a.descr = std::string(1, sizeof(T) == 1 ? '|' : native_order()) + kind + std::to_string(sizeof(T));
  a.shape = info.GetShape();
  const T* p = v.GetTensorData<T>();
  a.data.assign(reinterpret_cast<const char*>(p), reinterpret_cast<const char*>(p + info.GetElementCount()));
  return a;
}

// Decodes UTF-8 into code points: numpy's 'U' dtype holds UTF-32 in native order.
std::u32string utf32(const std::string& s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    int extra = c < 0x80 ? 0 : c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    char32_t cp = extra == 0 ? c : c & (0x3F >> extra);
    for (int k = 1; k <= extra && i + k < s.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
    out.push_back(cp);
    i += extra + 1;
  }
  return out;
}

Array strings(const Ort::Value& v) {
  auto info = v.GetTensorTypeAndShapeInfo();
  std::size_t n = info.GetElementCount(), width = 1;
  std::vector<std::u32string> items;
  for (std::size_t i = 0; i < n; ++i) {
    items.push_back(utf32(v.GetStringTensorElement(i)));
    width = std::max(width, items.back().size());
  }
  Array a{std::string(1, native_order()) + "U" + std::to_string(width), info.GetShape(), {}};
  a.data.assign(n * width * 4, '\0');
  for (std::size_t i = 0; i < n; ++i) std::memcpy(a.data.data() + i * width * 4, items[i].data(), items[i].size() * 4);
  return a;
}

Array tensor(const Ort::Value& v) {
  switch (v.GetTensorTypeAndShapeInfo().GetElementType()) {
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT: return numeric<float>(v, 'f');
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_DOUBLE: return numeric<double>(v, 'f');
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64: return numeric<int64_t>(v, 'i');
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_INT32: return numeric<int32_t>(v, 'i');
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_BOOL: return numeric<bool>(v, 'b');
    case ONNX_TENSOR_ELEMENT_DATA_TYPE_STRING: return strings(v);
    default: throw std::runtime_error("unsupported ONNX tensor element type " +
                                      std::to_string(v.GetTensorTypeAndShapeInfo().GetElementType()));
  }
}

// ZipMap's output, a sequence (one per row) of maps class -> probability, as the (rows x
// classes) float32 matrix predict_proba gives; the classes in the map's own (class) order.
Array zipmap(const Ort::Value& seq) {
  Ort::AllocatorWithDefaultOptions alloc;
  std::size_t rows = seq.GetCount(), cols = 0;
  std::vector<float> values;
  for (std::size_t r = 0; r < rows; ++r) {
    Ort::Value map = seq.GetValue(static_cast<int>(r), alloc);
    Ort::Value probs = map.GetValue(1, alloc);
    std::size_t n = probs.GetTensorTypeAndShapeInfo().GetElementCount();
    if (r == 0) cols = n;
    if (n != cols) throw std::runtime_error("ZipMap rows have different numbers of classes");
    const float* p = probs.GetTensorData<float>();
    values.insert(values.end(), p, p + n);
  }
  Array a{std::string(1, native_order()) + "f4", {static_cast<int64_t>(rows), static_cast<int64_t>(cols)}, {}};
  a.data.assign(reinterpret_cast<const char*>(values.data()), reinterpret_cast<const char*>(values.data() + values.size()));
  return a;
}

}  // namespace

OnnxModel::OnnxModel(Ort::Env& env, const std::string& path) {
  Ort::SessionOptions options;  // the CPU provider, as the Python adapter asks for
  session_ = Ort::Session(env, path.c_str(), options);
  Ort::AllocatorWithDefaultOptions alloc;
  input_name_ = session_.GetInputNameAllocated(0, alloc).get();
  auto meta = session_.GetModelMetadata();
  auto raw = meta.LookupCustomMetadataMapAllocated(kOutputMapKey, alloc);
  if (!raw) throw std::runtime_error(std::string("ONNX model has no '") + kOutputMapKey + "' metadata (not written by crossload)");
  auto parsed = nlohmann::json::parse(raw.get(), nullptr, false);
  if (!parsed.is_object()) throw std::runtime_error(std::string("the '") + kOutputMapKey + "' metadata is not a JSON object");
  for (const auto& [method, name] : parsed.items())
    if (name.is_string()) output_map_[method] = name.get<std::string>();
}

Array OnnxModel::run(const std::string& method, const std::vector<float>& rows, const std::vector<int64_t>& shape) {
  auto found = output_map_.find(method);
  if (found == output_map_.end()) throw std::runtime_error("this ONNX model has no output serving " + method);
  auto memory = Ort::MemoryInfo::CreateCpu(OrtArenaAllocator, OrtMemTypeDefault);
  auto input = Ort::Value::CreateTensor<float>(memory, const_cast<float*>(rows.data()), rows.size(), shape.data(), shape.size());
  const char* in_names[] = {input_name_.c_str()};
  const char* out_names[] = {found->second.c_str()};
  auto outputs = session_.Run(Ort::RunOptions{nullptr}, in_names, &input, 1, out_names, 1);
  Array a = outputs[0].IsTensor() ? tensor(outputs[0]) : zipmap(outputs[0]);
  bool vector = std::find(kVectorOutputs.begin(), kVectorOutputs.end(), method) != kVectorOutputs.end();
  if (vector && a.shape.size() == 2 && a.shape[1] == 1) a.shape = {a.shape[0]};
  return a;
}

std::string error_type_name(OrtErrorCode code) {
  switch (code) {
    case ORT_FAIL: return "Fail";
    case ORT_INVALID_ARGUMENT: return "InvalidArgument";
    case ORT_NO_SUCHFILE: return "NoSuchFile";
    case ORT_NO_MODEL: return "NoModel";
    case ORT_ENGINE_ERROR: return "EngineError";
    case ORT_RUNTIME_EXCEPTION: return "RuntimeException";
    case ORT_INVALID_PROTOBUF: return "InvalidProtobuf";
    case ORT_MODEL_LOADED: return "ModelLoaded";
    case ORT_NOT_IMPLEMENTED: return "NotImplemented";
    case ORT_INVALID_GRAPH: return "InvalidGraph";
    case ORT_EP_FAIL: return "EPFail";
    default: return "OrtError";
  }
}

}  // namespace crossload_native
