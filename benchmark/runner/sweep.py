"""The protocol: sweep an attack's level, score every level with every metric.

A sweep is a grid of independent cells ``(level, seed, metric)``.  Each cell's
randomness comes from :mod:`.seeding`, so a cell's result does not depend on
which other cells ran, in which order or in which process.  Finished cells are
stored atomically in ``<out>/<attack>/.cells`` so an interrupted sweep resumes
without losing them.  :func:`run_sweep` builds the base representation and
makes the metrics' sweep-wide choices once, and returns one
:class:`SweepResult` that the summary, the report and the figures read.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import pandas as pd

import attacks as attack_registry

from ..encodings import load_encodings
from ..factors import FactorSpace
from ..representations import ideal
from ..spec import HeadlineError
from ..validation import BenchmarkError
from .cells import Cell, CellError, CellStore, code_digest
from .executors import dask_map, local_map
from .pace import Pace, probes_first
from .portable import Portable, send_problems
from .registry import get_metric, metric_name
from .seeding import attack_rng, metric_rng
from .signals import is_signal

__all__ = ["SCORE_COLUMNS", "TIMING_COLUMNS", "CellWork", "SweepConfig", "SweepResult",
           "base_representation", "check_attack", "cells_of", "run_cell", "run_sweep"]

SCORE_COLUMNS = ["attack", "level", "seed", "metric", "key", "score"]
TIMING_COLUMNS = ["attack", "level", "seed", "metric", "seconds"]


@dataclass
class SweepConfig:
    """Everything that determines a sweep's scores.

    Attributes
    ----------
    attack : str
        Registered attack name, or several joined by ``+``.
    levels : tuple of float
    metrics : tuple
        Registered names, plugin specs (``file.py:func``, ``module:func``),
        :class:`~benchmark.spec.MetricSpec` objects or plain functions ``func(rep, rng)``;
        specs and functions are registered under their names (see
        :func:`~.registry.metric_name`) and the tuple keeps names and plugin specs.
    seeds : tuple of int
    dataset : str
        Built-in factor space (ignored when ``encodings`` is given).
    noise : float
        Noise of the ideal representation, in units of the value spacing.
    quick : bool
        Use every metric's quick (small-sample) parameters.
    encodings : str or None
        Path of a user's encodings ``.npz``; replaces the ideal representation.
    metric_params : dict
        ``{metric: {param: value}}`` overriding defaults.
    """

    attack: str
    levels: tuple
    metrics: tuple
    seeds: tuple = (0, 1, 2)
    dataset: str = "dsprites"
    noise: float = 0.1
    quick: bool = False
    encodings: str | None = None
    metric_params: dict = field(default_factory=dict)

    def __post_init__(self):
        self.metrics = tuple(m if isinstance(m, str) else metric_name(m) for m in self.metrics)

    def fingerprint(self) -> str:
        """Hash of everything that changes a cell's value (used by ``--resume``)."""
        payload = asdict(self)
        payload.pop("levels"), payload.pop("seeds"), payload.pop("metrics")
        if self.encodings:
            payload["encodings"] = _file_digest(self.encodings)
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def params_of(self, metric: str) -> dict:
        """A metric's parameters in this sweep: its quick ones if ``quick``, then the user's."""
        spec = get_metric(metric)
        return {**(spec.quick if self.quick else {}), **self.metric_params.get(spec.name, {})}


@dataclass
class SweepResult:
    """Everything a finished sweep produced.

    Attributes
    ----------
    config : SweepConfig
        The configuration the cells ran with (after the metrics' sweep-wide choices).
    base : Representation
        The unattacked representation.
    scores : DataFrame with :data:`SCORE_COLUMNS`
    timings : DataFrame with :data:`TIMING_COLUMNS`
    errors : list of CellError
        One per failed cell, in a fixed order.
    details : dict
        ``{(level, seed, metric name): by_product}`` of the cells whose metric has
        details (see :class:`~benchmark.spec.MetricSpec`).
    notes : list of str
        What the sweep decided on the user's behalf.
    extras : dict
        Per metric name, its sweep-wide record (UniBound's estimators, see :mod:`.pid`).
    """

    config: SweepConfig
    base: object
    scores: pd.DataFrame
    timings: pd.DataFrame
    errors: list
    details: dict
    notes: list
    extras: dict

    @property
    def specs(self) -> dict:
        """``{name: MetricSpec}`` of the sweep's metrics, in run order."""
        return {get_metric(m).name: get_metric(m) for m in self.config.metrics}


