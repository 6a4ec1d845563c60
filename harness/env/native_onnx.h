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
  double predict_seconds = 0;  // every requested output on the inputs
  long rss_peak_kb = 0;        // the child's peak RSS (ru_maxrss)
  long rss_at_fork_kb = 0;     // the consumer's RSS when it forked the child
};

// Loads `model` `repeat` times with the environment's native consumer (`launch` as the debian
// provider returns it for a `native_onnx = true` environment; the model and inputs must be
// visible inside it, e.g. under the run directory) and returns each load's costs. For
// benchmarks: `crossload-onnx-native measure` does the work. An Error names the command and why.
Result<std::vector<NativeLoad>> measure_native_onnx(const Launch& launch, const std::string& model,
                                                    const std::string& inputs, const std::vector<std::string>& outputs,
                                                    int repeat, std::chrono::milliseconds timeout);

}  // namespace crossload
