"""Everything the runner does specially for the PID metric, in one place.

* One estimator per sweep (:func:`prepare`): with ``estimator="auto"`` UniBound
  picks the exact estimator per representation, and a sweep whose levels would
  mix estimators (a user's posterior table is exact at level 0, but an attack
  that mixes latents does not keep its posteriors diagonal) would draw one
  curve from two estimators with different biases, so it is pinned to the
  sample estimator every level admits (kNN on posterior draws for a posterior
  table and its linear attacks, plain kNN otherwise).
* The estimator record of ``run.json`` (:func:`run_record`).
* The information-theory checks of every estimate the sweep made
  (:func:`information_checks`): breaches are warnings, never clipped.
* The PID profile tables and figure (:func:`write_outputs`), drawn from the
  informations the sweep's own UniBound cells returned.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import replace
from pathlib import Path

import pandas as pd

import attacks as attack_registry
from metrics_pid import pid_profile, profile_table, unibound

from ..information import (
    ESTIMATORS,
    Informations,
    breaches,
    informations,
    resolve_estimator,
    sample_estimator,
    silent_latent_warning,
)
from ..validation import BenchmarkError
from . import plotting
from .io import atomic_write_csv
from .registry import get_metric
from .seeding import attack_rng, metric_rng

__all__ = ["NAME", "as_requested", "check_lines", "information_checks", "level_profile", "prepare",
           "profiles", "run_record", "shared_latents", "write_outputs"]

#: The metric this module serves.
NAME = "unibound"
_DEFAULT_COMPONENTS = inspect.signature(unibound).parameters["num_components"].default


def _in_run(config) -> bool:
    return NAME in {get_metric(m).name for m in config.metrics}


def _num_components(config) -> int:
    return config.params_of(NAME).get("num_components", _DEFAULT_COMPONENTS)


def _level_estimators(config, base, estimator) -> tuple[dict, set]:
    """``({level: "exact" | "knn" | "posterior_knn" | "unavailable"}, samplers)``:
    the estimator UniBound uses at each level (``"unavailable"`` where the
    requested one does not apply) and the set of the levels' sample estimators."""
    num_components = _num_components(config)
    attack = attack_registry.get(config.attack)
    seed = config.seeds[0]  # which estimator applies does not depend on the seed
    chosen, samplers = {}, set()
    for level in config.levels:
        rep = attack(base, level, attack_rng(seed, config.attack))
        samplers.add(sample_estimator(rep))
        try:
            chosen[level] = resolve_estimator(rep, estimator, num_components)
        except BenchmarkError:  # the name is valid, so: asked where it does not apply
            chosen[level] = "unavailable"
    return chosen, samplers


def prepare(config, base):
    """UniBound's sweep-wide choices: ``(config, extras, notes)``.

    ``config`` comes back with UniBound's estimator resolved once for the
    whole sweep: ``auto`` becomes the estimator every level would pick, or
    the sample estimator every level admits where the levels would mix
    estimators.  ``extras`` is
    ``{"unibound": {"estimators": {level: name}, "requested": name,
    "unattacked": name}}`` (empty when UniBound is not in the run;
    ``unattacked``, the estimator of the unattacked profile, only when level
    0 is swept); ``notes`` says why the estimator was pinned.  An
    explicit estimator that does not apply at some level is refused here,
    before any cell runs.
    """
    if not _in_run(config):
        return config, {}, []
    requested = config.metric_params.get(NAME, {}).get("estimator", "auto")
    if requested not in ESTIMATORS:
        raise BenchmarkError(f"{NAME}.estimator must be one of {', '.join(ESTIMATORS)}, "
                             f"got {requested!r}")
    chosen, samplers = _level_estimators(config, base, requested)
    extras = {NAME: {"estimators": chosen, "requested": requested}}
    if requested != "auto":
        unavailable = [f"{lv:g}" for lv, e in chosen.items() if e == "unavailable"]
        if unavailable:
            raise BenchmarkError(
                f"{NAME}.estimator={requested}: the {config.attack} attack at "
                f"level(s) {', '.join(unavailable)} leaves no Gaussian structure or posterior "
                "variances for it (use estimator=auto or knn)")
    if 0 in config.levels:
        # the representation itself, with the user's choice (the sweep's may be pinned)
        extras[NAME]["unattacked"] = resolve_estimator(base, requested, _num_components(config))
    if requested != "auto":
        return config, extras, []
    notes = []
    resolved = set(chosen.values())
    if len(resolved) > 1:
        pinned = "posterior_knn" if samplers == {"posterior_knn"} else "knn"
        exact = [f"{lv:g}" for lv, e in chosen.items() if e == "exact"]
        still = " (pid_profile_unattacked.csv still uses the exact one)" if 0 in config.levels else ""
        notes.append(f"{config.attack}: UniBound uses the {pinned} estimator at every level: the "
                     f"exact one applies only at level(s) {', '.join(exact)}, and one curve should "
                     f"come from one estimator{still}")
        resolved = {pinned}
    params = config.metric_params.get(NAME, {})
    pinned = {**config.metric_params, NAME: {**params, "estimator": resolved.pop()}}
    return replace(config, metric_params=pinned), extras, notes


