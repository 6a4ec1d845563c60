"""Fork per load: every artifact load runs in a fresh child of the long-lived worker.

The worker imports the scientific stack once (seconds per interpreter under QEMU); a forked child
inherits it for free, and whatever an artifact does while loading — a segfault, os._exit, an
endless loop, a fork bomb, eating memory — ends that child only. The worker itself never runs
artifact code, so its memory stays clean: the child's peak RSS is the load's own measurement.

Plain os.fork(), not multiprocessing: inside a foreign rootfs without binfmt_misc entries nothing
can exec a new interpreter, which spawn and forkserver need (ARCHITECTURE.md).

Python 3.8 compatible, Linux only.
"""
import gc
import json
import math
import os
import resource
import select
import shutil
import signal
import sys
import tempfile
import time

import privileges
import process_tools
from formats import registry
from stages import ProtocolError, ReportedError, StageError, jsonable

# The persistence stack: the scientific base and every format's runtime (formats/registry.py:
# what loads may import, converters left out). Modules of these packages that a load imported
# are imported into the worker afterwards, so the next child inherits them: the import cost is
# paid once per worker, not once per load. Nothing else an artifact names is ever imported into
# the worker.
WARM_PACKAGES = frozenset(["numpy", "scipy", "sklearn", "threadpoolctl", "formats"]
                          + [p.module for p in registry.packages(("library", "optional"))])

# Once a child has answered it is about to _exit; this bounds a child that does not.
EXIT_GRACE_SECONDS = 10
# How long the worker keeps killing and reaping a load's leftover processes before giving up.
SWEEP_SECONDS = 10
# Where the kernel cannot hold a load to its address space (QEMU user mode accepts RLIMIT_AS and
# ignores it), the worker watches the child's RSS this often instead.
MEMORY_WATCH_SECONDS = 0.1


class Limits:
    """What one load may use. None means unlimited."""

    FIELDS = ("address_space_bytes", "cpu_seconds", "wall_seconds", "processes")

    def __init__(self, address_space_bytes=None, cpu_seconds=None, wall_seconds=None,
                 processes=None):
        self.address_space_bytes = address_space_bytes
        self.cpu_seconds = cpu_seconds
        self.wall_seconds = wall_seconds
        self.processes = processes

    @classmethod
    def from_request(cls, value):
        if value is None:
            return cls()
        if not isinstance(value, dict):
            raise ProtocolError("limits must be an object")
        unknown = sorted(set(value) - set(cls.FIELDS))
        if unknown:
            raise ProtocolError("unknown limits %s (known: %s)" % (", ".join(unknown),
                                                                   ", ".join(cls.FIELDS)))
        for name, v in value.items():
            if v is not None and (isinstance(v, bool) or not isinstance(v, (int, float))
                                  or v <= 0):
                raise ProtocolError("limits.%s must be a positive number or null" % name)
        return cls(**value)


class Ending:
    """How a child ended, as the worker saw it."""

    def __init__(self, answer, status, rusage, killed_for=None):
        self.answer = answer          # the child's answer object, or None
        self.status = status          # os.wait4 status
        self.rusage = rusage
        self.killed_for = killed_for  # None, or the limit the worker killed it for: wall, memory


class Watch:
    """What the worker watches while a child runs: the wall clock, and its RSS where RLIMIT_AS
    does not work."""

    def __init__(self, wall_seconds, rss_limit_kb):
        self.deadline = None if wall_seconds is None else time.monotonic() + wall_seconds
        self.rss_limit_kb = rss_limit_kb

    def remaining(self):
        return None if self.deadline is None else self.deadline - time.monotonic()

    def poll_interval(self):
        """How long the worker may sleep before looking again; None: until something happens."""
        remaining = self.remaining()
        if self.rss_limit_kb is None:
            return remaining
        return MEMORY_WATCH_SECONDS if remaining is None else min(remaining, MEMORY_WATCH_SECONDS)

    def broken(self, pid):
        """The limit the child is past now, or None."""
        remaining = self.remaining()
        if remaining is not None and remaining <= 0:
            return "wall"
        if self.rss_limit_kb is not None and process_tools.status_kb("VmRSS", pid) > self.rss_limit_kb:
            return "memory"
        return None


