// libFuzzer target: the whole dispatcher (format sniffing, every inspector, verdicts).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "harness/audit/inspect.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace crossload::audit;
  static const Policy policy;
  InspectOptions options;
  options.max_decompressed = 1 << 24;
  (void)inspect_bytes({reinterpret_cast<const char*>(data), size}, "", policy, options);
  return 0;
}
