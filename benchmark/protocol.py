"""The protocol: sweep an attack's level, score every level with every metric.

A sweep is a grid of independent cells ``(level, seed, metric)``.  Each cell's
randomness comes from a seed sequence of (seed, attack, metric), so a cell's
result does not depend on which other cells ran, in which order or in which
process.  Finished cells are stored atomically in ``<out>/<attack>/.cells`` so
an interrupted sweep resumes without losing them.
"""
from __future__ import annotations

import hashlib
import json
import time
import zlib
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import attacks as attack_registry

from .factors import FactorSpace
from .io import atomic_write_json
from .registry import get_metric
from .representations import ideal
from .validation import BenchmarkError

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
    metrics : tuple of str
        Registered names or plugin specs (``file.py:func``, ``module:func``).
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

    def fingerprint(self) -> str:
        """Hash of everything that changes a cell's value (used by ``--resume``)."""
        payload = asdict(self)
        payload.pop("levels"), payload.pop("seeds"), payload.pop("metrics")
        if self.encodings:
            payload["encodings"] = _file_digest(self.encodings)
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _file_digest(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def stable_hash(text: str) -> int:
    return zlib.crc32(text.encode("utf-8"))


def attack_rng(seed: int, attack: str) -> np.random.Generator:
    """The attack's randomness: shared by all levels of one seed (common random numbers)."""
    return np.random.default_rng([seed, stable_hash("attack:" + attack)])


def metric_rng(seed: int, metric: str) -> np.random.Generator:
    """A metric's randomness: the same draws at every level of one seed, so the
    differences between levels come from the attack, not from resampling."""
    return np.random.default_rng([seed, stable_hash("metric:" + metric)])


def base_representation(config: SweepConfig):
    """The unattacked representation: the user's encodings or the ideal one."""
    if config.encodings:
        from .encodings import load_encodings

        return load_encodings(config.encodings)
    return ideal(FactorSpace.named(config.dataset), noise=config.noise)


def sweep_estimators(config: SweepConfig, base) -> dict:
    """``{level: "exact" | "knn" | "unavailable"}``: the estimator UniBound uses at
    each level (``"unavailable"`` where the requested one does not apply)."""
    from .estimators import ESTIMATORS, resolve_estimator

    params = unibound_params(config)
    estimator = params.get("estimator", "auto")
    if estimator not in ESTIMATORS:
        raise BenchmarkError(f"unibound.estimator must be one of {', '.join(ESTIMATORS)}, "
                             f"got {estimator!r}")
    num_components = params.get("num_components", 10000)
    attack = attack_registry.get(config.attack)
    seed = config.seeds[0]  # whether a level is exact does not depend on the seed
    chosen = {}
    for level in config.levels:
        rep = attack(base, level, attack_rng(seed, config.attack))
        try:
            chosen[level] = resolve_estimator(rep, estimator, num_components)
        except BenchmarkError:  # the name is valid, so: exact asked where it does not apply
            chosen[level] = "unavailable"
    return chosen


def unibound_params(config: SweepConfig) -> dict:
    """UniBound's parameters in this sweep: its quick ones if ``config.quick``, then the user's."""
    quick = get_metric("unibound").quick_params if config.quick else {}
    return {**quick, **config.metric_params.get("unibound", {})}


def pin_estimator(config: SweepConfig, base) -> tuple[SweepConfig, str | None]:
    """Make UniBound use one information estimator at every level of the sweep.

    With ``estimator="auto"`` the exact estimator is chosen per representation;
    a sweep whose levels would mix estimators (a user's posterior table is exact
    at level 0, but an attack that mixes latents does not keep its posteriors
    diagonal, so the attacked levels need kNN) would draw one curve from two
    estimators with different biases.  Such a sweep is pinned to ``"knn"``.

    Returns
    -------
    config : SweepConfig
        ``config`` itself, or a copy whose UniBound parameters say ``estimator="knn"``.
    note : str or None
        Why the estimator was pinned, for the user.
    """
    from dataclasses import replace

    names = {get_metric(m).name for m in config.metrics}
    params = config.metric_params.get("unibound", {})
    if "unibound" not in names:
        return config, None
    chosen = sweep_estimators(config, base)
    if params.get("estimator", "auto") != "auto":
        unavailable = [f"{lv:g}" for lv, e in chosen.items() if e == "unavailable"]
        if unavailable:
            raise BenchmarkError(
                f"unibound.estimator={params['estimator']}: the {config.attack} attack at "
                f"level(s) {', '.join(unavailable)} leaves no Gaussian structure or posterior "
                "variances for the exact estimator (use estimator=auto or knn)")
        return config, None
    if len(set(chosen.values())) <= 1:
        return config, None
    exact = [f"{lv:g}" for lv, e in chosen.items() if e == "exact"]
    pinned = {**config.metric_params, "unibound": {**params, "estimator": "knn"}}
    still = " (pid_profile_unattacked.csv still uses the exact one)" if 0 in config.levels else ""
    note = (f"{config.attack}: UniBound uses the kNN estimator at every level: the exact one "
            f"applies only at level(s) {', '.join(exact)}, and one curve should come from one "
            f"estimator{still}")
    return replace(config, metric_params=pinned), note


@dataclass(frozen=True)
class Cell:
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


def run_cell(config: SweepConfig, cell: Cell, base=None) -> dict:
    """Compute one cell and return ``{"scores": {key: value}, "seconds": s}``, plus the
    metric's ``"details"`` (see :class:`~benchmark.registry.MetricSpec`) for the
    first seed, which the reports draw from."""
    metric = get_metric(cell.metric)
    base = base if base is not None else base_representation(config)
    attack = attack_registry.get(config.attack)
    rep = attack(base, cell.level, attack_rng(cell.seed, config.attack))
    params = dict(config.metric_params.get(metric.name, {}))
    start = time.perf_counter()
    try:
        scores, details = metric.run(rep, metric_rng(cell.seed, metric.name), params,
                                     quick=config.quick, details=cell.seed == config.seeds[0])
    except Exception as exc:
        raise CellError(metric.name, cell.level, cell.seed,
                        f"{type(exc).__name__}: {exc}") from exc
    result = {"scores": scores, "seconds": time.perf_counter() - start}
    if details is not None:
        result["details"] = details
    return result


def cells_of(config: SweepConfig) -> list[Cell]:
    return [Cell(float(level), int(seed), m)
            for level in config.levels for seed in config.seeds for m in config.metrics]


class CellStore:
    """Finished cells on disk, one small JSON file each, written atomically."""

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
        if data.get("fingerprint") != self.fingerprint or data.get("cell") != cell.key:
            return None
        return data["result"]

    def save(self, cell: Cell, result: dict) -> None:
        atomic_write_json(self.path(cell), {"fingerprint": self.fingerprint, "cell": cell.key,
                                            "result": result})

    def clear(self) -> None:
        if self.directory.exists():
            for p in self.directory.glob("*.json"):
                p.unlink()


def _local_map(config, todo, jobs, base):
    """Yield ``(cell, result_or_error)`` as cells finish, in a pool when ``jobs > 1``."""
    if jobs <= 1:
        for cell in todo:
            try:
                yield cell, run_cell(config, cell, base)
            except CellError as exc:
                yield cell, exc
        return
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(run_cell, config, cell): cell for cell in todo}
        for fut in as_completed(futures):
            try:
                yield futures[fut], fut.result()
            except CellError as exc:
                yield futures[fut], exc


