"""How plain kNN's I(y; z) moves when pure-noise latents are appended, on Gaussian
representations whose informations the exact estimator gives.

    python benchmarks/knn_noise_latents.py        # writes benchmarks/knn_noise_latents.csv

Cases: the dSprites ideal representation (noise 0.1 and 1.0 of a value spacing)
and its rotation(0.5); each with 0, 1, 5, 10 and 20 latents of N(0, 1) noise
appended (the ``nuisance`` attack), which carry nothing, so every I(y_k; z) is
the unattacked one.  ``knn_informations`` on 10,000 codes (k = 3, the defaults)
against the exact value, normalised by H(y_k), per factor.  The maximum shift
over factors is what :data:`benchmark.information.NOISE_LATENT_BIAS` quotes when a
table of means has latents that carry nothing by themselves.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

import attacks
from benchmark import FactorSpace, ideal
from benchmark.information import informations

APPENDED = (0, 1, 5, 10, 20)


def cases():
    space = FactorSpace.named("dsprites")
    yield "ideal(0.1)", ideal(space, noise=0.1)
    yield "ideal(1.0)", ideal(space, noise=1.0)
    yield "rotation(0.5)", attacks.get("rotation")(ideal(space), 0.5, np.random.default_rng(0))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).with_suffix(".csv"))
    parser.add_argument("--rows", type=int, default=10000)
    args = parser.parse_args(argv)
    rows = []
    for name, base in cases():
        truth = informations(base, np.random.default_rng(0), estimator="exact")
        for m in APPENDED:
            rep = attacks.get("nuisance")(base, m, np.random.default_rng(1))
            start = time.perf_counter()
            est = informations(rep, np.random.default_rng(2), estimator="knn", num_samples=args.rows)
            seconds = time.perf_counter() - start
            for k, factor in enumerate(base.space.names):
                h = truth.entropy[k]
                rows.append({"case": name, "appended": m, "factor": factor,
                             "truth": truth.joint[k] / h, "knn": est.joint[k] / h,
                             "error": (est.joint[k] - truth.joint[k]) / h, "seconds": seconds})
            print(name, m, f"{seconds:.1f}s", flush=True)
    table = pd.DataFrame(rows)
    base_err = table[table.appended == 0].set_index(["case", "factor"])["error"]
    table["shift"] = table["error"] - base_err.loc[list(zip(table.case, table.factor))].to_numpy()
    table.to_csv(args.out, index=False, float_format="%.4f")
    print(table.groupby(["case", "appended"])[["error", "shift"]].agg(lambda s: s.abs().max())
          .round(3).to_string())


if __name__ == "__main__":
    main()
