#include "harness/env/pure_wheels.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <regex>

#include "harness/env/interpreters.h"
#include "harness/util/text.h"

namespace crossload {

namespace fs = std::filesystem;

namespace {

// Versions pip accepts in a pin: release segments, optional pre/post/dev parts.
bool pep440_like(const std::string& v) {
  static const std::regex re(R"(\d+(\.\d+)*((a|b|rc)\d+)?(\.post\d+)?(\.dev\d+)?)");
  return std::regex_match(v, re);
}

// A venv whose site-packages holds metadata stubs of the rootfs's distributions: pip --python
// sees them as installed. The venv's Python matches the suite's where this machine has one, so
// Requires-Python and markers are judged as the suite would.
Result<std::string> make_stub_venv(const std::vector<Distribution>& dists, const std::string& python_version,
                                   const StepContext& sc, const fs::path& dir) {
  auto interp = find_interpreter("python" + python_version, sc);
  if (!interp) {
    note(sc, fmt::format("no python{} here; resolving with python3 ({})", python_version, interp.error().message));
    interp = find_interpreter("python3", sc);
    if (!interp) return interp.error();
  }
  ProcessOptions o;
  o.argv = {interp->executable, "-m", "venv", "--without-pip", dir.string()};
  o.timeout = std::chrono::seconds(120);
  if (auto r = run_step_checked(o, sc, "creating the resolver venv"); !r) return r.error();
  fs::path site = dir / "lib" / ("python" + major_minor(interp->version)) / "site-packages";
  for (const auto& d : dists) {
    fs::path info = site / fmt::format("{}-{}.dist-info", d.name, d.version);
    fs::create_directories(info);
    std::ofstream(info / "METADATA") << "Metadata-Version: 2.1\nName: " << d.name << "\nVersion: " << d.version << "\n";
    std::ofstream(info / "INSTALLER") << "debian-rootfs\n";
    std::ofstream(info / "RECORD") << "";
  }
  return (dir / "bin/python").string();
}

Result<nlohmann::json> resolve(const std::vector<std::string>& requirements, const std::vector<Distribution>& dists,
                               const std::string& venv_python, const StepContext& sc, const fs::path& work,
                               std::chrono::milliseconds timeout) {
  fs::path constraints = work / "suite-constraints.txt", report = work / "resolve-report.json";
  {
    std::ofstream c(constraints);
    for (const auto& d : dists) c << d.name << "==" << d.version << "\n";
  }
  ProcessOptions o;
  o.argv = {"python3", "-m", "pip", "--python", venv_python, "install", "--dry-run", "--quiet",
            "--only-binary=:all:", "--report", report.string(), "-c", constraints.string()};
  o.argv.insert(o.argv.end(), requirements.begin(), requirements.end());
  o.timeout = timeout;
  if (auto r = run_step_checked(o, sc, "resolving " + join(requirements, " ") + " against the suite's packages"); !r)
    return r.error();
  std::ifstream in(report);
  try {
    return nlohmann::json::parse(in).value("install", nlohmann::json::array());
  } catch (const nlohmann::json::exception& e) {
    return make_error(fmt::format("{}: unreadable pip report: {}", report.string(), e.what()));
  }
}

std::string canonical_name(std::string name) {
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return c == '_' || c == '.' ? '-' : std::tolower(c); });
  return name;
}

bool requested(const std::string& name, const std::vector<std::string>& requirements) {
  for (const auto& r : requirements) {
    std::smatch m;
    if (std::regex_search(r, m, std::regex(R"(^\s*([A-Za-z0-9_.-]+))")) && canonical_name(m[1].str()) == canonical_name(name))
      return true;
  }
  return false;
}

