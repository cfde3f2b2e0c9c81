"""What the exact estimator at full scale buys: every row of a 737,280-row table against
a 10,000-row sample of it and against kNN, on a table whose informations are known.

    python benchmarks/full_scale.py                 # about 5 minutes on this 2-core machine
    python benchmarks/full_scale.py --zoo zoo/       # also the model zoo's seed-0 files

The known-answer table (:func:`quadrature_table`) is the whole dSprites grid encoded
with heteroscedastic Gaussian posteriors, latent ``k`` for factor ``k`` alone plus five
collapsed latents: every information is a one-dimensional quadrature.  Each estimate
is compared with it (largest and mean absolute error over the 5 x 21 informations) and
reports its UniBound and ``mi``; a zoo file (``examples/model_zoo.py``) has no known
answer, so only its scores are shown.  Writes ``benchmarks/full_scale.csv``
(``--out``); seconds are wall-clock with both cores.

Estimates:

* ``full``: the default, ``estimator="exact"`` on the whole table (streamed kernel);
* ``sample``: the exact estimator on 10,000 rows drawn from the table (what a
  10,000-component mixture of the table is), which no longer covers the grid;
* ``sample_draws``: what ``auto`` does with that sample, kNN on one posterior draw
  per row (``posterior_knn``);
* ``knn``: the nearest-neighbour estimator on 10,000 posterior draws of the table.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from benchmark import from_arrays
from benchmark.encodings import load_encodings
from benchmark.information import Informations
from metrics_pid import unibound_details

DSPRITES = (3, 6, 40, 32, 32)
#: Posterior spreads of the known-answer table's informative latents (the value-0
#: spread; it grows to twice that at the largest value), in standardised units.
BASE_SD = (0.5, 0.2, 0.05, 0.04, 0.08)


def _integrated_1d(means, sds) -> float:
    """``I(v; z)`` for ``v`` uniform over the values and ``z | v ~ N(means[v], sds[v]^2)``,
    by the trapezoid rule on 200,001 points over the means +- 10 of the largest spreads."""
    z = np.linspace(means.min() - 10 * sds.max(), means.max() + 10 * sds.max(), 200001)
    dens = np.exp(-0.5 * ((z - means[:, None]) / sds[:, None]) ** 2) / (np.sqrt(2 * np.pi) * sds[:, None])
    marg = dens.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        integrand = np.where(dens > 0, dens * np.log(dens / marg), 0.0).mean(axis=0)
    return float(np.trapezoid(integrand, z))


def quadrature_table(sizes=DSPRITES, base_sd=BASE_SD, collapsed=5):
    """``(factors, codes, variances, truth)``: the whole grid of ``sizes``, latent ``k``
    encoding factor ``k`` alone (standardised value, posterior spread growing with the
    value), then ``collapsed`` latents with the prior as posterior; ``truth[k]`` is
    ``I(y_k; z_k)``, so ``I(y_k; z) = truth[k]``, ``I(y_k; z_-l) = truth[k]`` for
    ``l != k`` and every other information is 0."""
    factors = np.stack(np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij"), -1).reshape(-1, len(sizes))
    means_of = [(np.arange(s) - (s - 1) / 2) / np.sqrt((s**2 - 1) / 12) for s in sizes]
    sds_of = [base_sd[k] * (1 + np.arange(s) / s) for k, s in enumerate(sizes)]
    codes = np.column_stack([means_of[k][factors[:, k]] for k in range(len(sizes))]
                            + [np.zeros(len(factors))] * collapsed)
    sds = np.column_stack([sds_of[k][factors[:, k]] for k in range(len(sizes))]
                          + [np.ones(len(factors))] * collapsed)
    truth = np.array([_integrated_1d(means_of[k], sds_of[k]) for k in range(len(sizes))])
    return factors, codes, sds**2, truth


def true_informations(truth, dim):
    """``(single, rest, joint)`` of :func:`quadrature_table`."""
    num_factors = len(truth)
    single = np.zeros((num_factors, dim))
    single[:, :num_factors] = np.diag(truth)
    return single, truth[:, None] - single, truth


def estimates(rep, rng_seed=0):
    """``{name: (rep, estimator)}`` of the four estimates of one table."""
    rng = np.random.default_rng(rng_seed)
    rows = np.sort(rng.choice(len(rep.codes), 10000, replace=False))
    sample = from_arrays(rep.space.rows[rows], rep.codes[rows], rep.variances[rows],
                         rep.space.names, rep.space.sizes)
    return {"full": (rep, "exact"), "sample": (sample, "exact"),
            "sample_draws": (sample, "posterior_knn"), "knn": (rep, "knn")}


def measure(name, rep, truth=None) -> list[dict]:
    out = []
    for label, (table, estimator) in estimates(rep).items():
        start = time.perf_counter()
        scores, details = unibound_details(table, 0, estimator=estimator)
        seconds = time.perf_counter() - start
        info = Informations.from_dict(details)
        row = {"table": name, "estimate": label, "rows": len(table.codes), "seconds": round(seconds, 1),
               "unibound": round(scores["unibound"], 4), "mi": round(scores["mi"], 4)}
        if truth is not None:
            errors = np.concatenate([np.abs(a - b).ravel() for a, b in zip(
                (info.single, info.rest, info.joint), true_informations(truth, rep.dim))])
            row.update(max_abs_error=round(float(errors.max()), 4),
                       mean_abs_error=round(float(errors.mean()), 4))
        out.append(row)
        print(row, flush=True)
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--zoo", help="a directory of model_zoo.py files (its _s0 files are measured)")
    parser.add_argument("--out", default=str(Path(__file__).with_name("full_scale.csv")))
    args = parser.parse_args(argv)
    factors, codes, variances, truth = quadrature_table()
    rows = measure("known answer (quadrature)", from_arrays(factors, codes, variances), truth)
    if args.zoo:
        for path in sorted(Path(args.zoo).glob("*_s0.npz")):
            rows += measure(path.stem, load_encodings(path))
    pd.DataFrame(rows).to_csv(args.out, index=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    sys.exit(main())
