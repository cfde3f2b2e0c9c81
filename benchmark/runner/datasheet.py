"""Datasheets: one page per metric of what finished sweeps say about it.

A datasheet gathers, for one metric, what a reader choosing a metric needs: its family,
target property and headline; per result folder (a ``--attack all`` run, at some
sample sizes and seeds) the report card's verdicts with their intervals and flat
bands, the metric's seed-to-seed spread on the unattacked representation and its
seconds per cell; whether each verdict is the same in every folder given (sample
size); and its module's documentation: its reference and where it departs from it.  Nothing is
scored again: everything is read from the folders' ``scores.csv``, ``timings.csv`` and
``run.json``, so a plugin metric gets its datasheet from the folder of its sweep.
"""
from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pandas as pd

import attacks as attack_registry

from ..validation import BenchmarkError
from . import card
from .arguments import larger_sizes
from .io import atomic_write_text
from .replot import find_runs, is_stand_in, run_specs
from .summary import format_change

__all__ = ["datasheets"]

class _Folder:
    """One multi-attack result folder: its runs' scores, timings and specs."""

    def __init__(self, path):
        self.path = Path(path)
        runs = [r for r in find_runs(self.path) if r.parent == self.path]
        if not runs:
            raise BenchmarkError(f"--datasheets {path}: no finished sweep in it (a sweep folder "
                                 "holds run.json and scores.csv)")
        self.scores, self.timings, self.specs, self.config = {}, [], {}, None
        self.problems = []
        for folder in runs:
            run = json.loads((folder / "run.json").read_text())
            self.config = self.config or run["config"]
            mine = []
            self.specs.update(run_specs(run, mine))
            self.problems.extend(f"{folder}/: {line}" for line in mine)
            scores = pd.read_csv(folder / "scores.csv")
            if len(scores):
                self.scores[run["config"]["attack"]] = scores
            if (folder / "timings.csv").exists():
                self.timings.append(pd.read_csv(folder / "timings.csv"))
        self.timings = pd.concat(self.timings) if self.timings else pd.DataFrame(
            columns=["metric", "seconds"])
        known = {s.name: s for s in attack_registry.SPECS}
        attack_specs = {a: known[a] for a in self.scores if a in known}
        self.card = card.report_card({a: s for a, s in self.scores.items() if a in attack_specs},
                                     self.specs, attack_specs)
        self.seeds = len(self.config["seeds"])
        self.sizes = _sizes(self.config, self.specs)
        self.label = (f"{self.path.as_posix()} ({self.sizes} sizes, "
                      f"{self.seeds} seed{'s' * (self.seeds > 1)})")

    def unattacked(self, metric: str) -> np.ndarray:
        """The headline's level-0 score per seed (the same cells in every attack: one attack's)."""
        spec = self.specs[metric]
        for scores in self.scores.values():
            rows = scores[(scores["metric"] == metric) & (scores["key"] == spec.headline)
                          & (scores["level"] == scores["level"].min())]
            if len(rows):
                return rows.sort_values("seed")["score"].to_numpy(dtype=float)
        return np.array([])

    def seconds(self, metric: str) -> str:
        """The median seconds of the metric's cells, or "–" without timings."""
        taken = self.timings.loc[self.timings["metric"] == metric, "seconds"]
        return f"{float(taken.median()):.3g}" if len(taken) else "–"


def _sizes(config: dict, specs: dict) -> str:
    """The ``--sizes`` a run's configuration was scored at: quick, default, large (every
    metric that has larger sizes got them), or custom (some parameters changed)."""
    if config.get("quick"):
        return "quick"
    params = config.get("metric_params", {})
    larger = {name: larger_sizes(spec) for name, spec in specs.items()}
    larger = {name: sizes for name, sizes in larger.items() if sizes}
    if larger and all(all(params.get(name, {}).get(k) == v for k, v in sizes.items())
                      for name, sizes in larger.items()):
        return "large"
    sized = any(k in params.get(name, {}) for name, sizes in larger.items() for k in sizes)
    return "custom" if sized else "default"