def _dask_map(config, todo, scheduler):
    try:
        from dask.distributed import Client, as_completed
    except ImportError:
        raise BenchmarkError(
            "--executor dask needs dask[distributed]: pip install 'entanglement-bench[dask]'"
        ) from None
    with Client(scheduler) as client:
        futures = {client.submit(run_cell, config, cell, pure=False): cell for cell in todo}
        for fut in as_completed(list(futures)):
            try:
                yield futures[fut], fut.result()
            except CellError as exc:
                yield futures[fut], exc


def run_sweep(config: SweepConfig, out_dir=None, resume: bool = False, jobs: int = 1,
              executor: str = "local", scheduler: str | None = None, progress: bool = True):
    """Run every cell of ``config``.

    Parameters
    ----------
    config : SweepConfig
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

    Returns
    -------
    scores : DataFrame with :data:`SCORE_COLUMNS`
    timings : DataFrame with :data:`TIMING_COLUMNS`
    errors : list of CellError, one per failed cell (``str`` gives its one-line message)
    details : dict
        ``{(level, metric name): details}`` of the first seed's cells whose metric
        has them (see :func:`run_cell`).
    """
    from tqdm.auto import tqdm

    for m in config.metrics:  # resolve every name up front: unknown names fail before any work
        get_metric(m)
    attack_registry.get(config.attack)
    base = base_representation(config)
    store = CellStore(Path(out_dir) / ".cells", config.fingerprint()) if out_dir else None
    if store and not resume:
        store.clear()

    cells = cells_of(config)
    results, todo = {}, []
    for cell in cells:
        cached = store.load(cell) if store else None
        if cached is not None:
            results[cell] = cached
        else:
            todo.append(cell)

    errors = []
    if executor == "dask":
        stream = _dask_map(config, todo, scheduler)
    elif executor == "local":
        stream = _local_map(config, todo, jobs, base)
    else:
        raise BenchmarkError(f"unknown executor {executor!r}; use local or dask")
    bar = tqdm(total=len(cells), initial=len(results), desc=f"{config.attack}",
               unit="cell", disable=not progress, leave=False)
    with bar:
        for cell, outcome in stream:
            bar.update(1)
            if isinstance(outcome, Exception):
                errors.append(outcome)
                continue
            results[cell] = outcome
            if store:
                store.save(cell, outcome)
    scores, timings = _tables(config, cells, results)
    errors.sort(key=lambda e: (e.level, e.seed, e.metric))  # completion order varies with --jobs
    # stored cells are shared by every seed list, so only the first seed's details count
    details = {(cell.level, get_metric(cell.metric).name): results[cell]["details"]
               for cell in cells if cell.seed == config.seeds[0] and "details" in results.get(cell, {})}
    return scores, timings, errors, details


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
