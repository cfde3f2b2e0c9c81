"""Which estimator applies to a representation, and the public entry point that
dispatches to it through a small table (as ``scipy.stats`` does)."""
from __future__ import annotations

import numpy as np

from ..representations import GaussianStructure, InformationEquivalent, Posteriors
from ..validation import BenchmarkError, check_rng
from ._exact import mixture_informations
from ._knn import knn_informations
from ._posterior_knn import posterior_knn_applies, posterior_knn_informations
from ._result import Informations
from ._structure import RESOLVE_THRESHOLD
from ._tables import covariance_parts, linear_table_parts

__all__ = ["ESTIMATORS", "equivalent", "exact_applies", "exact_is_reliable", "informations",
           "resolve_estimator", "sample_estimator"]


#: Every accepted value of ``estimator``.
ESTIMATORS = ("auto", "exact", "knn", "posterior_knn")

#: Neighbour count of each nearest-neighbour estimator when ``k`` is not given.
DEFAULT_K = {"knn": 3, "posterior_knn": 1}


def _exact(rep, rng, options):
    return mixture_informations(
        rep, rng, num_mc_points=options["num_mc_points"], num_components=options["num_components"],
        resolve_threshold=options["resolve_threshold"],
        exploit_structure=options["exploit_structure"], max_memory_mb=options["max_memory_mb"])


def _k(options, name):
    return DEFAULT_K[name] if options["k"] is None else options["k"]


def _knn(rep, rng, options):
    return knn_informations(rep, rng, num_samples=options["num_samples"], k=_k(options, "knn"))


def _posterior_knn(rep, rng, options):
    return posterior_knn_informations(rep, rng, num_rows=options["num_rows"], k=_k(options, "posterior_knn"))


_ESTIMATORS = {"exact": _exact, "knn": _knn, "posterior_knn": _posterior_knn}


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
    (:func:`~benchmark.information._tables.linear_table_parts` and
    :func:`~benchmark.information._tables.covariance_parts`)."""
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


def sample_estimator(rep) -> str:
    """The sample-based estimator of ``rep``: ``"posterior_knn"`` on a posterior table
    or a linear attack on one (:func:`~._posterior_knn.posterior_knn_applies`),
    ``"knn"`` on anything else."""
    return "posterior_knn" if posterior_knn_applies(equivalent(rep)[0]) else "knn"


def resolve_estimator(rep, estimator: str = "auto", num_components: int = 10000) -> str:
    """The estimator ``estimator`` stands for on ``rep``: ``"exact"``, ``"knn"`` or
    ``"posterior_knn"``.

    ``"auto"`` picks ``"exact"`` where :func:`exact_is_reliable`, else the
    :func:`sample_estimator` (kNN on posterior draws for a table with variances
    that is a sample of the data, plain kNN otherwise); an explicit
    ``"exact"`` or ``"posterior_knn"`` is refused where it does not apply.
    """
    if estimator not in ESTIMATORS:
        raise BenchmarkError(f"estimator must be one of {', '.join(ESTIMATORS)}, got {estimator!r}")
    if estimator == "auto":
        return "exact" if exact_is_reliable(rep, num_components) else sample_estimator(rep)
    name = getattr(rep, "name", type(rep).__name__)
    if estimator == "exact" and not exact_applies(rep):
        raise BenchmarkError(
            f"estimator='exact' needs a Gaussian representation or posterior variances; "
            f"{name!r} has neither (use estimator='knn')")
    if estimator == "posterior_knn" and sample_estimator(rep) != estimator:
        raise BenchmarkError(
            f"estimator='posterior_knn' needs a table of encodings with variances (or a linear "
            f"attack on one); {name!r} is not one (use estimator='knn')")
    return estimator


def informations(rep, rng, *, estimator: str = "auto", num_mc_points: int = 10000,
                 num_components: int = 10000, num_samples: int = 10000, k: int | None = None,
                 num_rows: int = 50000,
                 resolve_threshold: float | None = RESOLVE_THRESHOLD,
                 exploit_structure: bool = True, max_memory_mb: float = 200.0) -> Informations:
    """``I(y_k; z_l)``, ``I(y_k; z_-l)`` and ``I(y_k; z)`` for every factor and latent.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    estimator : {"auto", "exact", "knn", "posterior_knn"}
        See :func:`resolve_estimator`.
    num_mc_points, num_components, resolve_threshold, exploit_structure, max_memory_mb
        Options of the exact estimator (:func:`mixture_informations`).
    num_samples
        Sample size of the nearest-neighbour estimator (:func:`knn_informations`).
    num_rows
        Rows of a posterior table drawn by the posterior-draw nearest-neighbour
        estimator (:func:`~._posterior_knn.posterior_knn_informations`).
    k : int, optional
        Neighbour count of either nearest-neighbour estimator (default
        :data:`DEFAULT_K`: 3 for ``knn``, as scikit-learn, 1 for ``posterior_knn``).

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
               "num_samples": num_samples, "k": k, "num_rows": num_rows,
               "resolve_threshold": resolve_threshold,
               "exploit_structure": exploit_structure, "max_memory_mb": max_memory_mb}
    return _reordered(_ESTIMATORS[name](base, rng, options), order)
