"""How each metric's cost grows with the latents, the samples and the factor grid.

Run ``python benchmarks/cost_growth.py`` (all three axes and all metrics, roughly 20-40 min
on this project's 2-core machine, most of it UniBound by kNN at 50,000 samples and at 40
latents); ``--quick`` checks that the script works, in well under a minute, with tiny sizes.
Options: ``--axes latents,samples,grid``, ``--metrics unibound_exact,dci_fast,...`` (or
``all``, the default), ``--repeats`` (default 3, 1 with ``--quick``) and ``--out`` (the CSV,
default ``benchmarks/cost_growth.csv``; with ``--quick`` a file in the temporary directory, so
that a check never overwrites a real measurement).

Every measurement runs in this process on one thread: :func:`benchmark.information.limit_threads`
is called with 1 before anything is timed, which caps BLAS, OpenMP, scikit-learn's
``n_jobs=-1`` and the estimators' own thread pools, as in a sweep's worker processes (a sweep
runs one worker per core).  So the seconds here are those of one sweep cell, not those of a
lone call that may use every core.

Metrics (rows): UniBound with the exact estimator (``unibound_exact``) and with the kNN
estimator (``unibound_knn``), then the baselines ``mig``, ``beta_vae``, ``factor_vae``,
``dci_fast``, ``sap`` and ``modularity``, each called through its registry spec
(``MetricSpec.run``) with its default parameters unless an axis sets them.

Axes, each varied with the other two at their defaults.  The default case is dSprites'
ideal representation under ``redundancy(1)``: 5 factors on the 737,280-point grid, L = 10
latents (the case of ``test_bench_estimators.py``), default sample sizes.

* ``latents``: L = 5, 10, 20, 40 on dSprites: the ideal representation, then
  ``redundancy``, ``redundancy+redundancy`` and ``redundancy+redundancy+redundancy`` at
  level 1 (each application appends a rotated noisy copy of every latent, so L doubles).
  L = 5 is the ideal representation itself, on which the exact estimator reads the factor
  structure and does almost no Monte Carlo work, and the kNN estimator uses KD-trees below
  6 latents and chunked neighbour counts from 6 on: the L = 5 column is a different
  regime for both, which weighs on their exponents.
* ``samples``: n = 2,000, 10,000, 50,000 on the default case, each metric's sample sizes
  set to n (held-out sets to n / 2, the defaults' ratio; see :data:`SAMPLE_PARAMS`):
  the exact estimator's Monte Carlo points and mixture components, the kNN estimator's and
  MIG's samples, the training points (votes, feature vectors) of the others, and
  FactorVAE's variance-estimate points.
* ``grid``: five factors of 4, 10 or 16 values each (1,024, 100,000 and 1,048,576 grid
  points), ideal representation under ``redundancy(1)``, so that K = 5 and L = 10 stay
  those of the default case and only the grid grows.

Timing: the median of ``--repeats`` calls, every call with the same seed (so the repeats
time the same work); a point whose first call takes more than 5 s is called once.  The
exponent ``b`` is the least-squares slope of log(seconds) on log(x), i.e. the fit of
``seconds ~ a * x**b``.  A call that raises is reported on stderr and left out (NaN).

Output: one markdown table per axis on stdout (rows = metrics, columns = the axis values,
last column ``b``; the documentation's cost tables read the CSV); progress on stderr; and the CSV, with
one row per (axis, metric, x): ``seconds``, ``repeats`` and the (axis, metric) exponent,
rewritten after every measurement so an interrupted run keeps what it measured.
"""
from __future__ import annotations

import argparse
import csv
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import attacks
from benchmark import FactorSpace, ideal
from benchmark.information import limit_threads
from benchmark.runner.registry import get_metric

#: Row name -> (registry name, parameters fixed for that row).
METRICS = {
    "unibound_exact": ("unibound", {"estimator": "exact"}),
    "unibound_knn": ("unibound", {"estimator": "knn"}),
    "mig": ("mig", {}),
    "beta_vae": ("beta_vae", {}),
    "factor_vae": ("factor_vae", {}),
    "dci_fast": ("dci_fast", {}),
    "sap": ("sap", {}),
    "modularity": ("modularity", {}),
}

