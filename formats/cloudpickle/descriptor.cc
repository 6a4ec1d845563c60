// cloudpickle: a pickle that carries functions and classes by value; loaded by pickle.load.
#include "formats/descriptor.h"

namespace crossload {

namespace {
constexpr FormatInfo kVariants[] = {
    {"cloudpickle", "cloudpickle", ".cloudpkl", "cloudpickle.dump (by-value functions)"},
};
constexpr std::string_view kAliases[] = {"cloudpickle"};
constexpr std::string_view kExtensions[] = {".cloudpkl", ".cloudpickle"};
constexpr PickleReconstructor kReconstructors[] = {
    {"cloudpickle.cloudpickle._make_function", PickleRole::kFunction},
    {"cloudpickle.cloudpickle._make_skeleton_class", PickleRole::kClass},
    {"cloudpickle.cloudpickle._make_skeleton_enum", PickleRole::kClass},
    {"cloudpickle.cloudpickle_fast._make_skeleton_class", PickleRole::kClass},
    {"cloudpickle.cloudpickle._class_setstate", PickleRole::kClassState},
    {"cloudpickle.cloudpickle_fast._class_setstate", PickleRole::kClassState},
    {"cloudpickle.cloudpickle.subimport", PickleRole::kModule},
    {"cloudpickle.cloudpickle.dynamic_subimport", PickleRole::kModule},
    {"cloudpickle.cloudpickle._builtin_type", PickleRole::kBuiltinType},
    {"cloudpickle.cloudpickle_fast._builtin_type", PickleRole::kBuiltinType},
};
constexpr RuntimePackage kPackages[] = {
    {"cloudpickle", "cloudpickle", "python3-cloudpickle", PackageUse::kLibrary},
};
}  // namespace

extern const FormatDescriptor cloudpickle_descriptor{
    .name = "cloudpickle",
    .title = "cloudpickle",
    .variants = kVariants,
    .aliases = kAliases,
    .load_variant = "cloudpickle",
    .extensions = kExtensions,
    .pickled = true,
    .pickle_module = "cloudpickle",
    .reconstructors = kReconstructors,
    .packages = kPackages,
    .guide_rank = 5,
    .pros = "Persists what pickle cannot: lambdas and functions or classes defined in a script rather than an "
            "importable package.",
    .cons = "No forward compatibility: the Python and cloudpickle versions must match the writer's. Loading "
            "executes code, as with pickle.",
};

}  // namespace crossload
