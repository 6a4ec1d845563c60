#include "harness/audit/decompress.h"

#include <bzlib.h>
#include <fmt/format.h>
#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>

#include <algorithm>
#include <memory>

namespace crossload::audit {

namespace {

constexpr std::size_t kChunk = std::size_t{1} << 20;

// Grows `out` by up to one chunk without passing `cap`; returns the writable span.
std::pair<char*, std::size_t> grow(std::string& out, std::size_t used, std::uint64_t cap) {
  std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, cap - used));
  if (out.size() < used + want) out.resize(used + want);
  return {out.data() + used, want};
}

Error corrupt(Codec c, std::uint64_t offset, std::string_view what) {
  return make_error(fmt::format("offset {}: {} stream {}", offset, codec_name(c), what));
}

Result<Decompressed> inflate_all(std::string_view in, Codec codec, std::uint64_t cap) {
  z_stream s{};
  if (inflateInit2(&s, codec == Codec::kGzip ? 15 + 16 : 15) != Z_OK)
    return make_error("zlib initialisation failed");
  std::unique_ptr<z_stream, int (*)(z_stream*)> guard(&s, inflateEnd);
  s.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  s.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), UINT32_MAX));
  Decompressed out;
  std::size_t used = 0;
  while (true) {
    if (used >= cap) {
      out.capped = true;
      break;
    }
    auto [buf, len] = grow(out.data, used, cap);
    s.next_out = reinterpret_cast<Bytef*>(buf);
    s.avail_out = static_cast<uInt>(len);
    int rc = inflate(&s, Z_NO_FLUSH);
    used += len - s.avail_out;
    if (rc == Z_STREAM_END) break;
    if (rc == Z_BUF_ERROR && s.avail_in == 0) return corrupt(codec, s.total_in, "is truncated");
    if (rc != Z_OK && rc != Z_BUF_ERROR)
      return corrupt(codec, s.total_in, fmt::format("is corrupt ({})", s.msg ? s.msg : "?"));
  }
  out.data.resize(used);
  out.consumed = s.total_in;
  return out;
}

Result<Decompressed> bunzip_all(std::string_view in, std::uint64_t cap) {
  bz_stream s{};
  if (BZ2_bzDecompressInit(&s, 0, 0) != BZ_OK) return make_error("bz2 initialisation failed");
  std::unique_ptr<bz_stream, int (*)(bz_stream*)> guard(&s, BZ2_bzDecompressEnd);
  s.next_in = const_cast<char*>(in.data());
  s.avail_in = static_cast<unsigned>(std::min<std::size_t>(in.size(), UINT32_MAX));
  Decompressed out;
  std::size_t used = 0;
  while (true) {
    if (used >= cap) {
      out.capped = true;
      break;
    }
    auto [buf, len] = grow(out.data, used, cap);
    s.next_out = buf;
    s.avail_out = static_cast<unsigned>(len);
    int rc = BZ2_bzDecompress(&s);
    used += len - s.avail_out;
    if (rc == BZ_STREAM_END) break;
    std::uint64_t at = (std::uint64_t{s.total_in_hi32} << 32) | s.total_in_lo32;
    if (rc != BZ_OK) return corrupt(Codec::kBz2, at, fmt::format("is corrupt (code {})", rc));
    if (s.avail_in == 0 && s.avail_out != 0) return corrupt(Codec::kBz2, at, "is truncated");
  }
  out.data.resize(used);
  out.consumed = (std::uint64_t{s.total_in_hi32} << 32) | s.total_in_lo32;
  return out;
}