#: Row name -> {sample-size parameter: its multiple of n} for the ``samples`` axis.
_TRAIN_TEST = {"num_train": 1.0, "num_test": 0.5}
SAMPLE_PARAMS = {
    "unibound_exact": {"num_mc_points": 1.0, "num_components": 1.0},
    "unibound_knn": {"num_samples": 1.0},
    "mig": {"num_samples": 1.0},
    "beta_vae": _TRAIN_TEST,
    "factor_vae": {**_TRAIN_TEST, "num_variance_estimate": 1.0},
    "dci_fast": _TRAIN_TEST,
    "sap": _TRAIN_TEST,
    "modularity": _TRAIN_TEST,
}

AXES = ("latents", "samples", "grid")
#: Axis values, full and ``--quick``.  Grid values are the size of each of the 5 factors.
VALUES = {"latents": (5, 10, 20, 40), "samples": (2000, 10000, 50000), "grid": (4, 10, 16)}
QUICK_VALUES = {"latents": (5, 10, 20), "samples": (500, 1000, 2000), "grid": (3, 4, 6)}
GRID_FACTORS = 5

#: A point whose first call takes longer than this (seconds) is not repeated.
SLOW = 5.0

LABELS = {"latents": "L = {:d}", "samples": "n = {:,d}", "grid": "{:,d} points"}
TITLES = {
    "latents": "Latents: dSprites ideal (L = 5), then redundancy(1) applied 1-3 times",
    "samples": "Samples: dSprites under redundancy(1) (L = 10), every sample size of the metric set to n "
               "(held-out sets n / 2)",
    "grid": "Factor grid: 5 factors of equal size, ideal under redundancy(1) (L = 10)",
}


def redundant(rep, times: int):
    """``rep`` under ``redundancy`` at level 1 applied ``times`` times (L doubles each time)."""
    if times == 0:
        return rep
    # the linear attacks leave their rng unused; the noise is drawn when the metric encodes
    return attacks.get("+".join(["redundancy"] * times))(rep, 1.0, np.random.default_rng(0))


def cases(axis: str, metric: str, quick: bool):
    """``(x, representation, parameters)`` of every point of ``axis`` for ``metric``."""
    values = (QUICK_VALUES if quick else VALUES)[axis]
    dsprites = ideal(FactorSpace.named("dsprites"))
    for value in values:
        if axis == "latents":
            times = int(round(np.log2(value / dsprites.dim)))
            yield value, redundant(dsprites, times), {}
        elif axis == "samples":
            yield value, redundant(dsprites, 1), {p: int(f * value) for p, f in SAMPLE_PARAMS[metric].items()}
        else:
            space = FactorSpace.synthetic([value] * GRID_FACTORS)
            yield value**GRID_FACTORS, redundant(ideal(space), 1), {}


def measure(metric: str, rep, params: dict, quick: bool, repeats: int):
    """``(median seconds, calls)`` of ``metric`` on ``rep`` with ``params``."""
    name, fixed = METRICS[metric]
    spec = get_metric(name)
    params = {**fixed, **params}
    seconds = []
    while len(seconds) < repeats:
        rng = np.random.default_rng(0)  # the same draws every call: the repeats time the same work
        start = time.perf_counter()
        spec.run(rep, rng, params, quick=quick)  # quick sizes first, then the axis's params
        seconds.append(time.perf_counter() - start)
        if seconds[0] > SLOW:
            break
    return statistics.median(seconds), len(seconds)


def exponent(xs, seconds) -> float:
    """Least-squares slope of log(seconds) on log(x); NaN with fewer than two points."""
    xs, seconds = np.asarray(xs, float), np.asarray(seconds, float)
    ok = np.isfinite(seconds) & (seconds > 0)
    if ok.sum() < 2:
        return float("nan")
    return float(np.polyfit(np.log(xs[ok]), np.log(seconds[ok]), 1)[0])


