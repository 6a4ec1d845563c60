#pragma once
// The one entry point of the static audit: read a file, tell its format by content, hand it
// to that format's inspector (formats/<name>/inspector.h), and settle the verdict.
#include <string>
#include <string_view>

#include "harness/inspection/context.h"
#include "harness/inspection/record.h"
#include "harness/util/result.h"

namespace crossload::audit {

// Inspects the file at `path`. A file that cannot be read or parsed is an Error whose
// message names the file and the offset; but when what precedes the error is already
// unsafe, the record is returned (UNSAFE, with the parse error as a finding), because a
// loader would have executed that prefix before failing.
Result<InspectionRecord> inspect_file(const std::string& path, const Policy& policy,
                                      const InspectOptions& options = {});

// The same for bytes already in memory; `path` names them in messages and locates ONNX
// external data.
Result<InspectionRecord> inspect_bytes(std::string_view data, const std::string& path,
                                       const Policy& policy, const InspectOptions& options = {});

// Dispatch by content, for nested members (an .npy inside an .npz): fills `rec`.
Status inspect_member(std::string_view data, const InspectContext& ctx, InspectionRecord& rec);

}  // namespace crossload::audit
