"""Batched isolated loads (load_predict with "isolation": "batch"; docs/isolation.md).

With isolation "cell" every load pays a fork, the child's confinement and its exit: ~40 ms, most
of a cell's harness overhead under QEMU. Here one child, forked and confined once, loads artifact
after artifact, each with its own deadline, CPU budget, memory watch, private directory and saved
outputs. The worker judges each load as isolation.py does; a child that crashes or runs out of
time records the load in flight as a crash or timeout, exactly as a cell child would, and the next
load starts in a fresh child. After each load the child compares the process with how it was
(process_state.py): a load that changed it retires the child, so no later load depends on it.

Python 3.8 compatible, Linux only.
"""
import gc
import json
import math
import os
import resource
import select
import shutil
import sys
import tempfile
import time

import isolation as iso
import privileges
import process_tools
import process_state
from loads import LoadJob
from stages import ReportedError, StageError, jsonable

# A child serves at most this many loads: what no snapshot sees (a C library's private state,
# heap fragmentation) cannot pile up without end.
LOADS_PER_CHILD = 200
# How often the worker reads a running load's CPU time (only a load that ignores SIGXCPU needs it).
CPU_WATCH_SECONDS = 0.5
TICKS = os.sysconf("SC_CLK_TCK")
# (phase, from stamp, to stamp) of one batched load; `start_child` is there only for the load
# that forked the child (fork + confinement).
PHASES = (("prepare", "start", "ready"), ("fork", "fork", "child_started"),
          ("confine", "child_started", "confined"), ("request", "ready", "received"),
          ("work", "received", "worked"), ("state_check", "worked", "checked"),
          ("answer", "checked", "answered"), ("judge_sweep", "answered", "swept"),
          ("warm", "swept", "warmed"), ("publish", "warmed", "published"),
          ("cleanup", "published", "cleaned"))


class Child:
    """The worker's handle on its batch child."""

    def __init__(self, pid, request_fd, result_fd, key):
        self.pid, self.request_fd, self.result_fd, self.key = pid, request_fd, result_fd, key
        self.loads = 0


