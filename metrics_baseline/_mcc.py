"""Mean correlation coefficient (MCC), the identifiability literature's standard score
(Hyvärinen & Morioka 2016; Khemakhem et al. 2020).

The reference is ``mean_corr_coef`` in ilkhem/icebeem, ``metrics/mcc.py``: the
absolute correlation matrix between every latent and every factor (Pearson, or
Spearman's rank correlation), a one-to-one matching of latents to factors that
maximises the summed correlation (Hungarian algorithm), and the mean over the
``min(L, K)`` matched pairs.  Factors are their value indices, as floats; the
score is symmetric in the order of its two arguments.

MCC asks whether each factor is recovered by one latent up to an affine
(Pearson) or monotone (Spearman) map: a one-to-one correspondence, which is what
compactness asks of each factor, so that is its target (as for SAP, the other score of
one latent per factor).  Its blind spots, which the report card shows: it only looks
at the matched latents, so a duplicated or redundant latent left out of the matching
changes nothing (``duplicate`` and ``redundancy`` leave it flat where compactness
falls); with fewer latents than factors the unmatched factors are not counted (one
latent copying one of three factors scores 1).

Deliberate difference: a constant latent or factor has no correlation; numpy
returns NaN there (and the reference's matching then fails), here it is 0.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import rankdata

from benchmark.spec import MetricSpec
from benchmark.validation import BenchmarkError, check_codes, check_positive_int, check_rng

from ._sampling import sample_codes

__all__ = ["CORRELATIONS", "SPEC", "correlation_matrix", "mcc", "mcc_score"]

#: How latents and factors are correlated: Pearson on the values, or Pearson on
#: their ranks (Spearman; ties take their mean rank, as in ``scipy.stats.spearmanr``).
CORRELATIONS = {
    "pearson": lambda x: x,
    "spearman": lambda x: rankdata(x, axis=0),
}


def correlation_matrix(codes, factors, *, method: str = "pearson") -> np.ndarray:
    """``|corr(z_l, y_k)|`` of shape ``(L, K)``; 0 where a column is constant.  The
    factors may be continuous (the sources of the identifiability literature)."""
    codes, factors = check_codes(codes), check_codes(factors, "factors")
    if codes.shape[0] != factors.shape[0] or codes.shape[0] < 2:
        raise BenchmarkError(f"codes and factors need the same number of rows, at least two; got "
                             f"{codes.shape[0]} and {factors.shape[0]}")
    if method not in CORRELATIONS:
        raise BenchmarkError(f"method must be one of {', '.join(map(repr, CORRELATIONS))}, "
                             f"got {method!r}")
    transform = CORRELATIONS[method]
    x = _centred(transform(codes))
    y = _centred(transform(factors))
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = (x.T @ y) / np.outer(np.linalg.norm(x, axis=0), np.linalg.norm(y, axis=0))
    return np.clip(np.abs(np.nan_to_num(corr, nan=0.0, posinf=0.0, neginf=0.0)), 0.0, 1.0)


def _centred(x: np.ndarray) -> np.ndarray:
    """Columns minus their means; a column whose spread is only rounding error is
    zeroed, so it correlates with nothing."""
    scale = np.maximum(1.0, np.abs(x).max(axis=0))
    x = x - x.mean(axis=0)
    x[:, np.abs(x).max(axis=0) <= 1e-12 * scale] = 0.0
    return x


def mcc_score(codes, factors, *, method: str = "pearson") -> dict:
    """Mean absolute correlation of latents and factors after a one-to-one matching.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K)
        Factor values (value indices, or continuous sources).
    method : {"pearson", "spearman"}, default "pearson"
        The correlation (see :data:`CORRELATIONS`).

    Returns
    -------
    dict
        ``mcc``: the mean over the ``min(L, K)`` matched pairs.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.stack([np.arange(12) % 3, np.arange(12) // 3], axis=1)
    >>> z = np.stack([-2.0 * y[:, 1], y[:, 0] + 1.0], axis=1)  # permuted, rescaled, flipped
    >>> round(mcc_score(z, y)["mcc"], 12)
    1.0
    """
    corr = correlation_matrix(codes, factors, method=method)
    rows, cols = linear_sum_assignment(corr, maximize=True)
    return {"mcc": float(corr[rows, cols].mean())}


def mcc(rep, rng, *, num_samples: int = 10000, method: str = "pearson") -> dict:
    """MCC of ``rep`` on ``num_samples`` codes drawn by ``rep.space``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    num_samples : int, default 10000
    method : {"pearson", "spearman"}, default "pearson"

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> round(mcc(ideal(FactorSpace.synthetic([3, 4]), noise=0), 0, num_samples=500)["mcc"], 6)
    1.0
    """
    num_samples = check_positive_int(num_samples, "num_samples", 2)
    codes, factors = sample_codes(rep, num_samples, check_rng(rng))
    return mcc_score(codes, factors, method=method)


SPEC = MetricSpec("mcc", mcc, headline="mcc", family="predictor", display_name="MCC",
                  target="compactness", quick={"num_samples": 3000})
