// pickle: the standard library's format, and the base of joblib, cloudpickle and dill.
#include "formats/descriptor.h"
#include "formats/pickle/inspector.h"

namespace crossload {

namespace {
constexpr FormatInfo kVariants[] = {
    {"pickle-p4", "pickle", ".p4.pkl", "pickle.dump, protocol 4"},
    {"pickle-p5", "pickle", ".p5.pkl", "pickle.dump, protocol 5 (out-of-band capable)"},
};
constexpr std::string_view kAliases[] = {"pickle"};
constexpr std::string_view kExtensions[] = {".pkl", ".pickle"};
constexpr std::string_view kFuzz[] = {"pickle"};

bool sniff(std::string_view data, std::string_view) { return audit::looks_like_pickle(data); }
}  // namespace

extern const FormatDescriptor pickle_descriptor{
    .name = "pickle",
    .title = "pickle",
    .variants = kVariants,
    .aliases = kAliases,
    .load_variant = "pickle-p5",
    .extensions = kExtensions,
    .sniff = sniff,
    .sniff_rank = 50,  // last: many first bytes are pickle opcodes
    .inspect = audit::inspect_pickle_bytes,
    .guide_rank = 4,
    .pros = "In the standard library; persists most Python objects; protocol 5 keeps large arrays cheap to store "
            "and load.",
    .cons = "Loading executes whatever the file names: never load a pickle you do not trust. No memory mapping. "
            "Loading across scikit-learn versions is unsupported.",
    .fuzz_targets = kFuzz,
};

}  // namespace crossload
