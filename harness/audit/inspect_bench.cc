// Scan throughput of the static audit per format, on the zoo (and its large model) as written
// by fixtures/hostile/bench_corpus.py into $CROSSLOAD_AUDIT_CORPUS (default build-bench-corpus),
// and, when $CROSSLOAD_AUDIT_FILES names a file listing paths (one per line), on exactly those
// ("Inspect/listed": how compare_scanners.py times the scan alone, beside picklescan's).
// Registered at static-initialisation time: crossload_bench's main is BENCHMARK_MAIN.
#include "harness/util/source_root.h"
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "harness/audit/inspect.h"
#include "harness/audit/test_support.h"

namespace crossload::audit {
namespace {

namespace fs = std::filesystem;

fs::path corpus_dir() {
  const char* env = std::getenv("CROSSLOAD_AUDIT_CORPUS");
  return env ? fs::path(env) : fs::path(crossload::source_root()) / "build-bench-corpus";
}

// "wine_random_forest_classifier.joblib.lz4" -> "joblib.lz4": the format variant's extension.
std::string variant_of(const fs::path& p) {
  std::string name = p.filename().string();
  auto dot = name.find('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

// Paths are grouped when registering (a directory listing: cheap at start-up); contents are
// read the first time a benchmark runs.
struct Group {
  std::vector<fs::path> paths;
  std::vector<std::string> contents;
  const std::vector<std::string>& load() {
    if (contents.empty())
      for (const auto& p : paths) contents.push_back(testing::read_all(p.string()));
    return contents;
  }
};

void scan_all(benchmark::State& state, Group& group) {
  const auto& files = group.load();
  Policy policy;
  std::int64_t bytes = 0;
  for (auto _ : state) {
    for (const std::string& f : files) {
      auto r = inspect_bytes(f, "bench", policy);
      benchmark::DoNotOptimize(r);
      bytes += static_cast<std::int64_t>(f.size());
    }
  }
  state.SetBytesProcessed(bytes);
  state.counters["files"] = static_cast<double>(files.size());
}

void register_listed(const char* list_file) {
  static Group listed;  // lives as long as the registered benchmark
  std::ifstream in(list_file);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) listed.paths.emplace_back(line);
  benchmark::RegisterBenchmark("Inspect/listed", [](benchmark::State& s) { scan_all(s, listed); })
      ->Unit(benchmark::kMillisecond);
}

int register_all() {
  if (const char* list = std::getenv("CROSSLOAD_AUDIT_FILES")) register_listed(list);
  fs::path zoo = corpus_dir() / "zoo";
  if (!fs::exists(zoo)) {
    benchmark::RegisterBenchmark("Inspect/no_corpus", [](benchmark::State& state) {
      for (auto _ : state) {
      }
      state.SkipWithError("no corpus: run .venv/bin/python -m fixtures.hostile.bench_corpus "
                          "build-bench-corpus (or set CROSSLOAD_AUDIT_CORPUS)");
    });
    return 0;
  }
  static std::map<std::string, Group> groups;  // lives as long as the registered benchmarks
  for (const auto& e : fs::directory_iterator(zoo)) {
    bool large = e.path().filename().string().starts_with("large_");
    groups[(large ? "large/" : "zoo/") + variant_of(e.path())].paths.push_back(e.path());
  }
  for (auto& [name, group] : groups)
    benchmark::RegisterBenchmark(("Inspect/" + name).c_str(),
                                 [g = &group](benchmark::State& s) { scan_all(s, *g); })
        ->Unit(benchmark::kMillisecond);
  return 0;
}

const int registered = register_all();

}  // namespace
}  // namespace crossload::audit