class Isolation:
    """The worker's side of fork-per-load. One per worker process."""

    def __init__(self, protected_fds=()):
        self.protected_fds = tuple(protected_fds)  # the protocol stream: never a child's to touch
        self.unwarmable = set()
        self.subreaper_problem = privileges.become_subreaper()
        if self.subreaper_problem:
            process_tools.log("cannot become a subreaper (%s): a load's orphans escape the sweep"
                 % self.subreaper_problem)
        self.sandbox_uid = _usable_sandbox_uid()
        self.dropper = privileges.Dropper(self.sandbox_uid) if self.sandbox_uid is not None else None
        self.address_space_enforced = _address_space_limit_works()
        if not self.address_space_enforced:
            process_tools.log("RLIMIT_AS does not hold here (QEMU user mode?): the memory limit is watched "
                 "on the load's RSS every %g s instead" % MEMORY_WATCH_SECONDS)

    def run(self, work, limits, publish, tmp_root=None):
        """Runs work(tmpdir) -> result dict in a child under `limits`; publish(result, tmpdir)
        then runs here, in the worker, before the private directory goes. Returns the result, or
        raises ReportedError with the child's error, a crash or a timeout."""
        # Monotonic stamps (one clock for worker and child) of each step, for the phases the
        # benchmark reports (ci/bench-workers: where a cell's time goes besides load+predict).
        stamps = {"start": time.monotonic()}
        tmpdir = tempfile.mkdtemp(prefix="crossload-load-", dir=tmp_root)
        try:
            started = time.monotonic()
            rss_at_fork = process_tools.status_kb("VmRSS")
            with process_tools.ChildSignals() as wake:
                stamps["fork"] = time.monotonic()
                pid, result_fd = self._fork(work, limits, tmpdir, wake.fds())
                try:
                    ending = _await(pid, result_fd, self._watch(limits, rss_at_fork), wake.read_fd)
                finally:
                    os.close(result_fd)
            stamps["reaped"] = time.monotonic()
            self.sweep()
            measured = {"rss_at_fork_kb": rss_at_fork, "rss_peak_kb": ending.rusage.ru_maxrss,
                        "isolated_seconds": time.monotonic() - started}
            result = judge(ending, limits, measured)
            stamps.update(result.pop("child_stamps", None) or {})
            stamps["swept"] = time.monotonic()
            self.warm(result.pop("imported", []))
            stamps["warmed"] = time.monotonic()
            result = publish(result, tmpdir)
            stamps["published"] = time.monotonic()
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
        stamps["cleaned"] = time.monotonic()
        result["phases"] = _phases(stamps)
        return result

    def _fork(self, work, limits, tmpdir, wake_fds):
        read_fd, write_fd = os.pipe()
        # A collection in the child would write to every object the worker holds and so copy
        # its pages: frozen objects are never collected (the worker unfreezes its own copy).
        gc.freeze()
        pid = os.fork()
        if pid != 0:
            gc.unfreeze()
        if pid == 0:
            os.close(read_fd)
            _child(work, limits, tmpdir, write_fd, self.protected_fds + wake_fds,
                   self.dropper, self.address_space_enforced)  # never returns
        os.close(write_fd)
        try:
            os.setpgid(pid, pid)  # the child does it too: whoever runs first wins the race
        except OSError:
            pass
        return pid, read_fd

    def _watch(self, limits, rss_at_fork_kb):
        rss_limit = None
        if limits.address_space_bytes is not None and not self.address_space_enforced:
            rss_limit = rss_at_fork_kb + int(limits.address_space_bytes) // 1024
        return Watch(limits.wall_seconds, rss_limit)

    def sweep(self):
        """Ends whatever the load left behind (daemonised children, a fork bomb's survivors)."""
        if self.subreaper_problem is None and not process_tools.children_left():
            return  # the common case: nothing left, and no extra fork to find that out
        if self.sandbox_uid is not None and privileges.count_tasks(self.sandbox_uid):
            privileges.kill_uid(self.sandbox_uid)
        deadline = time.monotonic() + SWEEP_SECONDS
        while process_tools.children_left() and time.monotonic() < deadline:
            for pid in process_tools.own_children():
                process_tools.kill(pid)
            time.sleep(0.01)
        if self.subreaper_problem is None and process_tools.children_left():
            process_tools.log("processes of a load survived %d s of killing" % SWEEP_SECONDS)

    def warm(self, modules):
        """Imports into the worker the stack's modules a load needs (see WARM_PACKAGES): those
        the last load imported, or a format's runtime before its first load. One that fails is
        not tried again."""
        import importlib
        import warnings

        for name in modules:
            if name in sys.modules or name in self.unwarmable or name.split(".")[0] not in WARM_PACKAGES:
                continue
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    importlib.import_module(name)
            except BaseException as exc:  # a module that imports only in a load is not fatal
                self.unwarmable.add(name)
                process_tools.log("could not pre-import %s: %s: %s" % (name, type(exc).__name__, exc))


