// joblib's containers in the abstract unpickler (formats/pickle/machine.h): the raw bytes of
// each array follow its NumpyArrayWrapper in the stream, and a legacy (< 0.10) wrapper names an
// array file of its own.
#include "formats/pickle/machine.h"

namespace crossload::audit::unpickler {

Status Machine::array_from_wrapper(ValueId state, std::uint64_t at) {
  auto shape = shape_of(dict_get(state, "shape"));
  DtypeDesc d = describe_dtype(dict_get(state, "dtype"));
  if (!shape) return fail(at, "joblib array wrapper without a usable shape");
  if (d.object) {
    // joblib writes object arrays as a pickle of their own right after the wrapper.
    rec_.add_finding(Severity::kNote, Rule::kNestedPickle,
                     "object array stored as a nested pickle (scanned)", in_.offset());
    if (opts_.depth + 1 > PickleScanOptions::kMaxDepth)
      return fail(at, "pickles nested too deeply");
    PickleScanOptions nested = opts_;
    nested.depth += 1;
    nested.single = true;
    std::uint64_t start = in_.offset();
    auto r = scan_pickle_stream(in_, policy_, nested, rec_);
    if (!r) return r.error();
    add_array(d, std::move(*shape), in_.offset() - start, start, "joblib", false);
    return ok_status();
  }
  if (d.itemsize == 0) return fail(at, "joblib array wrapper with a dtype of unknown size");
  if (const_int(dict_get(state, "numpy_array_alignment_bytes"))) {
    auto pad = read_le(1, at, "joblib alignment padding length");
    if (!pad) return pad.error();
    auto skipped = read_bytes(*pad, at, "joblib alignment padding");
    if (!skipped) return skipped.error();
  }
  std::optional<std::uint64_t> bytes = d.itemsize;
  for (std::uint64_t n : *shape)
    if (bytes) bytes = checked_mul(*bytes, n);
  std::uint64_t start = in_.offset();
  // Stepped over, not read: in a streamed (decompressed) file they never sit in memory.
  if (!bytes || !in_.skip(*bytes))
    return truncated(at, fmt::format("joblib array data ({} bytes declared, {} left)",
                                     bytes ? std::to_string(*bytes) : "more than 2^64",
                                     in_.offset() - start));
  add_array(d, std::move(*shape), *bytes, start, "joblib", false);
  return ok_status();
}

void Machine::legacy_wrapper(ValueId state, std::uint64_t at) {
  auto file = const_str(dict_get(state, "filename"));
  if (!file) return;
  bool escapes = file->starts_with("/") || file->find("..") != std::string_view::npos ||
                 file->find('\\') != std::string_view::npos;
  if (escapes)
    rec_.add_finding(Severity::kError, Rule::kPathEscape,
                     fmt::format("legacy joblib array file '{}' lies outside the artifact's "
                                 "directory",
                                 file->substr(0, 200)),
                     at);
  else
    rec_.add_finding(Severity::kWarning, Rule::kLoaderDefined,
                     fmt::format("legacy joblib (< 0.10) loads array file '{}' with "
                                 "allow_pickle=True; it is not scanned here",
                                 file->substr(0, 200)),
                     at);
}

}  // namespace crossload::audit::unpickler
