"""Writes a C++ source defining a function that returns a data file's text (a meson build step).

    embed.py INPUT OUTPUT [HEADER FUNCTION]

Defaults: harness/causes/catalogue.h and builtin_catalogue_text() (the causes catalogue); the
QEMU builds table (harness/env/qemu_builds.toml) is embedded the same way.
"""
import sys

source, target = sys.argv[1], sys.argv[2]
header = sys.argv[3] if len(sys.argv) > 3 else "harness/causes/catalogue.h"
function = sys.argv[4] if len(sys.argv) > 4 else "builtin_catalogue_text"
DELIM = "embedded_toml"

text = open(source, encoding="utf-8").read()
if ")" + DELIM + '"' in text:
    sys.exit(f"{source}: contains the raw-string delimiter ){DELIM}\"")
with open(target, "w", encoding="utf-8") as out:
    out.write(f'#include "{header}"\n\nnamespace crossload {{\n\n')
    out.write(f"std::string_view {function}() {{\n")
    out.write(f'  static constexpr std::string_view kText = R"{DELIM}({text}){DELIM}";\n')
    out.write("  return kText;\n}\n\n}  // namespace crossload\n")
