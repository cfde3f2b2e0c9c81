"""Writes a sweep's outputs: CSV tables, run.json and figures."""
from __future__ import annotations

import platform
import subprocess
import sys
from dataclasses import asdict
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from . import plotting, summary
from .io import atomic_write_csv, atomic_write_json
from .registry import get_metric

PAPER_GRID = (0.0, 0.5, 1.0, 1.5, 2.0)
PAPER_METRICS = ("beta_vae", "factor_vae", "mig", "unibound")
SIGNIFICANT_DIGITS = 6
_FLOAT_FORMAT = f"%.{SIGNIFICANT_DIGITS}g"


def _versions() -> dict:
    out = {"python": platform.python_version()}
    for pkg in ("entanglement-bench", "numpy", "scipy", "pandas", "scikit-learn", "matplotlib",
                "seaborn"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = None
    return out


def _git_commit() -> str | None:
    try:
        root = Path(__file__).resolve().parent.parent
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def headlines_of(metrics) -> dict:
    return {get_metric(m).name: get_metric(m).headline for m in metrics}


def _estimator_info(config, base, unattacked_estimator=None) -> dict:
    """Which information estimator each PID output used (recorded in run.json)."""
    from metrics_pid import estimator_used

    from .protocol import sweep_estimators, unibound_params

    if "unibound" not in [get_metric(m).name for m in config.metrics]:
        return {}
    used = sorted(set(sweep_estimators(config, base).values()))
    info = {"unibound": "+".join(used)}
    if 0 in config.levels:
        params = unibound_params(config)
        unattacked = unattacked_estimator or params.get("estimator", "auto")
        info["pid_profile_unattacked"] = estimator_used(base, unattacked,
                                                        params.get("num_components", 10000))
    return info


def write_attack_outputs(attack_dir, config, scores: pd.DataFrame, timings: pd.DataFrame,
                         errors, base=None, unattacked_estimator=None, details=None):
    """scores.csv, timings.csv, summary.csv, run.json, sensitivity.png and pid_profile.png."""
    from .protocol import base_representation

    attack_dir = Path(attack_dir)
    base = base if base is not None else base_representation(config)
    metric_names = [get_metric(m).name for m in config.metrics]
    headlines = headlines_of(config.metrics)
    atomic_write_csv(attack_dir / "scores.csv", scores, _FLOAT_FORMAT)
    atomic_write_csv(attack_dir / "timings.csv", timings, "%.3f")
    table = summary.summarise(scores) if len(scores) else pd.DataFrame(columns=summary.SUMMARY_COLUMNS)
    atomic_write_csv(attack_dir / "summary.csv", table, _FLOAT_FORMAT)
    dataset = _dataset_label(config, base)
    run = {
        "config": asdict(config),
        "metrics": {m: {"headline": headlines[m], "source": get_metric(m).source}
                    for m in metric_names},
        "representation": base.name,
        "space": {"name": base.space.name, "factors": dict(zip(base.space.names, base.space.sizes))},
        "estimator": _estimator_info(config, base, unattacked_estimator),
        "verdict_thresholds": summary.THRESHOLDS,
        "rounding": f"{SIGNIFICANT_DIGITS} significant digits",
        "versions": _versions(),
        "git_commit": _git_commit(),
        "command": " ".join(sys.argv),
        "seconds_by_metric": timings.groupby("metric")["seconds"].sum().round(3).to_dict()
        if len(timings) else {},
        "failed_cells": [str(e) for e in errors],
    }
    atomic_write_json(attack_dir / "run.json", run)
    if not len(scores):
        return
    plotting.sensitivity_figure(scores, headlines, config.attack, dataset,
                                attack_dir / "sensitivity.png")
    if tuple(config.levels) == PAPER_GRID and config.attack == "redundancy":
        plotting.paper_figure(scores, headlines, PAPER_METRICS, attack_dir / "paper_figure.png",
                              dataset)
    profile, unattacked = pid_profile_over_levels(config, base, unattacked_estimator, details)
    if unattacked is not None:
        atomic_write_csv(attack_dir / "pid_profile_unattacked.csv", unattacked, _FLOAT_FORMAT)
    if profile is not None:
        atomic_write_csv(attack_dir / "pid_profile.csv", profile, _FLOAT_FORMAT)
        plotting.pid_profile_figure(
            profile, config.attack,
            f"PID profile under the {config.attack} attack ({dataset}, seed 0): bounds on the "
            "unique, redundant and synergistic information of the factor\n(maximum over latents, "
            "normalised by H(factor); band: lower to upper bound)", attack_dir / "pid_profile.png")


def _dataset_label(config, base) -> str:
    return Path(config.encodings).name if config.encodings else base.space.name


def pid_profile_over_levels(config, base, unattacked_estimator=None, details=None):
    """Per factor and level: bounds of U, R and S, each maximised over latents (seed 0).

    The maximum over latents is how UniBound and the redundancy and synergy
    scores aggregate before averaging over factors.  Also returns the full
    per-latent table of the unattacked representation ``base`` (or None when
    level 0 is not in the sweep), computed with ``unattacked_estimator`` when given (the
    sweep's own estimator may have been pinned to kNN for consistency across
    levels, see :func:`benchmark.protocol.pin_estimator`).  The informations of a
    level come from the sweep's own UniBound cell when ``details`` (from
    :func:`benchmark.protocol.run_sweep`) has it, else they are computed here.
    """
    if "unibound" not in [get_metric(m).name for m in config.metrics]:
        return None, None
    from metrics_pid import pid_profile, profile_table
    import attacks as attack_registry

    from .estimators import Informations
    from .protocol import attack_rng, metric_rng, unibound_params

    attack = attack_registry.get(config.attack)
    params = unibound_params(config)
    frames, unattacked = [], None
    seed = config.seeds[0]
    details = details or {}
    for level in config.levels:
        known = details.get((float(level), "unibound"))
        if known is not None:
            tidy = profile_table(Informations.from_dict(known), base.space.names)
        else:
            rep = attack(base, level, attack_rng(seed, config.attack))
            tidy = pid_profile(rep, metric_rng(seed, "unibound"), **params)
        if level == 0:
            # the representation itself (an attack at level 0 may already append noise latents)
            estimator = unattacked_estimator or params.get("estimator", "auto")
            unattacked = pid_profile(base, metric_rng(seed, "unibound"),
                                     **{**params, "estimator": estimator})
        agg = tidy.groupby(["factor", "term"], sort=False).agg(lower=("lower", "max"),
                                                               upper=("upper", "max"))
        agg = agg.reset_index()
        agg.insert(0, "level", level)
        frames.append(agg)
    return pd.concat(frames, ignore_index=True), unattacked


def write_multi_attack_outputs(out, sweeps: dict):
    """sensitivity_grid.png and sensitivity_matrix.png across attacks."""
    out = Path(out)
    frames = {name: scores for name, (config, scores) in sweeps.items() if len(scores)}
    if not frames:
        return
    any_config = next(iter(sweeps.values()))[0]
    headlines = {}
    for config, _ in sweeps.values():
        headlines.update(headlines_of(config.metrics))
    base_label = Path(any_config.encodings).name if any_config.encodings else any_config.dataset
    plotting.sensitivity_grid(frames, headlines, base_label, out / "sensitivity_grid.png")
    table = pd.concat([summary.headline_table(summary.summarise(s), headlines)
                       for s in frames.values()], ignore_index=True)
    atomic_write_csv(out / "sensitivity_matrix.csv", table, _FLOAT_FORMAT)
    plotting.sensitivity_matrix(table, out / "sensitivity_matrix.png")
