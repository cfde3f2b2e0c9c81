"""UniBound and its redundancy/synergy companions (Tokui & Sato 2022)."""
from __future__ import annotations

from benchmark.information import informations, knn_informations_from_codes
from benchmark.spec import MetricSpec
from benchmark.validation import check_rng

from ._bounds import aggregate, pid_bounds

__all__ = ["SPEC", "unibound", "unibound_details", "unibound_score"]


def unibound_details(rep, rng, *, estimator: str = "auto", num_mc_points: int = 10000,
                     num_components: int = 10000, num_samples: int = 10000, k: int | None = None,
                     num_rows: int = 50000):
    """:func:`unibound` and the raw informations it came from
    (:meth:`benchmark.information.Informations.to_dict`), from one estimation."""
    info = informations(rep, check_rng(rng), estimator=estimator, num_mc_points=num_mc_points,
                        num_components=num_components, num_samples=num_samples, k=k,
                        num_rows=num_rows)
    return aggregate(pid_bounds(info.single, info.rest, info.joint, info.entropy)), info.to_dict()


def unibound(rep, rng, *, estimator: str = "auto", num_mc_points: int = 10000,
             num_components: int = 10000, num_samples: int = 10000, k: int | None = None,
             num_rows: int = 50000) -> dict:
    """UniBound and the other PID bound scores of ``rep``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    estimator : {"auto", "exact", "knn", "posterior_knn"}
        ``auto``: the exact mixture-of-Gaussians estimator for Gaussian
        representations and for posteriors whose mixture holds the whole data
        (a grid, or a table of encodings that covers the grid); kNN on one
        posterior draw per row for a table with variances that samples the
        data; kNN on the codes otherwise (see
        :func:`benchmark.information.resolve_estimator`).
    num_mc_points, num_components : int, default 10000
        Monte Carlo evaluation points and largest number of mixture components
        of the exact estimator.
    num_samples : int, default 10000
        Sample size of the kNN estimator.
    k : int, optional
        Neighbour count of the kNN estimators (3 for ``knn``, 1 for ``posterior_knn``).
    num_rows : int, default 50000
        Table rows drawn (without replacement) by ``posterior_knn``.

    Returns
    -------
    dict
        ``unibound`` (the headline), ``unibound_u``, ``redundancy_l``,
        ``redundancy_u``, ``synergy_l``, ``synergy_u``, ``mi``.

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> round(unibound(ideal(FactorSpace.synthetic([4, 3])), 0)["unibound"], 2)
    1.0
    """
    return unibound_details(rep, rng, estimator=estimator, num_mc_points=num_mc_points,
                            num_components=num_components, num_samples=num_samples, k=k,
                            num_rows=num_rows)[0]


def unibound_score(codes, factors, *, k: int = 3) -> dict:
    """UniBound and the other PID bound scores of given codes, by the kNN estimator.

    The informations are estimated on the rows as given and normalised by
    the plug-in entropies of ``factors``; for the exact estimator on a table
    with posterior variances use :func:`unibound` on
    :func:`benchmark.from_arrays`.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
    k : int, default 3

    Returns
    -------
    dict
        See :func:`unibound`.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 4, size=(2000, 2))
    >>> codes = y + 0.05 * rng.standard_normal(y.shape)
    >>> bool(unibound_score(codes, y)["unibound"] > 0.9)
    True
    """
    info = knn_informations_from_codes(codes, factors, k=k)
    return aggregate(pid_bounds(info.single, info.rest, info.joint, info.entropy))


SPEC = MetricSpec(
    "unibound", unibound, headline="unibound", display_name="UniBound", default=True,
    target="unique_information", family="information",
    rising=("redundancy_l", "redundancy_u", "synergy_l", "synergy_u"), highlight=True,
    quick={"num_mc_points": 2000, "num_components": 2000, "num_samples": 2000, "num_rows": 5000},
    details=unibound_details,
    cost=(1, 0.19))
