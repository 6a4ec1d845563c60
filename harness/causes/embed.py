"""Writes a C++ source defining a function that returns a data file's text (a meson build step):
embed.py INPUT OUTPUT [HEADER FUNCTION] (default: catalogue.toml's builtin_catalogue_text)."""
import sys

DELIM = "embedded_text"

source, output = sys.argv[1], sys.argv[2]
header, function = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else \
    ("harness/causes/catalogue.h", "builtin_catalogue_text")
namespace = function.rpartition("::")[0] or "crossload"
name = function.rpartition("::")[2]
text = open(source, encoding="utf-8").read()
if ")" + DELIM + '"' in text:
    sys.exit(f"{source}: contains the raw-string delimiter ){DELIM}\"")
with open(output, "w", encoding="utf-8") as out:
    out.write(f'#include "{header}"\n\nnamespace {namespace} {{\n\n')
    out.write(f"std::string_view {name}() {{\n")
    out.write(f'  static constexpr std::string_view kText = R"{DELIM}({text}){DELIM}";\n')
    out.write(f"  return kText;\n}}\n\n}}  // namespace {namespace}\n")
