"""Who a load child runs as: when the worker is root, an unprivileged uid of its own.

A worker started as root (CI containers, the debian provider's bwrap) would hand artifact code
every capability: it could remount the sandbox's read-only binds, enter the host's network
namespace through /proc, write any root-owned file, and RLIMIT_NPROC never applies to uid 0, so a
fork bomb would be bounded by nothing but pid_max. A root worker therefore drops each load child to
a uid no one else uses (picked at random per worker, far above any real account) and keeps one
capability, CAP_DAC_READ_SEARCH, so the child can still read the artifact, the inputs and the
stack's modules wherever they live (a 0700 run directory included). It can write only its private
temporary directory. Because the uid is the worker's alone, RLIMIT_NPROC counts exactly the load's
processes, and `kill(-1)` from that uid ends every one of them, wherever they went.

Linux only; every step is best effort with the reason kept, and Python 3.8 compatible.
"""
import ctypes
import os

# include/uapi/linux/prctl.h and capability.h
PR_SET_KEEPCAPS = 8
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
CAP_DAC_READ_SEARCH = 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522

# Far above login accounts, subordinate-uid ranges and systemd's dynamic users.
SANDBOX_UID_BASE = 2000000000
SANDBOX_UID_SPAN = 100000000


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def _prctl(libc, option, value):
    if libc.prctl(option, ctypes.c_ulong(value), ctypes.c_ulong(0), ctypes.c_ulong(0),
                  ctypes.c_ulong(0)) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "prctl(%d): %s" % (option, os.strerror(err)))


def become_subreaper():
    """Orphaned descendants of a load child become the worker's children, so it can end them.

    Returns None, or why it could not (then orphans go to init and only the child's process group
    and the sandbox uid reach them).
    """
    try:
        _prctl(_libc(), PR_SET_CHILD_SUBREAPER, 1)
        return None
    except (OSError, AttributeError) as exc:
        return str(exc)


def pick_sandbox_uid():
    """A uid for this worker's load children, or None when the worker cannot switch to one."""
    if os.geteuid() != 0:
        return None
    libc = _libc()
    if not (hasattr(libc, "capset") and hasattr(libc, "prctl")):
        return None
    return SANDBOX_UID_BASE + int.from_bytes(os.urandom(4), "little") % SANDBOX_UID_SPAN


class Dropper:
    """Drops a load child to `uid`. Made once in the worker, so each child only calls: opening
    libc and resolving prctl/capset in every child cost ~5 ms per load under QEMU."""

    def __init__(self, uid):
        self.uid = uid
        self.libc = _libc()
        self.header = _CapHeader(LINUX_CAPABILITY_VERSION_3, 0)
        self.data = (_CapData * 2)()
        self.data[0].effective = self.data[0].permitted = 1 << CAP_DAC_READ_SEARCH

    def drop(self):
        """In a load child: become the uid, keeping only CAP_DAC_READ_SEARCH; no way back
        (execve of a set-uid program included)."""
        uid = self.uid
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        _prctl(self.libc, PR_SET_KEEPCAPS, 1)  # so the one kept capability survives the uid change
        os.setresuid(uid, uid, uid)
        if self.libc.capset(ctypes.byref(self.header), self.data) != 0:
            err = ctypes.get_errno()
            raise OSError(err, "capset: %s" % os.strerror(err))
        _prctl(self.libc, PR_SET_NO_NEW_PRIVS, 1)


def drop_to(uid):
    """In a load child: become `uid` (see Dropper.drop)."""
    Dropper(uid).drop()


def probe_drop(uid):
    """None when a child can drop to `uid` here (tried in a throwaway child), else why not."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            drop_to(uid)
            os.write(write_fd, b"ok")
        except BaseException as exc:
            os.write(write_fd, ("%s: %s" % (type(exc).__name__, exc)).encode()[:500])
        finally:
            os._exit(0)
    os.close(write_fd)
    try:
        said = os.read(read_fd, 1000).decode("utf-8", "replace")
    finally:
        os.close(read_fd)
        os.waitpid(pid, 0)
    return None if said == "ok" else (said or "the probe child died")


def kill_uid(uid):
    """Sends SIGKILL to every process running as `uid` (from a short-lived helper of that uid:
    kill(-1) reaches exactly the processes a uid may signal). Runs in the worker, as root."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setresuid(uid, uid, uid)
            for _ in range(3):  # a process forked while the first sweep ran is caught by the next
                try:
                    os.kill(-1, 9)
                except OSError:
                    break
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def count_tasks(uid):
    """How many tasks (threads count: RLIMIT_NPROC counts them) run as real uid `uid` now."""
    # Runs after every load where the worker cannot be a subreaper (QEMU user mode), over every
    # process of the machine: raw reads and two field lookups, not a parsed file per process.
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        status = read_status(entry)
        if status is not None and status_field(status, "Uid") == uid:
            total += status_field(status, "Threads") or 1
    return total


def read_status(pid="self"):
    """The raw bytes of /proc/<pid>/status, or None for a process gone meanwhile. Raw, because
    the worker reads it at every fork, RSS poll and sweep, and a parsed file is slow under QEMU."""
    try:
        fd = os.open("/proc/%s/status" % pid, os.O_RDONLY)
    except OSError:
        return None
    try:
        return os.read(fd, 8192)
    except OSError:
        return None
    finally:
        os.close(fd)


def status_field(status, name):
    """The first number of the `name:` line of a /proc/<pid>/status read, or None."""
    at = status.find(b"\n" + name.encode() + b":")
    if at < 0:
        return None
    try:
        return int(status[at + len(name) + 2:status.find(b"\n", at + 1)].split()[0])
    except (ValueError, IndexError):
        return None
    try:
        return int(status[at + len(name) + 2:status.find(b"\n", at + 1)].split()[0])
    except (ValueError, IndexError):
        return None
