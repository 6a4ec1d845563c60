#pragma once
// Which format variant loads a user's artifact: the one named by --format, or the one its
// content says (the static audit reads the bytes), or, failing both, its file name.
#include <cstdint>
#include <optional>
#include <string>

#include "harness/util/result.h"

namespace crossload::check {

// `given` is auto or a format's alias (formats/registry.h: format_aliases()); `audit_format` is
// what the audit found (a format's name, npz, or empty), `protocol` the pickle protocol it
// read from the bytes. Returns a variant of formats/registry: every pickle protocol loads the
// same way, and a pickle is named by its protocol ("pickle-p4" up to 4, else "pickle-p5").
Result<std::string> load_variant(const std::string& path, const std::string& given,
                                 const std::string& audit_format, std::optional<std::int64_t> protocol = {});

}  // namespace crossload::check
