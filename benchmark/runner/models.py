"""Several models in one run: their files, their names, and the comparison tables.

``--encodings`` takes files and directories (a directory means every ``*.npz``
in it, sorted).  A file's stem ``<model>_s<seed>`` names seed ``<seed>`` of
model ``<model>`` (``betavae_s0.npz`` and ``betavae_s1.npz`` are two seeds of
``betavae``); any other stem is a model of its own, seed 0.  Every file is
loaded and checked before any sweep starts (:func:`load_models`): the files
must share one factor grid, and either all carry posterior variances or none
(the information estimator would otherwise differ from model to model).

The comparison tables read what the sweeps computed: the headline scores and
UniBound's informations of the unattacked encodings (level 0 of one attack's
sweep, chosen by :func:`benchmark.runner.report.write_model_outputs`; the
first seed's informations, as the PID profile uses), and the attack curves.
Only the total correlation of each file's encodings is computed here
(:func:`total_correlations`), on the encodings themselves.
"""
from __future__ import annotations

import inspect
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from metrics_pid import total_correlation, total_correlation_estimator

from ..encodings import load_encodings
from ..validation import BenchmarkError
from . import pid
from .seeding import metric_rng

__all__ = ["ATTACKED_COLUMNS", "METRIC_COLUMNS", "MODEL_SEED", "PID_COLUMNS", "PID_FACTOR_COLUMNS",
           "TC_COLUMNS", "ModelFile", "attacked_table", "discover", "load_models", "metrics_table",
           "model_name", "pid_tables", "total_correlations"]

_TC_COMPONENTS = inspect.signature(total_correlation).parameters["num_components"].default

#: A file stem ``<model>_s<seed>``: seed ``<seed>`` of model ``<model>``.
MODEL_SEED = re.compile(r"^(.+)_s(\d+)$")

METRIC_COLUMNS = ["model", "model_seed", "file", "attack", "level", "seed", "metric", "key", "score"]
PID_COLUMNS = ["model", "term", "lower", "upper", "num_files"]
PID_FACTOR_COLUMNS = ["model", "factor", "term", "lower", "upper", "num_files"]
ATTACKED_COLUMNS = ["model", "attack", "level", "metric", "key", "mean", "std", "count"]
TC_COLUMNS = ["model", "model_seed", "file", "total_correlation", "tc_estimator", "redundancy_l",
              "num_seeds"]


@dataclass(frozen=True)
class ModelFile:
    """One encodings file of a multi-model run.

    Attributes
    ----------
    path : str
        The file as given (or as found in a given directory).
    stem : str
        Its name without ``.npz``: the output folder ``OUT/<stem>/``.
    model : str
        The model it belongs to (see :func:`model_name`).
    seed : int
        The model seed (training run) it comes from.
    """

    path: str
    stem: str
    model: str
    seed: int


def model_name(stem: str) -> tuple[str, int]:
    """``(model, model seed)`` of a file stem.

    Examples
    --------
    >>> model_name("betavae_s1")
    ('betavae', 1)
    >>> model_name("my_model_s02")
    ('my_model', 2)
    >>> model_name("factorvae")
    ('factorvae', 0)
    >>> model_name("vae_seed1")
    ('vae_seed1', 0)
    """
    match = MODEL_SEED.match(stem)
    if match is None:
        return stem, 0
    return match.group(1), int(match.group(2))


def discover(paths) -> list[ModelFile]:
    """The encodings files that ``--encodings`` names, in the order given.

    A directory stands for every ``*.npz`` file in it, sorted by name (hidden
    files left out, as a shell's ``*.npz`` would); anything else is taken as a
    file, and a missing one is reported when it is loaded.

    Parameters
    ----------
    paths : sequence of str or Path
        Files and directories.

    Returns
    -------
    list of ModelFile

    Raises
    ------
    BenchmarkError
        A directory without ``.npz`` files, two files of the same stem (their
        outputs would share ``OUT/<stem>/``), or two stems that name the same
        model seed (``vae_s1`` and ``vae_s01``).
    """
    files = []
    for text in paths:
        text = str(text)
        where = Path(text)
        if where.is_dir():
            found = sorted(p for p in where.glob("*.npz") if p.is_file() and not p.name.startswith("."))
            if not found:
                raise BenchmarkError(f"--encodings {text}: the directory holds no .npz file")
            files.extend(str(p) for p in found)
        else:
            files.append(text)
    out, by_stem, by_seed = [], {}, {}
    for path in files:
        stem = Path(path).stem
        if len(files) > 1 and (not stem.strip() or stem.startswith(".")):
            raise BenchmarkError(f"--encodings {path}: the file name {stem!r} cannot name a model "
                                 "(its outputs go to a folder of that name); rename the file")
        if stem in by_stem:
            first = by_stem[stem]
            if Path(first).resolve() == Path(path).resolve():
                raise BenchmarkError(f"--encodings names {path} twice")
            raise BenchmarkError(f"--encodings: {first} and {path} have the same name {stem!r}; "
                                 f"each file needs its own (its outputs go to OUT/{stem}/)")
        model, seed = model_name(stem)
        if (model, seed) in by_seed:
            raise BenchmarkError(f"--encodings: {by_seed[model, seed]} and {path} are both seed {seed} "
                                 f"of model {model!r}; rename one")
        by_stem[stem], by_seed[model, seed] = path, path
        out.append(ModelFile(path, stem, model, seed))
    return out