def as_requested(recorded: dict, requested: dict) -> dict:
    """A configuration ``run.json`` recorded, as the user asked for it: without the
    estimator :func:`prepare` pinned for UniBound where ``requested`` (a configuration as
    the command line gives it) names none or ``auto``, so a rerun compares equal."""
    asked = requested.get("metric_params", {}).get(NAME, {})
    params = dict(recorded.get("metric_params") or {})
    if NAME in params and asked.get("estimator", "auto") == "auto":
        mine = {k: v for k, v in params[NAME].items() if k != "estimator"}
        if mine:
            params[NAME] = mine
        else:
            del params[NAME]
    return {**recorded, "metric_params": params}


def run_record(result) -> dict:
    """Which information estimator each PID output used (for ``run.json``)."""
    if NAME not in result.extras:
        return {}
    used = sorted(set(result.extras[NAME]["estimators"].values()))
    info = {NAME: "+".join(used)}
    if "unattacked" in result.extras[NAME]:
        info["pid_profile_unattacked"] = result.extras[NAME]["unattacked"]
    return info


def information_checks(result) -> dict:
    """``{where: [breach, ...]}`` for every estimate of the sweep's UniBound cells that
    breaks information theory beyond its estimator's error
    (:func:`benchmark.information.breaches`) or holds latents that bias plain kNN
    (:func:`benchmark.information.silent_latent_warning`); ``where`` is
    ``"level <x>, seed <s>"``.  Empty when every estimate passes."""
    names = result.base.space.names
    checks = {}
    for (level, seed, metric), known in sorted(result.details.items()):
        if metric == NAME and known is not None:
            info = Informations.from_dict(known)
            found = breaches(info, names) + silent_latent_warning(info)
            if found:
                checks[f"level {level:g}, seed {seed}"] = found
    return checks


def _size(line: str) -> float:
    """The size of a breach line: its "by [up to] X of H"."""
    found = re.search(r" by (?:up to )?([0-9.eE+-]+) of H", line)
    return float(found.group(1)) if found else 0.0


def check_lines(checks: dict) -> list:
    """One warning line per level (its seeds together) or table with breaches: how many,
    and the largest."""
    places = {}
    for where, found in checks.items():
        place, _, seed = where.partition(", seed ")
        entry = places.setdefault(place, ([], []))
        entry[0].extend(found)
        if seed:
            entry[1].append(seed)
    lines = []
    for place, (found, seeds) in places.items():
        worst = max(found, key=_size)
        if not place.startswith("level"):
            place = f"the {place} representation"
        elif seeds:
            place += f" (seed{'s' if len(seeds) > 1 else ''} {', '.join(seeds)})"
        lines.append(f"UniBound's informations at {place}: {len(found)} breach(es) of information "
                     f"theory or known estimator biases (all in run.json); the largest: {worst}")
    return lines


def level_profile(result, level, seed) -> pd.DataFrame:
    """Per factor and term at one ``(level, seed)``: the bounds of U, R and S, each
    maximised over latents and normalised by H(factor), as columns ``factor, term,
    lower, upper``.

    The informations come from the sweep's own UniBound cell; only a cell stored
    without them is estimated here.  Raises what that estimation raises (a failed
    cell's error).
    """
    config, base = result.config, result.base
    known = result.details.get((float(level), seed, NAME))
    if known is not None:
        tidy = profile_table(Informations.from_dict(known), base.space.names)
    else:
        rep = attack_registry.get(config.attack)(base, level, attack_rng(seed, config.attack))
        tidy = pid_profile(rep, metric_rng(seed, NAME), **config.params_of(NAME))
    agg = tidy.groupby(["factor", "term"], sort=False).agg(lower=("lower", "max"),
                                                           upper=("upper", "max"))
    return agg.reset_index()


