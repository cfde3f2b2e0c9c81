"""Cells, the units of a sweep, their failures, and the store of finished ones on disk
(so an interrupted sweep resumes without losing them)."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from .io import atomic_write_json

__all__ = ["Cell", "CellError", "CellStore"]


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

    A file counts only when it carries the sweep's configuration fingerprint
    and its own cell key; anything else (another configuration, a truncated or
    garbled file) is treated as missing and recomputed.
    """

    def __init__(self, directory, fingerprint: str):
        self.directory = Path(directory)
        self.fingerprint = fingerprint

    def path(self, cell: Cell) -> Path:
        digest = hashlib.sha256(cell.key.encode()).hexdigest()[:20]
        return self.directory / f"{digest}.json"

    def load(self, cell: Cell):
        path = self.path(cell)
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("fingerprint") != self.fingerprint \
                or data.get("cell") != cell.key:
            return None
        return data.get("result")

    def save(self, cell: Cell, result: dict) -> None:
        atomic_write_json(self.path(cell), {"fingerprint": self.fingerprint, "cell": cell.key,
                                            "result": result})

    def clear(self) -> None:
        if self.directory.exists():
            for p in self.directory.glob("*.json"):
                p.unlink()
