// The one main() of crossload_bench: every *_bench.cc registers its benchmarks statically and
// links into that binary, so no bench file may own main().
#include <benchmark/benchmark.h>

BENCHMARK_MAIN();
