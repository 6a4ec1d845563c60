#pragma once
// Which format variant loads a user's artifact: the one named by --format, or the one its
// content says (the static audit reads the bytes), or, failing both, its file name.
#include <string>

#include "harness/util/result.h"

namespace crossload::check {

// `given` is auto|pickle|joblib|cloudpickle|skops|onnx; `audit_format` is what the audit found
// (pickle|joblib|cloudpickle|skops|onnx|npy|npz, or empty). Returns a variant of
// formats/registry (e.g. "pickle-p5": every pickle protocol loads the same way).
Result<std::string> load_variant(const std::string& path, const std::string& given,
                                 const std::string& audit_format);

}  // namespace crossload::check