class Batch:
    """The worker's side: keeps one batch child, sends it one load at a time, judges the load."""

    def __init__(self, isolation, session):
        self.isolation = isolation
        self.session = session
        self.child = None

    def run(self, job, req):
        """The load's result, or ReportedError (its error, a crash or a timeout)."""
        stamps = {"start": time.monotonic()}
        key = (job.limits.processes, job.tmp_root)
        if self.child is not None:
            reason = _why_not_reuse(self.child, key)
            if reason:
                self.retire(reason)
        tmpdir = tempfile.mkdtemp(prefix="crossload-load-", dir=job.tmp_root)
        try:
            if self.isolation.dropper is not None:
                os.chown(tmpdir, self.isolation.dropper.uid, self.isolation.dropper.uid)
            with process_tools.ChildSignals() as wake:
                forked = self.child is None
                if forked:
                    stamps["fork"] = time.monotonic()
                    self.child = self._start(job.limits, key, tmpdir, wake.fds())
                child = self.child
                child.loads += 1
                start = _Start(child.pid)
                stamps["ready"] = time.monotonic()
                ending = self._load(child, req, tmpdir, job.limits, start, wake.read_fd)
            stamps["answered"] = time.monotonic()
            result = self._judge(child, ending, job.limits, start, stamps)
            stamps["warmed"] = time.monotonic()
            result = job.publish(result, tmpdir)
            stamps["published"] = time.monotonic()
        finally:
            shutil.rmtree(tmpdir, ignore_errors=True)
        stamps["cleaned"] = time.monotonic()
        result["phases"] = {name: round(stamps[b] - stamps[a], 6) for name, a, b in PHASES
                            if a in stamps and b in stamps}
        result["batch"] = {"child": child.pid, "load": child.loads, "forked": forked,
                           "retired": ending.retired}
        return result

    def retire(self, reason):
        """Ends the batch child (if any) and whatever it left behind."""
        child, self.child = self.child, None
        if child is None:
            return
        process_tools.kill(-child.pid)
        try:
            os.wait4(child.pid, 0)
        except ChildProcessError:
            pass  # reaped already by another path of the worker (a sweep between two loads)
        _close_all(child)
        self.isolation.sweep()
        process_tools.log("batch child %d retired after %d load(s): %s" % (child.pid, child.loads, reason))

    def _start(self, limits, key, tmpdir, wake_fds):
        request_read, request_write = os.pipe()
        result_read, result_write = os.pipe()
        gc.freeze()  # as in isolation.Isolation._fork: no collection copies the worker's pages
        pid = os.fork()
        if pid == 0:
            os.close(request_write)
            os.close(result_read)
            _serve(self.session, self.isolation, limits, tmpdir, request_read, result_write,
                   self.isolation.protected_fds + wake_fds)  # never returns
        gc.unfreeze()
        os.close(request_read)
        os.close(result_write)
        try:
            os.setpgid(pid, pid)
        except OSError:
            pass
        process_tools.log("batch child %d started" % pid)
        return Child(pid, request_write, result_read, key)

    def _load(self, child, req, tmpdir, limits, start, wake_fd):
        """Sends the load to the child and waits for its answer line, its end, or a broken
        limit. Returns an _Ending."""
        try:
            process_tools.write_all(child.request_fd, (json.dumps({"req": req, "tmpdir": tmpdir}) + "\n").encode())
        except OSError:
            pass  # the child is gone: judged below by how it ended
        watch = _Watch(limits, start, self.isolation.address_space_enforced)
        data, eof = b"", False
        while b"\n" not in data:
            if process_tools.exited(child.pid):  # it may have answered, then left (a retiring child)
                answer = _answer(process_tools.drain(child.result_fd) if not data else data + process_tools.drain(child.result_fd))
                return _Ending(answer, died=answer is None)
            broken = watch.broken(child.pid)
            if broken:
                return _Ending(None, died=True, killed_for=broken)
            watched = [wake_fd] if eof else [wake_fd, child.result_fd]
            ready = select.select(watched, [], [], watch.poll_interval())[0]
            if child.result_fd in ready:
                chunk = os.read(child.result_fd, 1 << 16)
                eof = not chunk
                data += chunk
            if wake_fd in ready:
                process_tools.drain(wake_fd)
        answer = _answer(data)
        return _Ending(answer, died=answer is None)

    def _judge(self, child, ending, limits, start, stamps):
        """As isolation.judge, per load: a live child's answer is the load's; a dead child's
        end is a crash or a timeout of the load in flight."""
        measured = {"rss_at_fork_kb": start.rss_kb, "isolated_seconds": time.monotonic() - start.at}
        answer = ending.answer
        if answer is not None and not ending.died:
            for name, at in (answer.pop("child_stamps", None) or {}).items():
                stamps[name] = at
            stamps.setdefault("checked", stamps["answered"])
            measured["rss_peak_kb"] = start.peak_kb(child.pid)
            ending.retired = ", ".join(answer.pop("retire", None) or []) or None
            if not ending.retired and self._strays(child.pid):
                ending.retired = "processes left behind"
            imported = answer.pop("imported", [])
            if ending.retired:
                self.retire(ending.retired)
            stamps["swept"] = time.monotonic()
            self.isolation.warm(imported)
            return iso.answered(answer, measured)
        process_tools.kill(-child.pid)
        _, status, rusage = os.wait4(child.pid, 0)
        self.child = None
        _close_all(child)
        self.isolation.sweep()
        stamps["swept"] = time.monotonic()
        ending.retired = "the load ended the child"
        process_tools.log("batch child %d ended in its load %d" % (child.pid, child.loads))
        measured["rss_peak_kb"] = rusage.ru_maxrss  # the child's peak over all its loads
        used = _Usage(rusage.ru_utime + rusage.ru_stime - start.cpu_seconds)
        return iso.judge(iso.Ending(None, status, used, ending.killed_for), limits, measured)

    def _strays(self, child_pid):
        """Whether a load left processes behind that escaped its child (a double fork): they
        are the worker's children when it is a subreaper, or tasks of the sandbox uid."""
        if self.isolation.subreaper_problem is None:
            return any(pid != child_pid for pid in process_tools.own_children())
        if self.isolation.sandbox_uid is not None:
            status = privileges.read_status(child_pid)
            threads = (status and privileges.status_field(status, "Threads")) or 1
            return privileges.count_tasks(self.isolation.sandbox_uid) > threads
        return False


