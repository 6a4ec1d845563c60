#include "harness/run/artifact_index.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace crossload {
namespace {

namespace fs = std::filesystem;

class ArtifactIndexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("crossload-index-" + std::to_string(::getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "artifacts" / "host" / "iris");
  }
  void TearDown() override { fs::remove_all(dir_); }

  void write(const std::string& rel, const std::string& text) { std::ofstream(dir_ / rel) << text; }
  std::string index_path() const { return (dir_ / kArtifactIndexFile).string(); }

  // An ok artifact with its manifest, one reference and the inputs, indexed from absolute paths.
  IndexedArtifact make_artifact() {
    std::string folder = "artifacts/host/iris/";
    for (const char* f : {"model.pkl", "model.pkl.manifest.json", "model.pkl.ref.predict.npy", "inputs.npy"})
      write(folder + f, f);
    ArtifactRecord r;
    r.producer = "host", r.fixture = "iris", r.format = "pickle-p5", r.status = "ok";
    r.path = (dir_ / folder / "model.pkl").string();
    r.manifest = {{"references", {{"predict", "model.pkl.ref.predict.npy"}}}, {"inputs", "inputs.npy"}};
    auto a = index_artifact(dir_.string(), r);
    EXPECT_TRUE(a.ok()) << a.error().message;
    return *a;
  }

  fs::path dir_;
};

TEST_F(ArtifactIndexTest, RoundTripsWithEveryPathRelative) {
  ArtifactIndex index;
  index.matrix_path = "m.toml";
  index.producer.name = "host";
  index.producer.fingerprint = {{"byteorder", "little"}};
  index.artifacts.push_back(make_artifact());
  ASSERT_TRUE(write_index(dir_.string(), index).ok());
  auto back = read_index(dir_.string());
  ASSERT_TRUE(back.ok()) << back.error().message;
  ASSERT_EQ(back->artifacts.size(), 1u);
  const IndexedArtifact& a = back->artifacts[0];
  EXPECT_EQ(a.record.path, "artifacts/host/iris/model.pkl");
  EXPECT_EQ(a.files.size(), 4u);
  for (const auto& [path, sha] : a.files) {
    EXPECT_FALSE(fs::path(path).is_absolute()) << path;
    EXPECT_EQ(sha.size(), 64u);
  }
  EXPECT_EQ(back->producer.fingerprint["byteorder"], "little");
}

TEST_F(ArtifactIndexTest, MissingIndexNamesTheFile) {
  auto r = read_index(dir_.string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(index_path() + ": missing"), std::string::npos) << r.error().message;
}

TEST_F(ArtifactIndexTest, AnotherSchemaVersionIsRefused) {
  write(kArtifactIndexFile, R"({"kind": "crossload-artifacts", "schema_version": 7, "crossload_version": "9.0"})");
  auto r = read_index(dir_.string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(index_path() + ": made by crossload 9.0 with artifact index schema version 7"),
            std::string::npos)
      << r.error().message;
}

TEST_F(ArtifactIndexTest, FieldsOfTheWrongTypeAreAnErrorNotACrash) {
  write(kArtifactIndexFile, R"({"kind": "crossload-artifacts", "schema_version": 1, "producer": {"name": 3}})");
  auto r = read_index(dir_.string());
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find(index_path() + ": malformed"), std::string::npos) << r.error().message;
}

TEST_F(ArtifactIndexTest, PathsLeavingTheDirectoryAreRefused) {
  for (const char* bad : {"../outside.pkl", "/etc/passwd", "artifacts/../../x"}) {
    nlohmann::json doc = {{"kind", "crossload-artifacts"}, {"schema_version", 1}, {"producer", {{"name", "host"}}},
                          {"artifacts", {{{"producer", "host"}, {"fixture", "iris"}, {"format", "pickle-p5"},
                                          {"status", "ok"}, {"path", bad}, {"files", {{bad, "00"}}}}}}};
    write(kArtifactIndexFile, doc.dump());
    auto r = read_index(dir_.string());
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.error().message.find("is not inside the directory"), std::string::npos) << r.error().message;
  }
}

}  // namespace
}  // namespace crossload
