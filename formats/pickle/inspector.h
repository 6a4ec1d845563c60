#pragma once
// Static inspection of pickle streams (protocols 0-5), the base of pickle, joblib and
// cloudpickle artifacts. Nothing is imported or executed: an abstract unpickler replays every
// opcode over symbolic values (the same stack, mark and memo discipline as CPython's C
// unpickler), so STACK_GLOBAL operands are resolved through the memo, calls are seen with
// their arguments, and arrays, versions and by-value code are recognised structurally.
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>

#include "harness/inspection/byte_reader.h"
#include "harness/inspection/context.h"
#include "harness/inspection/policy.h"
#include "harness/inspection/record.h"
#include "harness/util/result.h"

namespace crossload::audit {

struct PickleScanOptions {
  // joblib: the raw bytes of each array follow its NumpyArrayWrapper in the stream.
  bool joblib_arrays = false;
  // Bound on symbolic objects per pickle (memory stays proportional to the input below it).
  std::uint64_t max_values = std::uint64_t{1} << 24;
  // Nesting level (a pickle inside a joblib object array or a .npy); bounded by kMaxDepth.
  int depth = 0;
  // Stop after the first pickle (nested pickles, .npy object payloads).
  bool single = false;
  static constexpr int kMaxDepth = 8;
};

// What one scan saw, beyond the record itself.
struct PickleScanSummary {
  std::int64_t protocol = -1;   // of the first pickle; -1 if no PROTO opcode
  bool saw_binary_opcode = false;
  std::uint64_t array_wrappers = 0;  // joblib NumpyArrayWrapper objects met
  std::string_view pickled_by;       // the format whose library's globals were imported (cloudpickle, dill)
  std::uint64_t pickles = 0;         // how many pickles (STOPs) the stream held
};

// Scans the pickles in `in` from its position (all of them, or one if opts.single), adding
// globals, arrays, versions and findings to `rec`. A malformed stream is an Error naming the
// offset; `rec` then keeps what was learned before it.
Result<PickleScanSummary> scan_pickle_stream(ByteReader& in, const Policy& policy,
                                             const PickleScanOptions& opts,
                                             InspectionRecord& rec);

// True when the bytes can start a pickle (a PROTO opcode or a protocol 0/1 opcode).
bool looks_like_pickle(std::string_view head);

// Inspects a whole pickle, joblib (uncompressed), cloudpickle or dill file into `rec`. The
// format is told by content: joblib array wrappers make it joblib, a global of a pickle-based
// format's library (formats/<name>/descriptor.cc: pickle_module) that format. On a parse error `rec` keeps what was learned before the error.
Status inspect_pickle_bytes(std::string_view data, const InspectContext& ctx,
                            InspectionRecord& rec);

// The same audit of a pickle read from a stream (a decompressor), in bounded memory: array
// bytes are stepped over, never held. `reopen` gives a fresh stream of the same bytes for the
// plain pickle.load reading of a joblib file (or nullptr to skip it). A read error of the
// source ends the scan with that error.
using ReopenSource = std::function<std::unique_ptr<ByteSource>()>;
Status inspect_pickle_source(ByteSource& source, const ReopenSource& reopen,
                             const InspectContext& ctx, InspectionRecord& rec);

}  // namespace crossload::audit
