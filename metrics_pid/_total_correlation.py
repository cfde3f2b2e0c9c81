"""Total correlation of the representation, ``TC(z) = sum_l H(z_l) - H(z)``.

The statistical dependence among the latents (Watanabe 1960), in nats: 0 when
the latents are independent, larger as they share more.  It needs no factors.
Tokui & Sato (2022) report it next to their redundancy bound; beta-TCVAE and
FactorVAE penalise it in training.  With independent factors, a factor spread
over several latents (duplicated, rotated, mixed in pairs) makes those latents
dependent, so it rises with those kinds of entanglement; it cannot see
information that is lost (noise keeps independent latents independent), nor a
latent that carries two factors on its own, nor synergy whose parts are
pairwise independent (the ``xor`` key pad).  Its spec names no target
property: it is closest to compactness but reads no factors, so it would be
judged on attacks (noise, missing factors) it cannot see by construction.
"""
from __future__ import annotations

import numpy as np

from benchmark.information import (
    equivalent,
    gaussian_total_correlation,
    knn_total_correlation,
    mixture_entropies,
    resolve_estimator,
)
from benchmark.representations import GaussianStructure, Posteriors, PosteriorTable
from benchmark.spec import MetricSpec
from benchmark.validation import (
    BenchmarkError,
    check_codes,
    check_factor_array,
    check_positive_int,
    check_rng,
)

__all__ = ["SPEC", "total_correlation", "total_correlation_estimator", "total_correlation_score"]


def total_correlation_estimator(rep, estimator: str, num_components: int) -> str:
    """UniBound's estimator for ``rep``, where the mixture entropies can follow it.

    They need Gaussian structure or posteriors themselves (an attacked table's
    informations are exact, its entropies are not), and hold at most
    ``num_components`` rows of a table: ``auto`` leaves a larger table to kNN
    rather than estimate the entropies of a sample of its rows.
    """
    name = resolve_estimator(rep, estimator, num_components)
    if name == "posterior_knn":  # the codes it draws are posterior draws, one per row
        return "knn"
    base = equivalent(rep)[0]
    if name == "exact" and not isinstance(base, (GaussianStructure, Posteriors)):
        if estimator == "exact":
            raise BenchmarkError("total_correlation: estimator='exact' needs a Gaussian representation "
                                 "or posterior variances (use estimator='knn')")
        return "knn"
    if name == "exact" and estimator == "auto" and isinstance(base, PosteriorTable) \
            and base.num_rows > num_components:
        return "knn"
    return name


def _gaussian_tc(codes) -> float:
    return gaussian_total_correlation(np.cov(codes, rowvar=False)) if codes.shape[1] > 1 else 0.0


def total_correlation_score(codes, factors=None, *, k: int = 3) -> dict:
    """Total correlation of given codes, by nearest neighbours.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), optional
        Not used (the total correlation needs no factors); checked against
        ``codes`` when given, so the core is called as every other core is.
    k : int, default 3
        Neighbours of the Kraskov-Stoegbauer-Grassberger estimator.

    Returns
    -------
    dict
        ``total_correlation``: the KSG estimate
        (:func:`benchmark.information.knn_total_correlation`) on the distinct
        rows of ``codes`` (a repeated row has no nearest-neighbour density; a
        table sampled with replacement repeats rows), not clipped at 0;
        ``gaussian_total_correlation``: ``-0.5 log det R`` of the codes'
        correlation matrix, disentanglement_lib's unsupervised
        ``gaussian_total_correlation`` (the total correlation of a Gaussian
        with the codes' covariance: only linear dependence).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> z = rng.standard_normal((3000, 2))
    >>> z[:, 1] += z[:, 0]  # correlation 1 / sqrt(2): TC = 0.5 log 2 = 0.347
    >>> out = total_correlation_score(z)
    >>> [bool(abs(out[key] - 0.347) < 0.03) for key in ("total_correlation", "gaussian_total_correlation")]
    [True, True]
    """
    codes = check_codes(codes, "codes")
    k = check_positive_int(k, "k")
    if factors is not None:
        factors = check_factor_array(factors)
        if len(factors) != len(codes):
            raise BenchmarkError(f"codes and factors differ in number of rows "
                                 f"({len(codes)} != {len(factors)})")
    distinct = np.unique(codes, axis=0)
    if len(distinct) <= k:
        raise BenchmarkError(f"codes needs more than k = {k} distinct rows, got {len(distinct)}")
    return {"total_correlation": knn_total_correlation(distinct, k=k),
            "gaussian_total_correlation": _gaussian_tc(codes)}


