"""Timings of the baseline metrics at their default (disentanglement_lib) sizes.

Run with ``pytest benchmarks/test_bench_baselines.py``.  Each case scores the
dsprites ideal representation (5 latents) once per round at default sizes.
The faithful DCI on dsprites takes minutes, so it is timed on a smaller
synthetic space (sizes 3, 6, 10, 8) unless ``BENCH_DCI_DSPRITES=1``.
For the side-by-side timings against disentanglement_lib itself see
``benchmarks/compare_disentanglement_lib.py``.
"""
import os

import numpy as np
import pytest

import metrics_baseline
from benchmark import FactorSpace, ideal

DSPRITES = ideal(FactorSpace.named("dsprites"))
SYNTHETIC = ideal(FactorSpace.synthetic((3, 6, 10, 8)))


SPECS = {spec.name: spec for spec in metrics_baseline.SPECS}


def _run(bench, name, rep, rounds):
    metric = SPECS[name].func
    return bench.pedantic(lambda: metric(rep, np.random.default_rng(0)), rounds=rounds,
                          iterations=1)


@pytest.mark.parametrize("name", ["beta_vae", "factor_vae", "mig", "dci_fast", "sap", "modularity"])
def test_default_sizes_dsprites(bench, name):
    out = _run(bench, name, DSPRITES, rounds=3)
    assert np.isfinite(out[SPECS[name].headline])


def test_faithful_dci(bench):
    rep = DSPRITES if os.environ.get("BENCH_DCI_DSPRITES") == "1" else SYNTHETIC
    out = _run(bench, "dci", rep, rounds=1)
    assert out["disentanglement"] > 0.9
