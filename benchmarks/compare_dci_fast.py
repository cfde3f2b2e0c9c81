"""How far the fast DCI (``dci_fast``) is from the faithful one (``dci``).

Both run on identical codes and factors (10,000 training / 5,000 test points of
the dsprites ideal representation and of attacked versions of it); the script
prints both sets of scores, their differences and both timings.  The faithful
DCI takes minutes per case on two cores; run this by hand, e.g.::

    python benchmarks/compare_dci_fast.py                     # all cases
    python benchmarks/compare_dci_fast.py --cases ideal,redundancy:1
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import attacks  # noqa: E402
import benchmark  # noqa: E402
from metrics_baseline import dci_score, sample_codes  # noqa: E402

DEFAULT_CASES = "ideal,redundancy:1,rotation:1,synergy:1,noise:0.25,noise:0.5,noise:1,duplicate:1"
KEYS = ("disentanglement", "completeness", "informativeness_test")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="dsprites")
    parser.add_argument("--cases", default=DEFAULT_CASES,
                        help="comma-separated 'ideal' or 'attack:level' (default: %(default)s)")
    parser.add_argument("--num-train", type=int, default=10000)
    parser.add_argument("--num-test", type=int, default=5000)
    parser.add_argument("--n-jobs", type=int, default=-1)
    args = parser.parse_args(argv)

    base = benchmark.ideal(benchmark.FactorSpace.named(args.dataset))
    diffs = {k: [] for k in KEYS}
    times = {"gbt": [], "forest": []}
    print(f"{'case':16s} {'key':22s} {'dci':>9s} {'dci_fast':>9s} {'diff':>9s}")
    for case in args.cases.split(","):
        rng = np.random.default_rng(123)
        if case == "ideal":
            rep = base
        else:
            name, level = case.split(":")
            rep = attacks.get(name)(base, float(level), rng)
        xtr, ytr = sample_codes(rep, args.num_train, rng)
        xte, yte = sample_codes(rep, args.num_test, rng)
        out = {}
        for model in ("gbt", "forest"):
            start = time.perf_counter()
            out[model] = dci_score(xtr, ytr, xte, yte, random_state=0, n_jobs=args.n_jobs,
                                   model=model)
            times[model].append(time.perf_counter() - start)
        for key in KEYS:
            d = out["forest"][key] - out["gbt"][key]
            diffs[key].append(d)
            print(f"{case:16s} {key:22s} {out['gbt'][key]:9.4f} {out['forest'][key]:9.4f} {d:+9.4f}")
        print(f"{case:16s} {'seconds':22s} {times['gbt'][-1]:9.1f} {times['forest'][-1]:9.1f}",
              flush=True)
    print()
    for key in KEYS:
        d = np.abs(diffs[key])
        print(f"|dci_fast - dci| {key:22s} mean {d.mean():.4f}  max {d.max():.4f}")
    print(f"seconds per case: dci {np.mean(times['gbt']):.1f}, dci_fast {np.mean(times['forest']):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