def _documentation(spec) -> str:
    """The metric module's docstring (what it computes, its reference, where it departs from
    it and why), or the function's for a plugin without one; nothing for a metric that
    could not be loaded again."""
    if is_stand_in(spec):
        return ""
    module_doc = getattr(spec.func, "__globals__", {}).get("__doc__")  # also a plugin file's
    return inspect.cleandoc(module_doc or inspect.getdoc(spec.func) or "")


def _cell(row) -> str:
    if row is None:
        return "–"
    low, high = row["change_low"], row["change_high"]
    interval = (f" [{format_change(low)}, {format_change(high)}]"
                if np.isfinite(low) and np.isfinite(high) else " (no interval)")
    mark = {"true": " ✓", "false": " ✗"}.get(row["agrees"], " ?" if row["expected"] else "")
    return f"{row['observed']} {format_change(row['relative_change'])}{interval}{mark}"


def _table(header: list, body: list) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in body])


def _tally(folder: _Folder, metric: str) -> tuple[int, int, int]:
    mine = folder.card[folder.card["metric"] == metric]
    judged = mine[mine["agrees"] != ""]
    unsure = int(((mine["observed"] == "inconclusive") & (mine["expected"] != "")).sum())
    return int((judged["agrees"] == "true").sum()), len(judged), unsure


def _across(folders, metric: str, attack: str) -> tuple[str, int | None]:
    """``(text, index)``: whether the folders' verdicts agree and from which folder on (the
    folders given from the smallest sizes up) they no longer change; ``index`` None when
    the largest folder's verdict is inconclusive or n/a, or differs from the one before."""
    seen = [(i, f.card[(f.card["metric"] == metric) & (f.card["attack"] == attack)]["observed"])
            for i, f in enumerate(folders)]
    seen = [(i, s.iloc[0]) for i, s in seen if len(s)]
    if len(seen) < 2:
        return "–", None
    if len({folders[i].sizes for i, _ in seen}) == 1:  # draws of seeds at one size, not sizes
        confident = {v for _, v in seen if v not in ("inconclusive", "n/a")}
        if len(confident) > 1:
            return f"flips ({', '.join(v for _, v in seen)})", None
        return ("same" if len({v for _, v in seen}) == 1 else "same where confident"), seen[0][0]
    last = seen[-1][1]
    if last in ("inconclusive", "n/a"):
        return f"not settled ({last} at the largest)", None
    start = len(seen) - 1
    while start > 0 and seen[start - 1][1] == last:
        start -= 1
    if start == 0:
        return "same", seen[0][0]
    if start == len(seen) - 1:
        return f"not settled (changes at {folders[seen[-1][0]].sizes})", None
    return f"settled from {folders[seen[start][0]].sizes}", seen[start][0]


def _sheet(metric: str, folders: list) -> str:
    spec = next(f.specs[metric] for f in folders if metric in f.specs)
    lines = [f"# {spec.display_name} (`{metric}`)", "",
             f"Family: {spec.family or 'none'}. Target property: "
             f"{(spec.target or 'none').replace('_', ' ')}. Headline: `{spec.headline}`"
             + (f" (rises with entanglement: {', '.join(sorted(spec.rising))})" if spec.rising else "")
             + f". Source: {spec.source}.", ""]
    lines += ["## Measured", ""]
    body = []
    for f in folders:
        if metric not in f.specs:
            continue
        level0 = f.unattacked(metric)
        right, judged, unsure = _tally(f, metric)
        spread = f"{np.std(level0, ddof=1):.3g}" if len(level0) >= 2 else "– (1 seed)"
        body.append([f.label, f"{right} of {judged}", unsure,
                     f"{np.mean(level0):.4g}" if len(level0) else "–", spread,
                     f.seconds(metric)])
    lines += [_table(["results", "as expected", "inconclusive", "unattacked score (mean)",
                      "seed std", "seconds per cell (median)"], body), ""]
    attacks_ = list(dict.fromkeys(a for f in folders for a in f.card["attack"]))
    rows = []
    for attack in attacks_:
        cells, expected = [], ""
        for f in folders:
            found = f.card[(f.card["metric"] == metric) & (f.card["attack"] == attack)]
            row = found.iloc[0] if len(found) else None
            expected = expected or (row["expected"] if row is not None else "")
            cells.append(_cell(row))
        rows.append([f"`{attack}`", expected or "–", *cells, _across(folders, metric, attack)[0]])
    lines += ["## Verdicts", "",
              "Change from level 0 to the top level (or the level that decided), its 95% interval "
              "over seeds, and ✓ / ✗ against the expectation (? inconclusive); *across sizes*: "
              "whether the folders (smallest sizes first) agree, or from which one on the verdict no "
              "longer changes.", "",
              _table(["attack", "expected", *(f.label for f in folders), "across sizes"], rows), ""]
    doc = _documentation(spec)
    lines += ["## Definition, reference and known differences", "",
              "From its module's documentation:" if doc else "Not documented.", ""]
    lines += [f"> {line}".rstrip() for line in doc.splitlines()]
    return "\n".join(lines) + "\n"