def exponents(rows) -> dict:
    """The exponent of every (axis, metric) among ``rows``."""
    groups = {}
    for row in rows:
        groups.setdefault((row["axis"], row["metric"]), []).append(row)
    return {key: exponent([r["x"] for r in group], [r["seconds"] for r in group])
            for key, group in groups.items()}


def write_csv(path: Path, rows) -> None:
    fits = exponents(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["axis", "metric", "x", "seconds", "repeats", "exponent"])
        for r in rows:
            writer.writerow([r["axis"], r["metric"], r["x"], f"{r['seconds']:.4g}", r["repeats"],
                             f"{fits[r['axis'], r['metric']]:.3f}"])


def markdown_table(axis: str, rows, quick: bool, repeats: int) -> str:
    """Rows = metrics, columns = the axis values (seconds), last column the exponent."""
    rows = [r for r in rows if r["axis"] == axis]
    xs = list(dict.fromkeys(r["x"] for r in rows))
    fits = exponents(rows)
    sizes = "" if axis == "samples" else ("; --quick sample sizes" if quick else "; default sample sizes")
    lines = [f"{TITLES[axis]}{sizes}; seconds per call on one thread, median of {repeats} calls "
             f"(1 above {SLOW:g} s):", "",
             "| metric | " + " | ".join(LABELS[axis].format(x) for x in xs) + " | exponent b |",
             "|---|" + "---:|" * (len(xs) + 1)]
    for metric in dict.fromkeys(r["metric"] for r in rows):
        seconds = {r["x"]: r["seconds"] for r in rows if r["metric"] == metric}
        cells = [f"{seconds[x]:.3g}" if x in seconds else "" for x in xs]
        lines.append(f"| `{metric}` | " + " | ".join(cells) + f" | {fits[axis, metric]:.2f} |")
    return "\n".join(lines)


def parse_list(text: str, allowed, what: str) -> list:
    items = list(allowed) if text == "all" else [t.strip() for t in text.split(",") if t.strip()]
    unknown = [t for t in items if t not in allowed]
    if unknown:
        raise SystemExit(f"unknown {what}: {', '.join(unknown)}; choose from {', '.join(allowed)}")
    return items


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--axes", default=",".join(AXES), help="comma-separated: " + ", ".join(AXES))
    parser.add_argument("--metrics", default="all", help="comma-separated: " + ", ".join(METRICS))
    parser.add_argument("--quick", action="store_true", help="tiny sizes, to check the script")
    parser.add_argument("--repeats", type=int, default=None, help="calls per point (default 3, quick 1)")
    parser.add_argument("--out", type=Path, default=None,
                        help="the CSV (default benchmarks/cost_growth.csv; quick: the temporary directory)")
    args = parser.parse_args(argv)
    if args.out is None:  # a quick check must not overwrite a real measurement
        args.out = (Path(tempfile.gettempdir()) / "cost_growth_quick.csv" if args.quick
                    else Path(__file__).resolve().parent / "cost_growth.csv")
    axes = parse_list(args.axes, AXES, "axes")
    metrics = parse_list(args.metrics, METRICS, "metrics")
    repeats = max(1, args.repeats if args.repeats is not None else (1 if args.quick else 3))

    limit_threads(1)  # as a sweep's worker: one thread per process, one process per core
    rows = []
    started = time.perf_counter()
    for axis in axes:
        for metric in metrics:
            for x, rep, params in cases(axis, metric, args.quick):
                try:
                    seconds, calls = measure(metric, rep, params, args.quick, repeats)
                except Exception as exc:  # one failing point must not lose the rest of a long run
                    print(f"{axis} {metric} x={x}: failed: {exc!r}", file=sys.stderr)
                    seconds, calls = float("nan"), 0
                else:
                    print(f"{axis} {metric} x={x}: {seconds:.3g} s ({calls} calls)", file=sys.stderr)
                rows.append({"axis": axis, "metric": metric, "x": x, "seconds": seconds, "repeats": calls})
                write_csv(args.out, rows)
        print(markdown_table(axis, rows, args.quick, repeats) + "\n", flush=True)
    print(f"total {time.perf_counter() - started:.0f} s; CSV in {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
