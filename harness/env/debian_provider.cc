#include "harness/env/debian_provider.h"

#include <fmt/format.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "formats/registry.h"
#include "harness/env/build_step.h"
#include "harness/env/native_onnx.h"
#include "harness/env/platform_wheels.h"
#include "harness/env/pure_wheels.h"
#include "harness/env/qemu.h"
#include "harness/env/smoke.h"
#include "harness/util/text.h"

namespace crossload {

namespace fs = std::filesystem;
using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

namespace {

const std::vector<DebianArch> kArches{
    {"amd64", "x86_64-linux-gnu", "x86_64", "", "x86_64"},
    {"i386", "i386-linux-gnu", "i386", "i686", "i686"},
    {"arm64", "aarch64-linux-gnu", "aarch64", "", "aarch64"},
    {"armhf", "arm-linux-gnueabihf", "arm", "", "armv7l"},
    {"armel", "arm-linux-gnueabi", "arm", "", "armv5tel"},
    {"s390x", "s390x-linux-gnu", "s390x", "", "s390x"},
    {"ppc64el", "powerpc64le-linux-gnu", "ppc64le", "", "ppc64le"},
    {"riscv64", "riscv64-linux-gnu", "riscv64", "", "riscv64"},
    {"mips64el", "mips64el-linux-gnuabi64", "mips64el", "", "mips64"},
    {"loong64", "loongarch64-linux-gnu", "loongarch64", "", "loongarch64"},
};

constexpr const char* kMirror = "http://deb.debian.org/debian";

std::string qemu_binary(const DebianArch& arch) { return "qemu-" + arch.qemu + "-static"; }

// "qemu-s390x-static 7.2.20 (system)": the emulator's name, version and which build it is.
std::string qemu_text(const DebianArch& arch, const QemuBuild& qemu) {
  if (qemu.name.empty()) return qemu_binary(arch);
  std::smatch m;
  std::string version = std::regex_search(qemu.version, m, std::regex(R"(version (\S+))")) ? m[1].str() : "?";
  return fmt::format("{} {} ({})", qemu_binary(arch), version, qemu.name);
}

// binfmt_misc entries let a foreign process exec other foreign binaries (multiprocessing,
// compileall -j); without them only the first binary, started through qemu by hand, runs.
bool binfmt_registered(const DebianArch& arch) {
  return fs::exists("/proc/sys/fs/binfmt_misc/qemu-" + arch.qemu);
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// --- mmdebstrap ------------------------------------------------------------------------------

bool wheels_stack(const EnvSpec& spec) { return spec.provider == "pip"; }

std::vector<std::string> include_list(const EnvSpec& spec) {
  std::vector<std::string> pkgs = wheels_stack(spec) ? wheel_base_packages() : debian_base_packages();
  // An apt pattern that matches nothing installs nothing: optional packages cost no probe.
  // `!~v` (not ?virtual) leaves out a name other packages only refer to: trixie armel has no
  // python3-onnxruntime, yet something names it, and apt refused "no installation candidate".
  if (!wheels_stack(spec))
    for (const auto& p : debian_optional_packages()) pkgs.push_back("?exact-name(" + p + ")!~v");
  for (const auto& p : spec.packages) pkgs.push_back(p);
  if (spec.native_onnx)
    for (const auto& p : native_onnx_packages()) pkgs.push_back(p);
  return pkgs;
}

std::vector<std::string> mmdebstrap_argv(const EnvSpec& spec, const std::string& rootfs) {
  // Only the suite itself, no -updates/-security: the archive is a frozen snapshot whose
  // update indices may not match their files, and one source is reproducible.
  return {"mmdebstrap",
          "--variant=extract",
          "--architectures=" + spec.arch,
          "--include=" + join(include_list(spec), ","),
          "--aptopt=Acquire::Check-Valid-Until \"false\"",
          "--aptopt=Acquire::Retries \"2\"",
          spec.suite,
          rootfs,
          fmt::format("deb {} {} main", kMirror, spec.suite)};
}

// --- fix-ups -----------------------------------------------------------------------------------

bool present(const fs::path& p) {
  std::error_code ec;
  return fs::exists(fs::symlink_status(p, ec));
}

Status make_link(const fs::path& link, const std::string& target, const StepContext& sc) {
  std::error_code ec;
  if (present(link) && !fs::exists(link, ec)) fs::remove(link, ec);  // a dangling link
  fs::create_directories(link.parent_path(), ec);
  fs::create_symlink(target, link, ec);
  if (ec) return make_error(fmt::format("{}: cannot create link: {}", link.string(), ec.message()));
  note(sc, fmt::format("link {} -> {}", link.string(), target));
  return ok_status();
}

// Merged-/usr suites ship /bin, /lib, ... only as links that a package's maintainer script
// (never run by --variant=extract) would create; without them the ELF interpreter is not found.
Status fix_merged_usr(const fs::path& root, const StepContext& sc) {
  for (const char* d : {"bin", "sbin", "lib", "lib32", "lib64", "libx32"}) {
    if (present(root / d) || !fs::is_directory(root / "usr" / d)) continue;
    if (auto st = make_link(root / d, std::string("usr/") + d, sc); !st) return st;
  }
  return ok_status();
}

// The BLAS/LAPACK alternatives are links update-alternatives would make; pick the same provider
// Debian prefers (OpenBLAS) and fall back to the reference implementation.
Status fix_blas_links(const fs::path& root, const DebianArch& arch, const StepContext& sc) {
  fs::path lib = root / "usr/lib" / arch.triplet;
  const std::vector<std::string> providers{"openblas-pthread", "openblas-openmp", "openblas-serial",
                                           "blis-pthread", "blis-openmp", "blis-serial", "atlas"};
  for (auto [soname, own] : {std::pair{"libblas.so.3", "blas"}, std::pair{"liblapack.so.3", "lapack"}}) {
    std::string chosen;
    for (const auto& p : providers)
      if (fs::exists(lib / p / soname)) { chosen = p; break; }
    if (chosen.empty() && fs::exists(lib / own / soname)) chosen = own;
    if (chosen.empty()) continue;  // this rootfs has no BLAS at all (no numpy)
    if (!present(lib / soname))
      if (auto st = make_link(lib / soname, chosen + "/" + soname, sc); !st) return st;
    if (!present(lib / own / soname))
      if (auto st = make_link(lib / own / soname, "../" + chosen + "/" + soname, sc); !st) return st;
  }
  for (const char* p : {"openblas-pthread", "openblas-openmp", "openblas-serial"}) {
    if (present(lib / "libopenblas.so.0") || !fs::exists(lib / p / "libopenblas.so.0")) continue;
    if (auto st = make_link(lib / "libopenblas.so.0", std::string(p) + "/libopenblas.so.0", sc); !st) return st;
  }
  return ok_status();
}

Status prepare_mount_points(const fs::path& root) {
  std::error_code ec;
  for (const char* d : {"proc", "sys", "dev", "tmp"}) fs::create_directories(root / d, ec);
  if (ec) return make_error(fmt::format("{}: {}", root.string(), ec.message()));
  return ok_status();
}

// Under the name the launch runs (a run binds its chosen build over it: debian_launch).
Status install_qemu(const fs::path& root, const DebianArch& arch, const std::string& host_qemu, const StepContext& sc) {
  std::error_code ec;
  fs::path dest = root / "usr/bin" / qemu_binary(arch);
  fs::copy_file(host_qemu, dest, fs::copy_options::overwrite_existing, ec);
  if (ec) return make_error(fmt::format("copying {} into the rootfs: {}", host_qemu, ec.message()));
  note(sc, fmt::format("copied {} to {}", host_qemu, dest.string()));
  return ok_status();
}

// "python3.11" from the /usr/bin/python3 link: the suite's Python without running it.
Result<std::string> rootfs_python_version(const fs::path& root) {
  std::error_code ec;
  fs::path target = fs::read_symlink(root / "usr/bin/python3", ec);
  std::smatch m;
  std::string name = target.filename().string();
  if (ec || !std::regex_match(name, m, std::regex(R"(python(\d+\.\d+))")))
    return make_error(fmt::format("{}: no python3 link in the rootfs (did python3 install?)", root.string()));
  return m[1].str();
}

bool version_at_least(const std::string& version, int major, int minor) {
  int a = 0, b = 0;
  std::sscanf(version.c_str(), "%d.%d", &a, &b);
  return a > major || (a == major && b >= minor);
}

// --- steps run inside the rootfs ---------------------------------------------------------------

struct Build {
  const EnvSpec& spec;
  const DebianArch& arch;
  bool native;
  const QemuBuild& qemu;
  fs::path root;
  StepContext sc;
  Clock::time_point deadline;

  milliseconds left() const {
    return std::max(milliseconds(1000), std::chrono::duration_cast<milliseconds>(deadline - Clock::now()));
  }
  std::string where() const {
    return fmt::format("{}/{} rootfs{}", spec.suite, spec.arch, native ? "" : " under " + qemu_text(arch, qemu));
  }
  ProcessOptions inside(std::vector<std::string> args) const {
    Launch l = debian_launch(root.string(), arch, spec, ProvisionContext{}, native, true, qemu);
    ProcessOptions o;
    o.argv = l.python;
    o.argv.insert(o.argv.end(), args.begin(), args.end());
    o.where = where();
    o.timeout = left();
    return o;
  }
};

// The directories whose modules an import of the stack reads (test suites excluded below).
std::vector<std::string> compile_roots(const Build& b, const std::string& pyver) {
  std::vector<std::string> roots;
  for (const std::string& dir : std::vector<std::string>{"/usr/lib/python3/dist-packages", "/usr/lib/python" + pyver,
                                                        "/usr/local/lib/python" + pyver + "/dist-packages"})
    if (fs::is_directory(b.root / dir.substr(1))) roots.push_back(dir);
  return roots;
}

// Without binfmt entries a Python >= 3.12 under QEMU cannot start compileall's worker processes
// (forkserver execs a foreign binary), so the host starts several single-process compileall
// runs instead, each over a share of the top-level packages.
std::vector<std::vector<std::string>> compile_shares(const Build& b, const std::vector<std::string>& roots, std::size_t n) {
  std::vector<std::string> entries;
  for (const auto& root : roots) {
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(b.root / root.substr(1), ec)) entries.push_back(root + "/" + e.path().filename().string());
  }
  std::sort(entries.begin(), entries.end());
  std::vector<std::vector<std::string>> shares(n);
  for (std::size_t i = 0; i < entries.size(); ++i) shares[i % n].push_back(entries[i]);
  return shares;
}

// Under QEMU the first `import sklearn` byte-compiles thousands of modules and cannot store them
// (the rootfs is read-only at run time): compile once here, 14 s -> 4 s per import on s390x.
// Test suites are skipped: nothing the worker imports reads them, and they are a third of scipy.
// A pool whose workers all wait (compileall -j 0 under qemu-arm 7.2 in bookworm armhf: parent and
// workers at 0 % CPU for many minutes) is noticed after this long with no CPU time and no output.
constexpr std::chrono::seconds kCompileStall{60};

// One compileall run; if it stalls, noted and run again serially (-j 1) once.
Result<ProcessResult> compile_run(const Build& b, std::vector<std::string> args) {
  auto options = b.inside(args);
  options.stall_timeout = kCompileStall;
  auto r = run_step(options, b.sc);
  if (!r || !r->stalled) return r;
  note(b.sc, fmt::format("byte-compiling in {} made no progress for {} s (no CPU time, no output): "
                         "retrying serially (-j 1)", b.where(), kCompileStall.count()));
  auto j = std::find(args.begin(), args.end(), "-j");
  if (j != args.end() && j + 1 != args.end()) *(j + 1) = "1";
  else args.insert(args.begin() + 2, {"-j", "1"});  // after "-m compileall"
  options = b.inside(args);
  options.stall_timeout = kCompileStall;
  return run_step(options, b.sc);
}

Status byte_compile(const Build& b, const std::string& pyver, nlohmann::json& facts) {
  bool in_process_pool = b.native || binfmt_registered(b.arch) || !version_at_least(pyver, 3, 12);
  std::vector<std::string> base{"-m", "compileall", "-q", "-x", "/tests?/"};
  std::vector<std::vector<std::string>> runs;
  auto roots = compile_roots(b, pyver);
  if (in_process_pool) {
    runs.push_back(base);
    runs.back().insert(runs.back().end(), {"-j", "0"});
    runs.back().insert(runs.back().end(), roots.begin(), roots.end());
  } else {
    std::size_t n = std::max(2u, std::thread::hardware_concurrency());
    for (auto& share : compile_shares(b, roots, n)) {
      if (share.empty()) continue;
      runs.push_back(base);
      runs.back().insert(runs.back().end(), share.begin(), share.end());
    }
  }
  auto start = Clock::now();
  std::vector<std::future<Result<ProcessResult>>> pending;
  for (const auto& args : runs) pending.push_back(std::async(std::launch::async, [&b, args] { return compile_run(b, args); }));
  bool unclean = false;
  for (auto& f : pending) {
    auto r = f.get();
    if (!r) return r.error();
    if (r->stalled)
      return make_error(fmt::format("byte-compiling in {} made no progress for {} s (no CPU time, no output), "
                                    "in a pool and again serially with -j 1 (full log: {})",
                                    b.where(), kCompileStall.count(), b.sc.log_path));
    if (r->timed_out || r->signal)
      return make_error(fmt::format("byte-compiling in {} failed ({}) (full log: {})", b.where(), r->status_text(), b.sc.log_path));
    unclean |= r->exit_code != 0;
  }
  // A few files in Debian's tree are not valid Python 3 (test data): compileall then exits 1,
  // which costs nothing but those files' compile on import.
  if (unclean) note(b.sc, "compileall reported files it could not compile (see the log); not fatal");
  facts["compile_seconds"] = std::chrono::duration<double>(Clock::now() - start).count();
  facts["compile_processes"] = in_process_pool ? std::string("-j 0") : std::to_string(runs.size());
  return ok_status();
}

// Imports the stack once: proves the fix-ups worked and records what the suite really holds.
Result<nlohmann::json> smoke_test(const Build& b) {
  auto r = run_step_checked(b.inside({"-c", smoke_script()}), b.sc, "importing numpy/scipy/scikit-learn in " + b.where());
  if (!r) return r.error();
  return parse_smoke_output(r->out, b.where());
}

// The `pip` provider's stack is binary wheels for this CPU; a `debian` environment's comes from
// the suite, topped up with pure-Python wheels.
Status add_wheels(const Build& b, const std::string& pyver, const std::string& work, nlohmann::json& facts) {
  if (b.spec.pip.empty()) return ok_status();
  Result<nlohmann::json> wheels = nlohmann::json();
  if (wheels_stack(b.spec)) {
    auto glibc = rootfs_glibc_version(b.root.string(), b.arch.triplet);
    if (!glibc) return glibc.error();
    facts["glibc"] = *glibc;
    wheels = install_platform_wheels(b.spec.pip, b.root.string(), pyver, manylinux_tags(b.arch.wheel, *glibc), b.sc,
                                     work, b.left());
  } else {
    wheels = install_pure_wheels(b.spec.pip, b.root.string(), pyver, b.sc, work, b.left());
  }
  if (!wheels) return wheels.error();
  facts["pip"] = *wheels;
  return ok_status();
}

Result<nlohmann::json> build_rootfs(const EnvSpec& spec, const DebianArch& arch, bool native,
                                    const QemuBuild& qemu, const BuildDir& dir,
                                    const ProvisionContext& ctx) {
  Build b{spec, arch, native, qemu, fs::path(dir.dir) / "rootfs", {ctx.log, dir.log_path},
          Clock::now() + ctx.timeout};
  nlohmann::json facts{{"suite", spec.suite}, {"arch", spec.arch}, {"include", include_list(spec)}};
  ProcessOptions mm;
  mm.argv = mmdebstrap_argv(spec, b.root.string());
  mm.timeout = b.left();
  auto r = run_step(mm, b.sc);
  if (!r) return r.error();
  if (!r->success())
    return make_error(fmt::format("mmdebstrap {}/{} failed ({}): {} (full log: {})", spec.suite, spec.arch,
                                  r->status_text(), summarize_mmdebstrap_errors(r->err + r->out), dir.log_path));
  facts["mmdebstrap_seconds"] = r->seconds;
  for (auto st : {fix_merged_usr(b.root, b.sc), fix_blas_links(b.root, arch, b.sc), prepare_mount_points(b.root)})
    if (!st) return st.error();
  if (!native) {
    if (auto st = install_qemu(b.root, arch, qemu.binary, b.sc); !st) return st.error();
    facts["qemu"] = qemu.version;
    facts["qemu_build"] = qemu.name;
  }
  auto pyver = rootfs_python_version(b.root);
  if (!pyver) return pyver.error();
  if (auto st = add_wheels(b, *pyver, dir.dir, facts); !st) return st.error();
  if (auto st = byte_compile(b, *pyver, facts); !st) return st.error();
  auto smoke = smoke_test(b);
  if (!smoke) return smoke.error();
  // A wheel may declare requirements the suite meets and still not import (skl2onnx 1.20 with
  // bookworm's onnx 1.12): say so now; the environment still serves every other format.
  for (const auto& [dist, version] : (*smoke)["packages"].items())
    if (version.is_string() && version.get<std::string>().rfind("broken", 0) == 0)
      note(b.sc, fmt::format("warning: {} does not import here: {}", dist, version.get<std::string>()));
  facts["smoke"] = *smoke;
  return facts;
}

}  // namespace

Result<DebianArch> find_debian_arch(const std::string& name) {
  std::vector<std::string> names;
  for (const auto& a : kArches) {
    if (a.name == name) return a;
    names.push_back(a.name);
  }
  return make_error(fmt::format("unknown Debian architecture '{}'{} (known: {})", name,
                                did_you_mean(name, names), join(names, ", ")));
}

std::string host_machine() {
  utsname u{};
  ::uname(&u);
  return u.machine;
}

Result<std::string> host_debian_arch() {
  std::string machine = host_machine();
  for (const auto& a : kArches)
    if (a.wheel == machine) return a.name;
  return make_error(fmt::format("no Debian architecture for this machine's CPU ({})", machine));
}

bool runs_natively(const DebianArch& arch, const std::string& machine) {
  if (machine == "x86_64") return arch.name == "amd64" || arch.name == "i386";
  if (machine == "aarch64") return arch.name == "arm64";
  if (machine == "s390x") return arch.name == "s390x";
  if (machine == "ppc64le") return arch.name == "ppc64el";
  if (machine == "riscv64") return arch.name == "riscv64";
  return false;
}

std::vector<std::string> debian_base_packages() {
  return {"python3", "python3-numpy", "python3-scipy", "python3-sklearn", "python3-joblib",
          "python3-threadpoolctl"};
}

// What binary wheels from PyPI assume of the system (manylinux): the rest they bundle.
std::vector<std::string> wheel_base_packages() { return {"python3", "libstdc++6", "libgomp1"}; }

// The formats' Debian packages (formats/*/descriptor.cc), each installed where the suite has it.
// Measured on this archive: bookworm has onnx, cloudpickle and lz4 but no onnxruntime; trixie
// and sid have onnxruntime on some architectures; no suite has skops or skl2onnx (PyPI's pure
// wheels fill those in through `pip`).
std::vector<std::string> debian_optional_packages() {
  std::vector<std::string> base = debian_base_packages(), out;
  for (const auto& p : format_packages())
    if (!p.debian.empty() && std::find(base.begin(), base.end(), p.debian) == base.end()) out.emplace_back(p.debian);
  return out;
}

CacheKey debian_cache_key(const EnvSpec& spec) {
  auto sorted = [](std::vector<std::string> v) {
    std::sort(v.begin(), v.end());
    return join(v, ",");
  };
  bool wheels = wheels_stack(spec);
  std::vector<std::pair<std::string, std::string>> fields{{"provider", wheels ? "pip" : "debian"},
                                                          {"suite", spec.suite},
                                                          {"arch", spec.arch},
                                                          {"base", join(wheels ? wheel_base_packages() : debian_base_packages(), ",")},
                                                          {"optional", wheels ? "" : join(debian_optional_packages(), ",")},
                                                          {"packages", sorted(spec.packages)},
                                                          {"pip", sorted(spec.pip)},
                                                          {"mirror", kMirror},
                                                          {"fixup_version", std::to_string(kFixupVersion)}};
  // Only when asked for, so the keys (and cached rootfs) of every other environment stay as they were.
  if (spec.native_onnx) fields.emplace_back("native_onnx", join(native_onnx_packages(), ","));
  return make_cache_key(fmt::format("{}-{}-{}", wheels ? "pip" : "debian", spec.suite, spec.arch), fields);
}

namespace {

// Pool file names arrive URL-encoded ("libc6_2.41-12%2bdeb13u5"); people search for "+".
std::string url_decode(const std::string& s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

}  // namespace

std::string summarize_mmdebstrap_errors(const std::string& output) {
  std::vector<std::string> missing_files, unknown_packages, other;
  std::istringstream in(output);
  std::smatch m;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("E: ", 0) != 0) continue;
    if (std::regex_search(line, m, std::regex(R"(Failed to fetch \S*/([^/\s]+\.deb)\s+404)")))
      missing_files.push_back(url_decode(m[1].str()));
    else if (std::regex_search(line, m, std::regex(R"(Unable to locate package (\S+))")))
      unknown_packages.push_back(m[1].str());
    else if (line.find("apt download failed") == std::string::npos &&
             line.find("mmdebstrap failed") == std::string::npos &&
             line.find("Unable to fetch some archives") == std::string::npos)
      other.push_back(line.substr(3));
  }
  std::vector<std::string> parts;
  if (!unknown_packages.empty()) parts.push_back("no such package in this suite/architecture: " + join(unknown_packages, ", "));
  if (!missing_files.empty()) {
    std::vector<std::string> shown(missing_files.begin(), missing_files.begin() + std::min<std::size_t>(3, missing_files.size()));
    parts.push_back(fmt::format("the archive lacks {} pool file(s) (404): {}{}", missing_files.size(),
                                join(shown, ", "), missing_files.size() > 3 ? ", ..." : ""));
  }
  if (parts.empty() && !other.empty()) parts.push_back(other.front());
  if (parts.empty()) return "no error line from mmdebstrap";
  return join(parts, "; ");
}

