#include "formats/joblib/inspector.h"

#include <fmt/format.h>

#include "formats/pickle/inspector.h"
#include "harness/audit/decompress.h"

namespace crossload::audit {

bool looks_like_compressed_joblib(std::string_view head) {
  return sniff_codec(head).has_value() || head.starts_with("ZF");
}

Status inspect_compressed_joblib(std::string_view data, const InspectContext& ctx,
                                 InspectionRecord& rec) {
  rec.format = "joblib";
  if (data.starts_with("ZF"))
    return make_error(
        "offset 0: a joblib < 0.10 array file (\"ZF\" zlib container) holds one array of a "
        "legacy dump, not a model: inspect the dump's main pickle instead");
  auto codec = sniff_codec(data);
  if (!codec) return make_error("offset 0: not a compressed joblib file");
  rec.compression = std::string(codec_name(*codec));
  auto plain = decompress(data, *codec, ctx.options.max_decompressed);
  if (!plain) return make_error(fmt::format("{} (compressed file)", plain.error().message));
  if (plain->capped) {
    rec.add_finding(Severity::kError, Rule::kResource,
                    fmt::format("decompresses to more than {} bytes (a decompression bomb; "
                                "raise --max-decompressed if it is a real model)",
                                ctx.options.max_decompressed),
                    plain->consumed);
    rec.settle_verdict();
    return ok_status();
  }
  auto st = inspect_pickle_bytes(plain->data, ctx, rec);
  rec.format = "joblib";
  if (!st)
    return make_error(fmt::format("{} of the {}-decompressed stream", st.error().message,
                                  codec_name(*codec)));
  if (plain->consumed < data.size())
    rec.add_finding(Severity::kWarning, Rule::kAnomaly,
                    fmt::format("{} bytes follow the end of the {} stream (offset in the "
                                "compressed file)",
                                data.size() - plain->consumed, codec_name(*codec)),
                    plain->consumed);
  rec.settle_verdict();
  return ok_status();
}

}  // namespace crossload::audit
