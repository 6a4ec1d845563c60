// skops.io: a zip of schema.json and array members, rebuilt from trusted types only.
#include "formats/descriptor.h"
#include "formats/skops/inspector.h"

namespace crossload {

namespace {
constexpr FormatInfo kVariants[] = {
    {"skops", "skops", ".skops", "skops.io.dump, loaded trusting the recorded types"},
};
constexpr std::string_view kAliases[] = {"skops"};
constexpr std::string_view kExtensions[] = {".skops"};
constexpr RuntimePackage kPackages[] = {
    {"skops", "skops", "python3-skops", PackageUse::kLibrary},
};
constexpr std::string_view kFuzz[] = {"zip", "skops_schema"};

// A zip: skops, or an .npz archive (the skops inspector tells them apart by their members).
bool sniff(std::string_view d, std::string_view) {
  return d.starts_with("PK\x03\x04") || d.starts_with("PK\x05\x06");
}
}  // namespace

extern const FormatDescriptor skops_descriptor{
    .name = "skops",
    .title = "skops.io",
    .variants = kVariants,
    .aliases = kAliases,
    .load_variant = "skops",
    .extensions = kExtensions,
    .sniff = sniff,
    .sniff_rank = 10,
    .inspect = audit::inspect_zip_artifact,
    .packages = kPackages,
    .guide_rank = 2,
    .pros = "Gives the estimator back without executing arbitrary code: only types trusted by default or named "
            "by you are rebuilt.",
    .cons = "Types outside the defaults must be reviewed and trusted explicitly before loading; custom code must "
            "be importable where it loads. Loading across scikit-learn versions is unsupported, as for every "
            "method.",
    .fuzz_targets = kFuzz,
};

}  // namespace crossload
