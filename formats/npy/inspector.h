#pragma once
// .npy (one array: magic, version, a Python-literal header, raw data; object arrays carry a
// pickle instead) and .npz (a zip of .npy members).
#include <string_view>

#include "harness/inspection/context.h"
#include "harness/inspection/record.h"
#include "harness/util/result.h"

namespace crossload::audit {

Status inspect_npy(std::string_view data, const InspectContext& ctx, InspectionRecord& rec);

// One .npy member of an archive: adds its array (named `member`) and findings to `rec`.
Status inspect_npy_member(std::string_view data, std::string_view member,
                          const InspectContext& ctx, InspectionRecord& rec);

}  // namespace crossload::audit
