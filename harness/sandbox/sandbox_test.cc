#include "harness/util/source_root.h"
#include "harness/sandbox/sandbox.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "harness/env/debian_provider.h"
#include "harness/util/process.h"

namespace crossload {
namespace {

namespace fs = std::filesystem;
using Args = std::vector<std::string>;

// The index of `needle` as a contiguous run inside `hay`, or npos.
std::size_t find_run(const Args& hay, const Args& needle) {
  auto it = std::search(hay.begin(), hay.end(), needle.begin(), needle.end());
  return it == hay.end() ? std::string::npos : static_cast<std::size_t>(it - hay.begin());
}

SandboxPaths paths_in(const fs::path& dir) {
  return {(dir / "run").string(), (dir / "src").string(), (dir / "cache").string()};
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "sandbox-test-XXXXXX").string();
    path = ::mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

TEST(SandboxLaunch, AHostLaunchRunsUnderBwrapWithTheRunDirectoryReadOnlyButItsCells) {
  TempDir tmp;
  SandboxPaths p = paths_in(tmp.path);
  Launch host;
  host.python = {"/opt/venv/bin/python"};
  host.env = {{"X", "1"}};
  auto s = sandbox_launch(host, p);
  ASSERT_TRUE(s) << s.error().message;
  const Args& a = s->python;
  EXPECT_EQ(a.front(), "bwrap");
  EXPECT_EQ(a.back(), "/opt/venv/bin/python");
  EXPECT_EQ(s->env, host.env);
  for (const char* flag : {"--unshare-net", "--unshare-pid", "--die-with-parent"})
    EXPECT_NE(std::find(a.begin(), a.end(), flag), a.end()) << flag;
  std::size_t tmpfs = find_run(a, {"--tmpfs", "/tmp"});
  std::size_t ro_run = find_run(a, {"--ro-bind", p.run_dir, p.run_dir});
  std::size_t rw_cells = find_run(a, {"--bind", p.run_dir + "/cells", p.run_dir + "/cells"});
  ASSERT_NE(tmpfs, std::string::npos);
  ASSERT_NE(ro_run, std::string::npos);
  ASSERT_NE(rw_cells, std::string::npos);
  // Later mounts cover earlier ones: the run directory shows through the private /tmp, and the
  // cells stay writable inside the read-only run directory.
  EXPECT_LT(tmpfs, ro_run);
  EXPECT_LT(ro_run, rw_cells);
  EXPECT_TRUE(fs::is_directory(p.run_dir + "/cells"));  // bwrap binds only what exists
  // Everything under the host's /tmp that the worker needs comes back read-only.
  EXPECT_NE(find_run(a, {"--ro-bind-try", p.source_root, p.source_root}), std::string::npos);
  EXPECT_NE(find_run(a, {"--ro-bind-try", p.cache_dir, p.cache_dir}), std::string::npos);
}

TEST(SandboxLaunch, ADebianLaunchGainsAPidNamespaceAndTheReadOnlyRunDirectory) {
  TempDir tmp;
  SandboxPaths p = paths_in(tmp.path);
  auto arch = find_debian_arch("s390x");
  ASSERT_TRUE(arch);
  EnvSpec spec;
  spec.suite = "bookworm";
  spec.arch = "s390x";
  Launch debian = debian_launch("/cache/rootfs", *arch, spec, ProvisionContext{p.source_root, p.run_dir, p.cache_dir},
                                false, false);
  auto s = sandbox_launch(debian, p);
  ASSERT_TRUE(s) << s.error().message;
  const Args& a = s->python;
  ASSERT_EQ(a.size(), debian.python.size() + 9);  // --unshare-pid, --proc and the two binds
  EXPECT_EQ(a.back(), "/usr/bin/python3");
  EXPECT_EQ(find_run(a, {"bwrap", "--unshare-pid"}), 0u);
  std::size_t rw_run = find_run(a, {"--bind", p.run_dir, p.run_dir});
  ASSERT_NE(rw_run, std::string::npos);
  EXPECT_EQ(find_run(a, {"--proc", "/proc", "--ro-bind", p.run_dir, p.run_dir, "--bind", p.run_dir + "/cells",
                         p.run_dir + "/cells"}),
            rw_run + 3);
}

TEST(SandboxLaunch, ABwrapLaunchThatDoesNotBindTheRunDirectoryIsRefused) {
  TempDir tmp;
  Launch odd;
  odd.python = {"bwrap", "--ro-bind", "/", "/", "/usr/bin/python3"};
  auto s = sandbox_launch(odd, paths_in(tmp.path));
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find("does not bind the run directory"), std::string::npos) << s.error().message;
}

// A listening socket on the host's loopback: the sandbox has its own, so nothing may arrive.
struct Listener {
  int fd = -1;
  int port = 0;
  Listener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd, 4);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    port = ntohs(addr.sin_port);
  }
  bool saw_a_connection() const { return ::accept(fd, nullptr, nullptr) >= 0; }
  ~Listener() { ::close(fd); }
};

