#pragma once
// Decompression of joblib's compressed containers with the real libraries (zlib, libbz2,
// liblzma, liblz4), bounded: output stops at a cap so a small hostile file cannot make the
// inspector allocate gigabytes, and a stream hands it out piece by piece so a parser never
// holds it whole.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "harness/inspection/byte_reader.h"
#include "harness/util/result.h"

namespace crossload::audit {

enum class Codec { kZlib, kGzip, kBz2, kXz, kLzma, kLz4 };

std::string_view codec_name(Codec c);

// The codec whose magic bytes start `head`, as joblib detects it.
std::optional<Codec> sniff_codec(std::string_view head);

struct Decompressed {
  std::string data;
  bool capped = false;  // the output reached the cap: there is more
  std::uint64_t consumed = 0;  // compressed bytes read
};

class Decoder;

// The decompressed bytes of `in` as a stream, up to `cap` bytes. A corrupt or truncated stream
// is an Error from read() naming the compressed offset where it was found.
class DecompressStream : public ByteSource {
 public:
  static Result<std::unique_ptr<DecompressStream>> open(std::string_view in, Codec codec,
                                                        std::uint64_t cap);
  ~DecompressStream() override;
  Result<std::size_t> read(char* buf, std::size_t n) override;

  bool capped() const { return capped_; }        // stopped at the cap: there is more
  bool finished() const { return finished_; }    // reached the end of the compressed stream
  std::uint64_t produced() const { return produced_; }  // decompressed bytes handed out
  std::uint64_t consumed() const;                // compressed bytes read
  const std::optional<Error>& error() const { return error_; }  // what read() failed with

 private:
  DecompressStream(std::unique_ptr<Decoder> decoder, std::uint64_t cap);
  Result<std::size_t> next(char* buf, std::size_t n);
  std::unique_ptr<Decoder> decoder_;
  std::uint64_t cap_;
  std::uint64_t produced_ = 0;
  bool capped_ = false;
  bool finished_ = false;
  std::optional<Error> error_;
};

// Decompresses `in` up to `cap` output bytes. A corrupt or truncated stream is an Error
// naming the compressed offset where it was found.
Result<Decompressed> decompress(std::string_view in, Codec codec, std::uint64_t cap);

}  // namespace crossload::audit
