#pragma once
// Everything the C++ side knows of one format, declared once in formats/<name>/descriptor.cc.
// formats/registry.txt lists the folders, one a line: the build makes the table of
// formats/registry.h from it, and formats/registry.py reads it for the Python half (each
// folder's adapter.py). Every place that needs to know the formats iterates that table.
#include <cstdint>
#include <span>
#include <string_view>

#include "harness/util/result.h"

namespace crossload {

namespace audit {
struct InspectContext;
struct InspectionRecord;
}  // namespace audit

// One variant of a format: what a matrix names and a cell id carries.
struct FormatInfo {
  std::string_view name;       // as written in matrix files and cell ids
  std::string_view folder;     // formats/<folder>/
  std::string_view extension;  // of the artifact file
  std::string_view description;
};

// A Python distribution the format needs where it is dumped or loaded.
enum class PackageUse : std::uint8_t {
  kLibrary,   // the format's own library: dumps and loads need it (a column of the reports)
  kOptional,  // only some variants need it (a joblib codec)
  kDumpOnly,  // only writing needs it (a converter): loads never import it
};
struct RuntimePackage {
  std::string_view dist;    // PyPI's name, as fingerprints record it ("scikit-learn")
  std::string_view module;  // what Python imports ("sklearn")
  std::string_view debian;  // Debian's binary package; empty when the archive has none
  PackageUse use = PackageUse::kLibrary;
};

// How the pickle inspector treats a reconstructor that a pickle-based format's library names
// (formats/pickle/calls.cc judges what each one builds).
enum class PickleRole : std::uint8_t {
  kCode,             // builds a code object, arguments in types.CodeType's order
  kCodeAfterLnotab,  // the same with co_lnotab first when the first argument is bytes (dill)
  kFunction,         // builds a function from a code object
  kClass,            // defines a class by value (the name is the second argument)
  kClassState,       // sets a by-value class's attributes (methods the loader may call)
  kModule,           // imports a whole module named by its first argument
  kBuiltinType,      // returns types.<first argument>
  kTypeByName,       // returns the type its first argument names: builtins.<name>, or
                     // types.<name> for names ending in "Type" (dill's _load_type)
  kValue,            // builds plain data from its arguments (a namedtuple)
  kArray,            // calls numpy's array reconstructor (its first argument) on its second and
                     // sets the array's state (its third): dill's arrays
  kCell,             // builds a closure cell holding its argument
  kCellSetter,       // setattr(cell, 'cell_contents', value), reached as the library's own
                     // getattr(module, name, builtins.setattr): only a kCell's contents may be set
};
// Roles that only rebuild data, their calls checked where they could do more (an array helper
// must call numpy's reconstructor; a type by name is judged as an import of that name): such a
// reconstructor is trusted, as numpy's own are. (cloudpickle's kBuiltinType, only ever written
// for by-value code, stays untrusted as it always was.)
constexpr bool trusted_by_role(PickleRole r) {
  return r == PickleRole::kValue || r == PickleRole::kArray || r == PickleRole::kCell ||
         r == PickleRole::kTypeByName;
}
struct PickleReconstructor {
  std::string_view name;  // module.qualname as the pickle imports it
  PickleRole role;
};

// Magic-byte sniffing: true when the bytes (and, for some formats, the file name) are this
// format's. Sniffers are tried by ascending rank: exact magic bytes before heuristics.
using SniffFn = bool (*)(std::string_view data, std::string_view path);
using InspectFn = Status (*)(std::string_view data, const audit::InspectContext& ctx,
                             audit::InspectionRecord& rec);

struct FormatDescriptor {
  std::string_view name{};   // the folder under formats/, and the audit's format name
  std::string_view title{};  // as scikit-learn's persistence guide names the method
  std::span<const FormatInfo> variants{};  // empty for data formats the audit reads (npy)
  // `crossload check --format` names, and the variant that loads a user's file.
  std::span<const std::string_view> aliases{};
  std::string_view load_variant{};
  std::span<const std::string_view> extensions{};  // file names people give it
  // A pickle underneath: a file the audit reads as a plain pickle is this format when its
  // name says so, and globals from `pickle_module` (and its submodules) make it this format.
  bool pickled = false;
  std::string_view pickle_module{};
  std::span<const PickleReconstructor> reconstructors{};
  SniffFn sniff = nullptr;  // null: a pickle-based format, told apart by the pickle inspector
  int sniff_rank = 0;
  InspectFn inspect = nullptr;
  std::span<const RuntimePackage> packages{};
  // Its row in the guide's table: its place in scikit-learn's persistence guide (a row in every
  // report), or 0 for a format the guide does not name (a row when a run holds it); the
  // method's pros and risks, paraphrased from the guide's summary where it has one (reports/
  // guide.cc adds the evidence of a run). Data formats (npy) have no row.
  int guide_rank = 0;
  std::string_view pros{}, cons{};
  // ci/fuzz targets that reach this format's inspector: harness/audit/fuzz/fuzz_<target>.cc or
  // formats/<name>/fuzz_<target>.cc.
  std::span<const std::string_view> fuzz_targets{};
};

}  // namespace crossload
