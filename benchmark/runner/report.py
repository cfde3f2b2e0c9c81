"""Writes a sweep's outputs from its :class:`~.sweep.SweepResult`: CSV tables,
``run.json`` and figures."""
from __future__ import annotations

import platform
import shlex
import subprocess
import sys
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

import pandas as pd

import attacks as attack_registry

from . import card, card_figure, model_plots, models, pid, plotting, summary
from .io import atomic_write_csv, atomic_write_json
from .seeding import attack_rng

__all__ = ["FLOAT_FORMAT", "PAPER_GRID", "PAPER_METRICS", "as_written", "command_line",
           "draw_sensitivity", "estimator_label", "git_commit", "result_table", "versions",
           "write_across_attacks", "write_attack_outputs", "write_model_outputs",
           "write_multi_attack_outputs", "write_summary"]

PAPER_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)
PAPER_METRICS = ("beta_vae", "factor_vae", "mig", "unibound")
SIGNIFICANT_DIGITS = 6
FLOAT_FORMAT = f"%.{SIGNIFICANT_DIGITS}g"


def versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("entanglement-bench", "numpy", "scipy", "pandas", "scikit-learn", "matplotlib",
                "seaborn"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def git_commit() -> str | None:
    try:
        root = Path(__file__).resolve().parents[2]
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def command_line(argv=None) -> str:
    """The command as typed, for ``run.json``, with every path inside the project written
    relative to it (a record that reads the same on every machine).

    Examples
    --------
    >>> root = Path(__file__).resolve().parents[2]
    >>> command_line(["run_protocol.py", "--out", str(root / "results" / "x"), "--seeds", "2"])
    'run_protocol.py --out results/x --seeds 2'
    """
    root = Path(__file__).resolve().parents[2]
    words = []
    for word in sys.argv if argv is None else argv:
        path = Path(word)
        if path.is_absolute() and path.resolve().is_relative_to(root):
            word = path.resolve().relative_to(root).as_posix()
        words.append(shlex.quote(word))
    return " ".join(words)


def _rising(specs) -> set:
    """``{(metric, key)}`` of the keys that rise with entanglement."""
    return {(name, key) for name, spec in specs.items() for key in spec.rising}


def dataset_label(config, base) -> str:
    return Path(config.encodings).name if config.encodings else base.space.name


def figure_label(results) -> str:
    """The data set of the sweeps ``results`` and the estimator(s) UniBound used there,
    for figure titles: every figure names the estimator its PID scores come from."""
    first = results[0]
    return estimator_label(dataset_label(first.config, first.base),
                           [pid.run_record(r).get(pid.NAME) for r in results])


def estimator_label(dataset: str, estimators) -> str:
    """``dataset`` and the estimator(s) UniBound used (``"exact"``, ``"exact+knn"`` or
    None per sweep), as every figure title says them."""
    used = sorted({e for text in estimators if text for e in text.split("+")})
    return f"{dataset}; UniBound by the {'+'.join(used)} estimator" if used else dataset


def write_attack_outputs(attack_dir, result) -> list:
    """scores.csv, timings.csv, summary.csv, run.json, sensitivity.png and the PID profile;
    returns what could not be written, one line each."""
    attack_dir = Path(attack_dir)
    config, base, scores, timings = result.config, result.base, result.scores, result.timings
    specs = result.specs
    atomic_write_csv(attack_dir / "scores.csv", scores, FLOAT_FORMAT)
    write_summary(attack_dir, scores, timings, specs)
    dataset = figure_label([result])
    run = {
        "config": asdict(config),
        "metrics": {name: {"headline": spec.headline, "source": spec.source}
                    for name, spec in specs.items()},
        "representation": base.name,
        "space": {"name": base.space.name, "factors": dict(zip(base.space.names, base.space.sizes))},
        "estimator": pid.run_record(result),
        "verdict_thresholds": summary.THRESHOLDS,
        "rounding": f"{SIGNIFICANT_DIGITS} significant digits",
        "versions": versions(),
        "git_commit": git_commit(),
        "command": command_line(),
        "seconds_by_metric": timings.groupby("metric")["seconds"].sum().round(3).to_dict()
        if len(timings) else {},
        "failed_cells": [str(e) for e in result.errors],
    }
    if not len(scores):
        atomic_write_json(attack_dir / "run.json", run)
        return []
    problems, checks = pid.write_outputs(attack_dir, result, dataset, FLOAT_FORMAT)
    run["information_checks"] = checks
    atomic_write_json(attack_dir / "run.json", run)
    draw_sensitivity(attack_dir, scores, specs, config.attack, tuple(config.levels), dataset)
    return problems + pid.check_lines(checks)


def as_written(scores: pd.DataFrame) -> pd.DataFrame:
    """``scores`` rounded as ``scores.csv`` holds them, so every table derived here is the
    one anyone derives from that file (``--replot`` included)."""
    return scores.assign(score=[float(FLOAT_FORMAT % v) for v in scores["score"]])


def write_summary(attack_dir, scores, timings, specs) -> None:
    """``timings.csv`` and ``summary.csv`` (statistics and verdicts) of a sweep's scores."""
    attack_dir = Path(attack_dir)
    scores = as_written(scores)
    # seconds to the millisecond, levels written as scores.csv writes them (the files join)
    atomic_write_csv(attack_dir / "timings.csv",
                     timings.assign(seconds=[f"{v:.3f}" for v in timings["seconds"]]), FLOAT_FORMAT)
    table = summary.summarise(scores, rising=_rising(specs)) if len(scores) else \
        pd.DataFrame(columns=summary.SUMMARY_COLUMNS)
    atomic_write_csv(attack_dir / "summary.csv", table, FLOAT_FORMAT)


def draw_sensitivity(attack_dir, scores, specs, attack: str, levels: tuple, dataset: str) -> None:
    """``sensitivity.png``/``.svg``, and the paper's figure on the paper's grid."""
    attack_dir = Path(attack_dir)
    scores = as_written(scores)  # as --replot draws them
    plotting.sensitivity_figure(scores, specs, attack, dataset, attack_dir / "sensitivity.png")
    if levels == PAPER_GRID and attack == "redundancy":
        plotting.paper_figure(scores, specs, PAPER_METRICS, attack_dir / "paper_figure.png", dataset)


def result_table(result) -> list:
    """A few lines for the terminal: each metric's headline at the first and the last
    level (means over seeds), its change (negative: falls) and its verdict."""
    if not len(result.scores):
        return []
    table = summary.summarise(as_written(result.scores), rising=_rising(result.specs))
    rows = []
    for name, spec in result.specs.items():
        mine = table[(table["metric"] == name) & (table["key"] == spec.headline)]
        if len(mine):
            first, last = mine.iloc[0], mine.iloc[-1]
            rows.append((spec.display_name, f"{first['mean']:.3f}", f"{last['mean']:.3f}",
                         summary.format_change(first["relative_change"]),
                         first["verdict"]))
    levels = sorted(result.scores["level"].unique())
    header = ("metric", f"level {levels[0]:g}", f"level {levels[-1]:g}", "change", "verdict")
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    return ["  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip()
            for row in [header, *rows]]


def write_multi_attack_outputs(out, results: dict) -> list:
    """sensitivity_grid.png, sensitivity_matrix.png/.csv and report_card.png/.csv across
    attacks (``results`` maps attack names to :class:`~.sweep.SweepResult`); returns the
    report card's tally, one line per metric."""
    frames = {name: r.scores for name, r in results.items() if len(r.scores)}
    if not frames:
        return []
    specs = {}
    for r in results.values():
        specs.update(r.specs)
    return write_across_attacks(out, frames, specs, figure_label(list(results.values())))


def write_across_attacks(out, frames: dict, specs: dict, label: str) -> list:
    """The multi-attack outputs from each attack's ``scores`` (``frames``) and the metrics'
    specs; returns the report card's tally."""
    out = Path(out)
    frames = {name: as_written(scores) for name, scores in frames.items()}
    plotting.sensitivity_grid(frames, specs, label, out / "sensitivity_grid.png")
    headlines = {name: spec.headline for name, spec in specs.items()}
    summaries = {name: summary.summarise(s, rising=_rising(specs)) for name, s in frames.items()}
    table = pd.concat([summary.headline_table(t, headlines) for t in summaries.values()],
                      ignore_index=True)
    atomic_write_csv(out / "sensitivity_matrix.csv", table, FLOAT_FORMAT)
    plotting.sensitivity_matrix(table, specs, out / "sensitivity_matrix.png")
    attack_specs = {name: attack_registry.get(name) for name in summaries}
    graded = card.report_card(frames, specs, attack_specs)
    atomic_write_csv(out / "report_card.csv", graded, FLOAT_FORMAT)
    card_figure.report_card_figure(graded, specs, out / "report_card.png",
                                {name: scores["level"].max() for name, scores in frames.items()})
    return card.tally(graded, specs)


def _reference_sweep(files, results, bases) -> tuple[str, str]:
    """Which sweep stands for "the unattacked encodings" in a model comparison, and how
    to say so in the figures' titles: ``(attack, context)``.

    Level 0 of the first attack (in run order) that leaves the encodings' latents as
    they are; when every attack of the run appends latents at level 0 (``duplicate``,
    ``redundancy``, ``synergy``, ``xor``, ``circular``: pure-noise or derived ones),
    the first attack's, and the context says so.  The context also names UniBound's
    estimator there.
    """
    stem = next(f.stem for f in files if results.get(f.stem))
    sweeps, base = results[stem], bases[stem]
    chosen, appends = next(iter(sweeps)), True
    for attack, result in sweeps.items():
        rep = attack_registry.get(attack)(base, 0.0, attack_rng(result.config.seeds[0], attack))
        if rep.dim == base.dim:
            chosen, appends = attack, False
            break
    text = f"level 0 of the {chosen} sweep"
    if appends:
        text += ", which appends latents to the encodings"
    estimators = pid.run_record(sweeps[chosen]).get(pid.NAME)
    if estimators:
        text += f"; UniBound by {estimators}"
    return chosen, text


def write_model_outputs(out, files, results: dict, bases: dict) -> tuple[list, list]:
    """The figures that compare models, each with its table as CSV beside it.

    Parameters
    ----------
    out : path
    files : list of :class:`~.models.ModelFile`
    results : dict
        ``{stem: {attack: SweepResult}}``; level 0 of one attack's sweep gives the
        unattacked scores and informations (see :func:`_reference_sweep`).
    bases : dict
        ``{stem: representation}``: the encodings, for their total correlation.

    Returns
    -------
    written : list of str
        The stems written (``model_metrics``, ...).
    problems : list of str
        What could not be written and why, one line each.
    """
    out = Path(out)
    models_ = list(dict.fromkeys(f.model for f in files))
    if not any(results.values()):
        return [], []
    reference, context = _reference_sweep(files, results, bases)
    first = {stem: sweeps[reference] for stem, sweeps in results.items() if reference in sweeps}
    specs = {}
    for sweeps in results.values():
        for r in sweeps.values():
            specs.update(r.specs)
    config = next(iter(first.values())).config
    written, problems = [], []
    attacked = models.attacked_table(files, results, specs)
    if len(attacked):
        atomic_write_csv(out / "attacked.csv", attacked, FLOAT_FORMAT)
        model_plots.model_attack_figure(attacked, specs, models_, out / "attacked.png")
        written.append("attacked")
    if 0 not in config.levels:
        problems.append("model_metrics, model_pid, model_pid_factors and tc_vs_redundancy compare "
                        "the unattacked encodings: add level 0 to --levels")
        return written, problems
    table = models.metrics_table(files, first, specs)
    if len(table):
        atomic_write_csv(out / "model_metrics.csv", table, FLOAT_FORMAT)
        model_plots.model_metrics_figure(table, specs, models_, out / "model_metrics.png",
                                         context=context)
        written.append("model_metrics")
    if pid.NAME not in specs:
        problems.append("model_pid, model_pid_factors and tc_vs_redundancy need UniBound: add "
                        "unibound to --metrics")
        return written, problems
    by_model, by_factor, missing = models.pid_tables(files, first)
    problems.extend(missing)
    if len(by_model):
        atomic_write_csv(out / "model_pid.csv", by_model, FLOAT_FORMAT)
        model_plots.model_pid_figure(by_model, models_, out / "model_pid.png", context=context)
        atomic_write_csv(out / "model_pid_factors.csv", by_factor, FLOAT_FORMAT)
        model_plots.model_pid_factors_figure(by_factor, models_, out / "model_pid_factors.png",
                                             context=context)
        written.extend(["model_pid", "model_pid_factors"])
    tc, missing = models.total_correlations(files, bases, first, config)
    problems.extend(missing)
    if len(tc):
        atomic_write_csv(out / "tc_vs_redundancy.csv", tc, FLOAT_FORMAT)
        model_plots.tc_redundancy_figure(tc, models_, out / "tc_vs_redundancy.png", context=context)
        written.append("tc_vs_redundancy")
    return written, problems