def _grid(rep) -> str:
    return ", ".join(f"{n} {s}" for n, s in zip(rep.space.names, rep.space.sizes))


def load_models(files) -> dict:
    """Load and check every file before any sweep.

    Parameters
    ----------
    files : list of ModelFile

    Returns
    -------
    dict
        ``{stem: representation}``, in the order of ``files``.

    Raises
    ------
    BenchmarkError
        One line naming the file: a file that cannot be loaded, a factor grid
        (names and sizes) other than the first file's, or posterior variances
        in some files but not in others.
    """
    bases = {}
    for file in files:
        try:
            bases[file.stem] = load_encodings(file.path)
        except BenchmarkError as exc:
            text = str(exc)
            name = Path(file.path).name
            raise BenchmarkError(text if name in text else f"{file.path}: {text}") from None
    first = files[0]
    reference = bases[first.stem]
    with_variances = getattr(reference, "variances", None) is not None
    for file in files[1:]:
        rep = bases[file.stem]
        if (rep.space.names, rep.space.sizes) != (reference.space.names, reference.space.sizes):
            raise BenchmarkError(
                f"--encodings: {file.path} has the factor grid ({_grid(rep)}) but {first.path} has "
                f"({_grid(reference)}); the models must be encoded on one factor grid")
        has = getattr(rep, "variances", None) is not None
        if has != with_variances:
            lacking, having = (file.path, first.path) if with_variances else (first.path, file.path)
            raise BenchmarkError(
                f"--encodings: {lacking} has no 'variances' but {having} has; give every file "
                "posterior variances or none (UniBound's estimator would differ between models)")
    return bases


def _level_rows(result, level: float) -> pd.DataFrame:
    scores = result.scores
    return scores[scores["level"] == level]


def metrics_table(files, results, specs, *, level: float = 0.0) -> pd.DataFrame:
    """Every metric's headline score at ``level``, per file and seed.

    Parameters
    ----------
    files : list of ModelFile
    results : dict
        ``{stem: SweepResult}``: the sweep whose level-``level`` scores count.
    specs : dict
        ``{metric: MetricSpec}`` of the run.
    level : float, default 0
        0 is the unattacked encodings.

    Returns
    -------
    DataFrame with :data:`METRIC_COLUMNS`
    """
    frames = []
    for file in files:
        result = results.get(file.stem)
        if result is None:
            continue
        rows = _level_rows(result, level)
        rows = rows[[m in specs and specs[m].headline == k for m, k in zip(rows["metric"], rows["key"])]]
        frame = rows.assign(model=file.model, model_seed=file.seed, file=file.stem)
        frames.append(frame[METRIC_COLUMNS])
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=METRIC_COLUMNS)