def _address_space_limit_works():
    """Whether RLIMIT_AS takes effect: QEMU user mode accepts it for the guest and does nothing
    (the limit would hit QEMU's own allocations). Tried on the soft limit, then put back."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    trial = hard - 1 if hard != resource.RLIM_INFINITY else 1 << 62
    try:
        resource.setrlimit(resource.RLIMIT_AS, (trial, hard))
        return resource.getrlimit(resource.RLIMIT_AS)[0] == trial
    except (OSError, ValueError):
        return False
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _usable_sandbox_uid():
    """The uid load children drop to, when the worker runs as root and the drop works here."""
    uid = privileges.pick_sandbox_uid()
    if uid is None:
        if os.geteuid() == 0:
            process_tools.log("load children run as root: cannot switch uid here")
        return None
    problem = privileges.probe_drop(uid)
    if problem:
        process_tools.log("load children run as root (dropping to uid %d failed: %s); RLIMIT_NPROC cannot "
             "bound a fork bomb" % (uid, problem))
        return None
    return uid


# --- the child ------------------------------------------------------------------------------

def _child(work, limits, tmpdir, result_fd, close_fds, dropper, address_space_enforced):
    """The forked child: confine, work, answer over the pipe, _exit. Never returns."""
    code = 0
    stamps = {"child_started": time.monotonic()}
    try:
        before = set(sys.modules)
        try:
            applied = confine(limits, tmpdir, close_fds, dropper, address_space_enforced)
            stamps["confined"] = time.monotonic()
            answer = {"ok": True, "result": work(tmpdir)}
            stamps["worked"] = time.monotonic()
            answer["result"]["isolation"] = applied
            answer["result"]["child_stamps"] = stamps
        except StageError as exc:
            answer = {"ok": False, "error": exc.error()}
        except BaseException as exc:  # a failure of the confinement itself, or a worker bug
            answer = {"ok": False, "error": StageError("protocol", exc).error()}
        imported = sorted(m for m in set(sys.modules) - before
                          if m.split(".")[0] in WARM_PACKAGES)
        answer.setdefault("result" if answer["ok"] else "error", {})["imported"] = imported
        process_tools.write_all(result_fd, (json.dumps(jsonable(answer), allow_nan=False) + "\n").encode())
    except BaseException:
        code = 70  # the answer itself failed: the worker reports the exit status
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)


def confine(limits, tmpdir, close_fds, dropper, address_space_enforced):
    """Everything a child does before it touches the artifact. Returns what was applied."""
    signal.set_wakeup_fd(-1)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setpgid(0, 0)  # its own group: the worker kills the whole group at the end
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)  # the protocol's requests are not the artifact's to read
    os.close(null)
    for fd in close_fds:
        process_tools.close(fd)
    os.environ["TMPDIR"] = tmpdir
    tempfile.tempdir = tmpdir  # the worker may have cached /tmp already
    os.chdir(tmpdir)  # relative writes land in the private directory
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # a segfault is an outcome, not a core file
    applied = {"uid": None}
    # Where RLIMIT_AS does not hold (QEMU user mode) the worker watches the RSS instead: no limit
    # to compute (a read of /proc/self/status, ~5 ms there) nor to set.
    address_space = address_space_limit(limits) if address_space_enforced else None
    sandbox_uid = dropper.uid if dropper is not None else None
    if dropper is not None:
        os.chown(tmpdir, sandbox_uid, sandbox_uid)
        dropper.drop()
        applied["uid"] = sandbox_uid
    applied["processes"] = _limit_processes(limits.processes, sandbox_uid)
    applied["cpu_seconds"] = _limit_cpu(limits.cpu_seconds)
    applied["address_space_bytes"] = _set_limit(resource.RLIMIT_AS, address_space)
    return applied


def address_space_limit(limits):
    """RLIMIT_AS for the child: what it inherited plus the load's allowance. The worker's own
    mappings (the imported stack, BLAS buffers) vary several-fold between environments; the
    allowance is what a load may add, the same everywhere."""
    if limits.address_space_bytes is None:
        return None
    return process_tools.status_kb("VmSize") * 1024 + int(limits.address_space_bytes)


def _limit_processes(processes, sandbox_uid):
    """RLIMIT_NPROC counts every task of the real uid and never applies to root: it means
    something only under the worker's own sandbox uid, or, for a non-root worker, on top of what
    its user already runs."""
    if processes is None:
        return None
    if sandbox_uid is not None:
        return _set_limit(resource.RLIMIT_NPROC, int(processes))
    if os.getuid() == 0:
        return None
    return _set_limit(resource.RLIMIT_NPROC, privileges.count_tasks(os.getuid()) + int(processes))


def _limit_cpu(seconds):
    """SIGXCPU at the soft limit, SIGKILL a second later for a child that ignores it."""
    if seconds is None:
        return None
    soft = int(math.ceil(seconds))
    _set_limit(resource.RLIMIT_CPU, soft, hard=soft + 1)
    return soft


def _set_limit(which, value, hard=None):
    """Lowers a limit (never above the inherited hard limit). Returns the soft value in force
    afterwards, None for none (QEMU user mode keeps RLIMIT_AS to itself)."""
    if value is None:
        return None
    _, old_hard = resource.getrlimit(which)
    cap = (lambda v: v) if old_hard == resource.RLIM_INFINITY else (lambda v: min(v, old_hard))
    soft, hard = cap(value), cap(value if hard is None else hard)
    resource.setrlimit(which, (soft, hard))
    now = resource.getrlimit(which)[0]
    return None if now == resource.RLIM_INFINITY else now


# --- the worker waiting -----------------------------------------------------------------------

# (phase, from stamp, to stamp): consecutive steps of one isolated load, worker and child.
PHASES = (("mkdtemp", "start", "fork"), ("fork", "fork", "child_started"),
          ("confine", "child_started", "confined"), ("work", "confined", "worked"),
          ("answer", "worked", "reaped"), ("judge_sweep", "reaped", "swept"),
          ("warm", "swept", "warmed"), ("publish", "warmed", "published"),
          ("cleanup", "published", "cleaned"))


def _phases(stamps):
    """Seconds per phase; a phase whose stamps are missing (a child that died) is left out."""
    return {name: round(stamps[b] - stamps[a], 6) for name, a, b in PHASES
            if a in stamps and b in stamps}


def _await(pid, result_fd, watch, wake_fd):
    """Reads the child's answer until it is whole, the child exits, or it breaks a limit."""
    data = b""
    eof = False
    while b"\n" not in data:
        if process_tools.exited(pid):
            data += process_tools.drain(result_fd)
            break
        broken = watch.broken(pid)
        if broken:
            return _reap(pid, data, killed_for=broken)
        watched = [wake_fd] if eof else [wake_fd, result_fd]
        ready, _, _ = select.select(watched, [], [], watch.poll_interval())
        if result_fd in ready:
            chunk = os.read(result_fd, 1 << 16)
            eof = not chunk
            data += chunk
        if wake_fd in ready:
            process_tools.drain(wake_fd)
    _wait_exit(pid, wake_fd, EXIT_GRACE_SECONDS)
    return _reap(pid, data)


