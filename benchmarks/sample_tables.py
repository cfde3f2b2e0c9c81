"""Which estimator scores a *sample* of a model's encodings as the whole data set would:
candidates side by side against the whole table's exact value.

    python examples/model_zoo.py zoo/
    python benchmarks/sample_tables.py --zoo zoo/      # writes benchmarks/sample_tables.csv

For each character's seed-0 table of ``examples/model_zoo.py`` (737,280 dSprites
rows with posterior variances), the truth is the exact estimator on the whole
table (``estimate = "whole table (exact)"``).  Uniform samples of 20,000 and
50,000 rows, drawn without replacement, are then scored by each candidate:

* ``knn``: the Ross (2014) estimator, k = 3, on one posterior draw per row;
* ``posterior_knn k=3`` and ``posterior_knn k=1``: the same draws with the
  collapsed latents dropped and each latent measured in its posterior scale
  (:func:`benchmark.information.posterior_knn_informations`); k = 1 is
  ``auto``'s choice;
* ``exact on the sample``: the mixture of the sample's own posteriors, what
  the exact estimator makes of a table that does not cover the grid.

(the last two at 20,000 rows only unless ``--large-candidates`` says otherwise).
With ``--truth-from results/models`` the truth is read from the committed model
sweep's level 0 instead (the same exact estimate, made once).
Columns: UniBound, ``redundancy_l``, ``synergy_l`` and ``mi`` with their errors
against the truth, and wall-clock seconds per estimate (both cores; ``--resume``
keeps the tables already measured, so the seconds of one CSV may come from runs
under different loads).
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark import from_arrays
from benchmark.encodings import load_encodings
from metrics_pid import unibound

KEYS = ("unibound", "redundancy_l", "synergy_l", "mi")
CANDIDATES = {
    "knn": {"estimator": "knn", "k": 3},
    "posterior_knn k=3": {"estimator": "posterior_knn", "k": 3},
    "posterior_knn k=1": {"estimator": "posterior_knn", "k": 1},
    "exact on the sample": {"estimator": "exact"},
}


def sample(rep, size, seed=0):
    rows = np.sort(np.random.default_rng(seed).choice(len(rep.codes), size, replace=False))
    return from_arrays(rep.space.rows[rows], rep.codes[rows], rep.variances[rows],
                       rep.space.names, rep.space.sizes)


def score(table, name, estimate, rows, params, truth=None) -> dict:
    start = time.perf_counter()
    scores = unibound(table, 1, num_samples=rows, **params)
    row = {"table": name, "estimate": estimate, "rows": rows,
           "seconds": round(time.perf_counter() - start, 1)}
    for key in KEYS:
        row[key] = scores[key]
        if truth is not None:
            row[f"{key}_error"] = scores[key] - truth[key]
    print(" ".join(f"{v:.3f}" if isinstance(v, float) else str(v) for v in row.values()), flush=True)
    return row


def recorded_truth(results: Path, stem: str, rows: int) -> dict:
    """The whole table's exact scores at level 0 of a committed model sweep
    (``results/models/<stem>/redundancy``): the redundancy attack's level 0 appends
    copies of pure noise, which carry nothing, so the informations are the table's."""
    scores = pd.read_csv(results / stem / "redundancy" / "scores.csv")
    level0 = scores[(scores.level == 0) & (scores.metric == "unibound")].set_index("key")["score"]
    return {"table": stem, "estimate": "whole table (exact, recorded)", "rows": rows, "seconds": None,
            **{key: float(level0[key]) for key in KEYS}}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zoo", type=Path, default=Path("zoo"))
    parser.add_argument("--sizes", default="20000,50000")
    parser.add_argument("--candidates", default=",".join(CANDIDATES))
    parser.add_argument("--large-candidates", default="posterior_knn k=3,posterior_knn k=1",
                        help="the candidates also run at the sizes after the first")
    parser.add_argument("--out", type=Path, default=Path(__file__).with_suffix(".csv"))
    parser.add_argument("--resume", action="store_true", help="keep the tables already in --out")
    parser.add_argument("--truth-from", type=Path,
                        help="read each table's truth from a model sweep's level 0 "
                             "(e.g. results/models) instead of estimating it")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    chosen, large = args.candidates.split(","), args.large_candidates.split(",")
    rows = pd.read_csv(args.out).to_dict("records") if args.resume and args.out.is_file() else []
    done = {row["table"] for row in rows}
    for path in sorted(args.zoo.glob("*_s0.npz")):
        if path.stem in done:
            continue
        whole = load_encodings(path)
        if args.truth_from:
            truth = recorded_truth(args.truth_from, path.stem, len(whole.codes))
        else:
            truth = score(whole, path.stem, "whole table (exact)", len(whole.codes), {"estimator": "exact"})
        rows.append(truth)
        for i, size in enumerate(sizes):
            table = sample(whole, size)
            rows += [score(table, path.stem, name, size, CANDIDATES[name], truth)
                     for name in chosen if i == 0 or name in large]
        pd.DataFrame(rows).to_csv(args.out, index=False, float_format="%.4f")
    table = pd.DataFrame(rows)
    errors = table.dropna(subset=["unibound_error"]).groupby(["rows", "estimate"])
    print(errors[[f"{k}_error" for k in KEYS]].agg(lambda s: s.abs().max()).round(3).to_string())
    print(errors["seconds"].median().to_string())


if __name__ == "__main__":
    main()
