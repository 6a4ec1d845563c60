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

// The decompressed stream passes through the parser's window (about 1 MiB) many times over:
// names and strings cut by a window edge, arrays far larger than it, all read as from memory.
TEST_F(RealJoblib, StreamsLargerThanTheWindowGiveTheSameRecord) {
  auto path = testing::python_artifact(
      "import joblib, numpy as np, os\n"
      "rng = np.random.default_rng(0)\n"
      "d = {'k%d' % i: rng.random(int(rng.integers(1, 40000))) for i in range(60)}\n"
      "d.update(names=['x' * int(n) for n in rng.integers(1, 3 << 20, 4)], evil=os.system)\n"
      "joblib.dump(d, sys.argv[1])\n"
      "for c in ['zlib', 'lz4']:\n"
      "    joblib.dump(d, sys.argv[1] + '.' + c, compress=(c, 1))\n",
      "big.joblib");
  ASSERT_TRUE(path);
  Policy policy;
  auto plain = inspect_file(*path, policy);
  ASSERT_TRUE(plain.ok()) << plain.error().message;
  ASSERT_EQ(plain->arrays.size(), 60u);
  for (std::string codec : {"zlib", "lz4"}) {
    auto r = inspect_file(*path + "." + codec, policy);
    ASSERT_TRUE(r.ok()) << codec << ": " << r.error().message;
    EXPECT_EQ(r->verdict, Verdict::kUnsafe) << codec;  // os.system, past many windows
    EXPECT_EQ(r->globals, plain->globals) << codec;
    ASSERT_EQ(r->arrays.size(), plain->arrays.size()) << codec;
    for (std::size_t i = 0; i < r->arrays.size(); ++i) {
      EXPECT_EQ(r->arrays[i].bytes, plain->arrays[i].bytes) << codec << " array " << i;
      EXPECT_EQ(r->arrays[i].offset, plain->arrays[i].offset) << codec << " array " << i;
    }
    ASSERT_EQ(r->findings.size(), plain->findings.size()) << codec;
    for (std::size_t i = 0; i < r->findings.size(); ++i) {
      EXPECT_EQ(r->findings[i].reason, plain->findings[i].reason) << codec;
      EXPECT_EQ(r->findings[i].offset, plain->findings[i].offset) << codec;
    }
  }
}

TEST(JoblibInspector, SteepInflationPastTheFloorIsUnsafe) {
  // 300 MiB of zeros after a valid pickle: the parser reports trailing bytes, and the ratio
  // (about 1000:1) and size (past 256 MiB) make it a bomb below the 2 GiB cap.
  Policy policy;
  std::string plain = "N.";
  plain.resize(plain.size() + (std::size_t{300} << 20), '\0');
  std::string z = zlib_compress(plain);
  plain.clear();
  plain.shrink_to_fit();
  auto r = inspect_bytes(z, "steep.joblib", policy);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->verdict, Verdict::kUnsafe);
  bool bomb = std::any_of(r->findings.begin(), r->findings.end(), [](const Finding& f) {
    return f.rule == Rule::kResource && f.reason.find(":1)") != std::string::npos;
  });
  EXPECT_TRUE(bomb);
  // Steep but small is no finding: a well-compressed small file is not a bomb.
  std::string small = "N.";
  small.resize(small.size() + (std::size_t{8} << 20), '\0');
  auto s = inspect_bytes(zlib_compress(small), "small.joblib", policy);
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(std::any_of(s->findings.begin(), s->findings.end(),
                           [](const Finding& f) { return f.rule == Rule::kResource; }));
}

TEST(JoblibInspector, CorruptTailAfterTheLastPickleIsStillAnError) {
  Policy policy;
  std::string z = zlib_compress("N.");
  z[z.size() - 1] ^= 0x55;  // the Adler-32 checksum, read after the pickle's STOP
  auto r = inspect_bytes(z, "tail.joblib", policy);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("zlib stream"), std::string::npos) << r.error().message;
}

}  // namespace
}  // namespace crossload::audit
