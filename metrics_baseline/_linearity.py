"""Axis alignment and linearity along single-factor traversals (Michlo et al.; the
"factored components" of nmichlo/disent, ``disent/metrics/_factored_components.py``).

A *traversal* of factor ``k`` holds every other factor at a random value and runs ``k``
through all its values; its codes are a curve in latent space.  Per traversal:

* axis values: each latent's variance along it; linear values: the eigenvalues of the
  codes' covariance (a PCA of the traversal);
* a ratio of sorted values ``v``: ``r = v_max / sum(v)``, normalised to
  ``(r - 1/n) / (1 - 1/n)`` with ``n`` the number of values (the latents), so 1 when
  one direction carries all the variance and 0 when every direction carries the same;
* ``axis_ratio``: that ratio of the axis values (the traversal moves one latent only);
  ``linear_ratio``: that of the linear values (the traversal is a straight line, in any
  direction); ``axis_alignment = axis_ratio / linear_ratio``.

Each is averaged over ``repeats`` traversals per factor; ``axis_ratio_ave`` is the ratio
of the mean axis values.  Factors are combined by the geometric mean (factors of one
value left out), as in the reference, or the arithmetic mean (``aggregate=``).  The keys are the reference's
``linearity.<name>.var``.

The axis ratio asks that varying one factor move one latent, which is compactness (each
factor in one latent); that is its target.  Like the reference, it reads variances, so
it is not invariant to rescaling a latent: a latent scaled up takes the variance of a
traversal from the others.

Deliberate differences: the reference encodes images of its data set; here the
traversals are encoded by the representation (a table of encodings needs every
combination of a traversal, a full grid).  A traversal along which no latent moves
(a factor the code ignores: every latent's variance below that of a spread of 1e-10 of
the latent's own magnitude, rounding) has no direction; its ratios are 0 here, where the
reference divides rounding noise by rounding noise, and a latent that does not move
counts 0 among the axis values (rounding, ~1e-33 against any real movement, does not
move a ratio).  A code rounded in single precision by its encoder moves by more than
that floor: such movement counts.  The reference's distance components (rank correlations of
latent, factor and image distances) need the images and are not computed.
"""
from __future__ import annotations

import numpy as np

from benchmark.spec import MetricSpec
from benchmark.validation import BenchmarkError, check_positive_int, check_rng

__all__ = ["AGGREGATES", "SPEC", "linearity", "linearity_score", "normalised_top_ratio", "traversals"]


def normalised_top_ratio(values) -> np.ndarray:
    """``(max / sum - 1/n) / (1 - 1/n)`` over the last axis of non-negative ``values``
    (``n`` its length); 0 where the values sum to 0 or ``n`` is 1.

    Examples
    --------
    >>> normalised_top_ratio([[4.0, 0.0, 0.0], [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
    array([1., 0., 0.])
    """
    values = np.asarray(values, float)
    n = values.shape[-1]
    total = values.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(total > 0, values.max(axis=-1) / total, 1.0 / n)
    return (ratio - 1.0 / n) / (1.0 - 1.0 / n) if n > 1 else np.zeros_like(ratio)