class _Start:
    """The batch child's state as a load starts: its RSS (the load's 'at fork'), its CPU time,
    and its peak RSS reset where the kernel lets the worker do it."""

    def __init__(self, pid):
        self.at = time.monotonic()
        status = privileges.read_status(pid)
        self.rss_kb = (status and privileges.status_field(status, "VmRSS")) or 0
        self.cpu_seconds = _cpu_seconds(pid)
        self.peak_reset = _reset_peak(pid)

    def peak_kb(self, pid):
        """The child's peak RSS during this load (since the reset); without a reset, the
        child's peak over all its loads so far."""
        status = privileges.read_status(pid)
        return (status and privileges.status_field(status, "VmHWM")) or 0


class _Ending:
    def __init__(self, answer, died, killed_for=None):
        self.answer, self.died, self.killed_for = answer, died, killed_for
        self.retired = None


class _Usage:
    """Stands for the rusage of a dead child in isolation.judge: this load's CPU time only."""

    def __init__(self, seconds):
        self.ru_utime, self.ru_stime = seconds, 0.0


class _Watch(iso.Watch):
    """isolation.Watch for one load of a live child: the RSS limit from the child's RSS when the
    load started, and a CPU budget from its CPU time then (RLIMIT_CPU's hard limit cannot be
    raised again for the next load, so the SIGKILL after an ignored SIGXCPU is the worker's)."""

    def __init__(self, limits, start, address_space_enforced):
        rss_limit = None
        if limits.address_space_bytes is not None and not address_space_enforced:
            rss_limit = start.rss_kb + int(limits.address_space_bytes) // 1024
        super().__init__(limits.wall_seconds, rss_limit)
        self.cpu_limit = None if limits.cpu_seconds is None else \
            start.cpu_seconds + math.ceil(limits.cpu_seconds) + 1

    def poll_interval(self):
        interval = super().poll_interval()
        if self.cpu_limit is None:
            return interval
        return CPU_WATCH_SECONDS if interval is None else min(interval, CPU_WATCH_SECONDS)

    def broken(self, pid):
        broken = super().broken(pid)
        if broken is None and self.cpu_limit is not None and _cpu_seconds(pid) > self.cpu_limit:
            return "cpu"
        return broken


def _why_not_reuse(child, key):
    """Why the next load needs a fresh child, or None."""
    if process_tools.exited(child.pid):
        return "it ended between loads"
    if child.key != key:
        return "the load's process limit or temporary root differs"
    if child.loads >= LOADS_PER_CHILD:
        return "it served %d loads" % LOADS_PER_CHILD
    return None


# --- the batch child ---------------------------------------------------------------------------

def _serve(session, isolation, limits, tmpdir, request_fd, result_fd, close_fds):
    """The batch child: confined once, then one load per request line until EOF or a load that
    changed the process. Never returns."""
    code = 0
    try:
        started = time.monotonic()
        applied = iso.confine(iso.Limits(processes=limits.processes), tmpdir, close_fds,
                               isolation.dropper, isolation.address_space_enforced)
        first_stamps = {"child_started": started, "confined": time.monotonic()}
        requests = os.fdopen(request_fd, "rb")
        known = set(sys.modules)
        before = process_state.snapshot()
        for line in iter(requests.readline, b""):
            stamps = dict(first_stamps, received=time.monotonic())
            first_stamps = {}
            answer = _one_load(session, json.loads(line.decode("utf-8")), applied,
                               isolation.address_space_enforced)
            stamps["worked"] = time.monotonic()
            now = set(sys.modules)
            reasons = _module_changes(known, now)
            answer["imported"] = sorted(m for m in now - known
                                        if m.split(".")[0] in iso.WARM_PACKAGES)
            known = now
            after = process_state.snapshot()
            reasons += process_state.changes(before, after)
            before = after
            stamps["checked"] = time.monotonic()
            answer.update(child_stamps=stamps, retire=reasons)
            process_tools.write_all(result_fd, (json.dumps(jsonable(answer), allow_nan=False) + "\n").encode())
            if reasons:
                break
    except BaseException:
        code = 70  # the worker judges the load in flight by this exit status
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)


