// libFuzzer target: .npy headers and payloads (object arrays reach the pickle scanner).
#include <cstddef>
#include <cstdint>
#include <string>

#include "formats/npy/inspector.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace crossload::audit;
  static const Policy policy;
  InspectContext ctx{policy, {}, "fuzz.npy"};
  InspectionRecord rec;
  // The magic is given: the fuzzer's effort goes into the header and the data.
  std::string input = "\x93NUMPY" + std::string(reinterpret_cast<const char*>(data), size);
  (void)inspect_npy(input, ctx, rec);
  return 0;
}
