"""Mutual Information Gap (Chen et al., 2018), disentanglement_lib's definition.

The defaults are disentanglement_lib's: codes binned into 20 equal-width bins
over each column's range, factors used as given (discrete value indices), the
gap of the two most informative latents divided by the factor's entropy.

Options reproduce the variant of the 2022 review of Carbonneau, Zaidi, Boilard
& Gagnon (ubisoft/ubisoft-laforge-disentanglement-metrics, ``src/metrics/mig.py``
with the kwargs of ``src/experiments/config.py``) like for like:
``num_bins=10, continuous_factors=True, binning="minmax", normalization="code"``.
The binning helpers (:func:`~metrics_baseline._binning.review_bins`, :func:`bin_codes_factors`) are
shared by the other information-based metrics (MIG-sup, JEMMIG, DCIMIG,
modularity).
"""
from __future__ import annotations

import numpy as np

from benchmark.information import discrete_entropy, discrete_mutual_info, discretize
from benchmark.spec import MetricSpec
from benchmark.validation import BenchmarkError, check_codes_factors, check_positive_int, check_rng

from ._binning import review_bins
from ._sampling import sample_codes

__all__ = ["BINNINGS", "NORMALIZATIONS", "SPEC", "bin_codes_factors", "mig",
           "mig_score", "normalised_informations", "top_two_gap"]

#: How codes are cut into equal-width bins: ``histogram`` (disentanglement_lib,
#: :func:`benchmark.information.discretize`) or ``minmax`` (the review,
#: :func:`~metrics_baseline._binning.review_bins`).
BINNINGS = ("histogram", "minmax")

#: What an information gap is divided by: the entropy of the ``factor`` (Chen et al.,
#: disentanglement_lib) or of the binned ``code`` (the review: pyitlib's ``norm_factor='Y'``).
NORMALIZATIONS = ("factor", "code")