Launch debian_launch(const std::string& rootfs, const DebianArch& arch, const EnvSpec& spec,
                     const ProvisionContext& ctx, bool native, bool writable, const QemuBuild& qemu) {
  std::vector<std::string> a;
  if (!arch.personality.empty()) a = {"setarch", arch.personality};
  // --bind (not --ro-bind) so bwrap can create mount points for the source and run directories;
  // --remount-ro / then makes the rootfs read-only for everything a run starts.
  a.insert(a.end(), {"bwrap", "--unshare-net", "--die-with-parent", "--bind", rootfs, "/", "--dev", "/dev",
                     "--ro-bind", "/proc", "/proc", "--ro-bind", "/sys", "/sys", "--tmpfs", "/tmp"});
  // The chosen build over the copy the rootfs was built with: any build runs any cached rootfs,
  // and the rootfs (its cache key) does not depend on the choice.
  if (!native && !qemu.binary.empty()) a.insert(a.end(), {"--ro-bind", qemu.binary, "/usr/bin/" + qemu_binary(arch)});
  if (!ctx.source_root.empty()) a.insert(a.end(), {"--ro-bind", ctx.source_root, ctx.source_root});
  if (!ctx.run_dir.empty()) a.insert(a.end(), {"--bind", ctx.run_dir, ctx.run_dir});
  if (!writable) a.insert(a.end(), {"--remount-ro", "/"});
  a.insert(a.end(), {"--clearenv", "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin", "--setenv", "HOME", "/tmp",
                     "--setenv", "LANG", "C.UTF-8", "--setenv", "PYTHONUNBUFFERED", "1",
                     "--setenv", "PYTHONDONTWRITEBYTECODE", "1", "--chdir", "/"});
  if (arch.name == "arm64" && !native)  // pointer-authentication emulation costs ~4x on trixie+
    a.insert(a.end(), {"--setenv", "QEMU_CPU", "max,pauth-impdef=on"});
  // One thread per library unless the caller sets otherwise: --clearenv drops the "1" the worker
  // client puts in a worker's environment (worker_client.cc), and an OpenMP pool under QEMU both
  // oversubscribes the shared cores and retires a batch child after every load that starts it.
  for (const char* name : {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"}) {
    std::string v = env_or_empty(name);
    a.insert(a.end(), {"--setenv", name, v.empty() ? "1" : v});
  }
  // The host's OpenBLAS kernel choice only means something on the host's CPU.
  if (native)
    for (const char* name : {"OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"})
      if (std::string v = env_or_empty(name); !v.empty()) a.insert(a.end(), {"--setenv", name, v});
  if (!native) a.push_back("/usr/bin/" + qemu_binary(arch));
  a.push_back("/usr/bin/python3");
  Launch l;
  l.python = std::move(a);
  l.emulated = !native;
  if (!native) l.qemu = qemu;
  l.where = fmt::format("{}/{} rootfs{}", spec.suite, spec.arch,
                        native ? (arch.personality.empty() ? "" : " (native, " + arch.personality + ")")
                               : " under " + qemu_text(arch, qemu));
  if (wheels_stack(spec)) l.where += " with PyPI wheels";
  return l;
}

Result<QemuBuild> choose_qemu(const EnvSpec& spec, const DebianArch& arch, const ProvisionContext& ctx) {
  if (!ctx.qemu.empty()) return find_qemu_build(ctx.qemu, arch.qemu, ctx.cache_dir);
  if (!spec.qemu.empty()) return find_qemu_build(spec.qemu, arch.qemu, ctx.cache_dir);
  std::string preferred = preferred_qemu_build(arch.name);
  auto found = find_qemu_build(preferred, arch.qemu, ctx.cache_dir);
  if (found || preferred == "system") return found;
  if (ctx.log) *ctx.log << fmt::format("  note: {} (preferred for {}) is not here: {}; using the system's\n", preferred, arch.name,
                                       found.error().message);
  return find_qemu_build("system", arch.qemu, ctx.cache_dir);
}

Result<Launch> with_qemu_build(Launch launch, const QemuBuild& other) {
  if (!launch.emulated || launch.qemu.binary.empty()) return make_error("not an environment run under QEMU");
  auto& argv = launch.python;
  auto bound = std::find(argv.begin(), argv.end(), launch.qemu.binary);
  if (bound == argv.end() || bound == argv.begin() || *(bound - 1) != "--ro-bind")
    return make_error("the launch binds no QEMU build (an environment built before QEMU builds could be chosen?)");
  *bound = other.binary;
  std::smatch m;
  std::string from = std::regex_search(launch.qemu.version, m, std::regex(R"(version (\S+))")) ? m[1].str() : "?";
  std::string to = std::regex_search(other.version, m, std::regex(R"(version (\S+))")) ? m[1].str() : "?";
  auto at = launch.where.find(fmt::format("{} ({})", from, launch.qemu.name));
  if (at != std::string::npos)
    launch.where.replace(at, from.size() + launch.qemu.name.size() + 3, fmt::format("{} ({})", to, other.name));
  launch.qemu = other;
  return launch;
}

Result<Launch> DebianProvider::provision(const EnvSpec& spec, const ProvisionContext& ctx) {
  auto arch = find_debian_arch(spec.arch);
  if (!arch) return make_error(fmt::format("{}: [env.{}] arch: {}", spec.origin, spec.name, arch.error().message));
  bool native = runs_natively(*arch, host_machine());
  if (ctx.cache_dir.empty()) return make_error("no cache directory given for the debian provider");
  QemuBuild qemu;
  if (!native) {
    auto chosen = choose_qemu(spec, *arch, ctx);
    if (!chosen) return make_error(fmt::format("{}: [env.{}] {}", spec.origin, spec.name, chosen.error().message));
    qemu = *chosen;
  }
  // g++ runs cc1plus, as and ld: under QEMU each is another foreign binary to exec.
  if (spec.native_onnx && !native && !binfmt_registered(*arch))
    return make_error(fmt::format("{}: [env.{}] native_onnx: building the native ONNX consumer for {} under QEMU needs "
                                  "binfmt_misc entries (g++ execs cc1plus, as, ld): register Debian's with `cat "
                                  "/usr/lib/binfmt.d/qemu-{}.conf > /proc/sys/fs/binfmt_misc/register` (a machine-wide "
                                  "change; docs/environments.md)",
                                  spec.origin, spec.name, spec.arch, arch->qemu));
  EnvCache cache(ctx.cache_dir);
  CacheKey key = debian_cache_key(spec);
  auto dir = cache.get_or_build(
      key, [&](const BuildDir& d) { return build_rootfs(spec, *arch, native, qemu, d, ctx); }, ctx.log,
      std::chrono::duration_cast<milliseconds>(ctx.timeout));
  if (!dir) return dir.error();
  Launch launch = debian_launch(*dir + "/rootfs", *arch, spec, ctx, native, false, qemu);
  if (spec.native_onnx) {
    Launch builder = debian_launch(*dir + "/rootfs", *arch, spec, ProvisionContext{}, native, true, qemu);
    auto program = ensure_native_onnx(*dir + "/rootfs", builder.python, ctx.source_root,
                                      {ctx.log, cache.log_path(key)}, builder.where);
    if (!program) return program.error();
    launch.loader_program = *program;
    launch.where += "; loads with crossload-onnx-native (C++ onnxruntime, no Python)";
  }
  return launch;
}

}  // namespace crossload
