#include "harness/inspection/decompress.h"

#include <gtest/gtest.h>
#include <zlib.h>

namespace crossload::audit {
namespace {

std::string zlib_compress(const std::string& in) {
  uLongf n = compressBound(in.size());
  std::string out(n, '\0');
  compress(reinterpret_cast<Bytef*>(out.data()), &n,
           reinterpret_cast<const Bytef*>(in.data()), in.size());
  out.resize(n);
  return out;
}

TEST(Decompress, ZlibRoundTrip) {
  std::string plain(100000, 'a');
  auto out = decompress(zlib_compress(plain), Codec::kZlib, 1 << 20);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(out->data, plain);
  EXPECT_FALSE(out->capped);
}

TEST(Decompress, CapStopsABomb) {
  std::string plain(8 << 20, '\0');
  auto out = decompress(zlib_compress(plain), Codec::kZlib, 1 << 20);
  ASSERT_TRUE(out.ok());
  EXPECT_TRUE(out->capped);
  EXPECT_EQ(out->data.size(), std::size_t{1} << 20);
}

TEST(Decompress, TruncatedStreamIsAnErrorWithOffset) {
  std::string z = zlib_compress(std::string(100000, 'x') + "tail");
  auto out = decompress(z.substr(0, z.size() / 2), Codec::kZlib, 1 << 20);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("offset"), std::string::npos);
}

TEST(Decompress, SniffsJoblibMagics) {
  EXPECT_EQ(sniff_codec("\x78\x9c"), Codec::kZlib);
  EXPECT_EQ(sniff_codec("\x1f\x8b"), Codec::kGzip);
  EXPECT_EQ(sniff_codec("BZh9"), Codec::kBz2);
  EXPECT_EQ(sniff_codec("\xfd" "7zXZ"), Codec::kXz);
  EXPECT_EQ(sniff_codec(std::string_view("\x5d\x00\x00", 3)), Codec::kLzma);
  EXPECT_EQ(sniff_codec("\x04\x22\x4d\x18"), Codec::kLz4);
  EXPECT_FALSE(sniff_codec("\x80\x04"));
}

TEST(Decompress, GarbageIsAnErrorNotACrash) {
  for (Codec c : {Codec::kZlib, Codec::kGzip, Codec::kBz2, Codec::kXz, Codec::kLzma, Codec::kLz4}) {
    auto out = decompress("\x78\x01garbage-garbage-garbage", c, 1 << 20);
    EXPECT_FALSE(out.ok()) << codec_name(c);
  }
}

}  // namespace
}  // namespace crossload::audit
