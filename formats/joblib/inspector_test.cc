#include "formats/joblib/inspector.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>

#include "harness/audit/inspect.h"
#include "harness/audit/test_support.h"

namespace crossload::audit {
namespace {

using std::string_literals::operator""s;

std::string zlib_compress(const std::string& in) {
  uLongf n = compressBound(in.size());
  std::string out(n, '\0');
  compress(reinterpret_cast<Bytef*>(out.data()), &n,
           reinterpret_cast<const Bytef*>(in.data()), in.size());
  out.resize(n);
  return out;
}

TEST(JoblibInspector, CompressedPickleIsScannedWithOffsetsInTheStream) {
  Policy policy;
  auto r = inspect_bytes(zlib_compress("cos\nsystem\n(S'id'\ntR."), "x.joblib", policy);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->format, "joblib");
  EXPECT_EQ(r->compression, "zlib");
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  EXPECT_EQ(r->findings[0].offset, 0u);
}

TEST(JoblibInspector, DecompressionBombIsUnsafeAndStopsAtTheCap) {
  Policy policy;
  InspectOptions options;
  options.max_decompressed = 1 << 20;
  auto r = inspect_bytes(zlib_compress(std::string(8 << 20, '\0')), "bomb.joblib", policy,
                         options);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  EXPECT_EQ(r->findings[0].rule, Rule::kResource);
}

TEST(JoblibInspector, TruncatedCompressedFileIsAnErrorNamingTheCodec) {
  Policy policy;
  std::string z = zlib_compress(std::string(50000, 'N') + ".");
  auto r = inspect_bytes(z.substr(0, z.size() - 4), "t.joblib", policy);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("t.joblib: offset"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("zlib"), std::string::npos);
}

class RealJoblib : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!testing::have_venv()) GTEST_SKIP() << "no project venv";
  }
};

TEST_F(RealJoblib, EveryCodecGivesTheSameRecord) {
  auto path = testing::python_artifact(
      "import joblib, numpy as np\n"
      "from sklearn.linear_model import LogisticRegression\n"
      "from sklearn.datasets import load_iris\n"
      "X, y = load_iris(return_X_y=True)\n"
      "m = LogisticRegression(max_iter=300).fit(X, y)\n"
      "m.extra_ = np.arange(6, dtype='>i4').reshape(2, 3)\n"
      "joblib.dump(m, sys.argv[1])\n"
      "for c in ['zlib', 'gzip', 'bz2', 'lzma', 'xz', 'lz4']:\n"
      "    joblib.dump(m, sys.argv[1] + '.' + c, compress=(c, 3))\n",
      "m.joblib");
  ASSERT_TRUE(path);
  Policy policy;
  auto plain = inspect_file(*path, policy);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  EXPECT_EQ(plain->verdict, Verdict::kSafe);
  EXPECT_EQ(plain->versions, std::vector<std::string>{"1.9.1"});
  auto big = std::find_if(plain->arrays.begin(), plain->arrays.end(),
                          [](const ArrayInfo& a) { return a.byte_order == "big"; });
  ASSERT_NE(big, plain->arrays.end());
  EXPECT_EQ(big->dtype, "i4");
  EXPECT_EQ(big->shape, (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(big->bytes, 24u);
  EXPECT_EQ(big->offset % 16, 0u);  // joblib aligns array data
  for (std::string codec : {"zlib", "gzip", "bz2", "lzma", "xz", "lz4"}) {
    auto r = inspect_file(*path + "." + codec, policy);
    ASSERT_TRUE(r.ok()) << codec << ": " << r.error().message;
    EXPECT_EQ(r->compression, codec);
    EXPECT_EQ(r->verdict, Verdict::kSafe) << codec;
    EXPECT_EQ(r->globals, plain->globals) << codec;
    EXPECT_EQ(r->arrays.size(), plain->arrays.size()) << codec;
  }
}

}  // namespace
}  // namespace crossload::audit
