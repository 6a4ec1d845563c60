#pragma once
// ONNX models read with a bounded protobuf wire-format reader of our own (no generated code):
// opset imports, operator domains and types (subgraphs and local functions included),
// initializer sizes, and external data locations.
#include <string_view>

#include "harness/inspection/context.h"
#include "harness/inspection/record.h"
#include "harness/util/result.h"

namespace crossload::audit {

// True when the bytes start like a serialized ModelProto (field 1 ir_version, varint).
bool looks_like_onnx(std::string_view head);

Status inspect_onnx(std::string_view data, const InspectContext& ctx, InspectionRecord& rec);

}  // namespace crossload::audit
