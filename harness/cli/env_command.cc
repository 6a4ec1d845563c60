// `crossload env list | build [NAME...] | info NAME | shell NAME [-- ARGS] | gc`: the
// environments of a matrix file, provisioned (cached) by their providers, inspected through the
// real worker.
#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "harness/cli/commands.h"
#include "harness/cli/paths.h"
#include "harness/cli/validators.h"
#include "harness/env/cache.h"
#include "harness/env/debian_provider.h"
#include "harness/env/interpreters.h"
#include "harness/env/pip_provider.h"
#include "harness/env/provider.h"
#include "harness/core/matrix.h"
#include "harness/core/protocol.h"
#include "harness/core/worker_client.h"
#include "harness/util/exit_codes.h"
#include "harness/util/interrupt.h"
#include "harness/util/process.h"
#include "harness/util/text.h"

namespace crossload::cli {

namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

struct EnvFlags {
  CommandFlags common;             // --matrix, --root, --cache-dir of every env subcommand
  int (*chosen)(const EnvFlags&) = nullptr;  // the subcommand given
  std::vector<std::string> names;  // build
  std::string name;                // info, shell
  std::vector<std::string> shell_args;
  bool json = false;
  bool unused = false;
  bool dry_run = false;
  int timeout_seconds = 1800;
  std::string qemu;  // --qemu BUILD for every emulated environment (harness/env/qemu.h)
};

// The matrix, plus the environments named on the command line by their spec (`debian:sid/s390x`).
Result<Matrix> load(const EnvFlags& f) {
  auto m = load_matrix(f.common.matrix);
  if (!m) return m;
  std::vector<std::string> named = f.names;
  if (!f.name.empty()) named.push_back(f.name);
  if (auto s = add_spec_envs(*m, named); !s) return s.error();
  return m;
}

Result<const EnvSpec*> find(const Matrix& m, const std::string& name) {
  if (const EnvSpec* e = m.find_env(name)) return e;
  std::vector<std::string> names;
  for (const auto& e : m.envs) names.push_back(e.name);
  return make_error(fmt::format("{}: no environment '{}'{} (known: {})", m.path, name, did_you_mean(name, names),
                                join(names, ", ")));
}

ProvisionContext context(const EnvFlags& f) {
  ProvisionContext ctx;
  ctx.source_root = f.common.root;
  ctx.cache_dir = f.common.cache_dir;
  ctx.log = &std::cerr;
  ctx.timeout = std::chrono::seconds(f.timeout_seconds);
  ctx.qemu = f.qemu;
  return ctx;
}

// The cache entry an environment maps to; nullopt for providers without one (host).
std::optional<CacheKey> cache_key_of(const EnvSpec& e) {
  if (e.provider == "debian") return debian_cache_key(e);
  if (e.provider == "pip") {
    Interpreter base;
    auto spec = resolve_pip_spec(e, &base);  // a Python this machine lacks: from a Debian rootfs
    if (!spec) return std::nullopt;
    return spec->arch.empty() ? pip_cache_key(e, base) : debian_cache_key(*spec);
  }
  return std::nullopt;
}

std::string describe(const EnvSpec& e) {
  if (e.provider == "debian") {
    std::string extra = e.packages.empty() ? "" : " +" + join(e.packages, " +");
    if (!e.pip.empty()) extra += " +pip:" + join(e.pip, ",");
    return fmt::format("{}/{}{}", e.suite, e.arch, extra);
  }
  if (e.provider == "pip" && !e.arch.empty()) return fmt::format("{}/{} wheels: {}", e.suite, e.arch, join(e.pip, " "));
  if (e.provider == "pip") return fmt::format("{} {}", e.python.empty() ? "python3" : e.python, join(e.pip, " "));
  return e.python;
}

std::string cache_status(const EnvCache& cache, const EnvSpec& e) {
  if (e.provider == "host") return "-";
  auto key = cache_key_of(e);
  if (!key) return "no base interpreter";
  auto stamp = cache.stamp(*key);
  if (!stamp) return "not built";
  return fmt::format("built in {} ({})", format_duration(stamp->value("provision_seconds", 0.0)), key->id);
}

int list(const EnvFlags& f) {
  auto m = load(f);
  if (!m) return std::cerr << m.error().message << '\n', exit_code::kBadInput;
  EnvCache cache(f.common.cache_dir);
  std::cout << fmt::format("{:<22} {:<8} {:<44} {}\n", "NAME", "PROVIDER", "WHAT", "CACHE");
  for (const auto& e : m->envs)
    std::cout << fmt::format("{:<22} {:<8} {:<44} {}\n", e.name, e.provider, describe(e), cache_status(cache, e));
  std::cout << "cache: " << f.common.cache_dir << '\n';
  return exit_code::kOk;
}

Result<Launch> provision(const EnvSpec& e, const ProvisionContext& ctx) {
  auto provider = make_provider(e.provider);
  if (!provider) return make_error(fmt::format("{}: unknown provider '{}'", e.origin, e.provider));
  return provider->provision(e, ctx);
}

// SIGINT or SIGTERM stopped `env build` (harness/util/interrupt.h): the environments built stay in
// the cache; the one being built, `cut` (null if it was finished), left no entry (the cache renames
// a build into place only when complete, and the provider's commands were killed with their groups).
Error interrupted_build(const std::vector<std::string>& built, const EnvSpec* cut) {
  std::string during = cut ? fmt::format(" while building {} (its unfinished build was removed)", cut->name) : "";
  return make_error(ErrorKind::kInterrupted,
                    fmt::format("interrupted by {}{}: environments built: {}; rerun the same command to build the rest",
                                interrupt_signal_name(), during, built.empty() ? "none" : join(built, ", ")));
}

int build(const EnvFlags& f) {
  auto m = load(f);
  if (!m) return std::cerr << m.error().message << '\n', exit_code::kBadInput;
  std::vector<const EnvSpec*> chosen;
  for (const auto& name : f.names) {
    auto e = find(*m, name);
    if (!e) return std::cerr << e.error().message << '\n', exit_code::kUsage;
    chosen.push_back(*e);
  }
  if (f.names.empty())
    for (const auto& e : m->envs) chosen.push_back(&e);
  int failed = 0;
  std::vector<std::string> built;
  install_interrupt_handlers();  // SIGINT/SIGTERM: the half-built entry is removed (README, "Interrupting a run")
  for (const EnvSpec* e : chosen) {
    auto start = std::chrono::steady_clock::now();
    auto launch = provision(*e, context(f));
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (launch) built.push_back(e->name);
    if (interrupted()) return fail(interrupted_build(built, launch ? nullptr : e));
    if (launch) std::cout << fmt::format("{}: ready in {}  [{}]\n", e->name, format_duration(s), launch->where);
    else std::cout << fmt::format("{}: ENV_UNAVAILABLE after {}: {}\n", e->name, format_duration(s), launch.error().message);
    std::cout.flush();
    failed += launch ? 0 : 1;
  }
  return failed ? exit_code::kEnvironment : exit_code::kOk;
}

Result<nlohmann::json> fingerprint(const EnvSpec& e, const Launch& launch, const EnvFlags& f) {
  std::string log_path = f.common.cache_dir + "/logs/info-" + env_file_name(e.name) + ".worker.log";
  fs::create_directories(f.common.cache_dir + "/logs");
  std::cerr << "+ " << shell_line(launch.python) << " " << f.common.root << "/harness/worker/worker.py --root "
            << f.common.root << "   [" << launch.where << "]" << std::endl;
  auto worker = WorkerClient::start(e.name, launch, f.common.root, log_path);
  if (!worker) return worker.error();
  const milliseconds timeout(600000);  // imports under QEMU take tens of seconds
  auto greeted = greet_worker(**worker, timeout);
  if (!greeted) return greeted.error();
  std::cerr << "  fingerprint in " << format_duration(greeted->fingerprint_seconds) << std::endl;
  return greeted->fingerprint;
}

std::string qemu_line(const Launch& launch) {
  if (!launch.emulated) return "none (native)";
  std::string cpu = "QEMU's default";
  for (std::size_t i = 0; i + 2 < launch.python.size(); ++i)
    if (launch.python[i] == "--setenv" && launch.python[i + 1] == "QEMU_CPU") cpu = launch.python[i + 2];
  return fmt::format("{} [{}: {}]; emulated CPU: {}", launch.qemu.version, launch.qemu.name, launch.qemu.binary, cpu);
}

// Any JSON value as text: the worker's fields may be null or not strings in some environments.
std::string field(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || j[key].is_null()) return "?";
  return j[key].is_string() ? j[key].get<std::string>() : j[key].dump();
}

