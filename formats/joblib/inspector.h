#pragma once
// joblib containers: a pickle followed, after each NumpyArrayWrapper, by the array's raw bytes;
// possibly compressed as a whole (zlib, gzip, bz2, lzma, xz, lz4: detected by magic bytes as
// joblib does). The pickle part is read by formats/pickle.
#include <cstdint>
#include <string_view>

#include "harness/audit/context.h"
#include "harness/audit/record.h"
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

}  // namespace crossload::audit