TEST(Sandbox, WhatRunsInsideCannotWriteTheRunDirectoryNorReachTheNetwork) {
  if (auto st = probe_sandbox(nullptr); !st) GTEST_SKIP() << st.error().message;
  TempDir tmp;
  SandboxPaths p = paths_in(tmp.path);
  fs::create_directories(p.run_dir + "/artifacts");
  Listener listener;
  ASSERT_GT(listener.port, 0);
  Launch sh;
  sh.python = {"/bin/sh"};
  auto s = sandbox_launch(sh, p);
  ASSERT_TRUE(s) << s.error().message;
  // bash's /dev/tcp would need bash: a connection attempt through python's socket module is the
  // same system call, but needs a python; sh's redirections are enough for files.
  std::string private_tmp = "/tmp/" + tmp.path.filename().string() + "-private";
  std::string script = "echo x > " + p.run_dir + "/artifacts/escaped; echo x > " + p.run_dir +
                       "/escaped; echo x > " + private_tmp + "; echo ok > " + p.run_dir + "/cells/written; " +
                       "cat " + private_tmp;
  ProcessOptions o;
  o.argv = s->python;
  o.argv.insert(o.argv.end(), {"-c", script});
  o.timeout = std::chrono::seconds(30);
  auto r = run_process(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "x\n");  // its /tmp is writable, and private:
  EXPECT_FALSE(fs::exists(private_tmp));
  EXPECT_FALSE(fs::exists(p.run_dir + "/artifacts/escaped"));
  EXPECT_FALSE(fs::exists(p.run_dir + "/escaped"));
  EXPECT_TRUE(fs::exists(p.run_dir + "/cells/written"));
  EXPECT_NE(r->err.find("Read-only file system"), std::string::npos) << r->err;

  std::string python = std::string(crossload::source_root()) + "/.venv/bin/python";
  if (!fs::exists(python)) GTEST_SKIP() << "no " << python << " for the network half";
  Launch py;
  py.python = {python};
  auto sp = sandbox_launch(py, p);
  ASSERT_TRUE(sp);
  o.argv = sp->python;
  o.argv.insert(o.argv.end(), {"-c", "import socket\n"
                                     "for host, port in (('127.0.0.1', " + std::to_string(listener.port) + "), ('1.1.1.1', 53)):\n"
                                     "    try:\n"
                                     "        socket.create_connection((host, port), timeout=3); print('connected')\n"
                                     "    except OSError as exc:\n"
                                     "        print(type(exc).__name__)\n"});
  r = run_process(o);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->out, "ConnectionRefusedError\nOSError\n") << r->err;  // its own loopback; no route out
  EXPECT_FALSE(listener.saw_a_connection());
}

}  // namespace
}  // namespace crossload
