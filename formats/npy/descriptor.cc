// .npy arrays: data, not models, but the audit reads them (inputs, and members of .npz archives).
#include "formats/descriptor.h"
#include "formats/npy/inspector.h"

namespace crossload {

namespace {
constexpr std::string_view kFuzz[] = {"npy"};

bool sniff(std::string_view data, std::string_view) { return data.starts_with("\x93NUMPY"); }
}  // namespace

extern const FormatDescriptor npy_descriptor{
    .name = "npy",
    .title = "npy",
    .sniff = sniff,
    .sniff_rank = 20,
    .inspect = audit::inspect_npy,
    .fuzz_targets = kFuzz,
};

}  // namespace crossload