def total_correlation(rep, rng, *, estimator: str = "auto", num_mc_points: int = 10000,
                      num_components: int = 10000, num_samples: int = 10000, k: int = 3) -> dict:
    """Total correlation ``sum_l H(z_l) - H(z)`` of ``rep``'s latents, in nats.

    With the exact estimator (chosen as UniBound chooses it,
    :func:`benchmark.information.resolve_estimator`, except on an attacked table
    of encodings and, with ``auto``, on a table of more than ``num_components``
    rows, which get kNN) the entropies are those of
    the aggregate mixture of Gaussians, by Monte Carlo
    (:func:`benchmark.information.mixture_entropies`: every single latent and
    the full set).  The total correlation does not change under a permutation
    of the latents or a strictly monotone map of each, so a representation
    that is such a map of a Gaussian one is scored on that one
    (:func:`benchmark.information.equivalent`).  Otherwise the KSG estimate on
    ``num_samples`` codes (:func:`total_correlation_score`), which falls short
    of large values (strongly dependent latents in many dimensions: 5.7
    instead of 7.1 nats on dsprites under ``redundancy`` at level 4).

    On a user's table with posterior variances the exact value is the total
    correlation of the mixture of the rows' posteriors (the aggregate
    posterior, as beta-TCVAE defines it).  Rows scattered farther apart than
    their posteriors' width make that mixture's latents dependent at that fine
    scale, and with many latents and narrow posteriors the mixture singles out
    rows (its joint entropy approaches ``log(rows)`` plus the posteriors'):
    compare such values between tables of the same size.  Without variances,
    the nearest-neighbour estimate on the table's distinct rows.

    There is no reference implementation of the total correlation of a
    representation among the review's metrics; ``gaussian_total_correlation``
    is disentanglement_lib's (``evaluation/metrics/unsupervised_metrics.py``)
    on ``num_samples`` codes of ``rep`` itself.  Neither value is clipped at 0:
    independent latents score 0 up to the estimator's noise (about 0.01 nats
    exact, a few hundredths by nearest neighbours).  A latent that is an exact
    function of others has an infinite total correlation; the estimators
    return a large finite value instead (the exact one through the tiny ridge
    it adds to a singular noise covariance).

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    estimator : {"auto", "exact", "knn"}
    num_mc_points, num_components : int, default 10000
        Monte Carlo evaluation points and largest number of mixture components
        of the exact estimator (as for :func:`metrics_pid.unibound`).
    num_samples, k : int, default 10000 and 3
        Codes drawn for the nearest-neighbour estimate and the Gaussian total
        correlation, and the estimator's neighbour count.

    Returns
    -------
    dict
        ``total_correlation`` (the headline) and ``gaussian_total_correlation``,
        both in nats, both rising with entanglement.

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> round(total_correlation(ideal(FactorSpace.synthetic([4, 3])), 0)["total_correlation"], 2)
    0.0
    """
    rng = check_rng(rng)
    num_samples = check_positive_int(num_samples, "num_samples", 2)
    k = check_positive_int(k, "k")
    name = total_correlation_estimator(rep, estimator, num_components)
    y = rep.space.sample(num_samples, rng)
    codes = check_codes(rep.encode(y, rng), "codes of rep")
    if name == "knn":
        return total_correlation_score(codes, k=k)
    h = mixture_entropies(equivalent(rep)[0], rng, num_mc_points=num_mc_points,
                          num_components=num_components)
    return {"total_correlation": float(h[:-1].sum() - h[-1]),
            "gaussian_total_correlation": _gaussian_tc(codes)}


SPEC = MetricSpec(
    "total_correlation", total_correlation, headline="total_correlation",
    display_name="Total correlation", family="information", target=None, default=False,
    rising=("total_correlation", "gaussian_total_correlation"),
    quick={"num_mc_points": 2000, "num_components": 2000, "num_samples": 2000},
    cost=(0.4, 0.09))
