"""The worker's dealings with its own processes, shared by isolation.py (a child per load),
batch.py (a child serving many loads) and bench.py: SIGCHLD as a wake-up pipe, reading a
child's pipe, whether a child exited, the worker's children, killing, /proc/<pid>/status fields,
the worker's log line. Public, so no module reaches into another's private names.

Python 3.8 compatible, Linux only.
"""
import os
import signal
import sys

import privileges


class ChildSignals:
    """While a child runs, SIGCHLD writes to a pipe the worker selects on: a child that dies
    silently (its pipe still held open by its own children) wakes the worker at once."""

    def __enter__(self):
        self.read_fd, self.write_fd = os.pipe()
        os.set_blocking(self.write_fd, False)
        os.set_blocking(self.read_fd, False)
        self.old_handler = signal.signal(signal.SIGCHLD, lambda signum, frame: None)
        self.old_wakeup = signal.set_wakeup_fd(self.write_fd)
        return self

    def fds(self):
        return (self.read_fd, self.write_fd)

    def __exit__(self, *exc):
        signal.set_wakeup_fd(self.old_wakeup)
        signal.signal(signal.SIGCHLD, self.old_handler)
        os.close(self.read_fd)
        os.close(self.write_fd)
        return False

def exited(pid):
    """True once the child is a zombie, or already reaped by another path of the worker (a sweep
    between two loads of a batch); it is not reaped here (isolation.py reaps it)."""
    try:
        info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
    except ChildProcessError:
        return True
    return info is not None

def drain(fd):
    chunks = []
    os.set_blocking(fd, False)
    try:
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    except BlockingIOError:
        pass
    return b"".join(chunks)

def status_kb(field, pid="self"):
    """A 'kB' field of /proc/<pid>/status (VmRSS, VmSize); 0 when the kernel does not say."""
    status = privileges.read_status(pid)
    return (status is not None and privileges.status_field(status, field)) or 0


def children_left():
    """True while the worker has any child, running or unreaped; reaps the finished ones."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True


def own_children():
    """The worker's child processes, as pids of the /proc it sees: from each of its threads'
    `children` file (a few small reads), else by a scan of every process's stat (~4 ms after
    each batched load on a busy host with ~120 processes)."""
    listed = _listed_children()
    return listed if listed is not None else _scanned_children()


def _listed_children():
    """/proc/self/task/<tid>/children of every thread (orphans a subreaper adopts are listed
    there too), or None where the kernel has no such files (CONFIG_PROC_CHILDREN)."""
    found = []
    try:
        for tid in os.listdir("/proc/self/task"):
            with open("/proc/self/task/%s/children" % tid, "rb") as f:
                found += [int(pid) for pid in f.read().split()]
    except (OSError, ValueError):
        return None
    return found


def _scanned_children():
    # The pid this /proc knows us by: a /proc bound from outside a PID namespace says another.
    me = os.readlink("/proc/self")
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        # "pid (comm) state ppid ...": comm may hold spaces and parentheses
        if stat[stat.rfind(")") + 2:].split()[1] == me:
            found.append(int(entry))
    return found


def kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        pass  # already gone


def close(fd):
    try:
        os.close(fd)
    except OSError:
        pass


def write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]

def log(message):
    sys.stderr.write("crossload worker: %s\n" % message)
    sys.stderr.flush()
