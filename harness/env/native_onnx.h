#pragma once
// The native ONNX consumer (formats/onnx/native/: C++ against onnxruntime's C/C++ API, no
// Python) built inside a Debian environment that asks for it with `native_onnx = true`. The
// environment's own g++ compiles it against the suite's libonnxruntime-dev, so the program and
// the library share one C++ ABI whatever the host's compiler. The program is kept in the rootfs
// under a name derived from a hash of its sources: a changed source builds a new one, an
// unchanged one is reused from the cache.
#include <chrono>
#include <string>
#include <vector>

#include "harness/env/build_step.h"
#include "harness/env/provider.h"
#include "harness/util/result.h"

namespace crossload {

// What a rootfs needs to build the native consumer (added to mmdebstrap's --include).
std::vector<std::string> native_onnx_packages();

// "/opt/crossload/onnx-native-<hash>/crossload-onnx-native": where the program built from the
// sources under <source_root>/formats/onnx/native lives inside the rootfs.
Result<std::string> native_onnx_program(const std::string& source_root);

// Builds the program inside the rootfs unless it is there already. `compiler` is the argv prefix
// that runs a program inside the rootfs, writable (bwrap, and QEMU for a foreign CPU), ending
// with the interpreter it would run: g++ takes that last place. Returns the program's path
// inside the rootfs.
Result<std::string> ensure_native_onnx(const std::string& rootfs, std::vector<std::string> inside,
                                       const std::string& source_root, const StepContext& sc,
                                       const std::string& where);

// The launch of an environment's consumer worker: the native program in place of Python when
// the environment has one (Launch::loader_program), else the launch itself. (The provider's
// `where` already says that loads run natively.)
Launch consumer_launch(const Launch& launch);

// One load of an ONNX artifact by the native consumer, in a fresh isolated child.
struct NativeLoad {
  double load_seconds = 0;     // onnxruntime session creation (reading the file included)
  double predict_seconds = 0;  // every requested output on the inputs (or their first `rows`)
  long rss_peak_kb = 0;        // the child's peak RSS (ru_maxrss)
  long rss_at_fork_kb = 0;     // the consumer's RSS when it forked the child
};

// What `crossload-onnx-native measure` is asked to do; the model and inputs must be visible
// inside the environment (e.g. under the run directory).
struct NativeMeasure {
  std::string model, inputs;
  std::vector<std::string> outputs;
  int repeat = 1;
  std::size_t rows = 0;       // predict on the first `rows` rows only; 0: every row
  bool skip_missing = false;  // leave out outputs the artifact does not serve (ONNX may serve fewer)
  std::string out_prefix;     // the first run's outputs are copied to <out_prefix>.<output>.npy
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
};

// Runs the request with the environment's native consumer (`launch` as the debian provider
// returns it for a `native_onnx = true` environment) and returns each load's costs. For
// benchmarks (harness/bench/native_case.h). An Error's message starts with the stage, as bench
// failures do: "timeout: ...", "crash: ..." (died, or printed no report), or the failed load's
// own stage ("load: InvalidProtobuf: ...").
Result<std::vector<NativeLoad>> measure_native_onnx(const Launch& launch, const NativeMeasure& m);

// The argv of one native cold start: a fresh consumer process that loads `model` in itself and
// prints {"loaded": true, "max_rss_kb": ...} (the Python bench's cold script's line).
std::vector<std::string> native_cold_argv(const Launch& launch, const std::string& model);

}  // namespace crossload
