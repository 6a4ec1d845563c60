#include "harness/bench/plan.h"

#include <fmt/format.h>

#include "formats/registry.h"
#include "harness/bench/claims.h"

namespace crossload::bench {

const std::vector<std::string>& codec_formats() {
  static const std::vector<std::string> kCodecs = [] {
    std::vector<std::string> out;
    for (const char* codec : {"zlib", "gzip", "bz2", "lzma", "xz", "lz4"}) out.push_back(fmt::format("joblib-{}-3", codec));
    return out;
  }();
  return kCodecs;
}

bool known_format(const std::string& name) {
  if (find_format(name)) return true;
  for (const auto& c : codec_formats())
    if (c == name) return true;
  return false;
}

std::string artifact_extension(const std::string& format) {
  if (auto f = find_format(format)) return std::string(f->extension);
  return ".joblib";  // the codec variants: joblib reads the codec from the file's magic bytes
}

Result<std::vector<PlanItem>> make_plan(const std::vector<std::string>& fixtures,
                                        const std::vector<std::string>& formats) {
  for (const auto& f : formats) {
    if (known_format(f)) continue;
    std::string known;
    for (const auto& info : all_formats()) known += std::string(info.name) + ", ";
    for (const auto& c : codec_formats()) known += c + ", ";
    return make_error(fmt::format("--format: unknown format '{}' (known: {})", f, known.substr(0, known.size() - 2)));
  }
  if (fixtures.empty() && formats.empty()) return claims_plan();
  if (fixtures.empty() || formats.empty())
    return make_error("give both --fixture and --format, or neither (then the guide's claims are measured)");
  std::vector<PlanItem> plan;
  for (const auto& fixture : fixtures) plan.push_back({fixture, formats});
  return plan;
}

}  // namespace crossload::bench
