"""Side-by-side check of metrics_baseline against disentanglement_lib's own metrics.

Runs only where ``disentanglement_lib`` is importable (it is never a dependency
of this project).  It needs disentanglement-lib 1.5 with numpy, scipy,
scikit-learn, six, absl-py and gin-config < 0.5 (the reference still uses
gin's ``blacklist`` argument); TensorFlow is not needed: the metric modules
import ``gin.tf`` only for their decorators, so a stub module stands in for it.
Use a separate environment, e.g.::

    python -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install --no-deps disentanglement-lib==1.5
    /tmp/refvenv/bin/pip install numpy scipy scikit-learn six absl-py "gin-config<0.5"
    /tmp/refvenv/bin/python benchmarks/compare_disentanglement_lib.py

Deterministic metrics (MIG, DCI, SAP, modularity/explicitness) get identical
codes and factors on both sides: the reference samples through a "replay"
data set that hands out pre-drawn rows in order.  Sampling metrics (BetaVAE,
FactorVAE) draw their own batches on each side; their scores are compared as
means over seeds.  Prints per-metric differences and time ratios (ours /
reference; below 1 means ours is faster).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
import types

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def load_reference():
    """Import the reference metric modules, or return None when unavailable."""
    try:
        import gin  # noqa: F401
    except ImportError:
        return None
    sys.modules.setdefault("gin.tf", types.ModuleType("gin.tf"))
    import logging
    logging.getLogger().setLevel(logging.ERROR)
    try:
        from disentanglement_lib.evaluation.metrics import (
            beta_vae,
            dci,
            factor_vae,
            mig,
            modularity_explicitness,
            sap_score,
        )
    except Exception as exc:  # noqa: BLE001 - report and skip
        print(f"disentanglement_lib not importable ({exc!r}); skipping", file=sys.stderr)
        return None
    import gin as gin_mod
    gin_mod.parse_config([
        "discretizer.discretizer_fn = @histogram_discretizer",
        "discretizer.num_bins = 20",
        "prune_dims.threshold = 0.05",
    ])
    return types.SimpleNamespace(beta_vae=beta_vae, dci=dci, factor_vae=factor_vae, mig=mig,
                                 modularity=modularity_explicitness, sap=sap_score)


class SampledData:
    """disentanglement_lib ground-truth data drawing factors uniformly; observations are the factors."""

    def __init__(self, space):
        self.space = space

    @property
    def num_factors(self):
        return self.space.num_factors

    @property
    def factors_num_values(self):
        return list(self.space.sizes)

    @property
    def observation_shape(self):
        return [self.space.num_factors]

    def sample_factors(self, num, random_state):
        return np.stack([random_state.randint(s, size=num) for s in self.space.sizes], axis=1)

    def sample_observations_from_factors(self, factors, random_state):
        return np.asarray(factors)

    def sample(self, num, random_state):
        factors = self.sample_factors(num, random_state)
        return factors, self.sample_observations_from_factors(factors, random_state)

    def sample_observations(self, num, random_state):
        return self.sample(num, random_state)[1]


class ReplayData(SampledData):
    """Hands out pre-drawn (factors, codes) rows in order; observations are the codes."""

    def __init__(self, space, factors, codes):
        super().__init__(space)
        self.factors, self.codes, self.pos = factors, codes, 0

    def sample(self, num, random_state):
        rows = slice(self.pos, self.pos + num)
        self.pos += num
        return self.factors[rows], self.codes[rows]


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="dsprites")
    parser.add_argument("--seeds", type=int, default=3, help="seeds for the sampling metrics")
    parser.add_argument("--attack", default="redundancy")
    parser.add_argument("--level", type=float, default=1.0)
    parser.add_argument("--noise-level", type=float, default=1.5)
    parser.add_argument("--dci-dataset", default="synthetic",
                        help="space for the DCI comparison: 'synthetic' (sizes 3,6,10,8) or a built-in "
                             "name; the reference DCI on dsprites takes minutes")
    parser.add_argument("--skip", default="", help="comma-separated metrics to skip")
    args = parser.parse_args(argv)

    ref = load_reference()
    if ref is None:
        print("SKIPPED: disentanglement_lib is not importable here")
        return 0

    import attacks
    import benchmark
    from metrics_baseline import (
        beta_vae,
        dci_score,
        factor_vae,
        mig_score,
        modularity_score,
        sample_codes,
        sap_score,
    )

    skip = set(filter(None, args.skip.split(",")))
    space = benchmark.FactorSpace.named(args.dataset)
    base = benchmark.ideal(space)
    reps = {"ideal": base,
            f"{args.attack}({args.level:g})": attacks.get(args.attack)(base, args.level,
                                                                      np.random.default_rng(7)),
            # Heavy noise keeps BetaVAE / FactorVAE away from 1.0, where agreement is trivial.
            f"noise({args.noise_level:g})": attacks.get("noise")(base, args.noise_level,
                                                                np.random.default_rng(7))}
    rows = []

    def report(metric, rep_name, ours, theirs, t_ours, t_ref, note=""):
        diff = ours - theirs
        rows.append((metric, rep_name, ours, theirs, diff, t_ours, t_ref))
        timing = (f"t_ours={t_ours:7.2f}s t_ref={t_ref:7.2f}s ratio={t_ours / t_ref:5.2f}"
                  if t_ours is not None else "(timed above)")
        print(f"{metric:26s} {rep_name:24s} ours={ours:.6f} ref={theirs:.6f} diff={diff:+.2e} "
              f"{timing} {note}", flush=True)

    for rep_name, rep in reps.items():
        rng = np.random.default_rng(0)
        xtr, ytr = sample_codes(rep, 10000, rng)
        xte, yte = sample_codes(rep, 5000, rng)
        both = np.concatenate([xtr, xte]), np.concatenate([ytr, yte])

        if "mig" not in skip:
            ours, t1 = timed(mig_score, xtr, ytr)
            theirs, t2 = timed(ref.mig.compute_mig, ReplayData(space, ytr, xtr), lambda x: x,
                               np.random.RandomState(0), num_train=10000)
            report("mig", rep_name, ours["mig"], theirs["discrete_mig"], t1, t2)

        if "sap" not in skip:
            ours, t1 = timed(sap_score, xtr, ytr, xte, yte)
            theirs, t2 = timed(ref.sap.compute_sap, ReplayData(space, both[1], both[0]),
                               lambda x: x, np.random.RandomState(0), num_train=10000,
                               num_test=5000, continuous_factors=False)
            report("sap", rep_name, ours["sap"], theirs["SAP_score"], t1, t2)

        if "modularity" not in skip:
            ours, t1 = timed(modularity_score, xtr, ytr, xte, yte)
            theirs, t2 = timed(ref.modularity.compute_modularity_explicitness,
                               ReplayData(space, both[1], both[0]), lambda x: x,
                               np.random.RandomState(0), num_train=10000, num_test=5000)
            report("modularity", rep_name, ours["modularity"], theirs["modularity_score"], t1, t2)
            report("explicitness", rep_name, ours["explicitness"],
                   theirs["explicitness_score_test"], None, None)

        for name, metric, ref_fn, ref_key, kwargs in [
            ("beta_vae", beta_vae, ref.beta_vae.compute_beta_vae_sklearn, "eval_accuracy",
             dict(batch_size=64, num_train=10000, num_eval=5000)),
            ("factor_vae", factor_vae, ref.factor_vae.compute_factor_vae, "eval_accuracy",
             dict(batch_size=64, num_train=10000, num_eval=5000, num_variance_estimate=10000)),
        ]:
            if name in skip:
                continue
            ours_vals, ref_vals, t_ours, t_ref = [], [], 0.0, 0.0
            for seed in range(args.seeds):
                # the reference calls the held-out size num_eval; here it is num_test
                ours_kwargs = {("num_test" if k == "num_eval" else k): v for k, v in kwargs.items()}
                out, t = timed(metric, rep, np.random.default_rng(seed), **ours_kwargs)
                ours_vals.append(out["eval_accuracy"])
                t_ours += t
                enc_rng = np.random.default_rng(1000 + seed)
                out, t = timed(ref_fn, SampledData(space), lambda f: rep.encode(f, enc_rng),
                               np.random.RandomState(seed), **kwargs)
                ref_vals.append(out[ref_key])
                t_ref += t
            report(name, rep_name, float(np.mean(ours_vals)), float(np.mean(ref_vals)), t_ours,
                   t_ref, f"(mean of {args.seeds} seeds; ours {np.round(ours_vals, 4).tolist()}, "
                          f"ref {np.round(ref_vals, 4).tolist()})")

    if "dci" not in skip:
        dspace = (benchmark.FactorSpace.synthetic((3, 6, 10, 8)) if args.dci_dataset == "synthetic"
                  else benchmark.FactorSpace.named(args.dci_dataset))
        drep = benchmark.ideal(dspace)
        for rep_name, rep in {"ideal": drep,
                              "rotation(1)": attacks.get("rotation")(drep, 1.0,
                                                                     np.random.default_rng(7))}.items():
            rng = np.random.default_rng(0)
            xtr, ytr = sample_codes(rep, 10000, rng)
            xte, yte = sample_codes(rep, 5000, rng)
            ours, t1 = timed(dci_score, xtr, ytr, xte, yte)
            theirs, t2 = timed(ref.dci._compute_dci, xtr.T, ytr.T, xte.T, yte.T)
            for key in ("disentanglement", "completeness", "informativeness_test"):
                first = key == "disentanglement"
                report(f"dci.{key}", f"{args.dci_dataset}:{rep_name}", ours[key], theirs[key],
                       t1 if first else None, t2 if first else None)

    worst = max(abs(r[4]) for r in rows) if rows else 0.0
    print(f"\nlargest |difference|: {worst:.3g} over {len(rows)} comparisons")
    return 0


if __name__ == "__main__":
    sys.exit(main())
