"""Mutual Information Gap (Chen et al., 2018), disentanglement_lib's definition."""
from __future__ import annotations

import numpy as np

from benchmark.information import discrete_entropy, discrete_mutual_info, discretize
from benchmark.spec import MetricSpec
from benchmark.validation import check_codes_factors, check_positive_int, check_rng

from ._sampling import sample_codes

__all__ = ["SPEC", "mig", "mig_score"]


def mig_score(codes, factors, *, num_bins: int = 20) -> dict:
    """MIG of given codes and factors.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
    num_bins : int, default 20
        Equal-width histogram bins per latent.

    Returns
    -------
    dict
        ``mig`` (mean over factors of ``(top1 - top2) / H(factor)``, the
        plug-in informations of the two most informative latents) and
        ``mig_<k>`` per factor index ``k``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.repeat(np.arange(4), 25)[:, None]
    >>> mig_score(y.astype(float), y)["mig"]  # one latent copies the only factor
    1.0
    """
    codes, factors = check_codes_factors(codes, factors)
    num_bins = check_positive_int(num_bins, "num_bins")
    mi = discrete_mutual_info(discretize(codes, num_bins), factors)  # (L, K)
    entropy = discrete_entropy(factors)
    top = -np.sort(-mi, axis=0)
    second = top[1] if mi.shape[0] > 1 else np.zeros(mi.shape[1])
    with np.errstate(divide="ignore", invalid="ignore"):
        gaps = np.where(entropy > 0, (top[0] - second) / entropy, 0.0)
    out = {"mig": float(np.mean(gaps))}
    out.update({f"mig_{k}": float(g) for k, g in enumerate(gaps)})
    return out


def mig(rep, rng, *, num_samples: int = 10000, num_bins: int = 20) -> dict:
    """MIG of ``rep`` on ``num_samples`` codes of factors drawn by ``rep.space``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    num_samples : int, default 10000
    num_bins : int, default 20

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
    return {"mig": mig_score(codes, factors, num_bins=num_bins)["mig"]}


SPEC = MetricSpec("mig", mig, headline="mig",
                  family="information", display_name="MIG", default=True, target="compactness",
                  quick={"num_samples": 3000})
