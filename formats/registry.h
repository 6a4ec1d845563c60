#pragma once
// The table of formats crossload knows, in formats/registry.txt's order: one descriptor per
// folder (formats/descriptor.h), and their variants flattened. formats/registry.py is the
// Python half; formats/registry_test.cc compares the two field by field.
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "formats/descriptor.h"

namespace crossload {

std::span<const FormatDescriptor* const> all_descriptors();
const FormatDescriptor* find_descriptor(std::string_view folder);

// Every variant of every format, in the table's order.
std::span<const FormatInfo> all_formats();
std::optional<FormatInfo> find_format(std::string_view name);

// The names `crossload check --format` accepts besides "auto", in the table's order.
std::vector<std::string> format_aliases();
// The Python distributions the formats need (dist, module), in the table's order, each once.
std::vector<RuntimePackage> format_packages();

}  // namespace crossload
