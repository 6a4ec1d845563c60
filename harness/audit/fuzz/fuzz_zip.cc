// libFuzzer target: zip containers (skops and npz) through libzip.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/skops/inspector.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace crossload::audit;
  static const Policy policy;
  InspectOptions options;
  options.max_decompressed = 1 << 24;
  InspectContext ctx{policy, options, "fuzz.skops"};
  InspectionRecord rec;
  (void)inspect_zip_artifact({reinterpret_cast<const char*>(data), size}, ctx, rec);
  return 0;
}
