"""Cells, the units of a sweep, their failures, and the store of finished ones on disk
(so an interrupted sweep resumes without losing them)."""
from __future__ import annotations

import hashlib
import inspect
import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from .io import atomic_write_json

__all__ = ["Cell", "CellError", "CellStore", "code_digest"]

#: The packages whose code can change a cell's value.
_PACKAGES = ("benchmark", "attacks", "metrics_baseline", "metrics_pid")


@lru_cache(maxsize=None)
def _package_digest() -> str:
    root = Path(__file__).resolve().parents[2]
    h = hashlib.sha256()
    for package in _PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            h.update(str(path.relative_to(root)).encode())
            h.update(path.read_bytes())
    return h.hexdigest()


def code_digest(spec) -> str:
    """A digest of the code a metric's cells come from: this project's packages (the
    attacks, estimators and built-in metrics) and, for a plugin, the file that defines
    it.  A cell stored under another digest is recomputed: nothing stale is served after
    the code changes."""
    h = hashlib.sha256(_package_digest().encode())
    if spec.source != "builtin":
        try:
            source = inspect.getsourcefile(spec.func)
        except TypeError:  # a builtin or C function: nothing to read
            source = None
        if source and Path(source).is_file():
            h.update(Path(source).read_bytes())
        else:
            h.update(spec.source.encode())
    return h.hexdigest()[:16]


def _well_formed(result) -> bool:
    """Whether a stored result has the shape :func:`~.sweep.run_cell` writes."""
    if not isinstance(result, dict) or not isinstance(result.get("scores"), dict):
        return False
    seconds = result.get("seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        return False
    return bool(result["scores"]) and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        for v in result["scores"].values())


@dataclass(frozen=True)
class Cell:
    """One unit of work: a metric at one level and seed."""

    level: float
    seed: int
    metric: str

    @property
    def key(self) -> str:
        return f"level={self.level!r}_seed={self.seed}_metric={self.metric}"


class CellError(Exception):
    """A metric failed on one cell; the message names the metric, level and seed."""

    def __init__(self, metric: str, level: float, seed: int, detail: str):
        super().__init__(f"metric {metric!r} failed at level {level:g}, seed {seed}: {detail}")
        self.metric, self.level, self.seed, self.detail = metric, level, seed, detail

    def __reduce__(self):  # keep the fields when a worker process sends the error back
        return (CellError, (self.metric, self.level, self.seed, self.detail))


class CellStore:
    """One small JSON file per finished cell, written atomically.

    A file counts only when it carries the sweep's configuration fingerprint,
    its own cell key and the digest of the code it came from (see
    :func:`code_digest`), and holds a well-formed result; anything else
    (another configuration, other code, a truncated, garbled or ill-shaped
    file) is treated as missing and recomputed.
    """

    def __init__(self, directory, fingerprint: str):
        self.directory = Path(directory)
        self.fingerprint = fingerprint
        #: Cells found on disk but not served, by reason ("damaged", "other code").
        self.skipped = {"damaged": 0, "other code": 0}

    def path(self, cell: Cell) -> Path:
        digest = hashlib.sha256(cell.key.encode()).hexdigest()[:20]
        return self.directory / f"{digest}.json"

    def load(self, cell: Cell, code: str = ""):
        """The stored result of ``cell`` computed by code of digest ``code``, or None."""
        path = self.path(cell)
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("fingerprint"), str) \
                or not _well_formed(data.get("result")):
            self.skipped["damaged"] += 1
            return None
        if data["fingerprint"] != self.fingerprint or data.get("cell") != cell.key:
            return None  # another configuration's cell: not this run's business
        if data.get("code", "") != code:
            self.skipped["other code"] += 1
            return None
        return data["result"]

    def notes(self) -> list[str]:
        """One line per reason why stored cells are recomputed."""
        why = {"damaged": "were damaged (unreadable or ill-formed)",
               "other code": "came from other code (a metric or the package changed since)"}
        return [f"{count} stored cell(s) {why[reason]}; recomputing them"
                for reason, count in self.skipped.items() if count]

    def save(self, cell: Cell, result: dict, code: str = "") -> None:
        atomic_write_json(self.path(cell), {"fingerprint": self.fingerprint, "cell": cell.key,
                                            "code": code, "result": result})

    def clear(self) -> None:
        if self.directory.exists():
            for p in self.directory.glob("*.json"):
                p.unlink()
