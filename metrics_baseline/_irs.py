"""Interventional Robustness Score (Suter, Miladinović, Schölkopf & Bauer, ICML 2019).

disentanglement_lib's definition (``evaluation/metrics/irs.py``, code adopted from
the authors'), which the review of Carbonneau, Zaidi, Boilard & Gagnon (2022)
reuses (ubisoft/ubisoft-laforge-disentanglement-metrics, ``src/metrics/irs.py``).
Latents of zero variance are dropped.  For latent ``l`` and factor ``i``, the
deviation is the ``diff_quantile`` quantile of ``|z_l - E[z_l | g_i = v]|`` over
the rows with ``g_i = v``, averaged over the values ``v`` present (unweighted);
divided by the latent's largest deviation from its mean, ``max |z_l - E[z_l]|``,
and subtracted from 1, it gives the IRS matrix.  A latent's score is its best
factor's entry; IRS is the mean of the latents' scores weighted by their largest
deviations.  IRS is deterministic given the arrays.

Defaults: disentanglement_lib's ``diff_quantile=0.99`` (the paper and the review
use 1.0, the largest deviation) and its ``num_train=10000`` codes.  The protocol's
factors are value indices and are grouped by value as they are;
disentanglement_lib first bins them into 20 equal-width bins
(``histogram_discretizer``), which merges values only for factors with more than
20 values, and the review into 10 (``continuous_factors=True, nb_bins=10``):
``continuous_factors=True, num_bins=...`` does that.  The headline is
disentanglement_lib's ``IRS`` (``avg_score``), reported as ``irs``;
``num_active_dims`` counts the latents kept (disentanglement_lib sums their values
instead, a slip).
"""
from __future__ import annotations

import numbers

import numpy as np

from benchmark.spec import MetricSpec
from benchmark.validation import BenchmarkError, check_codes_factors, check_positive_int, check_rng

from ._binning import review_bins
from ._sampling import sample_codes

__all__ = ["SPEC", "irs", "irs_matrix", "irs_score"]


def _check_quantile(value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise BenchmarkError(f"diff_quantile must be a number in [0, 1], got {value!r}")
    return float(value)


def irs_matrix(codes, factors, *, diff_quantile: float = 0.99):
    """The IRS matrix of latents with non-zero variance, and their largest deviations.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
        Rows are grouped by each factor's value as given.
    diff_quantile : float, default 0.99

    Returns
    -------
    matrix : ndarray of shape (L', K)
        ``1 - deviation / max deviation`` for the ``L'`` latents of non-zero variance.
    max_deviations : ndarray of shape (L',)
    active : ndarray of bool, shape (L,)

    Examples
    --------
    >>> import numpy as np
    >>> y = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    >>> irs_matrix(y.astype(float), y, diff_quantile=1.0)[0].tolist()  # latent l copies factor l
    [[1.0, 0.0], [0.0, 1.0]]
    """
    codes, factors = check_codes_factors(codes, factors)
    diff_quantile = _check_quantile(diff_quantile)
    active = codes.var(axis=0) > 0
    z = codes[:, active]
    max_deviations = np.max(np.abs(z - z.mean(axis=0)), axis=0)
    deviations = np.empty((z.shape[1], factors.shape[1]))
    for i, column in enumerate(factors.T):
        _, inverse, counts = np.unique(column, return_inverse=True, return_counts=True)
        order = np.argsort(inverse, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        grouped = z[order]
        means = np.add.reduceat(grouped, starts, axis=0) / counts[:, None]
        diffs = np.abs(grouped - np.repeat(means, counts, axis=0))
        if diff_quantile == 1.0:
            # The paper's version: the largest deviation within each group, in one pass.
            per_value = np.maximum.reduceat(diffs, starts, axis=0)
        else:
            per_value = np.stack([np.quantile(diffs[s:s + c], diff_quantile, axis=0)
                                  for s, c in zip(starts, counts)])
        deviations[:, i] = per_value.mean(axis=0)
    return 1.0 - deviations / max_deviations[:, None], max_deviations, active


def irs_score(codes, factors, *, diff_quantile: float = 0.99, continuous_factors: bool = False,
              num_bins: int = 10) -> dict:
    """IRS of given codes and factors.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
    diff_quantile : float, default 0.99
        Quantile of the within-group deviations (disentanglement_lib's default; 1.0 is
        the paper's and the review's choice).
    continuous_factors : bool, default False
        Treat the factors as continuous, as the review does: min-max scale each one to
        ``[0, 1]`` and bin it into ``num_bins`` equal-width bins
        (:func:`~metrics_baseline._binning.review_bins`).  Otherwise rows are grouped
        by factor value.
    num_bins : int, default 10

    Returns
    -------
    dict
        ``irs`` (the headline, 0 when every latent is constant) and ``num_active_dims``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.stack(np.meshgrid(np.arange(3), np.arange(4)), -1).reshape(-1, 2)
    >>> irs_score(y.astype(float), y)["irs"]  # each latent fixed by fixing its factor
    1.0
    """
    codes, factors = check_codes_factors(codes, factors)
    if continuous_factors:
        factors = review_bins(factors, num_bins)
    matrix, max_deviations, active = irs_matrix(codes, factors, diff_quantile=diff_quantile)
    if not active.any():
        return {"irs": 0.0, "num_active_dims": 0.0}
    # Active latents have a positive largest deviation, so the weights never all vanish.
    score = np.average(matrix.max(axis=1), weights=max_deviations)
    return {"irs": float(score), "num_active_dims": float(active.sum())}


def irs(rep, rng, *, num_train: int = 10000, diff_quantile: float = 0.99) -> dict:
    """IRS of ``rep`` on ``num_train`` codes of factors drawn by ``rep.space``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    num_train : int, default 10000
    diff_quantile : float, default 0.99

    Returns
    -------
    dict
        ``irs`` (the headline) and ``num_active_dims`` (see :func:`irs_score`).

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> # below 1: the codes' noise moves them when their factor is held fixed
    >>> round(irs(ideal(FactorSpace.synthetic([3, 4])), 0, num_train=2000)["irs"], 2)
    0.83
    """
    num_train = check_positive_int(num_train, "num_train", 2)
    diff_quantile = _check_quantile(diff_quantile)
    codes, factors = sample_codes(rep, num_train, check_rng(rng))
    return irs_score(codes, factors, diff_quantile=diff_quantile)


SPEC = MetricSpec("irs", irs, headline="irs",
                  family="intervention", display_name="IRS", target="modularity",
                  quick={"num_train": 2000},
                  cost=(0.01, 0.004))
