"""How long a sweep will take, measured on its own first cells.

Typical costs measured on one data set say little about another input: a model's
posterior table can make UniBound a hundred times dearer than the ideal
representation does, and a metric's cost can jump at one level (UniBound's exact
estimator under redundancy costs 1.6 s per cell at level 4 and 45 s at level 64).
So a sweep runs first, for every metric, its cells at the highest, the middle and
the lowest level (first seed).  Once they are all in it estimates the whole sweep:
every other level costs what the probed level nearest to it in the grid's order
cost, and the wall time per second of metric work so far (worker start-up,
building the attacked representations, idle workers) carries over to the rest.
"""
from __future__ import annotations

import time

__all__ = ["Pace", "duration", "probes_first"]


def probe_levels(levels) -> list:
    """The highest, the middle and the lowest of ``levels``, dearest first."""
    ordered = sorted(set(levels))
    return list(dict.fromkeys([ordered[-1], ordered[len(ordered) // 2], ordered[0]]))


def probes_first(todo: list, levels, seed) -> tuple[list, set]:
    """``(todo reordered, probes)``: each metric's cells of ``seed`` at the
    :func:`probe_levels` first (the dearest first, so the estimate comes early), then
    the rest in their order."""
    if not todo:
        return [], set()
    probes = [cell for level in probe_levels(levels) for cell in todo
              if cell.seed == seed and cell.level == level]
    chosen = set(probes)
    return probes + [cell for cell in todo if cell not in chosen], chosen


def _nearest_probed(levels) -> dict:
    """``{level: [probed levels]}``: the probed levels nearest to each in the grid's order
    (two at a tie)."""
    ordered = sorted(set(levels))
    probed = [ordered.index(v) for v in probe_levels(ordered)]
    out = {}
    for i, level in enumerate(ordered):
        gap = min(abs(i - j) for j in probed)
        out[level] = [ordered[j] for j in probed if abs(i - j) == gap]
    return out


def duration(seconds: float) -> str:
    """``"40 s"``, ``"12 min"``, ``"2.5 h"``."""
    if seconds < 120:
        return f"{max(seconds, 1):.0f} s"
    return f"{seconds / 60:.0f} min" if seconds < 5400 else f"{seconds / 3600:.1f} h"


class Pace:
    """Counts finished cells and, once every probe has finished, gives one line that
    says how long the whole sweep should take.

    Parameters
    ----------
    todo : list of Cell
        The cells the sweep computes.
    probes : set of Cell
        The cells whose costs stand for their metric's (see :func:`probes_first`).
    """

    def __init__(self, todo, probes: set):
        self.todo, self.pending = list(todo), set(probes)
        self.costs = {}  # (metric, level) -> seconds of its probe
        self.finished, self.work = 0, 0.0
        self.start, self.said = time.perf_counter(), not probes

    def finish(self, cell, seconds, workers: int) -> str | None:
        """Count ``cell`` as finished after ``seconds`` of metric work (None: it failed);
        the estimate once the last probe is in, else None."""
        self.finished += 1
        self.work += seconds or 0.0
        if cell in self.pending:
            self.pending.discard(cell)
            self.costs[cell.metric, cell.level] = seconds or 0.0
        if self.said or self.pending:
            return None
        self.said = True
        elapsed = time.perf_counter() - self.start
        if self.finished == len(self.todo):
            return None
        nearest = _nearest_probed({cell.level for cell in self.todo})
        work = 0.0
        for c in self.todo:
            known = [self.costs[c.metric, v] for v in nearest[c.level] if (c.metric, v) in self.costs]
            work += sum(known) / len(known) if known else 0.0
        # wall seconds per second of metric work so far: start-up, attacks, idle workers
        overhead = elapsed * workers / self.work if self.work > 0 else 1.0
        whole = max(elapsed, overhead * work / workers)
        return (f"about {duration(whole)} for this sweep's {len(self.todo)} cell(s) with "
                f"{workers} worker(s), {duration(whole - elapsed)} to go (measured on its first "
                f"{self.finished}: each metric at the highest, middle and lowest level, on this "
                "input)")
