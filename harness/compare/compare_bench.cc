// Per-cell cost of the compare step: reading a prediction file and comparing it with
// the reference. Sizes are 1e6 values, far above a typical fixture's prediction count,
// so the figures bound the per-cell overhead from above.
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <unistd.h>

#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "harness/compare/compare.h"
#include "harness/compare/npy.h"

namespace crossload {
namespace {

constexpr std::size_t kCount = 1'000'000;

std::vector<double> random_values(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal;
  std::vector<double> v(n);
  for (double& x : v) x = normal(rng);
  return v;
}

// A .npy file of kCount float64 values in the given byte order, as numpy would write it.
std::string npy_file(bool big_endian) {
  const std::string descr = big_endian ? ">f8" : "<f8";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + std::to_string(kCount) + ",), }";
  while ((10 + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::string out = std::string("\x93NUMPY\x01\x00", 8) + char(header.size() & 0xff) + char(header.size() >> 8) + header;
  for (const double x : random_values(kCount, 1)) {
    std::uint64_t bits = std::bit_cast<std::uint64_t>(x);
    if (big_endian == (std::endian::native == std::endian::little)) bits = __builtin_bswap64(bits);
    out.append(reinterpret_cast<const char*>(&bits), 8);
  }
  return out;
}

std::string write_temp(const std::string& bytes) {
  std::string path = (std::filesystem::temp_directory_path() / "crossload-bench-XXXXXX").string();
  const int fd = ::mkstemp(path.data());
  if (fd >= 0) ::close(fd);
  std::ofstream(path, std::ios::binary) << bytes;
  return path;
}

void BM_ReadNpyF8(benchmark::State& state) {
  const std::string bytes = npy_file(state.range(0) != 0);
  const std::string path = write_temp(bytes);
  for (auto _ : state) {
    auto a = read_npy(path);
    if (!a) state.SkipWithError(a.error().message.c_str());
    benchmark::DoNotOptimize(a);
  }
  std::filesystem::remove(path);
  state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(bytes.size()));
  state.SetLabel(state.range(0) ? "big-endian" : "little-endian");
}
BENCHMARK(BM_ReadNpyF8)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

void BM_ParseNpyF8InMemory(benchmark::State& state) {
  const std::string bytes = npy_file(state.range(0) != 0);
  const std::span<const std::byte> span(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size());
  for (auto _ : state) {
    auto a = parse_npy(span, "bench.npy");
    benchmark::DoNotOptimize(a);
  }
  state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(bytes.size()));
  state.SetLabel(state.range(0) ? "big-endian" : "little-endian");
}
BENCHMARK(BM_ParseNpyF8InMemory)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond);

NpyArray float64s(std::vector<double> v) {
  NpyArray a{.kind = DtypeKind::kFloat, .item_size = 8, .byte_order = ByteOrder::kLittle, .shape = {v.size()}};
  a.floats = std::move(v);
  return a;
}

// Arg: how many values in a million the candidate changes by one ULP (0: a bitwise
// identical round trip, the common case; 1e6: every value differs).
void BM_CompareF8(benchmark::State& state) {
  const NpyArray ref = float64s(random_values(kCount, 2));
  std::vector<double> cand = ref.floats;
  const auto every = state.range(0) ? kCount / std::size_t(state.range(0)) : kCount + 1;
  for (std::size_t i = 0; i < kCount; i += every) cand[i] = std::nextafter(cand[i], 1e300);
  const NpyArray candidate = float64s(std::move(cand));
  for (auto _ : state) {
    Comparison c = compare_arrays(ref, candidate, {});
    benchmark::DoNotOptimize(c);
  }
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(kCount));
}
BENCHMARK(BM_CompareF8)->Arg(0)->Arg(1000)->Arg(1000000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace crossload
