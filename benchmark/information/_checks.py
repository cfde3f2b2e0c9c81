"""Estimates held to information theory: where an :class:`~._result.Informations`
breaks it beyond its estimator's error, and where plain kNN is known to be biased.

Nothing here changes an estimate; the lines it returns are reported by the runner
(``run.json``'s ``information_checks`` and ``warning:`` lines)."""
from __future__ import annotations

import numpy as np

from ._result import Informations

__all__ = ["NOISE_LATENT_BIAS", "SILENT", "TOLERANCE", "breaches", "silent_latent_warning"]


#: How far (in units of the factor's entropy) an estimate may step outside
#: information theory before it is reported: the estimator's own error.  The
#: exact estimator's Monte Carlo error stays below 1e-3 of H on the check
#: cases (tests/benchmark/information/test_checks.py); the kNN estimators'
#: errors reach 0.04 of H on 20,000-row samples (benchmarks/sample_tables.py).
TOLERANCE = {"exact": 0.01, "knn": 0.05, "posterior_knn": 0.05}


def breaches(info: Informations, names=None, *, tolerance: float | None = None) -> list:
    """Where ``info`` breaks information theory by more than ``tolerance``: one line each.

    Checked, in units of ``H(y_k)``: ``0 <= I(y_k; z_S) <= H(y_k)`` for every
    subset, and ``I(y_k; z_S) <= I(y_k; z_T)`` for ``S`` inside ``T``
    (a single latent and the rest inside all latents, latent ``l`` inside
    every rest without another latent).  Nothing is clipped: a breach is the
    estimator failing on this input, and the lines say where and by how much.

    Examples
    --------
    >>> import numpy as np
    >>> info = Informations(np.array([[1.2, 0.0]]), np.array([[0.0, 1.2]]), np.array([0.4]),
    ...                     np.array([1.0986]), "knn")
    >>> print("\\n".join(breaches(info, ["shape"])))
    I(shape; z0) = 1.2 nats exceeds H(shape) = 1.099 by 0.092 of H (knn estimator)
    I(shape; z0) = 1.2 nats exceeds I(shape; z) = 0.4 by 0.73 of H (knn estimator)
    """
    names = [f"y{k}" for k in range(len(info.entropy))] if names is None else list(names)
    tol = TOLERANCE.get(info.estimator, 0.05) if tolerance is None else tolerance
    lines = []
    dim = info.single.shape[1]

    def check(k, excess, text):
        h = info.entropy[k]
        if h > 0 and excess / h > tol:
            lines.append(f"{text} by {excess / h:.2g} of H ({info.estimator} estimator)")

    for k, name in enumerate(names):
        h, joint = info.entropy[k], info.joint[k]
        subsets = [("z", joint)] + [(f"z{l}", info.single[k, l]) for l in range(dim)]
        if dim > 2:  # with two latents, each rest is the other single latent
            subsets += [(f"z_-{l}", info.rest[k, l]) for l in range(dim)]
        for label, value in subsets:
            check(k, -value, f"I({name}; {label}) = {value:.4g} nats is negative")
            check(k, value - h, f"I({name}; {label}) = {value:.4g} nats exceeds H({name}) = {h:.4g}")
        for label, value in subsets[1:]:
            check(k, value - joint, f"I({name}; {label}) = {value:.4g} nats exceeds "
                                    f"I({name}; z) = {joint:.4g}")
        if dim > 2:
            for l in range(dim):
                others = np.delete(np.arange(dim), l)
                m = others[np.argmin(info.rest[k, others])]
                check(k, info.single[k, l] - info.rest[k, m],
                      f"I({name}; z{l}) = {info.single[k, l]:.4g} nats exceeds "
                      f"I({name}; z_-{m}) = {info.rest[k, m]:.4g}")
    return lines


#: Plain kNN's fall in ``I(y; z) / H(y)`` (largest over factors and cases) when
#: ``m`` latents of pure noise are appended, ``{m: fall}``, measured on 10,000
#: codes of dSprites' Gaussian representations (``benchmarks/knn_noise_latents.csv``).
NOISE_LATENT_BIAS = {1: 0.25, 5: 0.58, 10: 0.72, 20: 0.82}

#: A latent whose every ``I(y_k; z_l)`` is below this share of ``H(y_k)`` is "silent".
SILENT = 0.02


def silent_latent_warning(info: Informations) -> list:
    """A plain-kNN estimate with latents that say nothing about any factor by
    themselves: one line with the measured bias such latents cause, if they are
    pure noise (:data:`NOISE_LATENT_BIAS`); nothing for any other estimator.

    kNN measures distances in every latent, so latents of pure noise drown the
    informative ones; ``posterior_knn`` drops them from their posteriors, but a
    table of codes alone gives no way to tell noise from a latent that is only
    informative jointly (a synergy), so the estimate is kept and flagged.

    Examples
    --------
    >>> import numpy as np
    >>> info = Informations(np.array([[0.9, 0.0, 0.001]]), np.full((1, 3), 0.9), np.array([0.9]),
    ...                     np.array([1.0]), "knn")
    >>> print(silent_latent_warning(info)[0])
    2 latent(s) (z1, z2) say nothing about any factor by themselves: if they are noise, \
kNN's I(y; z) falls by up to 0.58 of H (knn estimator, measured with 5 noise latents)
    """
    if info.estimator != "knn" or info.single.shape[1] < 2:
        return []
    share = info.single / np.where(info.entropy > 0, info.entropy, np.inf)[:, None]
    silent = np.flatnonzero(np.all(share < SILENT, axis=0))
    if len(silent) == 0:
        return []
    measured = min([m for m in NOISE_LATENT_BIAS if m >= len(silent)], default=max(NOISE_LATENT_BIAS))
    names = ", ".join(f"z{l}" for l in silent[:8]) + (", ..." if len(silent) > 8 else "")
    return [f"{len(silent)} latent(s) ({names}) say nothing about any factor by themselves: if they "
            f"are noise, kNN's I(y; z) falls by up to {NOISE_LATENT_BIAS[measured]:.2f} of H "
            f"(knn estimator, measured with {measured} noise latents)"]
