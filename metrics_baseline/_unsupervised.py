"""disentanglement_lib's unsupervised scores (Locatello et al., ICML 2019).

The reference is ``unsupervised_metrics`` in google-research/disentanglement_lib,
``disentanglement_lib/evaluation/metrics/unsupervised_metrics.py``, with its
``unsupervised.gin`` (10,000 points, 20-bin histogram discretiser).  The factors are
not used: each score measures how dependent the latents are on one another, so each
rises as a representation gets entangled, and none targets a property of
:data:`~benchmark.spec.PROPERTIES` (the card says "no expectation").  With ``C`` the
covariance of the codes (``np.cov``, ``ddof=1``):

* ``gaussian_total_correlation``: ``0.5 (sum log diag C - log det C)``, the total
  correlation of a Gaussian with that covariance (nats);
* ``gaussian_wasserstein_correlation``: ``2 tr C - 2 tr sqrt(C diag(C)[:, None])``, the
  squared 2-Wasserstein distance between that Gaussian and the product of its
  marginals; ``..._norm`` divides it by ``tr C``;
* ``mutual_info_score``: the mean over ordered pairs of distinct latents of the
  plug-in information (nats) of their binned values.

The headline is the total correlation, the one score here that does not change when a
latent is rescaled (the Wasserstein scores are dominated by the latents of largest
variance).  Deliberate differences: a constant latent (the ``circular`` attack's pad at
level 0) makes the reference's total correlation NaN; it is independent of the others
and is left out of it here.  Latents collinear up to rounding (an exact copy) make the
covariance singular and the reference's total correlation ``inf`` (or some 18 nats of
rounding noise); such codes are refused with a clear error (a sweep records the cell
as failed and goes on), since no number can stand for an infinite dependence.
"""
from __future__ import annotations

import numpy as np

from benchmark.information import discrete_mutual_info, discretize
from benchmark.spec import MetricSpec
from benchmark.validation import BenchmarkError, check_codes, check_positive_int, check_rng

from ._sampling import sample_codes

#: Smallest eigenvalue of the latents' correlation matrix, per latent, below which they
#: count as collinear: an exact copy leaves only rounding error there (about 1e-16), which
#: would otherwise read as a total correlation of some 18 nats; a copy with noise of
#: relative size 1e-6 (eigenvalue about 1e-12) is still scored.
_COLLINEAR = 64 * np.finfo(float).eps

__all__ = ["SPEC", "gaussian_total_correlation", "gaussian_wasserstein_correlation",
           "unsupervised", "unsupervised_score"]


def gaussian_total_correlation(cov) -> float:
    """Total correlation (nats) of a Gaussian of covariance ``cov``.

    A constant latent (zero variance) is independent of the others and adds nothing: it
    is left out.  Latents collinear up to rounding make it infinite: refused.
    """
    cov = np.asarray(cov, dtype=float)
    varying = np.diag(cov) > 0
    cov = cov[np.ix_(varying, varying)]
    if cov.shape[0] < 2:
        return 0.0
    scale = np.sqrt(np.diag(cov))
    if np.linalg.eigvalsh(cov / np.outer(scale, scale))[0] <= _COLLINEAR * cov.shape[0]:
        raise BenchmarkError("the codes' covariance is singular (a latent is a linear function of "
                             "others): their Gaussian total correlation is infinite")
    return float(0.5 * (np.sum(np.log(np.diag(cov))) - np.linalg.slogdet(cov)[1]))


def gaussian_wasserstein_correlation(cov) -> float:
    """Squared 2-Wasserstein distance between a Gaussian of covariance ``cov`` and the
    product of its marginals."""
    cov = np.asarray(cov, dtype=float)
    # The reference takes sqrtm(diag(C) C); its trace is that of the symmetric
    # D^1/2 C D^1/2 (the same eigenvalues), whose square roots stay real on singular C.
    d = np.sqrt(np.diag(cov))
    eigenvalues = np.linalg.eigvalsh(d[:, None] * cov * d[None, :])
    return float(2 * np.trace(cov) - 2 * np.sum(np.sqrt(np.clip(eigenvalues, 0.0, None))))


def unsupervised_score(codes, *, num_bins: int = 20) -> dict:
    """The four unsupervised scores of given codes (see the module docstring).

    Parameters
    ----------
    codes : ndarray of shape (n, L), L >= 2
    num_bins : int, default 20
        Equal-width bins per latent for the mutual-information score.

    Returns
    -------
    dict
        ``gaussian_total_correlation`` (the headline), ``gaussian_wasserstein_correlation``,
        ``gaussian_wasserstein_correlation_norm`` and ``mutual_info_score``.

    Examples
    --------
    >>> import numpy as np
    >>> z = np.random.default_rng(0).multivariate_normal([0, 0], [[1, .6], [.6, 1]], 200000)
    >>> out = unsupervised_score(z)
    >>> round(out["gaussian_total_correlation"], 3)  # -log(1 - .36) / 2
    0.223
    >>> round(out["gaussian_wasserstein_correlation_norm"], 3)  # (4 - 2 (sqrt 1.6 + sqrt .4)) / 2
    0.103
    """
    codes = check_codes(codes)
    if codes.shape[1] < 2:
        raise BenchmarkError(f"codes need at least two latents to be dependent, got {codes.shape[1]}")
    num_bins = check_positive_int(num_bins, "num_bins")
    cov = np.cov(codes, rowvar=False)
    if not np.trace(cov) > 0:
        raise BenchmarkError("codes are constant: their latents have no dependence to measure")
    wasserstein = gaussian_wasserstein_correlation(cov)
    binned = discretize(codes, num_bins)
    mi = discrete_mutual_info(binned, binned)
    num_codes = codes.shape[1]
    return {"gaussian_total_correlation": gaussian_total_correlation(cov),
            "gaussian_wasserstein_correlation": wasserstein,
            "gaussian_wasserstein_correlation_norm": wasserstein / float(np.trace(cov)),
            "mutual_info_score": float((mi.sum() - np.trace(mi)) / (num_codes**2 - num_codes))}


def unsupervised(rep, rng, *, num_samples: int = 10000, num_bins: int = 20) -> dict:
    """The unsupervised scores of ``rep`` on ``num_samples`` codes drawn by ``rep.space``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    num_samples : int, default 10000
        The ``unsupervised.gin`` size (the factors drawn with the codes are not used).
    num_bins : int, default 20

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> out = unsupervised(ideal(FactorSpace.synthetic([3, 4])), 0, num_samples=5000)
    >>> out["gaussian_total_correlation"] < 1e-3
    True
    """
    num_samples = check_positive_int(num_samples, "num_samples", 3)
    codes, _ = sample_codes(rep, num_samples, check_rng(rng))
    return unsupervised_score(codes, num_bins=num_bins)


SPEC = MetricSpec("unsupervised", unsupervised, headline="gaussian_total_correlation",
                  family="unsupervised", display_name="Gaussian total correlation",
                  rising={"gaussian_total_correlation", "gaussian_wasserstein_correlation",
                          "gaussian_wasserstein_correlation_norm", "mutual_info_score"},
                  quick={"num_samples": 3000})
