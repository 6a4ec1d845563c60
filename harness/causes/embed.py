"""Writes a C++ source defining builtin_catalogue_text() from catalogue.toml (a meson build step)."""
import sys

DELIM = "catalogue_toml"

text = open(sys.argv[1], encoding="utf-8").read()
if ")" + DELIM + '"' in text:
    sys.exit(f"{sys.argv[1]}: contains the raw-string delimiter ){DELIM}\"")
with open(sys.argv[2], "w", encoding="utf-8") as out:
    out.write('#include "harness/causes/catalogue.h"\n\nnamespace crossload {\n\n')
    out.write("std::string_view builtin_catalogue_text() {\n")
    out.write(f'  static constexpr std::string_view kText = R"{DELIM}({text}){DELIM}";\n')
    out.write("  return kText;\n}\n\n}  // namespace crossload\n")
