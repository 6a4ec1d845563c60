// libFuzzer target: the pickle abstract unpickler (joblib array mode on, as for files).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/pickle/inspector.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace crossload::audit;
  static const Policy policy;
  InspectContext ctx{policy, {}, "fuzz.pkl"};
  InspectionRecord rec;
  (void)inspect_pickle_bytes({reinterpret_cast<const char*>(data), size}, ctx, rec);
  return 0;
}