def _reap(pid, data, killed_for=None):
    # While the child is unreaped its pid, and so its group id, cannot be reused: kill the group
    # now, never after the wait.
    process_tools.kill(-pid)
    _, status, rusage = os.wait4(pid, 0)
    answer = None
    line = data.split(b"\n", 1)[0]
    if line and killed_for is None:
        try:
            answer = json.loads(line.decode("utf-8"))
        except ValueError:
            answer = None  # a torn or forged line: judged by how the child ended
    return Ending(answer if isinstance(answer, dict) else None, status, rusage, killed_for)


def _wait_exit(pid, wake_fd, seconds):
    """Waits (woken by SIGCHLD) until the child is a zombie or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while not process_tools.exited(pid):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        if select.select([wake_fd], [], [], remaining)[0]:
            process_tools.drain(wake_fd)


# --- judging ------------------------------------------------------------------------------

def judge(ending, limits, measured):
    """The load's result, or ReportedError: its own error, a crash or a timeout."""
    answer = ending.answer
    if answer is not None and os.WIFEXITED(ending.status) and os.WEXITSTATUS(ending.status) == 0:
        return answered(answer, measured)
    if ending.killed_for == "wall":
        raise ReportedError(_timeout("wall", limits.wall_seconds, measured))
    if ending.killed_for == "memory":
        raise ReportedError(_over_memory(limits.address_space_bytes, measured))
    if _ran_out_of_cpu(ending, limits):
        raise ReportedError(_timeout("cpu", limits.cpu_seconds, measured))
    raise ReportedError(_crash(ending.status, measured))


