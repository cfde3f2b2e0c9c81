"""JEMMIG (Do & Tran, 2020): joint entropy minus mutual information gap.

For each factor ``y_k``, with ``z*`` the latent most informative about it and
``I_2`` the second largest information of a latent about it,

    JEMMIG(y_k) = H(z*, y_k) - I(z*; y_k) + I_2
                = H(z* | y_k) + H(y_k | z*) + I_2,

which is 0 when ``z*`` and ``y_k`` determine each other and no other latent
knows ``y_k``, and at most ``H(y_k) + log(num_bins)``.  The score is
``1 - JEMMIG(y_k) / (H(y_k) + log(num_bins))`` averaged over factors (higher is
better), the normalised form of the paper as the 2022 review of Carbonneau,
Zaidi, Boilard & Gagnon computes it (ubisoft/ubisoft-laforge-disentanglement-metrics,
``src/metrics/jemmig.py``); informations are plug-in estimates on binned codes.
The joint entropy ``H(z_l, y_k)`` is ``H(z_l) + H(y_k) - I(z_l; y_k)``.

The review and the paper agree on the definition, so the built-in follows
them; the defaults differ only in the binning, as for MIG: codes in 20
equal-width bins (disentanglement_lib's convention), the protocol's discrete
factor indices used as labels.  ``num_bins=10, continuous_factors=True,
binning="minmax"`` reproduce the review like for like.

Deliberate differences from the review's code: when several latents tie (to
1e-12 nats) for the largest information, the one with the smallest joint
entropy is ``z*`` (the review takes the one numpy's sort happens to leave on
top, which depends on the order of the latents); with a single latent
``I_2 = 0`` (the review's code fails).

Reading the score: ``H(z* | y_k)`` counts the code's own noise, so a
near-perfect code that spreads each factor value over several bins stays below
1 (0.81 for the ideal representation of two factors of 4 and 5 values with
10 % noise, 20 bins; 1.0 without noise).  Codes independent of the factors do
not score 0 but about ``(log(num_bins) - H(z*)) / (H(y_k) + log(num_bins))``:
near 0 for codes that fill their bins evenly, more for peaked ones (0.145 for
Gaussian codes in 10 bins).
"""
from __future__ import annotations

import numpy as np

from benchmark.information import discrete_entropy, discrete_mutual_info
from benchmark.spec import MetricSpec
from benchmark.validation import check_positive_int, check_rng

from ._mig import bin_codes_factors
from ._sampling import sample_codes

__all__ = ["SPEC", "jemmig", "jemmig_score"]

#: Informations closer than this (nats) are a tie: plug-in sums of the same value reach
#: it in different orders and differ in the last bits.
_TIE = 1e-12


def jemmig_score(codes, factors, *, num_bins: int = 20, continuous_factors: bool = False,
                 binning: str = "histogram") -> dict:
    """JEMMIG of given codes and factors (``1 -`` the normalised JEMMIG: 1 is best).

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
    num_bins : int, default 20
        Equal-width bins per code (and per factor when ``continuous_factors``); the
        normaliser is ``H(y_k) + log(num_bins)``.
    continuous_factors : bool, default False
        Min-max scale the factors to ``[0, 1]`` and bin them like the codes, as the
        review does (see :func:`metrics_baseline._mig.bin_codes_factors`).
    binning : {"histogram", "minmax"}, default "histogram"
        How the codes are binned: disentanglement_lib's or the review's.

    Returns
    -------
    dict
        ``jemmig`` (mean over factors) and ``jemmig_<k>`` per factor index ``k``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.repeat(np.arange(4), 25)[:, None]
    >>> float(jemmig_score(y.astype(float), y, num_bins=4)["jemmig"])  # z* = y, no runner-up
    1.0
    >>> # two bins of a 4-valued factor: H(y | z*) = log 2 of the normaliser log 4 + log 2
    >>> round(jemmig_score((y // 2).astype(float), y, num_bins=2)["jemmig"], 4)
    0.6667
    """
    code_labels, factor_labels = bin_codes_factors(
        codes, factors, num_bins, continuous_factors=continuous_factors, binning=binning)
    mi = discrete_mutual_info(code_labels, factor_labels)  # (L, K)
    code_entropy = discrete_entropy(code_labels)
    factor_entropy = discrete_entropy(factor_labels)
    joint = code_entropy[:, None] + factor_entropy[None, :] - mi
    # z*: among the latents tied (to rounding) for the largest information, the one of
    # smallest joint entropy, so that the order of the latents does not matter
    tied = mi >= mi.max(axis=0) - _TIE
    best = np.argmin(np.where(tied, joint, np.inf), axis=0)
    columns = np.arange(mi.shape[1])
    others = mi.copy()
    others[best, columns] = -np.inf
    second = others.max(axis=0) if mi.shape[0] > 1 else np.zeros(mi.shape[1])
    unnormalised = joint[best, columns] - mi[best, columns] + second
    scores = 1.0 - unnormalised / (factor_entropy + np.log(num_bins))
    out = {"jemmig": float(np.mean(scores))}
    out.update({f"jemmig_{k}": float(s) for k, s in enumerate(scores)})
    return out


def jemmig(rep, rng, *, num_samples: int = 10000, num_bins: int = 20,
           continuous_factors: bool = False, binning: str = "histogram") -> dict:
    """JEMMIG of ``rep`` on ``num_samples`` codes of factors drawn by ``rep.space``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    num_samples : int, default 10000
    num_bins : int, default 20
    continuous_factors : bool, default False
    binning : {"histogram", "minmax"}, default "histogram"
        See :func:`jemmig_score`.

    Returns
    -------
    dict
        ``{"jemmig": ...}``.

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> space = FactorSpace.synthetic([4, 5])
    >>> round(jemmig(ideal(space, noise=0.0), 0, num_samples=2000)["jemmig"], 2)  # noiseless codes
    1.0
    >>> # noise spreads each value of a code over several bins: H(z* | y) > 0
    >>> round(jemmig(ideal(space), 0, num_samples=2000)["jemmig"], 2)
    0.81
    """
    num_samples = check_positive_int(num_samples, "num_samples", 2)
    codes, factors = sample_codes(rep, num_samples, check_rng(rng))
    return {"jemmig": jemmig_score(codes, factors, num_bins=num_bins,
                                   continuous_factors=continuous_factors, binning=binning)["jemmig"]}


SPEC = MetricSpec("jemmig", jemmig, headline="jemmig",
                  family="information", display_name="JEMMIG", target="compactness",
                  quick={"num_samples": 3000},
                  cost=(0.006, 0.002))
