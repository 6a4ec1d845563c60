#pragma once
// The explicit table of persistence formats crossload knows. Each entry is one variant of a
// format folder under formats/; formats/registry.py is the Python twin of this table.
#include <optional>
#include <span>
#include <string_view>

namespace crossload {

struct FormatInfo {
  std::string_view name;       // as written in matrix files and cell ids
  std::string_view folder;     // formats/<folder>/
  std::string_view extension;  // of the artifact file
  std::string_view description;
};

std::span<const FormatInfo> all_formats();
std::optional<FormatInfo> find_format(std::string_view name);

}  // namespace crossload