def _per_factor(codes: np.ndarray) -> dict:
    """The scores of one factor's traversals, ``codes`` of shape ``(repeats, size, L)``."""
    axis_values = codes.var(axis=1, ddof=1)
    centred = codes - codes.mean(axis=1, keepdims=True)
    covariance = np.einsum("rsi,rsj->rij", centred, centred) / (codes.shape[1] - 1)
    linear_values = np.clip(np.linalg.eigvalsh(covariance), 0.0, None)
    # a latent that does not move along a traversal still gets a variance of rounding,
    # ~(1e-16 |z|)^2: below a spread of 1e-10 of its own magnitude it has not moved, and a
    # traversal where no latent moved has no direction (its ratios are 0)
    still = axis_values <= (1e-10 * np.abs(codes).max(axis=1)) ** 2
    moved = ~still.all(axis=-1)
    axis = np.where(moved, normalised_top_ratio(np.where(still, 0.0, axis_values)), 0.0)
    linear = np.where(moved, normalised_top_ratio(linear_values), 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        alignment = np.where(linear > 0, axis / (linear + 1e-20), 0.0)
    mean_values = np.where(still.all(axis=0), 0.0, axis_values.mean(axis=0))
    return {"axis_ratio": axis.mean(), "linear_ratio": linear.mean(),
            "axis_alignment": alignment.mean(),
            "axis_ratio_ave": float(normalised_top_ratio(mean_values))}


def _geometric(values) -> float:
    values = np.asarray(values, float)
    return float(np.exp(np.mean(np.log(values)))) if np.all(values > 0) else 0.0


#: How the factors' scores are combined: the reference's geometric mean (one factor that
#: fails sinks the score), or the arithmetic mean.
AGGREGATES = {"geometric": _geometric, "arithmetic": lambda values: float(np.mean(values))}


def linearity_score(traversal_codes, *, aggregate: str = "geometric") -> dict:
    """Axis alignment and linearity from the codes of traversals.

    Parameters
    ----------
    traversal_codes : list of ndarray
        Per factor, codes of shape ``(repeats, size, L)``: ``repeats`` traversals of the
        factor's ``size`` values (a factor of one value: ``size`` 1, left out).
    aggregate : {"geometric", "arithmetic"}, default "geometric"
        How factors are combined (:data:`AGGREGATES`).

    Returns
    -------
    dict
        ``axis_ratio`` (headline), ``linear_ratio``, ``axis_alignment`` and
        ``axis_ratio_ave``, combined over factors.

    Examples
    --------
    >>> import numpy as np
    >>> line = np.linspace(0.0, 1.0, 5)[None, :, None] * np.array([1.0, 1.0])  # 45 degrees
    >>> result = linearity_score([line])
    >>> round(result["axis_ratio"], 6), round(result["linear_ratio"], 6)
    (0.0, 1.0)
    """
    if aggregate not in AGGREGATES:
        raise BenchmarkError(f"aggregate must be one of {', '.join(map(repr, AGGREGATES))}, "
                             f"got {aggregate!r}")
    per_factor = []
    for k, codes in enumerate(traversal_codes):
        codes = np.asarray(codes, float)
        if codes.ndim != 3 or not np.all(np.isfinite(codes)):
            raise BenchmarkError(f"traversal_codes[{k}] must be a finite array (repeats, size, L), "
                                 f"got shape {codes.shape}")
        if codes.shape[1] > 1:
            per_factor.append(_per_factor(codes))
    if not per_factor:
        raise BenchmarkError("traversal_codes: every factor has one value; nothing to traverse")
    return {key: AGGREGATES[aggregate]([f[key] for f in per_factor]) for key in per_factor[0]}


def traversals(space, factor: int, repeats: int, rng) -> np.ndarray:
    """Factor vectors of ``repeats`` traversals of ``factor``: shape ``(repeats, size, K)``,
    every other factor at a value drawn by ``space``, ``factor`` running through its values."""
    base = space.sample(repeats, rng)
    size = space.sizes[factor]
    out = np.repeat(base[:, None, :], size, axis=1)
    out[:, :, factor] = np.arange(size)
    return out


def linearity(rep, rng, *, repeats: int = 1024, aggregate: str = "geometric") -> dict:
    """Axis alignment and linearity of ``rep`` from ``repeats`` traversals per factor.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    repeats : int, default 1024
        Traversals per factor (the reference's default; its fast setting is 128).
    aggregate : {"geometric", "arithmetic"}, default "geometric"

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> result = linearity(ideal(FactorSpace.synthetic([3, 4]), noise=0.0), 0, repeats=8)
    >>> round(result["axis_ratio"], 6), round(result["linear_ratio"], 6)
    (1.0, 1.0)
    """
    rng = check_rng(rng)
    repeats = check_positive_int(repeats, "repeats")
    codes = []
    for k in range(rep.space.num_factors):
        factors = traversals(rep.space, k, repeats, rng)
        shape = factors.shape
        codes.append(np.asarray(rep.encode(factors.reshape(-1, shape[2]), rng)).reshape(
            shape[0], shape[1], -1))
    return linearity_score(codes, aggregate=aggregate)


SPEC = MetricSpec("linearity", linearity, headline="axis_ratio", family="intervention",
                  display_name="Axis alignment", target="compactness", quick={"repeats": 128})
