#pragma once
// joblib containers: a pickle followed, after each NumpyArrayWrapper, by the array's raw bytes;
// possibly compressed as a whole (zlib, gzip, bz2, lzma, xz, lz4: detected by magic bytes as
// joblib does). The pickle part is read by formats/pickle; the wrappers' array bytes by
// pickle_arrays.cc, inside its abstract unpickler.
#include <cstdint>
#include <string_view>

#include "harness/inspection/byte_reader.h"
#include "harness/inspection/context.h"
#include "harness/inspection/policy.h"
#include "harness/inspection/record.h"
#include "harness/util/result.h"

namespace crossload::audit {

// True when the bytes start like a compressed joblib file (or a legacy "ZF" zfile).
bool looks_like_compressed_joblib(std::string_view head);

// Inspects a compressed joblib file. Offsets in findings and arrays are offsets in the
// decompressed stream (the record's `compression` says which codec). A stream that
// decompresses to more than the context's max_decompressed bytes is UNSAFE (a decompression
// bomb) and not parsed further.
Status inspect_compressed_joblib(std::string_view data, const InspectContext& ctx,
                                 InspectionRecord& rec);

// joblib.load reads array bytes after each wrapper; pickle.load would read them as opcodes. The
// pickle inspector calls this on a fresh reader of a joblib stream: it scans the plain reading
// and adds to `rec` the unsafe findings only that reading has.
void check_plain_pickle_reading(ByteReader& in, const Policy& policy, InspectionRecord& rec);

}  // namespace crossload::audit
