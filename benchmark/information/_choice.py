"""Which estimator applies to a representation, and the public entry point that
dispatches to it through a small table (as ``scipy.stats`` does)."""
from __future__ import annotations

import numpy as np

from ..representations import GaussianStructure, InformationEquivalent, Posteriors
from ..validation import BenchmarkError, check_rng
from ._exact import covariance_parts, linear_table_parts, mixture_informations
from ._knn import knn_informations
from ._result import Informations
from ._structure import RESOLVE_THRESHOLD

__all__ = ["ESTIMATORS", "equivalent", "exact_applies", "exact_is_reliable", "informations",
           "resolve_estimator"]


#: Every accepted value of ``estimator``.
ESTIMATORS = ("auto", "exact", "knn")


def _exact(rep, rng, options):
    return mixture_informations(
        rep, rng, num_mc_points=options["num_mc_points"], num_components=options["num_components"],
        resolve_threshold=options["resolve_threshold"],
        exploit_structure=options["exploit_structure"], max_memory_mb=options["max_memory_mb"])


def _knn(rep, rng, options):
    return knn_informations(rep, rng, num_samples=options["num_samples"], k=options["k"])


_ESTIMATORS = {"exact": _exact, "knn": _knn}


def equivalent(rep):
    """``(rep', order)``: the representation whose informations ``rep`` has, latent
    ``l`` of ``rep`` being latent ``order[l]`` of ``rep'``
    (:class:`~benchmark.representations.InformationEquivalent`, followed to the end)."""
    order = np.arange(rep.dim)
    while isinstance(rep, InformationEquivalent):
        rep, inner = rep.information_equivalent()
        order = np.asarray(inner)[order]
    return rep, order


def _reordered(info: Informations, order) -> Informations:
    """``info`` of ``rep'`` as the informations of the latents ``order`` of it."""
    if np.array_equal(order, np.arange(info.single.shape[1])):
        return info
    return Informations(info.single[:, order], info.rest[:, order], info.joint, info.entropy,
                        info.estimator)


def exact_applies(rep) -> bool:
    """Whether the exact estimator can run on ``rep`` at all: it offers
    :class:`~benchmark.representations.GaussianStructure` or
    :class:`~benchmark.representations.Posteriors`, or it is a linear map of a
    posterior table: each row's posterior is then Gaussian
    (:func:`~benchmark.information._exact.linear_table_parts` and
    :func:`~benchmark.information._exact.covariance_parts`)."""
    rep = equivalent(rep)[0]
    return (isinstance(rep, (GaussianStructure, Posteriors)) or linear_table_parts(rep) is not None
            or covariance_parts(rep) is not None)


def exact_is_reliable(rep, num_components: int = 10000) -> bool:
    """Whether ``auto`` should use the exact estimator on ``rep``.

    Always for Gaussian structure.  For per-sample posteriors only when the
    mixture holds every point of the data: on a factor grid
    (``rep.space.is_grid``) when the grid has at most ``num_components``
    points; for a :class:`~benchmark.representations.PosteriorTable`, whose
    every row is a component however many there are, when the table covers
    the whole factor grid, and the same for the noise, redundancy and duplicate
    attacks on such a table; for other linear maps of it (each row a
    full-covariance Gaussian) when it also has at most ``num_components`` rows
    (larger ones would be sampled).  A mixture over a sparse set of grid points or rows
    with narrow posteriors singles out rows, and through them the values of
    factors that are dependent within the sample, which overstates redundancy
    (``examples/make_encodings.py``'s table is such a case; numbers in
    ``benchmarks/README.md``).
    """
    rep = equivalent(rep)[0]
    if isinstance(rep, GaussianStructure):
        return True
    parts = linear_table_parts(rep)
    if parts is not None:
        return bool(parts[0].covers_grid)
    parts = covariance_parts(rep)
    if parts is not None:
        return bool(parts[0].covers_grid) and parts[0].num_rows <= num_components
    if isinstance(rep, Posteriors):
        return rep.space.is_grid and np.prod(rep.space.sizes, dtype=float) <= num_components
    return False


def resolve_estimator(rep, estimator: str = "auto", num_components: int = 10000) -> str:
    """The estimator ``estimator`` stands for on ``rep``: ``"exact"`` or ``"knn"``.

    ``"auto"`` picks ``"exact"`` where :func:`exact_is_reliable`, ``"knn"``
    otherwise; an explicit ``"exact"`` is refused where :func:`exact_applies`
    does not hold.
    """
    if estimator not in ESTIMATORS:
        raise BenchmarkError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}")
    if estimator == "auto":
        return "exact" if exact_is_reliable(rep, num_components) else "knn"
    if estimator == "exact" and not exact_applies(rep):
        raise BenchmarkError(
            f"estimator='exact' needs a Gaussian representation or posterior variances; "
            f"{getattr(rep, 'name', type(rep).__name__)!r} has neither (use estimator='knn')")
    return estimator


def informations(rep, rng, *, estimator: str = "auto", num_mc_points: int = 10000,
                 num_components: int = 10000, num_samples: int = 10000, k: int = 3,
                 resolve_threshold: float | None = RESOLVE_THRESHOLD,
                 exploit_structure: bool = True, max_memory_mb: float = 200.0) -> Informations:
    """``I(y_k; z_l)``, ``I(y_k; z_-l)`` and ``I(y_k; z)`` for every factor and latent.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    estimator : {"auto", "exact", "knn"}
        See :func:`resolve_estimator`.
    num_mc_points, num_components, resolve_threshold, exploit_structure, max_memory_mb
        Options of the exact estimator (:func:`mixture_informations`).
    num_samples, k
        Options of the nearest-neighbour estimator (:func:`knn_informations`).

    Returns
    -------
    Informations

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> from benchmark.information import informations
    >>> info = informations(ideal(FactorSpace.synthetic([4, 3])), 0)
    >>> info.estimator, info.single.shape
    ('exact', (2, 2))
    >>> bool(abs(info.single[0, 0] - info.entropy[0]) < 0.01)  # latent 0 resolves factor 0
    True
    """
    rng = check_rng(rng)
    name = resolve_estimator(rep, estimator, num_components)
    base, order = equivalent(rep)
    options = {"num_mc_points": num_mc_points, "num_components": num_components,
               "num_samples": num_samples, "k": k, "resolve_threshold": resolve_threshold,
               "exploit_structure": exploit_structure, "max_memory_mb": max_memory_mb}
    return _reordered(_ESTIMATORS[name](base, rng, options), order)