def _check_choice(value, choices, argname: str) -> str:
    if not isinstance(value, str) or value not in choices:
        raise BenchmarkError(f"{argname} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return value


def bin_codes_factors(codes, factors, num_bins: int = 20, *, continuous_factors: bool = False,
                      binning: str = "histogram"):
    """Validated ``(code labels, factor labels)`` for the plug-in informations.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
    num_bins : int, default 20
        Equal-width bins per code column (and per factor when ``continuous_factors``).
    continuous_factors : bool, default False
        Treat the factors as continuous, as the review does: min-max scale each one to
        ``[0, 1]`` (``index / (size - 1)`` when its first and last values occur) and bin it like the
        codes with :func:`~metrics_baseline._binning.review_bins`.  Otherwise factor values are
        the labels.
    binning : {"histogram", "minmax"}, default "histogram"
        How the codes are binned (see :data:`BINNINGS`).

    Returns
    -------
    tuple of two int64 ndarrays, shapes (n, L) and (n, K)
    """
    codes, factors = check_codes_factors(codes, factors)
    num_bins = check_positive_int(num_bins, "num_bins")
    _check_choice(binning, BINNINGS, "binning")
    code_labels = discretize(codes, num_bins) if binning == "histogram" else review_bins(codes, num_bins)
    factor_labels = review_bins(factors, num_bins) if continuous_factors else factors
    return code_labels, factor_labels


def normalised_informations(code_labels, factor_labels, normalization: str = "factor") -> np.ndarray:
    """Plug-in ``I(z_l; y_k)`` of binned codes and factors divided by ``H(y_k)``
    (``normalization="factor"``) or by ``H(z_l)`` (``"code"``); shape ``(L, K)``, 0 where
    the entropy is 0.

    Examples
    --------
    >>> y = np.array([[0], [0], [1], [1]])
    >>> z = np.array([[1, 1], [1, 1], [2, 1], [2, 2]])  # a copy of y; a code that sees half of it
    >>> normalised_informations(z, y, "factor").round(3).tolist()
    [[1.0], [0.311]]
    >>> normalised_informations(z, y, "code").round(3).tolist()
    [[1.0], [0.384]]
    """
    _check_choice(normalization, NORMALIZATIONS, "normalization")
    mi = discrete_mutual_info(code_labels, factor_labels)
    if normalization == "factor":
        entropy = discrete_entropy(factor_labels)[None, :]
    else:
        entropy = discrete_entropy(code_labels)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(entropy > 0, mi / entropy, 0.0)


def top_two_gap(matrix, axis: int = 0) -> np.ndarray:
    """Largest minus second largest entry along ``axis`` (the largest when there is one entry).

    Examples
    --------
    >>> top_two_gap(np.array([[0.75, 0.25], [0.5, 1.0]]), axis=1).tolist()
    [0.5, 0.5]
    >>> top_two_gap(np.array([[0.75, 0.25]]), axis=0).tolist()
    [0.75, 0.25]
    """
    top = -np.sort(-np.asarray(matrix, dtype=float), axis=axis)
    first = np.take(top, 0, axis=axis)
    second = np.take(top, 1, axis=axis) if top.shape[axis] > 1 else np.zeros_like(first)
    return first - second


def mig_score(codes, factors, *, num_bins: int = 20, continuous_factors: bool = False,
              binning: str = "histogram", normalization: str = "factor") -> dict:
    """MIG of given codes and factors.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
    num_bins : int, default 20
        Equal-width histogram bins per latent.
    continuous_factors : bool, default False
        Min-max scale and bin the factors into ``num_bins`` bins too (the review's
        ``continuous_factors=True``; see :func:`bin_codes_factors`).
    binning : {"histogram", "minmax"}, default "histogram"
        How the codes are binned (:data:`BINNINGS`).
    normalization : {"factor", "code"}, default "factor"
        ``factor``: the gap of the two largest informations divided by the factor's
        entropy (Chen et al., disentanglement_lib).  ``code``: each information
        ``I(factor; code)`` divided by the binned code's entropy before taking the
        gap, as the review does (0 for a constant code, where the review returns NaN).

    Returns
    -------
    dict
        ``mig`` (mean over factors of ``(top1 - top2) / H(factor)``, the
        plug-in informations of the two most informative latents) and
        ``mig_<k>`` per factor index ``k``.

    Notes
    -----
    The review's parameters are ``num_bins=10, continuous_factors=True,
    binning="minmax", normalization="code"``; with them a near-perfect representation
    of factors with more than 10 values scores well below 1 (0.71 on three factors of
    3, 4 and 5 values whose codes carry 10 % noise), both because the codes' bins are
    coarse and because a noisy code has more entropy than its factor.  With a single
    latent the second largest information is 0 (the review's code fails).

    Examples
    --------
    >>> import numpy as np
    >>> y = np.repeat(np.arange(4), 25)[:, None]
    >>> mig_score(y.astype(float), y)["mig"]  # one latent copies the only factor
    1.0
    """
    if normalization == "factor" and binning == "histogram" and not continuous_factors:
        # disentanglement_lib's definition, kept operation for operation
        codes, factors = check_codes_factors(codes, factors)
        num_bins = check_positive_int(num_bins, "num_bins")
        mi = discrete_mutual_info(discretize(codes, num_bins), factors)  # (L, K)
        entropy = discrete_entropy(factors)
        top = -np.sort(-mi, axis=0)
        second = top[1] if mi.shape[0] > 1 else np.zeros(mi.shape[1])
        with np.errstate(divide="ignore", invalid="ignore"):
            gaps = np.where(entropy > 0, (top[0] - second) / entropy, 0.0)
    else:
        _check_choice(normalization, NORMALIZATIONS, "normalization")
        code_labels, factor_labels = bin_codes_factors(
            codes, factors, num_bins, continuous_factors=continuous_factors, binning=binning)
        if normalization == "factor":
            # the gap first, then the division, as in disentanglement_lib
            entropy = discrete_entropy(factor_labels)
            mi = discrete_mutual_info(code_labels, factor_labels)  # (L, K)
            with np.errstate(divide="ignore", invalid="ignore"):
                gaps = np.where(entropy > 0, top_two_gap(mi, axis=0) / entropy, 0.0)
        else:
            gaps = top_two_gap(normalised_informations(code_labels, factor_labels, "code"), axis=0)
    out = {"mig": float(np.mean(gaps))}
    out.update({f"mig_{k}": float(g) for k, g in enumerate(gaps)})
    return out


def mig(rep, rng, *, num_samples: int = 10000, num_bins: int = 20, continuous_factors: bool = False,
        binning: str = "histogram", normalization: str = "factor") -> dict:
    """MIG of ``rep`` on ``num_samples`` codes of factors drawn by ``rep.space``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    num_samples : int, default 10000
    num_bins : int, default 20
    continuous_factors : bool, default False
    binning : {"histogram", "minmax"}, default "histogram"
    normalization : {"factor", "code"}, default "factor"
        See :func:`mig_score`.

    Returns
    -------
    dict
        ``{"mig": ...}`` (see :func:`mig_score`).

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> round(mig(ideal(FactorSpace.synthetic([4, 5])), 0, num_samples=2000)["mig"], 2)
    0.99
    """
    num_samples = check_positive_int(num_samples, "num_samples", 2)
    codes, factors = sample_codes(rep, num_samples, check_rng(rng))
    return {"mig": mig_score(codes, factors, num_bins=num_bins, continuous_factors=continuous_factors,
                             binning=binning, normalization=normalization)["mig"]}


SPEC = MetricSpec("mig", mig, headline="mig",
                  family="information", display_name="MIG", default=True, target="compactness",
                  quick={"num_samples": 3000},
                  cost=(0.007, 0.003))
