// ONNX: skl2onnx's graph of the model, run by onnxruntime (from Python, or natively).
#include "formats/descriptor.h"
#include "formats/onnx/inspector.h"
#include "formats/pickle/inspector.h"

namespace crossload {

namespace {
constexpr FormatInfo kVariants[] = {
    {"onnx", "onnx", ".onnx", "skl2onnx.to_onnx, loaded with onnxruntime"},
};
constexpr std::string_view kAliases[] = {"onnx"};
constexpr std::string_view kExtensions[] = {".onnx"};
constexpr RuntimePackage kPackages[] = {
    {"onnx", "onnx", "python3-onnx", PackageUse::kLibrary},
    {"onnxruntime", "onnxruntime", "python3-onnxruntime", PackageUse::kLibrary},
    {"skl2onnx", "skl2onnx", "python3-skl2onnx", PackageUse::kDumpOnly},
};
constexpr std::string_view kFuzz[] = {"onnx"};

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (std::size_t i = 0; i < suffix.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(s[s.size() - suffix.size() + i])) != suffix[i]) return false;
  return true;
}

// A protobuf has no magic bytes: the name decides, else the first field, unless it reads as a pickle.
bool sniff(std::string_view data, std::string_view path) {
  return ends_with_ci(path, ".onnx") || (!audit::looks_like_pickle(data) && audit::looks_like_onnx(data));
}
}  // namespace

extern const FormatDescriptor onnx_descriptor{
    .name = "onnx",
    .title = "ONNX",
    .variants = kVariants,
    .aliases = kAliases,
    .load_variant = "onnx",
    .extensions = kExtensions,
    .sniff = sniff,
    .sniff_rank = 40,
    .inspect = audit::inspect_onnx,
    .packages = kPackages,
    .guide_rank = 1,
    .pros = "Serves predictions without the Python object, and without Python at all: onnxruntime also runs from "
            "C and C++, so the serving side can stay small.",
    .cons = "Gives predictions, not the estimator back. Not every estimator has a converter, conversion (float32 "
            "inputs) can move values, and a graph can encode arbitrary computation: serve files of unknown "
            "origin in a sandbox.",
    .fuzz_targets = kFuzz,
};

}  // namespace crossload