def shared_latents(info, names, share: float = 0.1) -> dict:
    """``{factor: [other factors]}``: the factors each one shares a latent with, where a
    latent counts for a factor when it alone carries at least ``share`` of the factor's
    entropy (rotation pairs shape with scale; redundancy's copies mix every factor)."""
    carries = (info.single / info.entropy[:, None]) >= share
    together = (carries.astype(int) @ carries.T.astype(int)) > 0
    return {name: [names[j] for j in range(len(names)) if j != k and together[k, j]]
            for k, name in enumerate(names)}


def profiles(result):
    """Per level and seed: bounds of U, R and S per factor, each maximised over latents.

    The maximum over latents is how UniBound and the redundancy and synergy
    scores aggregate before averaging over factors.  A cell's informations
    come from the sweep's own UniBound cell; only a cell stored without them
    is estimated here.  Also returns the full per-latent table of the
    unattacked representation (None when level 0 is not in the sweep), with
    the estimator the user asked for, and its information checks.

    Returns
    -------
    profile : DataFrame or None
        Columns ``attack, level, seed, factor, term, lower, upper``; None when
        no cell could be profiled.
    unattacked : DataFrame or None
    problems : list of str
        One line per cell (or the unattacked table) that could not be
        estimated: their UniBound cells failed, and the failure is reported
        with the cells.
    unattacked_breaches : list of str
        The unattacked informations' breaches of information theory.
    """
    config, base = result.config, result.base
    params = config.params_of(NAME)
    frames, unattacked, problems, found = [], None, [], []
    failed = {}  # one line per distinct failure, not one per cell
    broken = {(e.level, e.seed): e.detail for e in result.errors if e.metric == NAME}
    for level in config.levels:
        for seed in config.seeds:
            if (level, seed) in broken:  # estimating it again would fail again, and slowly
                failed.setdefault(broken[level, seed], []).append(f"level {level:g}, seed {seed}")
                continue
            try:
                agg = level_profile(result, level, seed)
            except Exception as exc:  # the cell's own failure is reported with the cells
                failed.setdefault(f"{type(exc).__name__}: {exc}", []).append(
                    f"level {level:g}, seed {seed}")
                continue
            agg.insert(0, "seed", seed)
            agg.insert(0, "level", level)
            agg.insert(0, "attack", config.attack)
            frames.append(agg)
    for why, cells in failed.items():
        more = f" and {len(cells) - 1} more cell(s)" if len(cells) > 1 else ""
        problems.append(f"PID profile: {cells[0]}{more} left out ({why})")
    if "unattacked" in result.extras[NAME]:
        # the representation itself (an attack at level 0 may already append noise latents)
        try:
            info = informations(base, metric_rng(config.seeds[0], NAME), **{
                **params, "estimator": result.extras[NAME]["unattacked"]})
        except Exception as exc:
            problems.append(f"pid_profile_unattacked.csv not written ({type(exc).__name__}: {exc})")
        else:
            unattacked = profile_table(info, base.space.names)
            found = breaches(info, base.space.names) + silent_latent_warning(info)
    profile = pd.concat(frames, ignore_index=True) if frames else None
    return profile, unattacked, problems, found


def _partners(result) -> dict:
    """:func:`shared_latents` at the sweep's top level (first seed), or {} without it."""
    top, seed = max(result.config.levels), result.config.seeds[0]
    known = result.details.get((float(top), seed, NAME))
    if known is None:
        return {}
    return shared_latents(Informations.from_dict(known), result.base.space.names)


def write_outputs(attack_dir, result, dataset: str, float_format: str) -> tuple[list, dict]:
    """``pid_profile.csv``, ``pid_profile.png`` and ``pid_profile_unattacked.csv``;
    returns what could not be written, one line each, and the information checks
    (:func:`information_checks`, with the unattacked table's as ``"unattacked"``)."""
    if NAME not in result.extras:
        return [], {}
    attack_dir = Path(attack_dir)
    checks = information_checks(result)
    profile, unattacked, problems, found = profiles(result)
    if found:
        checks["unattacked"] = found
    if unattacked is not None:
        atomic_write_csv(attack_dir / "pid_profile_unattacked.csv", unattacked, float_format)
    if profile is None:
        return problems, checks
    attack = result.config.attack
    atomic_write_csv(attack_dir / "pid_profile.csv", profile, float_format)
    seeds = result.config.seeds
    plotting.pid_profile_figure(
        profile, attack,
        f"PID profile under the {attack} attack ({dataset}): bounds on the unique, redundant and "
        "synergistic information of each factor\n(maximum over latents, normalised by H(factor); "
        f"lines: mean over {len(seeds)} seed(s), dots: each seed)", attack_dir / "pid_profile.png",
        partners=_partners(result))
    return problems, checks
