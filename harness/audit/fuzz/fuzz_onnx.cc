// libFuzzer target: the bounded protobuf reader and the ONNX model walk.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/onnx/inspector.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace crossload::audit;
  static const Policy policy;
  InspectContext ctx{policy, {}, ""};  // no path: external data is not resolved on disk
  InspectionRecord rec;
  (void)inspect_onnx({reinterpret_cast<const char*>(data), size}, ctx, rec);
  return 0;
}
