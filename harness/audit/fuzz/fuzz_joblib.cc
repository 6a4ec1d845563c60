// libFuzzer target: joblib containers. The first byte picks a path: decompress the rest with
// one codec and scan it as a joblib stream (so the pickle/array part is reached), hand the
// whole input to the compressed-container inspector, or stream the rest in small pieces
// through the parser and require the very record (or error) the in-memory scan gives.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "formats/joblib/inspector.h"
#include "formats/pickle/inspector.h"
#include "harness/inspection/decompress.h"

namespace {

using namespace crossload::audit;

// Hands out the bytes `piece` at a time, so the reader's window edges fall everywhere.
class PieceSource : public ByteSource {
 public:
  PieceSource(std::string_view data, std::size_t piece) : data_(data), piece_(piece) {}
  crossload::Result<std::size_t> read(char* buf, std::size_t n) override {
    std::size_t k = std::min({n, piece_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string_view data_;
  std::size_t piece_, pos_ = 0;
};

bool same(const InspectionRecord& a, const InspectionRecord& b) {
  if (a.verdict != b.verdict || a.globals != b.globals || a.versions != b.versions ||
      a.findings.size() != b.findings.size() || a.arrays.size() != b.arrays.size())
    return false;
  for (std::size_t i = 0; i < a.findings.size(); ++i)
    if (a.findings[i].reason != b.findings[i].reason ||
        a.findings[i].offset != b.findings[i].offset)
      return false;
  for (std::size_t i = 0; i < a.arrays.size(); ++i)
    if (a.arrays[i].bytes != b.arrays[i].bytes || a.arrays[i].offset != b.arrays[i].offset)
      return false;
  return true;
}

void streamed_equals_in_memory(std::string_view data, std::size_t piece,
                               const InspectContext& ctx) {
  InspectionRecord memory, streamed;
  auto m = inspect_pickle_bytes(data, ctx, memory);
  PieceSource source(data, piece);
  auto reopen = [&]() -> std::unique_ptr<ByteSource> {
    return std::make_unique<PieceSource>(data, piece);
  };
  auto s = inspect_pickle_source(source, reopen, ctx, streamed);
  if (m.ok() != s.ok() || (!m.ok() && m.error().message != s.error().message) ||
      !same(memory, streamed))
    std::abort();  // the streamed parse must not differ from the in-memory one
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  static const Policy policy;
  InspectOptions options;
  options.max_decompressed = 1 << 24;  // keep each run small; the bound is what is tested
  InspectContext ctx{policy, options, "fuzz.joblib"};
  InspectionRecord rec;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  unsigned mode = data[0] % 8;
  if (mode == 7) {
    streamed_equals_in_memory(rest, 1 + data[0] / 8, ctx);
    return 0;
  }
  if (mode == 6) {
    (void)inspect_compressed_joblib(rest, ctx, rec);
    return 0;
  }
  auto out = decompress(rest, static_cast<Codec>(mode), options.max_decompressed);
  if (out && !out->capped) (void)inspect_pickle_bytes(out->data, ctx, rec);
  return 0;
}
