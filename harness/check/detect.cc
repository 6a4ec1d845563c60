#include "harness/check/detect.h"

#include <fmt/format.h>

#include <string_view>

#include "formats/registry.h"
#include "harness/util/text.h"

namespace crossload::check {

namespace {

bool ends_with(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The format a user's name (an alias, or the audit's format name) stands for.
const FormatDescriptor* named(std::string_view format) {
  for (const auto* d : all_descriptors())
    for (auto alias : d->aliases)
      if (alias == format) return d;
  return nullptr;
}

std::string variant_of(std::string_view format) {
  const auto* d = named(format);
  return d ? std::string(d->load_variant) : std::string();
}

// The format whose usual file names the path has, for content the audit could not name.
const FormatDescriptor* by_extension(const std::string& path) {
  for (const auto* d : all_descriptors())
    for (auto ext : d->extensions)
      if (ends_with(path, ext)) return d;
  return nullptr;
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
  std::string names = join(format_aliases(), ", ");
  if (given != "auto") {
    std::string v = by_protocol(variant_of(given), audit_format, protocol);
    if (v.empty()) return make_error(fmt::format("--format {}: unknown (auto, {})", given, names));
    return v;
  }
  if (audit_format == "npy" || audit_format == "npz")
    return make_error(fmt::format("{}: is a numpy {} file (data), not a model artifact", path, audit_format));
  // A plain pickle written by joblib, cloudpickle or dill reads as a pickle: the name tells them apart.
  const FormatDescriptor* ext = by_extension(path);
  bool pickled_by = audit_format == "pickle" && ext && ext->pickled;
  std::string format = pickled_by ? std::string(ext->name) : audit_format;
  if (format.empty() && ext) format = ext->name;
  std::string v = variant_of(format);
  if (v.empty())
    return make_error(fmt::format("{}: cannot tell its format from its content or name; pass --format {}", path,
                                  join(format_aliases(), "|")));
  return by_protocol(v, audit_format, protocol);
}

}  // namespace crossload::check
