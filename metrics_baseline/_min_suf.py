"""Minimality and sufficiency (Almudévar & Ortega, "Rethinking Disentanglement under
Dependent Factors of Variation", arXiv:2408.07016, 2024).

The reference is ``estimate_min_suf`` in antonioalmudevar/dependent_disentanglement,
``src/metrics/min_suf.py``; the default of 15 bins is its default.  Each latent
is binned into equal-width bins over its observed range; with plug-in
(histogram) estimates ``I(y_k; z_l)``, ``H(y_k)`` and ``H(z_l)``:

* minimality: mean over latents of ``max_k I(y_k; z_l) / H(z_l)``, the share of
  a latent's information that its best factor explains (a latent that holds
  one factor and nothing else is minimal; close to modularity);
* sufficiency: mean over factors of ``max_l I(y_k; z_l) / H(y_k)``, the share of
  a factor's information that its best latent holds (close to compactness).

The factors are used as labels (their value indices; no scaling to [0, 1] is
needed).  Both scores depend on the binning as the reference's do: a latent
binned more finely than its factor's values has ``H(z_l) > I(y_k; z_l)``
(minimality below 1 even for an ideal representation, e.g. 0.65 on the review's
``small`` set), and a factor with more values than bins cannot be held
sufficiently by one binned latent.  On codes independent of the factors both
are the plug-in estimator's bias, about ``(C - 1)(B - 1) / (2 n)`` nats over the
entropy (``C`` values, ``B`` bins, ``n`` samples).

Deliberate difference: where the reference divides 0 by 0 (a constant latent,
or a factor with one value) and returns NaN, that term is 0 here, as in MIG.
"""
from __future__ import annotations

import numpy as np

from benchmark.information import discrete_entropy, discrete_mutual_info, discretize
from benchmark.spec import MetricSpec
from benchmark.validation import BenchmarkError, check_codes_factors, check_positive_int, check_rng

from ._sampling import sample_codes

__all__ = ["SPEC", "min_suf", "min_suf_score"]


def _ratio(numerator: np.ndarray, entropy: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(entropy > 0, numerator / entropy, 0.0)


def min_suf_score(codes, factors, *, num_bins: int = 15) -> dict:
    """Minimality and sufficiency of given codes and factors.

    Parameters
    ----------
    codes : ndarray of shape (n, L)
    factors : ndarray of shape (n, K), integer
        Factor values, used as labels.
    num_bins : int, default 15
        Equal-width bins per latent (the reference's ``n_bins``).

    Returns
    -------
    dict
        ``minimality`` (the headline) and ``sufficiency``.

    Examples
    --------
    >>> import numpy as np
    >>> y = np.stack([np.arange(40) % 2, np.arange(40) // 10], axis=1)
    >>> # latent 0 copies factor 0; latent 1 copies factor 1 (4 values) and factor 0
    >>> z = np.stack([y[:, 0], 2 * y[:, 1] + y[:, 0]], axis=1).astype(float)
    >>> out = min_suf_score(z, y)
    >>> round(out["minimality"], 4), round(out["sufficiency"], 4)  # (1 + 2/3) / 2, 1
    (0.8333, 1.0)
    """
    codes, factors = check_codes_factors(codes, factors)
    if codes.shape[1] == 0 or factors.shape[1] == 0:
        raise BenchmarkError(f"codes and factors need at least one column each, got "
                             f"{codes.shape[1]} codes and {factors.shape[1]} factors")
    num_bins = check_positive_int(num_bins, "num_bins")
    binned = discretize(codes, num_bins)
    mi = discrete_mutual_info(factors, binned)  # (K, L)
    minimality = _ratio(mi.max(axis=0), discrete_entropy(binned))
    sufficiency = _ratio(mi.max(axis=1), discrete_entropy(factors))
    return {"minimality": float(np.mean(minimality)), "sufficiency": float(np.mean(sufficiency))}


def min_suf(rep, rng, *, num_samples: int = 10000, num_bins: int = 15) -> dict:
    """Minimality and sufficiency of ``rep`` on ``num_samples`` codes drawn by ``rep.space``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    num_samples : int, default 10000
    num_bins : int, default 15

    Returns
    -------
    dict
        ``{"minimality", "sufficiency"}`` (see :func:`min_suf_score`).

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> out = min_suf(ideal(FactorSpace.synthetic([3, 4])), 0, num_samples=2000, num_bins=4)
    >>> round(out["sufficiency"], 2)
    1.0
    """
    num_samples = check_positive_int(num_samples, "num_samples", 2)
    codes, factors = sample_codes(rep, num_samples, check_rng(rng))
    return min_suf_score(codes, factors, num_bins=num_bins)


SPEC = MetricSpec("min_suf", min_suf, headline="minimality",
                  family="information", display_name="Minimality", target="modularity",
                  quick={"num_samples": 3000},
                  cost=(0.006, 0.002))