// Each wheel installed must run on any CPU: the rootfs may be s390x. A requested package that is
// not pure Python is an error; a compiled dependency of one (hf-xet under skops's
// huggingface_hub) is left out and recorded, since the parts crossload uses rarely need it.
Result<nlohmann::json> pure_picks(const nlohmann::json& install, const std::vector<std::string>& requirements,
                                  const StepContext& sc) {
  nlohmann::json picks = nlohmann::json::array();
  for (const auto& item : install) {
    std::string name = item["metadata"].value("name", "?"), version = item["metadata"].value("version", "?");
    std::string url = item["download_info"].value("url", "");
    std::string wheel = url.substr(url.rfind('/') + 1);
    bool pure = std::regex_search(wheel, std::regex(R"(-none-any\.whl$)"));
    if (!pure && requested(name, requirements))
      return make_error(fmt::format("{} {} is not pure Python ({}): add its Debian package to `packages` instead",
                                    name, version, wheel));
    if (!pure) {
      note(sc, fmt::format("left out {} {}: a compiled dependency ({}) cannot run on every CPU", name, version, wheel));
      picks.push_back({{"name", name}, {"version", version}, {"wheel", wheel}, {"skipped", true}});
      continue;
    }
    picks.push_back({{"name", name}, {"version", version}, {"wheel", wheel}});
  }
  return picks;
}

Status download_and_install(const nlohmann::json& picks, const std::string& site, const std::string& python_version,
                            const StepContext& sc, const fs::path& work, std::chrono::milliseconds timeout) {
  fs::path wheels = work / "wheels";
  ProcessOptions dl;
  dl.argv = {"python3", "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--quiet",
             "--python-version", python_version, "-d", wheels.string()};
  std::vector<std::string> pins;
  for (const auto& p : picks)
    if (!p.value("skipped", false)) pins.push_back(p["name"].get<std::string>() + "==" + p["version"].get<std::string>());
  dl.argv.insert(dl.argv.end(), pins.begin(), pins.end());
  dl.timeout = timeout;
  if (auto r = run_step_checked(dl, sc, "downloading pure-Python wheels"); !r) return r.error();
  ProcessOptions in;
  in.argv = {"python3", "-m", "pip", "install", "--no-deps", "--no-compile", "--no-index", "--quiet",
             "--ignore-requires-python", "--find-links", wheels.string(), "--target", site};
  in.argv.insert(in.argv.end(), pins.begin(), pins.end());
  in.timeout = timeout;
  if (auto r = run_step_checked(in, sc, "installing pure-Python wheels into the rootfs"); !r) return r.error();
  return ok_status();
}

}  // namespace

std::vector<Distribution> rootfs_distributions(const std::string& rootfs) {
  std::vector<Distribution> out;
  std::error_code ec;
  static const std::regex re(R"(([A-Za-z0-9_.]+)-([^-+]+)(\+[^-]*)?(-py\d.*)?\.(dist|egg)-info)");
  for (const auto& e : fs::directory_iterator(fs::path(rootfs) / "usr/lib/python3/dist-packages", ec)) {
    std::smatch m;
    std::string name = e.path().filename().string();
    if (!std::regex_match(name, m, re) || !pep440_like(m[2].str())) continue;
    out.push_back({m[1].str(), m[2].str()});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

Result<nlohmann::json> install_pure_wheels(const std::vector<std::string>& requirements, const std::string& rootfs,
                                           const std::string& python_version, const StepContext& sc,
                                           const std::string& work_dir, std::chrono::milliseconds timeout) {
  fs::path work = fs::path(work_dir) / "pip-work";
  fs::create_directories(work);
  auto dists = rootfs_distributions(rootfs);
  auto venv = make_stub_venv(dists, python_version, sc, work / "resolver-venv");
  if (!venv) return venv.error();
  auto install = resolve(requirements, dists, *venv, sc, work, timeout);
  if (!install) return install.error();
  auto picks = pure_picks(*install, requirements, sc);
  if (!picks) return picks.error();
  std::vector<std::string> shown;
  for (const auto& p : *picks)
    if (!p.value("skipped", false)) shown.push_back(p["name"].get<std::string>() + "==" + p["version"].get<std::string>());
  note(sc, "pure-Python wheels for this suite: " + (shown.empty() ? std::string("none needed") : join(shown, " ")));
  std::string site = rootfs + "/usr/local/lib/python" + python_version + "/dist-packages";
  if (!shown.empty())
    if (auto st = download_and_install(*picks, site, python_version, sc, work, timeout); !st) return st.error();
  std::error_code ec;
  fs::remove_all(work, ec);
  return *picks;
}

}  // namespace crossload
