// libFuzzer target: joblib containers. The first byte picks a path: decompress the rest with
// one codec and scan it as a joblib stream (so the pickle/array part is reached), or hand the
// whole input to the compressed-container inspector.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "formats/joblib/inspector.h"
#include "formats/pickle/inspector.h"
#include "harness/audit/decompress.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace crossload::audit;
  if (size < 1) return 0;
  static const Policy policy;
  InspectOptions options;
  options.max_decompressed = 1 << 24;  // keep each run small; the bound is what is tested
  InspectContext ctx{policy, options, "fuzz.joblib"};
  InspectionRecord rec;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  unsigned mode = data[0] % 7;
  if (mode == 6) {
    (void)inspect_compressed_joblib(rest, ctx, rec);
    return 0;
  }
  auto out = decompress(rest, static_cast<Codec>(mode), options.max_decompressed);
  if (out && !out->capped) (void)inspect_pickle_bytes(out->data, ctx, rec);
  return 0;
}
