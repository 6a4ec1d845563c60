// libFuzzer target: skops schema.json (the type walk over parsed JSON).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/skops/inspector.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace crossload::audit;
  static const Policy policy;
  InspectContext ctx{policy, {}, "schema.json"};
  InspectionRecord rec;
  (void)inspect_skops_schema({reinterpret_cast<const char*>(data), size}, ctx, rec);
  return 0;
}
