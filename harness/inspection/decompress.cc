#include "harness/inspection/decompress.h"

#include <bzlib.h>
#include <fmt/format.h>
#include <lz4frame.h>
#include <lzma.h>
#include <zlib.h>

#include <algorithm>
#include <memory>

namespace crossload::audit {

// One codec's decoder over the whole compressed input: each step writes what it can to `out`.
class Decoder {
 public:
  virtual ~Decoder() = default;
  struct Step {
    std::size_t written = 0;
    bool finished = false;  // the end of the compressed stream
  };
  virtual Result<Step> step(char* out, std::size_t n) = 0;
  virtual std::uint64_t consumed() const = 0;
};

namespace {

constexpr std::size_t kChunk = std::size_t{1} << 20;

Error corrupt(Codec c, std::uint64_t offset, std::string_view what) {
  return make_error(fmt::format("offset {}: {} stream {}", offset, codec_name(c), what));
}

class ZlibDecoder : public Decoder {
 public:
  ZlibDecoder(std::string_view in, Codec codec) : codec_(codec) {
    ok_ = inflateInit2(&s_, codec == Codec::kGzip ? 15 + 16 : 15) == Z_OK;
    s_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    s_.avail_in = static_cast<uInt>(std::min<std::size_t>(in.size(), UINT32_MAX));
  }
  ~ZlibDecoder() override {
    if (ok_) inflateEnd(&s_);
  }
  bool ok() const { return ok_; }
  Result<Step> step(char* out, std::size_t n) override {
    s_.next_out = reinterpret_cast<Bytef*>(out);
    s_.avail_out = static_cast<uInt>(std::min<std::size_t>(n, UINT32_MAX));
    uInt before = s_.avail_out;
    int rc = inflate(&s_, Z_NO_FLUSH);
    Step st{before - s_.avail_out, rc == Z_STREAM_END};
    if (rc == Z_BUF_ERROR && s_.avail_in == 0) return corrupt(codec_, s_.total_in, "is truncated");
    if (rc != Z_OK && rc != Z_BUF_ERROR && rc != Z_STREAM_END)
      return corrupt(codec_, s_.total_in, fmt::format("is corrupt ({})", s_.msg ? s_.msg : "?"));
    return st;
  }
  std::uint64_t consumed() const override { return s_.total_in; }

 private:
  z_stream s_{};
  Codec codec_;
  bool ok_ = false;
};

class Bz2Decoder : public Decoder {
 public:
  explicit Bz2Decoder(std::string_view in) {
    ok_ = BZ2_bzDecompressInit(&s_, 0, 0) == BZ_OK;
    s_.next_in = const_cast<char*>(in.data());
    s_.avail_in = static_cast<unsigned>(std::min<std::size_t>(in.size(), UINT32_MAX));
  }
  ~Bz2Decoder() override {
    if (ok_) BZ2_bzDecompressEnd(&s_);
  }
  bool ok() const { return ok_; }
  Result<Step> step(char* out, std::size_t n) override {
    s_.next_out = out;
    s_.avail_out = static_cast<unsigned>(std::min<std::size_t>(n, UINT32_MAX));
    unsigned before = s_.avail_out;
    int rc = BZ2_bzDecompress(&s_);
    Step st{before - s_.avail_out, rc == BZ_STREAM_END};
    if (rc != BZ_OK && rc != BZ_STREAM_END)
      return corrupt(Codec::kBz2, consumed(), fmt::format("is corrupt (code {})", rc));
    if (!st.finished && s_.avail_in == 0 && s_.avail_out != 0)
      return corrupt(Codec::kBz2, consumed(), "is truncated");
    return st;
  }
  std::uint64_t consumed() const override {
    return (std::uint64_t{s_.total_in_hi32} << 32) | s_.total_in_lo32;
  }

 private:
  bz_stream s_{};
  bool ok_ = false;
};

class XzDecoder : public Decoder {
 public:
  XzDecoder(std::string_view in, Codec codec) : codec_(codec) {
    // The dictionary a hostile header may ask for is bounded too.
    constexpr std::uint64_t kMemLimit = std::uint64_t{512} << 20;
    ok_ = (codec == Codec::kXz ? lzma_stream_decoder(&s_, kMemLimit, 0)
                               : lzma_alone_decoder(&s_, kMemLimit)) == LZMA_OK;
    s_.next_in = reinterpret_cast<const std::uint8_t*>(in.data());
    s_.avail_in = in.size();
  }
  ~XzDecoder() override { lzma_end(&s_); }
  bool ok() const { return ok_; }
  Result<Step> step(char* out, std::size_t n) override {
    s_.next_out = reinterpret_cast<std::uint8_t*>(out);
    s_.avail_out = n;
    lzma_ret rc = lzma_code(&s_, s_.avail_in == 0 ? LZMA_FINISH : LZMA_RUN);
    Step st{n - s_.avail_out, rc == LZMA_STREAM_END};
    if (rc == LZMA_MEMLIMIT_ERROR)
      return corrupt(codec_, s_.total_in, "asks for a dictionary above 512 MiB");
    if (rc == LZMA_BUF_ERROR) return corrupt(codec_, s_.total_in, "is truncated");
    if (rc != LZMA_OK && rc != LZMA_STREAM_END)
      return corrupt(codec_, s_.total_in,
                     fmt::format("is corrupt (code {})", static_cast<int>(rc)));
    return st;
  }
  std::uint64_t consumed() const override { return s_.total_in; }