void print_fingerprint(const EnvSpec& e, const Launch& launch, const nlohmann::json& fp,
                       const std::optional<nlohmann::json>& stamp) {
  auto str = [&](const char* k) { return field(fp, k); };
  std::cout << fmt::format("environment  {} ({})\nwhere        {}\n", e.name, e.provider, launch.where);
  std::cout << fmt::format("python       {} {} ({})\n", str("implementation"), str("python"), str("executable"));
  std::cout << fmt::format("machine      {}   byteorder {}   pointer bits {}\n", str("machine"), str("byteorder"), str("pointer_bits"));
  std::cout << fmt::format("libc         {}\n", str("libc"));
  std::cout << fmt::format("qemu         {}\n", qemu_line(launch));
  if (fp.contains("packages"))
    for (const auto& [name, v] : fp["packages"].items())
      std::cout << fmt::format("  {:<14} {}\n", name, v.is_null() ? "-" : v.is_string() ? v.get<std::string>() : v.dump());
  if (fp.contains("blas"))
    for (const auto& b : fp["blas"])
      std::cout << fmt::format("blas         {} {} ({}, {} threads)\n", field(b, "internal_api"), field(b, "version"),
                               field(b, "filepath"), field(b, "num_threads"));
  if (stamp) {
    const auto& facts = (*stamp)["facts"];
    std::cout << fmt::format("provisioned  in {} at {}\n", format_duration(stamp->value("provision_seconds", 0.0)),
                             field(*stamp, "built_at"));
    std::vector<std::string> added, left_out;
    for (const auto& w : facts.value("pip", nlohmann::json::array()))
      (w.value("skipped", false) ? left_out : added).push_back(field(w, "name") + "==" + field(w, "version"));
    if (!added.empty()) std::cout << "from PyPI    " << join(added, " ") << "\n";
    if (!left_out.empty()) std::cout << "left out     " << join(left_out, " ") << " (compiled, not for this CPU)\n";
  }
}

