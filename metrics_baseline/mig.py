"""Mutual Information Gap (Chen et al., 2018), disentanglement_lib's definition."""
from __future__ import annotations

import numpy as np

from benchmark.histogram import discrete_entropy, discrete_mutual_info, discretize
from benchmark.registry import register_metric
from benchmark.validation import check_codes_factors, check_positive_int


def compute(codes, factors, num_bins: int = 20) -> dict:
    """MIG of given codes and factors.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
    num_bins : int, default 20
        Equal-width histogram bins per latent.

    Returns
    -------
    dict with ``mig`` (mean over factors of ``(top1 - top2) / H(factor)``) and
    ``mig_<k>`` per factor index ``k``.
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


@register_metric("mig", headline="mig", default=True, quick={"num_samples": 3000})
def mig(rep, rng, num_samples: int = 10000, num_bins: int = 20) -> dict:
    """MIG on ``num_samples`` codes of ``rep`` with uniformly drawn factors."""
    num_samples = check_positive_int(num_samples, "num_samples", 2)
    factors = rep.space.sample(num_samples, rng)
    result = compute(rep.encode(factors, rng), factors, num_bins)
    return {"mig": result["mig"]}
