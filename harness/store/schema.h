#pragma once
// The results store's schema, as an ordered list of migrations: migration N turns a
// version N-1 store into version N. A store records its version in meta.schema_version;
// released migrations never change, new ones are appended.
#include <span>
#include <string_view>

namespace crossload::schema {

// Each entry is the SQL that brings the store from version (index) to (index + 1).
std::span<const std::string_view> migrations();

inline int current_version() { return static_cast<int>(migrations().size()); }

}  // namespace crossload::schema
