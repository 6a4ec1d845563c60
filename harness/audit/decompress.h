#pragma once
// Decompression of joblib's compressed containers with the real libraries (zlib, libbz2,
// liblzma, liblz4), bounded: output stops at a cap so a small hostile file cannot make the
// inspector allocate gigabytes.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

// Decompresses `in` up to `cap` output bytes. A corrupt or truncated stream is an Error
// naming the compressed offset where it was found.
Result<Decompressed> decompress(std::string_view in, Codec codec, std::uint64_t cap);

}  // namespace crossload::audit