int info(const EnvFlags& f) {
  auto m = load(f);
  if (!m) return std::cerr << m.error().message << '\n', exit_code::kBadInput;
  auto e = find(*m, f.name);
  if (!e) return std::cerr << e.error().message << '\n', exit_code::kUsage;
  auto launch = provision(**e, context(f));
  if (!launch) return std::cerr << (*e)->name << ": ENV_UNAVAILABLE: " << launch.error().message << '\n', exit_code::kEnvironment;
  auto fp = fingerprint(**e, *launch, f);
  if (!fp) return std::cerr << (*e)->name << ": " << fp.error().message << '\n', exit_code::kEnvironment;
  auto key = cache_key_of(**e);
  auto stamp = key ? EnvCache(f.common.cache_dir).stamp(*key) : std::nullopt;
  if (f.json) {
    nlohmann::json out{{"name", (*e)->name}, {"provider", (*e)->provider}, {"where", launch->where},
                       {"emulated", launch->emulated}, {"qemu", qemu_line(*launch)}, {"fingerprint", *fp}};
    if (stamp) out["provision"] = *stamp;
    std::cout << out.dump(2) << '\n';
  } else {
    print_fingerprint(**e, *launch, *fp, stamp);
  }
  return exit_code::kOk;
}

int shell(const EnvFlags& f) {
  auto m = load(f);
  if (!m) return std::cerr << m.error().message << '\n', exit_code::kBadInput;
  auto e = find(*m, f.name);
  if (!e) return std::cerr << e.error().message << '\n', exit_code::kUsage;
  auto launch = provision(**e, context(f));
  if (!launch) return std::cerr << (*e)->name << ": ENV_UNAVAILABLE: " << launch.error().message << '\n', exit_code::kEnvironment;
  ProcessOptions o;
  o.argv = launch->python;
  o.argv.insert(o.argv.end(), f.shell_args.begin(), f.shell_args.end());
  o.set_env = launch->env;
  o.in = o.out = o.err = Stream::kInherit;
  o.own_process_group = false;  // the interactive interpreter needs the terminal
  o.echo = &std::cerr;
  o.where = launch->where;
  auto r = run_process(o);
  if (!r) return std::cerr << r.error().message << '\n', exit_code::kEnvironment;
  return r->signal ? 128 + r->signal : r->exit_code;
}