def _file_digest(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def base_representation(*, encodings=None, dataset: str = "dsprites", noise: float = 0.1):
    """The unattacked representation: the user's encodings, or the ideal one of ``dataset``."""
    if encodings:
        return load_encodings(encodings)
    return ideal(FactorSpace.named(dataset), noise=noise)


@dataclass(frozen=True)
class CellWork:
    """What a worker needs to compute a sweep's cells: the configuration and the specs it
    runs, not names to look up in registries that a worker started by ``spawn`` or
    ``forkserver`` (or on a Dask cluster) does not share (see :mod:`.portable`).

    Attributes
    ----------
    config : SweepConfig
    attack : Portable
        The attack's :class:`~attacks.AttackSpec`.
    metrics : dict
        ``{entry of config.metrics: Portable(MetricSpec)}``.
    """

    config: SweepConfig
    attack: Portable
    metrics: dict

    @classmethod
    def of(cls, config: SweepConfig) -> CellWork:
        attack = Portable(attack_registry.get(config.attack), (attack_registry.get, (config.attack,)))
        return cls(config, attack, {m: Portable(get_metric(m), (get_metric, (m,))) for m in config.metrics})

    def problems(self) -> list[str]:
        """One line per spec that only a worker forked from this process can receive."""
        return send_problems({f"attack {self.config.attack!r}": self.attack,
                              **{f"metric {m!r}": p for m, p in self.metrics.items()}})


def run_cell(config, cell: Cell, base) -> dict:
    """Compute one cell and return ``{"scores": {key: value}, "seconds": s}``, plus the
    metric's ``"details"`` where it has them, which the reports draw from.

    ``config`` is a :class:`SweepConfig`, whose metric and attack are looked up in this
    process's registries, or a :class:`CellWork`, which carries them (what the executors
    pass)."""
    if isinstance(config, CellWork):
        metric, attack = config.metrics[cell.metric].obj, config.attack.obj
        config = config.config
    else:
        metric, attack = get_metric(cell.metric), attack_registry.get(config.attack)
    rep = attack(base, cell.level, attack_rng(cell.seed, config.attack))
    params = dict(config.metric_params.get(metric.name, {}))
    start = time.perf_counter()
    try:
        scores, details = metric.run(rep, metric_rng(cell.seed, metric.name), params,
                                     quick=config.quick, details=True)
    except BaseException as exc:  # a plugin's sys.exit() or odd exception is its failure, not the run's
        if is_signal(exc):
            raise
        if isinstance(exc, KeyboardInterrupt):
            detail = "KeyboardInterrupt raised by the metric itself (no Ctrl-C was pressed)"
        elif isinstance(exc, BenchmarkError):  # a refusal of ours already says what and why
            detail = one_line(str(exc))
        else:
            detail = f"{type(exc).__name__}: {one_line(str(exc))}"
        raise CellError(metric.name, cell.level, cell.seed, detail,
                        stop=isinstance(exc, HeadlineError)) from None
    result = {"scores": scores, "seconds": time.perf_counter() - start}
    if details is not None:
        result["details"] = details
    return result


def one_line(text: str, limit: int = 300) -> str:
    """``text`` as one line of at most ``limit`` characters (a failure is reported in one line)."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def check_attack(config: SweepConfig, base) -> None:
    """Check the levels against the attack's range and build the attack at the sweep's
    lowest and highest level once, so an attack that cannot be built there (too many
    latents, numbers out of range) fails in one line naming the attack and level before
    any work."""
    import numpy as np

    attack = attack_registry.get(config.attack)
    attack.check_levels(config.levels, base)
    for level in sorted({min(config.levels), max(config.levels)}):
        try:
            with np.errstate(all="ignore"):
                attack(base, level, attack_rng(config.seeds[0], config.attack))
        except BenchmarkError as exc:
            text = str(exc)
            raise BenchmarkError(text if text.startswith("attack ") else
                                 f"attack {config.attack!r} at level {level:g}: {text}") from None


def cells_of(config: SweepConfig) -> list[Cell]:
    """Every cell of the sweep, level by level."""
    return [Cell(float(level), int(seed), m)
            for level in config.levels for seed in config.seeds for m in config.metrics]


def run_sweep(config: SweepConfig, *, base=None, out_dir=None, resume: bool = False,
              jobs: int = 1, executor: str = "local", scheduler: str | None = None,
              progress: bool = True, on_note=None, desc: str | None = None) -> SweepResult:
    """Run every cell of ``config``.

    Parameters
    ----------
    config : SweepConfig
    base : Representation, optional
        The unattacked representation, when the caller has built it already.
    out_dir : path, optional
        Where finished cells are kept (``out_dir/.cells``); without it nothing is stored.
    resume : bool
        Reuse finished cells of an earlier run with the same configuration.
    jobs : int
        Worker processes for the local executor.
    executor : {"local", "dask"}
    scheduler : str, optional
        Dask scheduler address for ``executor="dask"``.
    progress : bool
        Show a tqdm progress bar.
    on_note : callable, optional
        Called with each note (see :attr:`SweepResult.notes`) before any cell runs.
    desc : str, optional
        The progress bar's label (default: the attack's name).

    Returns
    -------
    SweepResult

    Examples
    --------
    >>> result = run_sweep(SweepConfig(attack="rotation", levels=(0.0, 1.0), metrics=("mig",),
    ...                                seeds=(0,), quick=True), progress=False)
    >>> means = result.scores[result.scores.key == "mig"].groupby("level")["score"].mean()
    >>> bool(means[0.0] > 0.8 > 0.3 > means[1.0])  # rotating pairs by 45 degrees defeats MIG
    True
    """
    from tqdm.auto import tqdm

    for m in config.metrics:  # resolve every name up front: unknown names fail before any work
        get_metric(m)
    if executor not in ("local", "dask"):
        raise BenchmarkError(f"unknown executor {executor!r}; use local or dask")
    if base is None:
        base = base_representation(encodings=config.encodings, dataset=config.dataset,
                                   noise=config.noise)
    check_attack(config, base)
    from . import pid  # here: a worker process that only runs cells needs none of it

    config, extras, notes = pid.prepare(config, base)
    for note in notes:
        if on_note is not None:
            on_note(note)
    store = CellStore(Path(out_dir) / ".cells", config.fingerprint()) if out_dir else None
    code = {m: code_digest(get_metric(m)) for m in config.metrics} if store else {}
    if store and not resume:
        store.clear()

    cells = cells_of(config)
    results, todo = {}, []
    for cell in cells:
        cached = store.load(cell, code[cell.metric]) if store else None
        if cached is not None:
            results[cell] = cached
        else:
            todo.append(cell)

    for note in store.notes() if store else []:
        if on_note is not None:
            on_note(note)

    # probed among the cells left to compute, so a resumed sweep measures what it still runs
    todo, probes = probes_first(todo, {c.level for c in todo},
                                next((s for s in config.seeds if any(c.seed == s for c in todo)), None))
    pace = Pace(todo, probes)
    workers = [max(1, min(jobs, len(todo)))]

    def announce(threads):  # a Dask cluster says how many threads it has once connected
        workers[0] = max(1, min(threads, len(todo)))
    errors = []
    # a plugin runs in a worker process even with jobs=1: one that ends its process
    # (os._exit, a crash in native code) then fails its cells instead of the run
    isolate = any(get_metric(m).source != "builtin" for m in config.metrics)
    work = CellWork.of(config)
    if todo and (executor == "dask" or jobs > 1 or isolate):
        _check_sendable(work, executor)
    if executor == "dask":
        stream = dask_map(run_cell, work, todo, base, scheduler, on_start=announce)
    else:
        stream = local_map(run_cell, work, todo, base, jobs, on_note=on_note, isolate=isolate)
    bar = tqdm(total=len(cells), initial=len(results), desc=desc or f"{config.attack}",
               unit="cell", disable=not progress, leave=False)
    # closing: an interrupt stops the workers now, not when the generator is collected
    with bar, contextlib.closing(stream):
        for cell, outcome in stream:
            bar.update(1)
            note = pace.finish(cell, None if isinstance(outcome, Exception) else outcome["seconds"],
                               workers[0])
            if note and progress and on_note is not None:  # beside the bar, whose ETA takes over
                on_note(note)
            if isinstance(outcome, Exception):
                if getattr(outcome, "stop", False):  # e.g. a plugin's missing headline: every cell would fail
                    raise BenchmarkError(f"{outcome.detail} (found at level {outcome.level:g}, "
                                         f"seed {outcome.seed}; the sweep stopped there)")
                errors.append(outcome)
                continue
            results[cell] = outcome
            if store:
                store.save(cell, outcome, code[cell.metric])
    scores, timings = _tables(config, cells, results)
    errors.sort(key=lambda e: (e.level, e.seed, e.metric))  # completion order varies with --jobs
    details = {(cell.level, cell.seed, get_metric(cell.metric).name): results[cell]["details"]
               for cell in cells if "details" in results.get(cell, {})}
    return SweepResult(config, base, scores, timings, errors, details, notes, extras)


def _check_sendable(work: CellWork, executor: str) -> None:
    """Refuse, before any cell runs, a spec that the workers cannot receive: one that
    cannot be pickled, unless every worker is a fork of this process (which has it)."""
    if executor == "local" and multiprocessing.get_start_method() == "fork":
        return
    problems = work.problems()
    if problems:
        where = "a Dask cluster" if executor == "dask" else \
            f"worker processes started by {multiprocessing.get_start_method()!r}"
        raise BenchmarkError(
            f"cannot send to {where}: {'; '.join(problems)} (define the function at the top level "
            "of a module or file, not inside another function or as a lambda)")


def _tables(config, cells, results):
    score_rows, timing_rows = [], []
    for cell in cells:
        if cell not in results:
            continue
        result = results[cell]
        name = get_metric(cell.metric).name
        for key, value in result["scores"].items():
            score_rows.append((config.attack, cell.level, cell.seed, name, key, value))
        timing_rows.append((config.attack, cell.level, cell.seed, name, result["seconds"]))
    scores = pd.DataFrame(score_rows, columns=SCORE_COLUMNS)
    timings = pd.DataFrame(timing_rows, columns=TIMING_COLUMNS)
    scores = scores.sort_values(["level", "seed", "metric", "key"], kind="stable", ignore_index=True)
    timings = timings.sort_values(["level", "seed", "metric"], kind="stable", ignore_index=True)
    return scores, timings