def datasheets(directories, out) -> list[str]:
    """Write ``<out>/<metric>.md`` for every metric of the folders and ``<out>/README.md``,
    one table of them all; returns one line per file written.

    Parameters
    ----------
    directories : list of path
        Multi-attack result folders (``--attack all`` runs), the first one's metrics
        first; give the same metrics at several sample sizes to see whether their
        verdicts hold.
    out : path
    """
    folders = [_Folder(d) for d in directories]
    metrics = list(dict.fromkeys(m for f in folders for m in f.specs))
    out = Path(out)
    written, index = [f"warning: {line}" for f in folders for line in f.problems], []
    order = {"quick": 0, "default": 1, "large": 2}
    ranks = [order.get(f.sizes) for f in folders]
    if None not in ranks and ranks != sorted(ranks):
        written.append("warning: the folders are not given from the smallest sizes up "
                       f"({', '.join(f.sizes for f in folders)}): 'settled from' reads them in order")
    if len({f.seeds for f in folders}) > 1:
        written.append("warning: the folders have different numbers of seeds "
                       f"({', '.join(str(f.seeds) for f in folders)}): their verdicts differ in "
                       "confidence, not only in sample size")
    for metric in metrics:
        path = out / f"{metric}.md"
        atomic_write_text(path, _sheet(metric, folders))
        written.append(f"wrote {path}")
        spec = next(f.specs[metric] for f in folders if metric in f.specs)
        tallies = []
        for f in folders:
            if metric not in f.specs:
                tallies.append("–")
                continue
            right, judged, unsure = _tally(f, metric)
            tallies.append(f"{right} of {judged}" + (f" ({unsure} ?)" if unsure else ""))
        settled = [_across(folders, metric, a) for a in attack_registry.names()]
        settled = [(text, i) for text, i in settled if text != "–"]
        open_ = sum(i is None for _, i in settled)
        if len({f.sizes for f in folders}) == 1:  # draws of seeds: how many confident flips
            needed = f"{open_} flip{'s' * (open_ != 1)}" if settled else "–"
        else:
            needed = ("–" if not settled else f"not settled on {open_}" if open_ else
                      folders[max(i for _, i in settled)].sizes)
        level0 = folders[0].unattacked(metric) if metric in folders[0].specs else np.array([])
        index.append([f"[{spec.display_name}]({metric}.md)", spec.family or "–",
                      (spec.target or "none").replace("_", " "), *tallies,
                      f"{np.std(level0, ddof=1):.3g}" if len(level0) >= 2 else "–",
                      *(f.seconds(metric) if metric in f.specs else "–" for f in folders),
                      needed if len(folders) > 1 else "–"])
    header = ["metric", "family", "target", *(f"as expected: {f.label}" for f in folders),
              "seed std (first)", *(f"s/cell: {f.path.as_posix()}" for f in folders),
              "confident verdicts that flip between the folders" if len({f.sizes for f in folders}) == 1
              else "sizes from which no verdict changes"]
    text = ("# Datasheets\n\nOne page per metric, generated by `python run_protocol.py --datasheets "
            + " ".join(f.path.as_posix() for f in folders) + "` from the committed results "
            "(nothing is scored again). ? counts inconclusive verdicts.\n\n"
            + _table(header, index) + "\n")
    atomic_write_text(out / "README.md", text)
    written.append(f"wrote {out / 'README.md'}")
    return written
