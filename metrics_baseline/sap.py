"""Separated Attribute Predictability (Kumar et al., 2018), disentanglement_lib's definition.

Score matrix ``S`` (latents x factors).  Discrete factors (the default, as in
the ``unsupervised_study_v1`` config): ``S[i, j]`` is the test accuracy of a
linear SVM (``LinearSVC(C=0.01, class_weight="balanced")``) predicting factor
``j`` from latent ``i`` alone.  Continuous factors: ``S[i, j]`` is the squared
correlation of latent ``i`` and factor ``j`` on the training points.  SAP is
the mean over factors of the gap between the two largest entries of the
factor's column.

With discrete factors a single latent cannot linearly separate many classes,
so SAP stays low for factors with many values even on a perfect
representation; that is the reference's behaviour.
"""
from __future__ import annotations

import numpy as np
from joblib import Parallel, delayed
from sklearn.svm import LinearSVC

from benchmark.registry import register_metric
from benchmark.validation import BenchmarkError, check_codes_factors, check_positive_int

from ._sampling import sample_codes, seed_from


def _svm_accuracy(x_train, y_train, x_test, y_test, seed) -> float:
    classes = np.unique(y_train)
    if classes.size < 2:
        return float(np.mean(y_test == classes[0]))
    model = LinearSVC(C=0.01, class_weight="balanced", random_state=seed)
    model.fit(x_train[:, None], y_train)
    return float(np.mean(model.predict(x_test[:, None]) == y_test))


def score_matrix(codes_train, factors_train, codes_test=None, factors_test=None,
                 continuous_factors: bool = False, random_state: int = 0,
                 n_jobs: int | None = -1) -> np.ndarray:
    """SAP score matrix of shape ``(L, K)``.

    ``codes_test`` / ``factors_test`` are required for discrete factors and
    ignored for continuous ones.  The ``L * K`` classifiers are fitted in
    parallel threads (``n_jobs``); results do not depend on ``n_jobs``.
    """
    codes_train, factors_train = check_codes_factors(codes_train, factors_train)
    num_codes, num_factors = codes_train.shape[1], factors_train.shape[1]
    if continuous_factors:
        x = codes_train - codes_train.mean(axis=0)
        y = factors_train - factors_train.mean(axis=0)
        n = codes_train.shape[0]
        cov = x.T @ y / (n - 1)
        var_x = np.sum(x**2, axis=0) / (n - 1)
        var_y = np.sum(y**2, axis=0) / (n - 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out = cov**2 / (var_x[:, None] * var_y[None, :])
        out[var_x <= 1e-12, :] = 0.0
        return np.nan_to_num(out, nan=0.0, posinf=0.0)
    if codes_test is None or factors_test is None:
        raise BenchmarkError("codes_test and factors_test are required for discrete factors")
    codes_test, factors_test = check_codes_factors(codes_test, factors_test)
    if codes_test.shape[1] != num_codes or factors_test.shape[1] != num_factors:
        raise BenchmarkError(
            f"test arrays have {codes_test.shape[1]} codes / {factors_test.shape[1]} factors, "
            f"training arrays {num_codes} / {num_factors}"
        )
    # One seed per factor, shared by all latents, so permuting latents changes nothing.
    seeds = np.random.default_rng(random_state).integers(2**31, size=num_factors)
    jobs = [delayed(_svm_accuracy)(codes_train[:, i], factors_train[:, j], codes_test[:, i],
                                   factors_test[:, j], int(seeds[j]))
            for i in range(num_codes) for j in range(num_factors)]
    if n_jobs == 1:
        values = [f(*a, **kw) for f, a, kw in jobs]
    else:
        values = Parallel(n_jobs=n_jobs, prefer="threads")(jobs)
    return np.asarray(values, dtype=float).reshape(num_codes, num_factors)


def gap_of_top_two(matrix) -> float:
    """Mean over columns of (largest - second largest) entry; with one row the gap is the entry."""
    matrix = np.sort(np.asarray(matrix, dtype=float), axis=0)
    second = matrix[-2] if matrix.shape[0] > 1 else np.zeros(matrix.shape[1])
    return float(np.mean(matrix[-1] - second))


def compute(codes_train, factors_train, codes_test=None, factors_test=None,
            continuous_factors: bool = False, random_state: int = 0,
            n_jobs: int | None = -1) -> dict:
    """SAP of given codes and factors: ``{"sap": ...}``."""
    matrix = score_matrix(codes_train, factors_train, codes_test, factors_test,
                          continuous_factors, random_state, n_jobs)
    return {"sap": gap_of_top_two(matrix)}


@register_metric("sap", headline="sap", default=False,
                 quick={"num_train": 2000, "num_test": 1000})
def sap(rep, rng, num_train: int = 10000, num_test: int = 5000,
        continuous_factors: bool = False, n_jobs: int | None = -1) -> dict:
    """SAP of ``rep`` (discrete-factor variant by default)."""
    num_train = check_positive_int(num_train, "num_train", 2)
    num_test = check_positive_int(num_test, "num_test", 2)
    codes_train, factors_train = sample_codes(rep, num_train, rng)
    codes_test, factors_test = sample_codes(rep, num_test, rng)
    return compute(codes_train, factors_train, codes_test, factors_test,
                   bool(continuous_factors), seed_from(rng), n_jobs)
