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

The continuous variant is also the 2022 review's SAP (Carbonneau et al.,
ubisoft/ubisoft-laforge-disentanglement-metrics, ``src/metrics/sap.py`` with
``regression=True``): its in-sample R^2 of a one-latent linear regression is
the squared correlation used here, its factors are neither scaled nor binned
on that path (``nb_bins`` is unused), and its gap is the same, so
``sap_score(..., continuous_factors=True)`` reproduces it (to 1e-14 on the
issue's reference arrays).  The one difference: a latent whose variance is at
most 1e-12 scores 0 here, where the reference still correlates it.
"""
from __future__ import annotations

import numpy as np
from sklearn.svm import LinearSVC

from benchmark.spec import MetricSpec
from benchmark.validation import BenchmarkError, check_codes_factors, check_rng

from ._parallel import fit_in_threads
from ._sampling import seed_from, train_test_codes

__all__ = ["SPEC", "gap_of_top_two", "sap", "sap_score", "score_matrix"]


def _svm_accuracy(x_train, y_train, x_test, y_test, seed) -> float:
    classes = np.unique(y_train)
    if classes.size < 2:
        return float(np.mean(y_test == classes[0]))
    model = LinearSVC(C=0.01, class_weight="balanced", random_state=seed)
    model.fit(x_train[:, None], y_train)
    return float(np.mean(model.predict(x_test[:, None]) == y_test))


def score_matrix(codes, factors, codes_test=None, factors_test=None, *,
                 continuous_factors: bool = False, random_state: int = 0,
                 n_jobs: int | None = -1) -> np.ndarray:
    """SAP score matrix of shape ``(L, K)``.

    ``codes_test`` / ``factors_test`` are required for discrete factors and
    ignored for continuous ones.  The ``L * K`` classifiers are fitted in
    parallel threads (``n_jobs``); results do not depend on ``n_jobs``.
    """
    codes_train, factors_train = check_codes_factors(codes, factors)
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
    pairs = [(i, j) for i in range(num_codes) for j in range(num_factors)]
    values = fit_in_threads(
        lambda ij: _svm_accuracy(codes_train[:, ij[0]], factors_train[:, ij[1]],
                                 codes_test[:, ij[0]], factors_test[:, ij[1]], int(seeds[ij[1]])),
        pairs, n_jobs=n_jobs)
    return np.asarray(values, dtype=float).reshape(num_codes, num_factors)


def gap_of_top_two(matrix) -> float:
    """Mean over columns of (largest - second largest) entry; with one row the gap is the entry."""
    matrix = np.sort(np.asarray(matrix, dtype=float), axis=0)
    second = matrix[-2] if matrix.shape[0] > 1 else np.zeros(matrix.shape[1])
    return float(np.mean(matrix[-1] - second))


def sap_score(codes, factors, codes_test=None, factors_test=None, *,
              continuous_factors: bool = False, random_state: int = 0,
              n_jobs: int | None = -1) -> dict:
    """SAP of given codes and factors: ``{"sap": ...}`` (see :func:`score_matrix`).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.stack([np.arange(40) % 2, np.arange(40) // 20], axis=1)
    >>> sap_score(y.astype(float), y, y.astype(float), y)["sap"]
    0.5
    """
    matrix = score_matrix(codes, factors, codes_test, factors_test,
                          continuous_factors=continuous_factors, random_state=random_state,
                          n_jobs=n_jobs)
    return {"sap": gap_of_top_two(matrix)}


def sap(rep, rng, *, num_train: int = 10000, num_test: int = 5000,
        continuous_factors: bool = False, n_jobs: int | None = -1) -> dict:
    """SAP of ``rep`` (the discrete-factor variant by default).

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    num_train, num_test : int, default 10000 and 5000
    continuous_factors : bool, default False
        Score by squared correlation instead of a classifier's accuracy.
    n_jobs : int or None, default -1

    Returns
    -------
    dict
        ``{"sap": ...}``.

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> # each factor's own latent predicts it perfectly, the other one at chance (1/2)
    >>> round(sap(ideal(FactorSpace.synthetic([2, 2])), 0, num_train=400, num_test=200)["sap"], 2)
    0.5
    """
    rng = check_rng(rng)
    codes, factors, codes_test, factors_test = train_test_codes(rep, rng, num_train, num_test)
    return sap_score(codes, factors, codes_test, factors_test,
                     continuous_factors=bool(continuous_factors), random_state=seed_from(rng),
                     n_jobs=n_jobs)


SPEC = MetricSpec("sap", sap, headline="sap",
                  family="predictor", display_name="SAP", target="compactness",
                  quick={"num_train": 2000, "num_test": 1000},
                  cost=(0.44, 0.12))
