"""What the worker keeps between requests (the Session every op receives)."""
import os

import common
from stages import ProtocolError, in_stage


class Session:
    """What the worker keeps between requests: the models it trained, by fixture name, and the
    fork-per-load machinery (made on the first load: a producer never needs it)."""

    INPUTS_KEPT = 4

    def __init__(self, protected_fds=()):
        self.models = {}
        self.protected_fds = tuple(protected_fds)
        self._isolation = None
        self._batch = None
        self._inputs = {}  # (path, size, mtime, inode) -> array, the most recent last

    def inputs(self, path):
        """The inputs at `path`, read once for all the formats of a fixture: every load child
        inherits them through the fork (reading them in each child was ~50 ms under QEMU)."""
        with in_stage("protocol"):  # a missing file is the request's fault, as in _inputs
            st = os.stat(path)
        key = (path, st.st_size, st.st_mtime_ns, st.st_ino)
        X = self._inputs.pop(key, None)
        if X is None:
            X = common.read_inputs(path)
            while len(self._inputs) >= self.INPUTS_KEPT:
                self._inputs.pop(next(iter(self._inputs)))
        self._inputs[key] = X
        return X

    def batch(self):
        """The batch child's keeper (batch.py), made on the first load."""
        if self._batch is None:
            from batch import Batch

            self._batch = Batch(self.isolation(), self)
        return self._batch

    def isolation(self):
        if self._isolation is None:
            from isolation import Isolation

            self._isolation = Isolation(self.protected_fds)
        return self._isolation

    def trained(self, fixture):
        if fixture not in self.models:
            raise ProtocolError("fixture %r is not trained in this worker: send train first"
                                % fixture)
        return self.models[fixture]