 private:
  lzma_stream s_ = LZMA_STREAM_INIT;
  Codec codec_;
  bool ok_ = false;
};

class Lz4Decoder : public Decoder {
 public:
  explicit Lz4Decoder(std::string_view in) : in_(in) {
    ok_ = !LZ4F_isError(LZ4F_createDecompressionContext(&ctx_, LZ4F_VERSION));
  }
  ~Lz4Decoder() override {
    if (ctx_) LZ4F_freeDecompressionContext(ctx_);
  }
  bool ok() const { return ok_; }
  Result<Step> step(char* out, std::size_t n) override {
    std::size_t dst = n, src = in_.size() - pos_;
    std::size_t hint = LZ4F_decompress(ctx_, out, &dst, in_.data() + pos_, &src, nullptr);
    pos_ += src;
    if (LZ4F_isError(hint))
      return corrupt(Codec::kLz4, pos_, fmt::format("is corrupt ({})", LZ4F_getErrorName(hint)));
    Step st{dst, hint == 0};  // 0: the end of the frame
    if (!st.finished && pos_ >= in_.size() && dst == 0)
      return corrupt(Codec::kLz4, pos_, "is truncated");
    return st;
  }
  std::uint64_t consumed() const override { return pos_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  LZ4F_dctx* ctx_ = nullptr;
  bool ok_ = false;
};

template <class D, class... Args>
Result<std::unique_ptr<Decoder>> make_decoder(std::string_view what, Args&&... args) {
  auto d = std::make_unique<D>(std::forward<Args>(args)...);
  if (!d->ok()) return make_error(fmt::format("{} initialisation failed", what));
  return std::unique_ptr<Decoder>(std::move(d));
}

Result<std::unique_ptr<Decoder>> decoder_for(std::string_view in, Codec codec) {
  switch (codec) {
    case Codec::kZlib: case Codec::kGzip: return make_decoder<ZlibDecoder>("zlib", in, codec);
    case Codec::kBz2: return make_decoder<Bz2Decoder>("bz2", in);
    case Codec::kXz: case Codec::kLzma: return make_decoder<XzDecoder>("lzma", in, codec);
    case Codec::kLz4: return make_decoder<Lz4Decoder>("lz4", in);
  }
  return make_error("unknown codec");
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

DecompressStream::DecompressStream(std::unique_ptr<Decoder> decoder, std::uint64_t cap)
    : decoder_(std::move(decoder)), cap_(cap) {}
DecompressStream::~DecompressStream() = default;

Result<std::unique_ptr<DecompressStream>> DecompressStream::open(std::string_view in,
                                                                 Codec codec,
                                                                 std::uint64_t cap) {
  auto d = decoder_for(in, codec);
  if (!d) return d.error();
  return std::unique_ptr<DecompressStream>(new DecompressStream(std::move(*d), cap));
}

std::uint64_t DecompressStream::consumed() const { return decoder_->consumed(); }

Result<std::size_t> DecompressStream::read(char* buf, std::size_t n) {
  auto r = next(buf, n);
  if (!r) error_ = r.error();
  return r;
}

Result<std::size_t> DecompressStream::next(char* buf, std::size_t n) {
  if (error_) return *error_;
  if (finished_ || capped_) return std::size_t{0};
  if (produced_ >= cap_) {
    // At the cap: one more byte tells a stream that ends here from one that goes on.
    char probe;
    auto st = decoder_->step(&probe, 1);
    if (!st) return st.error();
    finished_ = st->finished && st->written == 0;
    capped_ = !finished_;
    return std::size_t{0};
  }
  n = static_cast<std::size_t>(std::min<std::uint64_t>(n, cap_ - produced_));
  while (true) {
    auto st = decoder_->step(buf, n);
    if (!st) return st.error();
    produced_ += st->written;
    finished_ = st->finished;
    if (st->written > 0 || finished_) return st->written;
  }
}

Result<Decompressed> decompress(std::string_view in, Codec codec, std::uint64_t cap) {
  auto stream = DecompressStream::open(in, codec, cap);
  if (!stream) return stream.error();
  Decompressed out;
  while (true) {
    std::size_t used = out.data.size();
    out.data.resize(used + static_cast<std::size_t>(std::min<std::uint64_t>(
                               kChunk, std::max<std::uint64_t>(cap - used, 1))));
    auto n = (*stream)->read(out.data.data() + used, out.data.size() - used);
    if (!n) return n.error();
    out.data.resize(used + *n);
    if (*n == 0) break;
  }
  out.capped = (*stream)->capped();
  out.consumed = (*stream)->consumed();
  return out;
}

}  // namespace crossload::audit
