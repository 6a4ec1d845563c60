#include "formats/registry.h"

#include <array>

namespace crossload {

namespace {
constexpr std::array kFormats{
    FormatInfo{"pickle-p4", "pickle", ".p4.pkl", "pickle.dump, protocol 4"},
    FormatInfo{"pickle-p5", "pickle", ".p5.pkl", "pickle.dump, protocol 5 (out-of-band capable)"},
    FormatInfo{"joblib", "joblib", ".joblib", "joblib.dump, uncompressed"},
    FormatInfo{"joblib-zlib3", "joblib", ".joblib.z", "joblib.dump, compress=('zlib', 3)"},
    FormatInfo{"joblib-lz4", "joblib", ".joblib.lz4", "joblib.dump, compress='lz4' (needs lz4)"},
    FormatInfo{"joblib-mmap", "joblib", ".mmap.joblib", "joblib.dump, loaded with mmap_mode='r'"},
    FormatInfo{"cloudpickle", "cloudpickle", ".cloudpkl", "cloudpickle.dump (by-value functions)"},
    FormatInfo{"skops", "skops", ".skops", "skops.io.dump, loaded trusting the recorded types"},
    FormatInfo{"onnx", "onnx", ".onnx", "skl2onnx.to_onnx, loaded with onnxruntime"},
};
}  // namespace

std::span<const FormatInfo> all_formats() { return kFormats; }

std::optional<FormatInfo> find_format(std::string_view name) {
  for (const auto& f : kFormats)
    if (f.name == name) return f;
  return std::nullopt;
}

}  // namespace crossload
