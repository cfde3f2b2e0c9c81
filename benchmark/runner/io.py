"""Atomic file writing: a reader never sees a half-written result."""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

__all__ = ["OutputLock", "atomic_savefig", "atomic_write_bytes", "atomic_write_csv",
           "atomic_write_json", "atomic_write_text"]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish(tmp, path) -> None:
    # mkstemp creates 0600; the result gets the permissions of any file the user creates
    os.chmod(tmp, 0o666 & ~_umask())
    os.replace(tmp, path)


def atomic_write_bytes(path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        _publish(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def atomic_write_text(path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path, obj) -> None:
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def atomic_write_csv(path, frame, float_format: str = "%.6g") -> None:
    """Write ``frame`` as CSV atomically; a negative zero is written as 0, not -0."""
    floats = frame.select_dtypes("float").columns
    frame = frame.assign(**{c: frame[c] + 0.0 for c in floats}) if len(floats) else frame
    atomic_write_text(path, frame.to_csv(index=False, float_format=float_format, lineterminator="\n"))


def atomic_savefig(fig, path, **kwargs) -> None:
    """Save a matplotlib figure atomically (format from the suffix)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        fig.savefig(tmp, **kwargs)
        _publish(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


class OutputLock:
    """One run at a time per output folder: a second run refuses with a clear line.

    The lock is a file holding the owner's process id, created exclusively; a
    lock whose process is gone (a killed run) is taken over.
    """

    def __init__(self, directory):
        self.path = Path(directory) / ".lock"

    def __enter__(self):
        from ..validation import BenchmarkError

        self.path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                if owner is not None and owner != os.getpid() and _alive(owner):
                    raise BenchmarkError(
                        f"another run (process {owner}) is writing {self.path.parent}; wait for "
                        f"it to finish or give this one another --out (if process {owner} is not "
                        f"a run, remove {self.path})") from None
                self.path.unlink(missing_ok=True)  # left by a run that no longer exists
                continue
            with os.fdopen(fd, "w") as f:
                f.write(str(os.getpid()))
            return self
        raise BenchmarkError(f"cannot lock {self.path.parent}: remove {self.path} if no run uses it")

    def __exit__(self, *exc):
        if self._owner() == os.getpid():
            self.path.unlink(missing_ok=True)
        return False

    def _owner(self):
        try:
            return int(self.path.read_text().strip())
        except (OSError, ValueError):
            return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True
