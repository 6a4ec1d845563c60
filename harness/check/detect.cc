#include "harness/check/detect.h"

#include <fmt/format.h>

#include <array>
#include <string_view>
#include <utility>

namespace crossload::check {

namespace {

// The user's format names and the variant that loads each.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> kVariants{{
    {"pickle", "pickle-p5"},
    {"joblib", "joblib"},
    {"cloudpickle", "cloudpickle"},
    {"skops", "skops"},
    {"onnx", "onnx"},
}};

// Extensions people give these files, for content the audit could not name.
constexpr std::array<std::pair<std::string_view, std::string_view>, 9> kExtensions{{
    {".pkl", "pickle"}, {".pickle", "pickle"}, {".joblib", "joblib"}, {".jbl", "joblib"},
    {".cloudpkl", "cloudpickle"}, {".cloudpickle", "cloudpickle"}, {".skops", "skops"},
    {".onnx", "onnx"}, {".z", "joblib"},
}};

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string variant_of(std::string_view format) {
  for (const auto& [name, variant] : kVariants)
    if (name == format) return std::string(variant);
  return {};
}

std::string by_extension(const std::string& path) {
  for (const auto& [ext, format] : kExtensions)
    if (ends_with(path, ext)) return std::string(format);
  return {};
}

// The registry's pickle variant named like the file's protocol (as `crossload inspect` reports it);
// `protocol` counts only when the audit read a pickle (for ONNX it is the IR version).
std::string by_protocol(const std::string& variant, const std::string& audit_format,
                        std::optional<std::int64_t> protocol) {
  if (variant == "pickle-p5" && audit_format == "pickle" && protocol && *protocol <= 4) return "pickle-p4";
  return variant;
}

}  // namespace

Result<std::string> load_variant(const std::string& path, const std::string& given, const std::string& audit_format,
                                 std::optional<std::int64_t> protocol) {
  if (given != "auto") {
    std::string v = by_protocol(variant_of(given), audit_format, protocol);
    if (v.empty())
      return make_error(fmt::format("--format {}: unknown (auto, pickle, joblib, cloudpickle, skops, onnx)", given));
    return v;
  }
  if (audit_format == "npy" || audit_format == "npz")
    return make_error(fmt::format("{}: is a numpy {} file (data), not a model artifact", path, audit_format));
  // A plain pickle written by cloudpickle or joblib reads as a pickle: the name tells them apart.
  std::string ext = by_extension(path);
  bool pickled_by = audit_format == "pickle" && (ext == "joblib" || ext == "cloudpickle");
  std::string format = pickled_by ? ext : audit_format;
  if (format.empty()) format = ext;
  std::string v = variant_of(format);
  if (v.empty())
    return make_error(fmt::format("{}: cannot tell its format from its content or name; pass --format "
                                  "pickle|joblib|cloudpickle|skops|onnx", path));
  return by_protocol(v, audit_format, protocol);
}

}  // namespace crossload::check
