"""Information estimators for ``I(y_k; z_S)``: factor ``k`` against a latent subset ``S``.

The PID metric needs, for every factor ``k`` and latent ``l``, the three
informations ``I(y_k; z_l)``, ``I(y_k; z_-l)`` (all latents but ``l``) and
``I(y_k; z)``; :func:`informations` returns all of them as an
:class:`Informations`, with ``estimator="auto" | "exact" | "knn"``:

``exact`` (:func:`mixture_informations`)
    ``I(y_k; z_S) = H(z_S) - H(z_S | y_k)`` for mixtures of Gaussians, by Monte
    Carlo as in Tokui & Sato (2022), for representations that offer
    :class:`~benchmark.representations.GaussianStructure` or
    :class:`~benchmark.representations.Posteriors`.
``knn`` (:func:`knn_informations`)
    The nearest-neighbour estimator of Ross (2014), for any representation.
``posterior_knn`` (:func:`posterior_knn_informations`)
    The same on one posterior draw per row of a table of encodings with
    variances that samples a data set (or a linear attack on one), with dead
    latents dropped and each latent measured in its posterior scale.

:func:`resolve_estimator` says which one ``auto`` picks.  The plug-in
(histogram) estimates of MIG and modularity are here too
(:func:`discretize`, :func:`discrete_entropy`, :func:`discrete_mutual_info`).

Modules: ``_result`` (the result type), ``_choice`` (estimator choice and
dispatch), ``_exact`` (the mixture estimator), ``_kernel`` (its chunked
log-density kernel), ``_structure`` (factor-structure analysis), ``_knn``, ``_posterior_knn``,
``_histogram``, ``_threads`` and ``_checks`` (estimates held to information theory).
"""
from ._checks import NOISE_LATENT_BIAS, TOLERANCE, breaches, silent_latent_warning
from ._choice import (
    ESTIMATORS,
    equivalent,
    exact_applies,
    exact_is_reliable,
    informations,
    resolve_estimator,
    sample_estimator,
)
from ._entropy import (
    gaussian_entropy,
    gaussian_total_correlation,
    knn_entropy,
    knn_total_correlation,
    mixture_entropies,
)
from ._exact import mixture_informations
from ._histogram import discrete_entropy, discrete_mutual_info, discretize, plugin_entropy
from ._knn import knn_informations, knn_informations_from_codes, knn_mutual_info
from ._posterior_knn import posterior_knn_informations
from ._result import Informations
from ._threads import limit_threads, map_in_threads, off_main_thread, thread_budget, usable_cores

__all__ = [
    "ESTIMATORS", "Informations", "discrete_entropy", "equivalent", "discrete_mutual_info", "discretize",
    "exact_applies", "exact_is_reliable", "informations", "knn_informations",
    "knn_informations_from_codes", "knn_mutual_info",
    "limit_threads", "map_in_threads", "off_main_thread", "thread_budget",
    "usable_cores", "mixture_informations", "plugin_entropy", "resolve_estimator",
    "gaussian_entropy", "gaussian_total_correlation", "knn_entropy", "knn_total_correlation",
    "mixture_entropies", "posterior_knn_informations", "sample_estimator", "TOLERANCE", "breaches",
    "NOISE_LATENT_BIAS", "silent_latent_warning",
]
