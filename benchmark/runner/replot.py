"""Rebuild a finished run's tables and figures from its scores, without scoring again.

A sweep's scores are its costly part; the summary with its verdicts, the multi-attack
matrix and report card and every figure derive from them.  After an upgrade that
changes how those are derived (a convention, a figure), :func:`replot` brings an
earlier run's folder up to date in seconds: ``scores.csv`` stays as it is, and
``run.json`` records the replot beside the command that computed the scores.

The PID profile figure is redrawn from ``pid_profile.csv`` (without the factors that
share latents, which need the informations); a table written before it held every
seed (it held the first) gets its ``attack`` and ``seed`` columns.  The
model-comparison figures are left as they are.  The matrix and report card of a
folder are rebuilt from every run folder in it, in the attacks' listing order.
"""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

import attacks as attack_registry

from ..spec import MetricSpec
from ..validation import BenchmarkError
from . import plotting, report, summary
from .io import atomic_write_csv, atomic_write_json
from .registry import get_metric

__all__ = ["find_runs", "is_stand_in", "replot", "run_specs"]

_PROFILE_COLUMNS = ["attack", "level", "seed", "factor", "term", "lower", "upper"]


def find_runs(directory) -> list[Path]:
    """Every sweep folder (``run.json`` beside ``scores.csv``) in or under ``directory``,
    in the attacks' listing order within a folder."""
    found = {p.parent for p in Path(directory).rglob("run.json")
             if (p.parent / "scores.csv").is_file() and not any(
                 part.startswith(".") for part in p.parent.relative_to(directory).parts)}
    listing = {name: i for i, name in enumerate(attack_registry.names())}
    return sorted(found, key=lambda p: (str(p.parent), listing.get(p.name, len(listing)), p.name))


def _never_scores(rep, rng):
    raise BenchmarkError("a metric that --replot stood in for is never run")


def is_stand_in(spec) -> bool:
    """Whether ``spec`` stands in for a metric of a run that could not be loaded again."""
    return spec.func is _never_scores


def _spec(name: str, meta: dict, problems: list):
    """A run's metric: registered under its name (built-ins, entry points, what this
    process registered), re-imported from a plugin's ``file.py:func`` or ``module:func``,
    or else a stand-in with the recorded headline (no target, no rising keys)."""
    source = meta.get("source", "builtin")
    for look_up in (name, source if ":" in source else None):
        if look_up is None:
            continue
        try:
            spec = get_metric(look_up)
        except BenchmarkError:
            continue
        if spec.name == name:
            return spec
    problems.append(f"metric {name!r} ({source}) could not be loaded again: drawn from its "
                    "recorded headline, without its target")
    return MetricSpec(name, _never_scores, meta.get("headline", name), source=source)


def run_specs(run: dict, problems: list) -> dict:
    """``{name: MetricSpec}`` of a run, in its run order."""
    order = run["config"]["metrics"]  # run order: names, or a plugin's source
    recorded = sorted(run.get("metrics", {}).items(), key=lambda item: next(
        (i for i, m in enumerate(order) if m in (item[0], item[1].get("source"))), len(order)))
    return {name: _spec(name, meta, problems) for name, meta in recorded}


def _dataset(run: dict) -> str:
    config = run["config"]
    return Path(config["encodings"]).name if config.get("encodings") else run["space"]["name"]


def _replot_one(folder: Path, stamp: dict, problems: list) -> tuple[pd.DataFrame, dict, tuple]:
    run = json.loads((folder / "run.json").read_text())
    mine = []
    config, specs = run["config"], run_specs(run, mine)
    problems.extend(f"{folder}/: {line}" for line in mine)
    scores = pd.read_csv(folder / "scores.csv")
    timings = pd.read_csv(folder / "timings.csv") if (folder / "timings.csv").exists() else \
        pd.DataFrame(columns=["attack", "level", "seed", "metric", "seconds"])
    report.write_summary(folder, scores, timings, specs)
    estimator = run.get("estimator", {}).get("unibound")
    label = report.estimator_label(_dataset(run), [estimator])
    if len(scores):
        report.draw_sensitivity(folder, scores, specs, config["attack"],
                                tuple(float(v) for v in config["levels"]), label)
    profile_path = folder / "pid_profile.csv"
    if profile_path.exists():
        profile = pd.read_csv(profile_path)
        if "seed" not in profile.columns:  # written before the table held every seed
            profile.insert(0, "seed", config["seeds"][0])
            profile.insert(0, "attack", config["attack"])
            profile = profile[_PROFILE_COLUMNS]
            atomic_write_csv(profile_path, profile, report.FLOAT_FORMAT)
        seeds = sorted(profile["seed"].unique())
        plotting.pid_profile_figure(
            profile, config["attack"],
            f"PID profile under the {config['attack']} attack ({label}): bounds on the unique, "
            "redundant and synergistic information of each factor\n(maximum over latents, "
            f"normalised by H(factor); lines: mean over {len(seeds)} seed(s), dots: each seed)",
            folder / "pid_profile.png")
    run["verdict_thresholds"] = summary.THRESHOLDS
    run["replotted"] = stamp
    atomic_write_json(folder / "run.json", run)
    return scores, specs, (_dataset(run), estimator)


def replot(directory) -> list[str]:
    """Rebuild the summaries and figures of every run in ``directory`` (see
    :func:`find_runs`), and the matrix and report card of every folder holding several
    attacks' runs; returns one line per folder written."""
    runs = find_runs(directory)
    if not runs:
        raise BenchmarkError(f"--replot {directory}: no run found (a run folder holds run.json "
                             "and scores.csv)")
    stamp = {"command": report.command_line(), "git_commit": report.git_commit(),
             "version": report.versions()["entanglement-bench"]}
    lines, groups, problems = [], {}, []
    for folder in runs:
        scores, specs, label = _replot_one(folder, stamp, problems)
        lines.append(f"replotted {folder}/")
        if len(scores):
            groups.setdefault(folder.parent, []).append((folder.name, scores, specs, label))
    for parent, members in groups.items():
        if len(members) < 2 or parent in set(runs):
            continue
        frames = {scores["attack"].iloc[0]: scores for _, scores, _, _ in members}
        specs = {}
        for _, _, s, _ in members:
            specs.update(s)
        dataset = members[0][3][0]
        report.write_across_attacks(parent, frames, specs,
                                    report.estimator_label(dataset, [m[3][1] for m in members]))
        lines.append(f"replotted {parent}/sensitivity_grid.png, sensitivity_matrix and report_card")
    return lines + [f"warning: {line}" for line in problems]