def pid_tables(files, results, *, level: float = 0.0):
    """UniBound's bounds at ``level`` aggregated as UniBound aggregates them.

    Per file (the sweep's own first-seed informations, :func:`.pid.level_profile`):
    per factor and term, the lower and upper bounds maximised over latents and
    normalised by ``H(factor)``; per model, their mean over the model's files
    (model seeds).  ``model_pid`` then averages over factors, as UniBound does
    (its unique lower bound is the model's mean ``unibound`` of those cells).

    Returns
    -------
    by_model : DataFrame with :data:`PID_COLUMNS`
    by_factor : DataFrame with :data:`PID_FACTOR_COLUMNS`
    problems : list of str
        One line per file left out (its UniBound cell at ``level`` failed).
    """
    frames, problems = [], []
    for file in files:
        result = results.get(file.stem)
        if result is None:
            continue
        try:
            table = pid.level_profile(result, level, result.config.seeds[0])
        except Exception as exc:  # the cell's own failure is reported with the cells
            problems.append(f"{file.stem}: left out of the PID comparison ({type(exc).__name__}: {exc})")
            continue
        frames.append(table.assign(model=file.model, file=file.stem))
    if not frames:
        return (pd.DataFrame(columns=PID_COLUMNS), pd.DataFrame(columns=PID_FACTOR_COLUMNS), problems)
    per_file = pd.concat(frames, ignore_index=True)
    order = list(dict.fromkeys(f.model for f in files))
    keys = {"sort": False}
    by_factor = per_file.groupby(["model", "factor", "term"], **keys).agg(
        lower=("lower", "mean"), upper=("upper", "mean"), num_files=("file", "nunique")).reset_index()
    per_file_mean = per_file.groupby(["model", "file", "term"], **keys).agg(
        lower=("lower", "mean"), upper=("upper", "mean")).reset_index()
    by_model = per_file_mean.groupby(["model", "term"], **keys).agg(
        lower=("lower", "mean"), upper=("upper", "mean"), num_files=("file", "nunique")).reset_index()
    rank = {m: i for i, m in enumerate(order)}
    by_factor = by_factor.sort_values("model", key=lambda s: s.map(rank), kind="stable", ignore_index=True)
    by_model = by_model.sort_values("model", key=lambda s: s.map(rank), kind="stable", ignore_index=True)
    return by_model[PID_COLUMNS], by_factor[PID_FACTOR_COLUMNS], problems


def attacked_table(files, results, specs) -> pd.DataFrame:
    """The attack curves per model: every headline's mean, standard deviation and
    count over the model's files and seeds, per attack and level.

    Parameters
    ----------
    files : list of ModelFile
    results : dict
        ``{stem: {attack: SweepResult}}``.
    specs : dict
        ``{metric: MetricSpec}`` of the run.

    Returns
    -------
    DataFrame with :data:`ATTACKED_COLUMNS`
    """
    frames = []
    for file in files:
        for result in results.get(file.stem, {}).values():
            scores = result.scores
            mask = [m in specs and specs[m].headline == k for m, k in zip(scores["metric"], scores["key"])]
            frames.append(scores[mask].assign(model=file.model))
    if not frames:
        return pd.DataFrame(columns=ATTACKED_COLUMNS)
    rows = pd.concat(frames, ignore_index=True)
    table = rows.groupby(["model", "attack", "level", "metric", "key"], sort=False)["score"].agg(
        ["mean", "std", "count"]).reset_index()
    return table[ATTACKED_COLUMNS]


def total_correlations(files, bases, results, config) -> tuple[pd.DataFrame, list]:
    """Each file's total correlation beside its redundancy lower bound.

    The total correlation is :func:`metrics_pid.total_correlation` of the
    file's encodings themselves (the first seed's metric stream, ``config``'s
    sizes and ``--param total_correlation.*``); ``redundancy_l`` is UniBound's
    score at level 0 in ``results`` (``{stem: SweepResult}``), mean over the
    run's seeds.

    Returns
    -------
    table : DataFrame with :data:`TC_COLUMNS`
    problems : list of str
        One line per file left out.
    """
    rows, problems = [], []
    params = config.params_of("total_correlation")
    for file in files:
        result = results.get(file.stem)
        if result is None:
            continue
        scores = _level_rows(result, 0.0)
        red = scores[(scores["metric"] == pid.NAME) & (scores["key"] == "redundancy_l")]["score"]
        if red.empty:
            problems.append(f"{file.stem}: left out of tc_vs_redundancy (no UniBound score at level 0)")
            continue
        base = bases[file.stem]
        try:
            estimator = total_correlation_estimator(base, params.get("estimator", "auto"),
                                                    params.get("num_components", _TC_COMPONENTS))
            tc = total_correlation(base, metric_rng(config.seeds[0], "total_correlation"), **params)
        except Exception as exc:  # the sweeps' outputs are written; this figure loses a point
            problems.append(f"{file.stem}: left out of tc_vs_redundancy ({type(exc).__name__}: {exc})")
            continue
        rows.append((file.model, file.seed, file.stem, tc["total_correlation"], estimator,
                     float(red.mean()), int(red.size)))
    return pd.DataFrame(rows, columns=TC_COLUMNS), problems
