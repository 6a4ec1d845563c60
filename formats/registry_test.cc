#include "formats/registry.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <set>
#include <string>

#include "harness/util/source_root.h"

namespace crossload {
namespace {

using json = nlohmann::json;

TEST(FormatRegistry, NamesAreUnique) {
  std::set<std::string_view> names;
  for (const auto& f : all_formats()) EXPECT_TRUE(names.insert(f.name).second) << f.name;
  EXPECT_GE(names.size(), 9u);
}

TEST(FormatRegistry, FindsKnownAndRejectsUnknown) {
  ASSERT_TRUE(find_format("skops").has_value());
  EXPECT_EQ(find_format("skops")->folder, "skops");
  EXPECT_FALSE(find_format("pickle-p9").has_value());
  ASSERT_NE(find_descriptor("joblib"), nullptr);
  EXPECT_EQ(find_descriptor("joblib")->variants.size(), 4u);
  EXPECT_EQ(find_descriptor("nope"), nullptr);
}

// What the rest of the harness relies on of every descriptor.
TEST(FormatRegistry, DescriptorsAreComplete) {
  std::set<std::string_view> aliases, extensions;
  namespace fs = std::filesystem;
  for (const auto* d : all_descriptors()) {
    SCOPED_TRACE(std::string(d->name));
    EXPECT_TRUE(fs::is_directory(fs::path(source_root()) / "formats" / std::string(d->name)));
    for (const auto& v : d->variants) EXPECT_EQ(v.folder, d->name) << v.name;
    for (auto a : d->aliases) EXPECT_TRUE(aliases.insert(a).second) << a;
    for (auto e : d->extensions) EXPECT_TRUE(extensions.insert(e).second) << e;
    if (!d->variants.empty()) {
      EXPECT_TRUE(find_format(d->load_variant).has_value()) << d->load_variant;
      EXPECT_FALSE(d->title.empty() || d->pros.empty() || d->cons.empty());
    }
    EXPECT_EQ(d->sniff == nullptr, d->inspect == nullptr);
    EXPECT_TRUE(d->sniff || d->pickled) << "the audit cannot tell this format by its bytes";
    for (auto t : d->fuzz_targets) {
      std::string file = "fuzz_" + std::string(t) + ".cc";
      EXPECT_TRUE(fs::exists(fs::path(source_root()) / "harness/audit/fuzz" / file) ||
                  fs::exists(fs::path(source_root()) / "formats" / std::string(d->name) / file))
          << file;
    }
  }
}

const char* use_name(PackageUse u) {
  switch (u) {
    case PackageUse::kLibrary: return "library";
    case PackageUse::kOptional: return "optional";
    case PackageUse::kDumpOnly: return "dump";
  }
  return "?";
}

// The C++ table as formats/registry.py's table() prints the Python one.
json cc_table() {
  json out = json::array();
  for (const auto* d : all_descriptors()) {
    if (d->variants.empty()) continue;  // a data format the audit reads: no adapter
    json variants = json::array(), packages = json::array();
    for (const auto& v : d->variants)
      variants.push_back({{"name", v.name}, {"extension", v.extension}, {"description", v.description}});
    for (const auto& p : d->packages)
      packages.push_back({{"dist", p.dist}, {"module", p.module}, {"use", use_name(p.use)}});
    out.push_back({{"folder", d->name}, {"variants", variants}, {"packages", packages}});
  }
  return out;
}

// The Python half (formats/registry.py) must hold the same formats, variants and packages, in
// the same order, field by field.
TEST(FormatRegistry, MatchesPythonRegistryFieldByField) {
  std::string cmd = std::string("cd ") + crossload::source_root() + " && python3 -m formats.registry";
  FILE* p = popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  while (std::size_t n = fread(buf, 1, sizeof buf, p)) out.append(buf, n);
  ASSERT_EQ(pclose(p), 0) << "python3 could not print formats/registry.py's table";
  json py = json::parse(out);
  json cc = cc_table();
  ASSERT_EQ(py.size(), cc.size()) << "Python: " << py.dump() << "\nC++: " << cc.dump();
  for (std::size_t i = 0; i < cc.size(); ++i) EXPECT_EQ(py[i], cc[i]) << "format " << i;
}

}  // namespace
}  // namespace crossload