int gc(const EnvFlags& f) {
  EnvCache cache(f.common.cache_dir);
  std::optional<std::vector<std::string>> keep;
  if (f.unused) {
    auto m = load(f);
    if (!m) return std::cerr << m.error().message << '\n', exit_code::kBadInput;
    keep.emplace();
    for (const auto& e : m->envs)
      if (auto key = cache_key_of(e)) keep->push_back(key->id);
  }
  auto removed = cache.gc(keep, f.dry_run);
  for (const auto& dir : removed) std::cout << (f.dry_run ? "would remove " : "removed ") << dir << '\n';
  std::cout << fmt::format("{} entr{} {}; cache: {}\n", removed.size(), removed.size() == 1 ? "y" : "ies",
                           f.dry_run ? "to remove" : "removed", f.common.cache_dir);
  return exit_code::kOk;
}

void add_common(CLI::App* cmd, EnvFlags& f) {
  add_flag_groups(cmd, kMatrixFlags | kCacheFlags, f.common);
  cmd->add_option("--timeout", f.timeout_seconds, "seconds one environment may take to build")->capture_default_str();
  cmd->add_option("--qemu", f.qemu, "QEMU build for emulated CPUs: system or debian:SUITE (unpacked by ci/fetch-qemu)")
      ->check(qemu_build());
}

}  // namespace

CommandRun env_command(CLI::App& app) {
  auto f = std::make_shared<EnvFlags>();
  CLI::App* env = &app;
  env->require_subcommand(1);
  struct Sub {
    const char* name;
    const char* help;
    int (*run)(const EnvFlags&);
  };
  const Sub subs[] = {
      {"list", "the matrix's environments and whether each is built", &list},
      {"build", "build (or find in the cache) the named environments, or all", &build},
      {"info", "start the worker in an environment and print its fingerprint", &info},
      {"shell", "run the environment's python3 (arguments after --)", &shell},
      {"gc", "remove interrupted builds (--unused: also entries the matrix does not use)", &gc},
  };
  for (const Sub& s : subs) {
    CLI::App* cmd = env->add_subcommand(s.name, s.help);
    add_common(cmd, *f);
    std::string name = s.name;
    if (name == "build") cmd->add_option("names", f->names, "environment names (default: all)");
    if (name == "info" || name == "shell") cmd->add_option("name", f->name, "environment name")->required();
    if (name == "info") cmd->add_flag("--json", f->json, "print the fingerprint as JSON");
    // One argument through the option, the rest as the prefix command's remainder: an option
    // taking them all would read an argument like ["a","b"] as a CLI11 list and split it.
    if (name == "shell") {
      cmd->add_option("args", f->shell_args, "arguments for python3 (after --)")->allow_extra_args(false);
      cmd->prefix_command();
    }
    if (name == "gc") {
      cmd->add_flag("--unused", f->unused, "also remove entries no environment of --matrix uses");
      cmd->add_flag("--dry-run,-n", f->dry_run, "only say what would be removed");
    }
    auto run = s.run;
    cmd->callback([f, run, cmd] {
      if (cmd->get_prefix_command()) {
        auto rest = cmd->remaining();
        auto from = rest.begin();
        if (from != rest.end() && *from == "--") ++from;  // the separator itself, kept by CLI11
        f->shell_args.insert(f->shell_args.end(), from, rest.end());
      }
      f->chosen = run;
    });
  }
  return [f](const CommandFlags&) {
    resolve_flags(f->common);
    return f->chosen ? f->chosen(*f) : exit_code::kUsage;
  };
}

}  // namespace crossload::cli
