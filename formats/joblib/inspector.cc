#include "formats/joblib/inspector.h"

#include <fmt/format.h>

#include <algorithm>
#include <memory>

#include "formats/pickle/inspector.h"
#include "harness/inspection/decompress.h"

namespace crossload::audit {

bool looks_like_compressed_joblib(std::string_view head) {
  return sniff_codec(head).has_value() || head.starts_with("ZF");
}

namespace {

// A finding when the file inflates both far (kAmplificationFloor) and steeply
// (kAmplificationRatio): real models compress 2-20x, and 256 MiB of data that is more than
// 99 % redundant is a loader's memory being spent, not a model being stored.
constexpr std::uint64_t kAmplificationFloor = std::uint64_t{256} << 20;
constexpr std::uint64_t kAmplificationRatio = 100;

// Reads the rest of `stream` without keeping it (its size and errors are what matter).
void drain(DecompressStream& stream) {
  std::string sink(std::size_t{1} << 16, '\0');
  while (true) {
    auto n = stream.read(sink.data(), sink.size());
    if (!n || *n == 0) return;
  }
}

void judge_amplification(const DecompressStream& stream, InspectionRecord& rec) {
  std::uint64_t in = std::max<std::uint64_t>(stream.consumed(), 1);
  std::uint64_t out = stream.produced();
  if (out < kAmplificationFloor || out / in < kAmplificationRatio) return;
  rec.add_finding(Severity::kError, Rule::kResource,
                  fmt::format("{} compressed bytes inflate to {} ({}:1): a decompression bomb "
                              "that joblib.load would allocate (findings past {} MiB at more "
                              "than {}:1)",
                              in, out, out / in, kAmplificationFloor >> 20, kAmplificationRatio),
                  0);
}

}  // namespace

// joblib.load reads array bytes after each wrapper; pickle.load would read them as opcodes.
// A file could mean one thing to each: scan the plain reading too and keep what is unsafe.
void check_plain_pickle_reading(ByteReader& in, const Policy& policy, InspectionRecord& rec) {
  InspectionRecord plain;
  PickleScanOptions opts;
  (void)scan_pickle_stream(in, policy, opts, plain);
  for (auto& f : plain.findings) {
    if (f.severity != Severity::kError) continue;
    // Before the first array both readings are the same bytes: only new findings matter.
    bool known = std::any_of(rec.findings.begin(), rec.findings.end(), [&](const Finding& g) {
      return g.rule == f.rule && g.offset == f.offset;
    });
    if (known) continue;
    rec.add_finding(f.severity, f.rule,
                    fmt::format("if loaded with pickle.load instead of joblib.load: {}",
                                f.reason),
                    f.offset);
  }
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
  auto inflate = [&]() {
    return DecompressStream::open(data, *codec, ctx.options.max_decompressed);
  };
  auto stream = inflate();
  if (!stream) return make_error(fmt::format("{} (compressed file)", stream.error().message));
  // The decompressed pickle streams through the parser: array bytes are never held.
  auto reopen = [&]() -> std::unique_ptr<ByteSource> {
    auto again = inflate();
    return again ? std::move(*again) : nullptr;
  };
  auto st = inspect_pickle_source(**stream, reopen, ctx, rec);
  rec.format = "joblib";
  DecompressStream& plain = **stream;
  // A parse that stopped early still owes the verdict on what the file inflates to.
  if (!st) drain(plain);
  if (plain.capped()) {
    rec.add_finding(Severity::kError, Rule::kResource,
                    fmt::format("decompresses to more than {} bytes (a decompression bomb; "
                                "raise --max-decompressed if it is a real model)",
                                ctx.options.max_decompressed),
                    plain.consumed());
    rec.settle_verdict();
    return ok_status();
  }
  if (plain.error())  // a corrupt or truncated compressed stream, wherever the parse was
    return make_error(fmt::format("{} (compressed file)", plain.error()->message));
  if (!st)
    return make_error(fmt::format("{} of the {}-decompressed stream", st.error().message,
                                  codec_name(*codec)));
  judge_amplification(plain, rec);
  if (plain.consumed() < data.size())
    rec.add_finding(Severity::kWarning, Rule::kAnomaly,
                    fmt::format("{} bytes follow the end of the {} stream (offset in the "
                                "compressed file)",
                                data.size() - plain.consumed(), codec_name(*codec)),
                    plain.consumed());
  rec.settle_verdict();
  return ok_status();
}

}  // namespace crossload::audit