Result<Decompressed> unxz_all(std::string_view in, Codec codec, std::uint64_t cap) {
  lzma_stream s = LZMA_STREAM_INIT;
  // The dictionary a hostile header may ask for is bounded too.
  constexpr std::uint64_t kMemLimit = std::uint64_t{512} << 20;
  lzma_ret init = codec == Codec::kXz ? lzma_stream_decoder(&s, kMemLimit, 0)
                                      : lzma_alone_decoder(&s, kMemLimit);
  if (init != LZMA_OK) return make_error("lzma initialisation failed");
  std::unique_ptr<lzma_stream, void (*)(lzma_stream*)> guard(&s, lzma_end);
  s.next_in = reinterpret_cast<const std::uint8_t*>(in.data());
  s.avail_in = in.size();
  Decompressed out;
  std::size_t used = 0;
  while (true) {
    if (used >= cap) {
      out.capped = true;
      break;
    }
    auto [buf, len] = grow(out.data, used, cap);
    s.next_out = reinterpret_cast<std::uint8_t*>(buf);
    s.avail_out = len;
    lzma_ret rc = lzma_code(&s, s.avail_in == 0 ? LZMA_FINISH : LZMA_RUN);
    used += len - s.avail_out;
    if (rc == LZMA_STREAM_END) break;
    if (rc == LZMA_MEMLIMIT_ERROR)
      return corrupt(codec, s.total_in, "asks for a dictionary above 512 MiB");
    if (rc == LZMA_BUF_ERROR) return corrupt(codec, s.total_in, "is truncated");
    if (rc != LZMA_OK) return corrupt(codec, s.total_in, fmt::format("is corrupt (code {})",
                                                                     static_cast<int>(rc)));
  }
  out.data.resize(used);
  out.consumed = s.total_in;
  return out;
}

Result<Decompressed> unlz4_all(std::string_view in, std::uint64_t cap) {
  LZ4F_dctx* raw = nullptr;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&raw, LZ4F_VERSION)))
    return make_error("lz4 initialisation failed");
  std::unique_ptr<LZ4F_dctx, LZ4F_errorCode_t (*)(LZ4F_dctx*)> guard(
      raw, LZ4F_freeDecompressionContext);
  Decompressed out;
  std::size_t used = 0, pos = 0;
  while (true) {
    if (used >= cap) {
      out.capped = true;
      break;
    }
    auto [buf, len] = grow(out.data, used, cap);
    std::size_t dst = len, src = in.size() - pos;
    std::size_t hint = LZ4F_decompress(raw, buf, &dst, in.data() + pos, &src, nullptr);
    pos += src;
    used += dst;
    if (LZ4F_isError(hint))
      return corrupt(Codec::kLz4, pos, fmt::format("is corrupt ({})", LZ4F_getErrorName(hint)));
    if (hint == 0) break;  // end of frame
    if (pos >= in.size() && dst == 0) return corrupt(Codec::kLz4, pos, "is truncated");
  }
  out.data.resize(used);
  out.consumed = pos;
  return out;
}

}  // namespace

std::string_view codec_name(Codec c) {
  switch (c) {
    case Codec::kZlib: return "zlib";
    case Codec::kGzip: return "gzip";
    case Codec::kBz2: return "bz2";
    case Codec::kXz: return "xz";
    case Codec::kLzma: return "lzma";
    case Codec::kLz4: return "lz4";
  }
  return "?";
}

std::optional<Codec> sniff_codec(std::string_view h) {
  if (h.starts_with("\x78")) return Codec::kZlib;
  if (h.starts_with("\x1f\x8b")) return Codec::kGzip;
  if (h.starts_with("BZh")) return Codec::kBz2;
  if (h.starts_with("\xfd\x37\x7a\x58\x5a")) return Codec::kXz;
  if (h.starts_with(std::string_view("\x5d\x00", 2))) return Codec::kLzma;
  if (h.starts_with("\x04\x22\x4d\x18")) return Codec::kLz4;
  return std::nullopt;
}

Result<Decompressed> decompress(std::string_view in, Codec codec, std::uint64_t cap) {
  switch (codec) {
    case Codec::kZlib: case Codec::kGzip: return inflate_all(in, codec, cap);
    case Codec::kBz2: return bunzip_all(in, cap);
    case Codec::kXz: case Codec::kLzma: return unxz_all(in, codec, cap);
    case Codec::kLz4: return unlz4_all(in, cap);
  }
  return make_error("unknown codec");
}

}  // namespace crossload::audit
