#pragma once
// Where crossload finds its own tree (worker, format adapters, fixtures, default matrices) and
// its cache, unless told otherwise.
#include <string>

namespace crossload::cli {

// CROSSLOAD_ROOT when set; else the tree installed beside the running binary
// (<prefix>/bin/crossload -> <prefix>/share/crossload, as `meson install` and the wheel lay it
// out); else the source tree the binary was built from (a development build in build/).
std::string default_source_root();

std::string default_cache_dir();

}  // namespace crossload::cli
