#pragma once
// skops.io files (a zip holding schema.json and array members) and, since they share the zip
// container, .npz archives: the dispatcher hands every zip here.
#include <string_view>

#include "harness/inspection/context.h"
#include "harness/inspection/record.h"
#include "harness/util/result.h"

namespace crossload::audit {

// A zip artifact: skops when it holds schema.json, npz when it holds only .npy members.
Status inspect_zip_artifact(std::string_view data, const InspectContext& ctx,
                            InspectionRecord& rec);

// The types a skops schema.json would construct, checked against the policy.
Status inspect_skops_schema(std::string_view schema_json, const InspectContext& ctx,
                            InspectionRecord& rec);

}  // namespace crossload::audit
