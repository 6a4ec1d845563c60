// The harness's own hot paths that harness/compare/compare_bench.cc leaves out: class labels
// (int64 and unicode, what every classifier cell compares), float32 (ONNX outputs), and the
// statistics `bench compare` runs per benchmark. Sizes bound a cell's cost from above.
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>
#include <string>

#include "harness/bench/gbench_json.h"
#include "harness/bench/stats.h"
#include "harness/compare/compare.h"
#include "reports/mann_whitney.h"

namespace crossload {
namespace {

constexpr std::size_t kCount = 1'000'000;

NpyArray labels(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  NpyArray a{.kind = DtypeKind::kInt, .item_size = 8, .byte_order = ByteOrder::kLittle, .shape = {n}};
  for (std::size_t i = 0; i < n; ++i) a.ints.push_back(static_cast<std::int64_t>(rng() % 10));
  return a;
}

void BM_CompareInt64Labels(benchmark::State& state) {
  const NpyArray ref = labels(kCount, 1), same = ref;
  for (auto _ : state) benchmark::DoNotOptimize(compare_arrays(ref, same, {}));
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(kCount));
}
BENCHMARK(BM_CompareInt64Labels)->Unit(benchmark::kMillisecond);

void BM_CompareUnicodeLabels(benchmark::State& state) {
  const std::size_t n = 100'000;
  NpyArray ref{.kind = DtypeKind::kUnicode, .item_size = 40, .byte_order = ByteOrder::kLittle, .shape = {n}};
  const std::u32string names[] = {U"setosa", U"versicolor", U"virginica"};
  for (std::size_t i = 0; i < n; ++i) ref.strings.push_back(names[i % 3]);
  const NpyArray same = ref;
  for (auto _ : state) benchmark::DoNotOptimize(compare_arrays(ref, same, {}));
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(n));
}
BENCHMARK(BM_CompareUnicodeLabels)->Unit(benchmark::kMillisecond);

// float32 candidate against its float32 reference, every value one ULP off: the ULP path.
void BM_CompareF4OneUlp(benchmark::State& state) {
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  NpyArray ref{.kind = DtypeKind::kFloat, .item_size = 4, .byte_order = ByteOrder::kLittle, .shape = {kCount}};
  for (std::size_t i = 0; i < kCount; ++i) ref.floats.push_back(normal(rng));
  NpyArray cand = ref;
  for (double& x : cand.floats) x = std::nextafter(static_cast<float>(x), 1e30f);
  for (auto _ : state) benchmark::DoNotOptimize(compare_arrays(ref, cand, {1e-5, 1e-6}));
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(kCount));
}
BENCHMARK(BM_CompareF4OneUlp)->Unit(benchmark::kMillisecond);

// What `bench compare` pays per benchmark: two medians and two one-sided U tests; Arg: repetitions.
void BM_BenchCompareSeries(benchmark::State& state) {
  std::mt19937_64 rng(4);
  std::lognormal_distribution<double> times(-6, 0.3);
  std::vector<double> a(static_cast<std::size_t>(state.range(0))), b(a.size());
  for (auto& x : a) x = times(rng);
  for (auto& x : b) x = times(rng) * 1.1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(bench::summarize(a).median + bench::summarize(b).median);
    benchmark::DoNotOptimize(mann_whitney_greater(a, b));
    benchmark::DoNotOptimize(mann_whitney_greater(b, a));
  }
}
BENCHMARK(BM_BenchCompareSeries)->Arg(9)->Arg(30)->Arg(1000);

}  // namespace
}  // namespace crossload
