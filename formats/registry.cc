#include "formats/registry.h"

#include <algorithm>

namespace crossload {

// The generated table (formats/registry_table.cc.in), one entry per line of registry.txt.
extern const FormatDescriptor* const kFormatTable[];
extern const std::size_t kFormatTableSize;

namespace {

std::vector<FormatInfo> flatten_variants() {
  std::vector<FormatInfo> out;
  for (const auto* d : all_descriptors()) out.insert(out.end(), d->variants.begin(), d->variants.end());
  return out;
}

}  // namespace

std::span<const FormatDescriptor* const> all_descriptors() { return {kFormatTable, kFormatTableSize}; }

const FormatDescriptor* find_descriptor(std::string_view folder) {
  for (const auto* d : all_descriptors())
    if (d->name == folder) return d;
  return nullptr;
}

std::span<const FormatInfo> all_formats() {
  static const std::vector<FormatInfo> variants = flatten_variants();  // built once, never changed
  return variants;
}

std::optional<FormatInfo> find_format(std::string_view name) {
  for (const auto& f : all_formats())
    if (f.name == name) return f;
  return std::nullopt;
}

std::vector<std::string> format_aliases() {
  std::vector<std::string> out;
  for (const auto* d : all_descriptors())
    for (auto a : d->aliases) out.emplace_back(a);
  return out;
}

std::vector<RuntimePackage> format_packages() {
  std::vector<RuntimePackage> out;
  for (const auto* d : all_descriptors())
    for (const auto& p : d->packages)
      if (std::none_of(out.begin(), out.end(), [&](const RuntimePackage& q) { return q.dist == p.dist; }))
        out.push_back(p);
  return out;
}

}  // namespace crossload
