// joblib: a pickle whose arrays follow their wrappers as raw bytes, optionally compressed whole.
#include "formats/descriptor.h"
#include "formats/joblib/inspector.h"

namespace crossload {

namespace {
constexpr FormatInfo kVariants[] = {
    {"joblib", "joblib", ".joblib", "joblib.dump, uncompressed"},
    {"joblib-zlib3", "joblib", ".joblib.z", "joblib.dump, compress=('zlib', 3)"},
    {"joblib-lz4", "joblib", ".joblib.lz4", "joblib.dump, compress='lz4' (needs lz4)"},
    {"joblib-mmap", "joblib", ".mmap.joblib", "joblib.dump, loaded with mmap_mode='r'"},
};
constexpr std::string_view kAliases[] = {"joblib"};
constexpr std::string_view kExtensions[] = {".joblib", ".jbl", ".z"};
constexpr RuntimePackage kPackages[] = {
    {"joblib", "joblib", "python3-joblib", PackageUse::kLibrary},
    {"lz4", "lz4", "python3-lz4", PackageUse::kOptional},
};
constexpr std::string_view kFuzz[] = {"joblib"};

bool sniff(std::string_view data, std::string_view) { return audit::looks_like_compressed_joblib(data); }
}  // namespace

extern const FormatDescriptor joblib_descriptor{
    .name = "joblib",
    .title = "joblib",
    .variants = kVariants,
    .aliases = kAliases,
    .load_variant = "joblib",
    .extensions = kExtensions,
    .pickled = true,
    .sniff = sniff,  // compressed files; an uncompressed one is a pickle with array wrappers
    .sniff_rank = 30,
    .inspect = audit::inspect_compressed_joblib,
    .packages = kPackages,
    .guide_rank = 3,
    .pros = "Efficient with large numpy arrays; mmap_mode=\"r\" lets processes share one copy of the arrays; "
            "compression is built in.",
    .cons = "Pickle underneath: loading a file from an untrusted source can execute arbitrary code. Loading "
            "across scikit-learn versions is unsupported.",
    .fuzz_targets = kFuzz,
};

}  // namespace crossload
