#include "harness/env/platform_wheels.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>

#include "harness/util/text.h"

namespace crossload {

namespace fs = std::filesystem;

Result<std::string> rootfs_glibc_version(const std::string& rootfs, const std::string& triplet) {
  // Packages of suites before trixie ship it under /lib, which extract-only rootfs keep as a
  // directory of its own (no usrmerge ran).
  fs::path libc = fs::path(rootfs) / "usr/lib" / triplet / "libc.so.6";
  if (std::error_code ec; !fs::exists(libc, ec)) libc = fs::path(rootfs) / "lib" / triplet / "libc.so.6";
  std::ifstream in(libc, std::ios::binary);
  if (!in) return make_error(fmt::format("{}: cannot open (is libc6 in the rootfs?)", libc.string()));
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::smatch m;
  if (!std::regex_search(bytes, m, std::regex(R"(GNU C Library[^\n]*release version (\d+)\.(\d+))")))
    return make_error(fmt::format("{}: no glibc version string in it", libc.string()));
  return m[1].str() + "." + m[2].str();
}

std::vector<std::string> manylinux_tags(const std::string& wheel_machine, const std::string& glibc) {
  int major = 0, minor = 0;
  std::sscanf(glibc.c_str(), "%d.%d", &major, &minor);
  std::vector<std::string> tags;
  if (major != 2) return tags;
  bool x86 = wheel_machine == "x86_64" || wheel_machine == "i686";
  int oldest = x86 ? 5 : 17;  // manylinux1 (2.5) was x86 only; manylinux2014 (2.17) opened the rest
  for (int v = minor; v >= oldest; --v) tags.push_back(fmt::format("manylinux_2_{}_{}", v, wheel_machine));
  // Wheels of before PEP 600 carry only the legacy names.
  if (minor >= 17) tags.push_back("manylinux2014_" + wheel_machine);
  if (x86 && minor >= 12) tags.push_back("manylinux2010_" + wheel_machine);
  if (x86) tags.push_back("manylinux1_" + wheel_machine);
  return tags;
}

namespace {

Result<nlohmann::json> installed_from_report(const fs::path& report) {
  std::ifstream in(report);
  try {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& item : nlohmann::json::parse(in).value("install", nlohmann::json::array())) {
      std::string url = item["download_info"].value("url", "");
      out.push_back({{"name", item["metadata"].value("name", "?")},
                     {"version", item["metadata"].value("version", "?")},
                     {"wheel", url.substr(url.rfind('/') + 1)}});
    }
    return out;
  } catch (const nlohmann::json::exception& e) {
    return make_error(fmt::format("{}: unreadable pip report: {}", report.string(), e.what()));
  }
}

}  // namespace

Result<nlohmann::json> install_platform_wheels(const std::vector<std::string>& requirements,
                                               const std::string& rootfs, const std::string& python_version,
                                               const std::vector<std::string>& tags, const StepContext& sc,
                                               const std::string& work_dir, std::chrono::milliseconds timeout) {
  if (tags.empty()) return make_error("no manylinux platform tag fits this rootfs's glibc");
  fs::path work = fs::path(work_dir) / "pip-work";
  fs::create_directories(work);
  fs::path report = work / "install-report.json";
  std::string abi = "cp" + python_version.substr(0, 1) + python_version.substr(python_version.find('.') + 1);
  ProcessOptions o;
  o.argv = {"python3", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
            "--only-binary=:all:", "--python-version", python_version, "--implementation", "cp", "--abi", abi,
            "--target", rootfs + "/usr/local/lib/python" + python_version + "/dist-packages",
            "--report", report.string()};
  for (const auto& t : tags) o.argv.insert(o.argv.end(), {"--platform", t});
  o.argv.insert(o.argv.end(), requirements.begin(), requirements.end());
  o.timeout = timeout;
  std::string what = fmt::format("pip install {} as {} wheels for Python {}", join(requirements, " "),
                                 tags.back(), python_version);
  if (auto r = run_step_checked(o, sc, what); !r) return r.error();
  auto installed = installed_from_report(report);
  std::error_code ec;
  fs::remove_all(work, ec);
  return installed;
}

}  // namespace crossload
