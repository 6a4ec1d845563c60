#pragma once
// A Debian rootfs of one suite for one architecture (also the base of a `pip` environment with an
// `arch`: the suite's python3 only, the stack from PyPI's binary wheels for that CPU), built by `mmdebstrap --variant=extract`
// (no maintainer scripts run, so it works for any CPU without binfmt), fixed up so its Python
// runs (merged-/usr and BLAS/LAPACK links, a static QEMU for foreign CPUs), byte-compiled once,
// optionally topped up with pure-Python wheels from PyPI, and entered with bwrap: no network,
// the rootfs read-only, the crossload tree read-only and the run directory read-write at the
// same paths as outside.
#include <optional>
#include <string>
#include <vector>

#include "harness/env/cache.h"
#include "harness/env/provider.h"

namespace crossload {

struct DebianArch {
  std::string name;     // Debian's: amd64, arm64, s390x, ...
  std::string triplet;  // multiarch directory under /usr/lib
  std::string qemu;     // qemu-user name: s390x for qemu-s390x-static
  std::string personality;  // setarch name for a 32-bit CPU run natively ("i686"), else ""
  std::string wheel;        // the machine in a wheel's platform tag: aarch64 for manylinux_2_17_aarch64
};

// Debian's architectures crossload knows; nullopt (and the known names in the error) otherwise.
Result<DebianArch> find_debian_arch(const std::string& name);
// True when this machine's CPU runs that architecture's binaries without QEMU.
bool runs_natively(const DebianArch& arch, const std::string& host_machine);
std::string host_machine();  // uname -m
// The Debian architecture of this machine's CPU (amd64 on x86_64), or an Error naming the machine.
Result<std::string> host_debian_arch();

// The Debian packages every rootfs gets, and those included only where the suite has them.
std::vector<std::string> debian_base_packages();
std::vector<std::string> debian_optional_packages();
// The packages of a rootfs whose stack comes from binary wheels (the `pip` provider with an `arch`).
std::vector<std::string> wheel_base_packages();

CacheKey debian_cache_key(const EnvSpec& spec);

// mmdebstrap's stderr in one or two lines: missing pool files, unknown packages, missing indices.
std::string summarize_mmdebstrap_errors(const std::string& output);

// How to run the rootfs's python3: bwrap (+ QEMU for a foreign CPU, setarch for i386).
// `writable` binds the rootfs read-write (build steps); launches for runs keep it read-only.
// `qemu`, for a foreign CPU, is bound over the rootfs's own copy of the emulator.
Launch debian_launch(const std::string& rootfs, const DebianArch& arch, const EnvSpec& spec,
                     const ProvisionContext& ctx, bool native, bool writable, const QemuBuild& qemu = {});

// The QEMU build an emulated environment runs under: the command line's (ctx.qemu), else its
// `qemu` key, else the CPU's preferred build (qemu_builds.toml), falling back to the system's
// when the preferred one is not unpacked here.
Result<QemuBuild> choose_qemu(const EnvSpec& spec, const DebianArch& arch, const ProvisionContext& ctx);

// The same launch under another QEMU build (a second opinion, harness/run/second_opinion.h).
Result<Launch> with_qemu_build(Launch launch, const QemuBuild& other);

class DebianProvider : public Provider {
 public:
  std::string name() const override { return "debian"; }
  Result<Launch> provision(const EnvSpec& spec, const ProvisionContext& ctx) override;
};

}  // namespace crossload
