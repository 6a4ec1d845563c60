#include "harness/env/native_onnx.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "harness/env/debian_provider.h"
#include "harness/core/matrix.h"

namespace crossload {
namespace {

namespace fs = std::filesystem;

EnvSpec trixie(bool native) {
  EnvSpec e;
  e.name = "trixie-amd64";
  e.provider = "debian";
  e.suite = "trixie";
  e.arch = "amd64";
  e.native_onnx = native;
  return e;
}

TEST(NativeOnnx, OnlyEnvironmentsThatAskGetAnotherCacheKey) {
  CacheKey plain = debian_cache_key(trixie(false)), native = debian_cache_key(trixie(true));
  EXPECT_EQ(plain.canonical.find("native_onnx"), std::string::npos) << plain.canonical;
  EXPECT_NE(native.canonical.find("native_onnx=g++,libonnxruntime-dev,nlohmann-json3-dev"), std::string::npos)
      << native.canonical;
  EXPECT_NE(plain.id, native.id);
}

TEST(NativeOnnx, ConsumerLaunchRunsTheProgramInPlaceOfPython) {
  Launch l;
  l.python = {"bwrap", "--unshare-net", "--bind", "/r", "/", "/usr/bin/qemu-s390x-static", "/usr/bin/python3"};
  l.where = "trixie/s390x rootfs";
  EXPECT_EQ(consumer_launch(l).python, l.python);  // no native consumer: the Python worker
  l.loader_program = "/opt/crossload/onnx-native-x/crossload-onnx-native";
  Launch c = consumer_launch(l);
  ASSERT_EQ(c.python.size(), l.python.size());
  EXPECT_EQ(c.python.back(), l.loader_program);
  EXPECT_EQ(c.python[c.python.size() - 2], "/usr/bin/qemu-s390x-static");  // still emulated where it was
}

TEST(NativeOnnx, ProgramPathFollowsTheSources) {
  fs::path root = fs::temp_directory_path() / ("native-onnx-test-" + std::to_string(::getpid()));
  fs::create_directories(root / "formats/onnx/native");
  std::ofstream(root / "formats/onnx/native/main.cc") << "int main() { return 0; }\n";
  auto first = native_onnx_program(root.string());
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->rfind("/opt/crossload/onnx-native-", 0), 0u) << *first;
  EXPECT_EQ(fs::path(*first).filename(), "crossload-onnx-native");
  EXPECT_EQ(*native_onnx_program(root.string()), *first);
  std::ofstream(root / "formats/onnx/native/main.cc") << "int main() { return 1; }\n";
  EXPECT_NE(*native_onnx_program(root.string()), *first);  // a changed source builds a new program
  fs::remove_all(root / "formats");
  auto missing = native_onnx_program(root.string());
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("formats/onnx/native"), std::string::npos) << missing.error().message;
  fs::remove_all(root);
}

constexpr const char* kMatrix = R"([matrix]
producers = ["a"]
consumers = ["a"]
[env.a]
)";

TEST(NativeOnnx, MatrixKeyIsForDebianEnvironmentsOnly) {
  auto ok = parse_matrix(std::string(kMatrix) + "provider = \"debian\"\nsuite = \"trixie\"\narch = \"amd64\"\nnative_onnx = true\n", "m.toml");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_TRUE(ok->envs[0].native_onnx);
  auto host = parse_matrix(std::string(kMatrix) + "provider = \"host\"\npython = \"/usr/bin/python3\"\nnative_onnx = true\n", "m.toml");
  ASSERT_FALSE(host);
  EXPECT_NE(host.error().message.find("native_onnx: only the debian provider"), std::string::npos) << host.error().message;
  auto word = parse_matrix(std::string(kMatrix) + "provider = \"debian\"\nsuite = \"trixie\"\narch = \"amd64\"\nnative_onnx = \"yes\"\n", "m.toml");
  ASSERT_FALSE(word);
  EXPECT_NE(word.error().message.find("m.toml:8: [env.a] native_onnx: must be true or false"), std::string::npos)
      << word.error().message;
}

}  // namespace
}  // namespace crossload
