#pragma once
// What every format inspector is given: the policy, the bounds, and where the file lives
// (ONNX external data is resolved against the model's directory).
#include <cstdint>
#include <string>

#include "harness/inspection/policy.h"

namespace crossload::audit {

struct InspectOptions {
  // A compressed stream inflating past this is reported as a decompression bomb.
  std::uint64_t max_decompressed = std::uint64_t{2} << 30;
  // An ONNX tensor declaring more than this is reported as a memory-exhaustion attempt.
  std::uint64_t max_tensor_bytes = std::uint64_t{4} << 30;
};

struct InspectContext {
  const Policy& policy;
  InspectOptions options;
  std::string path;  // the artifact's path as given (may be empty for in-memory data)
  int depth = 0;     // nesting (a .npy inside an .npz, a pickle inside a .npy)
};

}  // namespace crossload::audit