def answered(answer, measured):
    """The result of a child's own answer, or ReportedError with its error; with `measured`."""
    if answer.get("ok"):
        result = answer.get("result") or {}
        result.update(measured)
        return result
    error = answer.get("error") or {}
    error.pop("imported", None)
    error.update(measured)
    raise ReportedError(error)


def _ran_out_of_cpu(ending, limits):
    if limits.cpu_seconds is None or not os.WIFSIGNALED(ending.status):
        return False
    used = ending.rusage.ru_utime + ending.rusage.ru_stime
    return os.WTERMSIG(ending.status) == signal.SIGXCPU or \
        (os.WTERMSIG(ending.status) == signal.SIGKILL and used >= math.ceil(limits.cpu_seconds))


def _timeout(which, seconds, measured):
    what = "of wall time" if which == "wall" else "of CPU time"
    error = {"stage": "timeout", "type": "%sTimeout" % which.capitalize(), "limit": which,
             "seconds": seconds, "traceback": "",
             "message": "the load used up its %g s %s; its processes were killed"
                        % (seconds, what)}
    error.update(measured)
    return error


def _over_memory(allowance, measured):
    error = {"stage": "crash", "type": "MemoryLimit", "limit": "memory", "signal": signal.SIGKILL,
             "traceback": "",
             "message": "the load's RSS grew past its memory limit (%d MiB above the worker's at "
                        "fork; watched, as RLIMIT_AS does not hold here) and the worker killed it"
                        % (int(allowance) >> 20)}
    error.update(measured)
    return error


def _crash(status, measured):
    error = {"stage": "crash", "traceback": ""}
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        error.update(type="Signal", signal=number,
                     message="the load process was killed by signal %d (%s)"
                             % (number, _signal_name(number)))
    else:
        code = os.WEXITSTATUS(status)
        error.update(type="Exit", exit_status=code,
                     message="the load process exited with status %d without answering" % code)
    error.update(measured)
    return error


def _signal_name(number):
    try:
        return signal.Signals(number).name
    except ValueError:
        return "unknown signal"