def _one_load(session, message, applied, address_space_enforced):
    """One load in the batch child: its private directory, its limits, the work, the answer."""
    tmpdir = message["tmpdir"]
    os.chdir(tmpdir)
    os.environ["TMPDIR"] = tmpdir
    tempfile.tempdir = tmpdir
    try:
        job = LoadJob(message["req"])
        applied = dict(applied, cpu_seconds=_limit_cpu(job.limits.cpu_seconds),
                       address_space_bytes=_limit_address_space(job.limits, address_space_enforced))
        result = job.work(session)(tmpdir)
        result["isolation"] = applied
        return {"ok": True, "result": result}
    except StageError as exc:
        return {"ok": False, "error": exc.error()}
    except BaseException as exc:  # a worker bug, or the limits could not be set
        return {"ok": False, "error": StageError("protocol", exc).error()}


def _module_changes(known, now):
    """Why the modules the load left retire the child: a module outside the stack, the zoo and
    the standard library was imported, or a module was removed."""
    reasons = []
    foreign = process_state.foreign_modules(now - known)
    if foreign:
        reasons.append("imported %s" % ", ".join(foreign[:5] + (["..."] if len(foreign) > 5 else [])))
    if known - now:
        reasons.append("removed modules")
    return reasons


def _limit_cpu(seconds):
    """RLIMIT_CPU's soft limit at this load's budget on top of the CPU the child used so far;
    the hard limit stays (it could not be raised for the next load): the worker kills a load
    that ignores SIGXCPU."""
    if seconds is None:
        _soft_limit(resource.RLIMIT_CPU, None)
        return None
    usage = resource.getrusage(resource.RUSAGE_SELF)
    budget = int(math.ceil(usage.ru_utime + usage.ru_stime + seconds))
    _soft_limit(resource.RLIMIT_CPU, budget)
    return int(math.ceil(seconds))


def _limit_address_space(limits, enforced):
    """RLIMIT_AS's soft limit at what the child maps now plus the load's allowance."""
    if not enforced:
        return None
    value = iso.address_space_limit(limits)
    _soft_limit(resource.RLIMIT_AS, value)
    return value


def _soft_limit(which, value):
    """Sets the soft limit (None: as high as the hard limit), never above the hard limit."""
    _, hard = resource.getrlimit(which)
    if value is None:
        soft = hard
    else:
        soft = value if hard == resource.RLIM_INFINITY else min(value, hard)
    resource.setrlimit(which, (soft, hard))


# --- small helpers ------------------------------------------------------------------------------

def _answer(data):
    """The child's answer object from its first line, or None (none, torn or not an object)."""
    line = data.split(b"\n", 1)[0]
    if not line:
        return None
    try:
        answer = json.loads(line.decode("utf-8"))
    except ValueError:
        return None
    return answer if isinstance(answer, dict) else None


def _cpu_seconds(pid):
    """utime + stime of a live process, from /proc/<pid>/stat; 0 when it is gone."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read()
    except OSError:
        return 0.0
    fields = stat[stat.rfind(b")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / float(TICKS)


def _reset_peak(pid):
    """Resets the child's peak RSS (VmHWM) so this load's peak is its own; False where the
    kernel refuses (then the peak is the child's over its loads so far)."""
    try:
        with open("/proc/%d/clear_refs" % pid, "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def _close_all(child):
    process_tools.close(child.request_fd)
    process_tools.close(child.result_fd)
