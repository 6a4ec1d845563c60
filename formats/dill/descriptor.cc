// dill: a pickle extended to lambdas, closures and code defined in scripts, which it carries by
// value through its own reconstructors (dill._dill), judged as cloudpickle's are.
#include "formats/descriptor.h"

namespace crossload {

namespace {
constexpr FormatInfo kVariants[] = {
    {"dill", "dill", ".dill", "dill.dump (by-value functions and closures)"},
};
constexpr std::string_view kAliases[] = {"dill"};
constexpr std::string_view kExtensions[] = {".dill"};
// The reconstructors dill 0.3.6-0.4 writes for code it carries by value. dill._dill._get_attr
// (getattr on any object) and the file-handle builders are left to the policy: dangerous.
// Closure cells are filled by dill._dill._setattr, which dill writes as
// getattr(dill._dill, '_setattr', setattr) (its _shims): that one getattr, and only on a cell.
constexpr PickleReconstructor kReconstructors[] = {
    {"dill._dill._create_code", PickleRole::kCodeAfterLnotab},
    {"dill._dill._create_function", PickleRole::kFunction},
    {"dill._dill._create_type", PickleRole::kClass},
    {"dill._dill._load_type", PickleRole::kTypeByName},
    {"dill._dill._import_module", PickleRole::kModule},
    {"dill._dill._create_cell", PickleRole::kCell},
    {"dill._dill._setattr", PickleRole::kCellSetter},
    {"dill._dill._create_namedtuple", PickleRole::kValue},
    {"dill._dill._create_array", PickleRole::kArray},
};
constexpr RuntimePackage kPackages[] = {
    {"dill", "dill", "python3-dill", PackageUse::kLibrary},
};
constexpr std::string_view kFuzz[] = {"dill"};
}  // namespace

extern const FormatDescriptor dill_descriptor{
    .name = "dill",
    .title = "dill",
    .variants = kVariants,
    .aliases = kAliases,
    .load_variant = "dill",
    .extensions = kExtensions,
    .pickled = true,
    .pickle_module = "dill",
    .reconstructors = kReconstructors,
    .packages = kPackages,
    .pros = "Persists what pickle cannot, as cloudpickle does: lambdas, closures, functions and classes defined in a "
            "script or a notebook.",
    .cons = "By-value code is tied to the Python version that wrote it, and dill's own version should match. "
            "Loading executes code, as with pickle; dill rebuilds closures through getattr and setattr, which an "
            "audit cannot tell from an attack.",
    .fuzz_targets = kFuzz,
};

}  // namespace crossload
