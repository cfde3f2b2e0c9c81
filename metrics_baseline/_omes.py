"""OMES, overlap and multiple-encoding scores (Dapueto, Noceti & Odone, NeurIPS 2024).

The reference is ``OMES`` in JacopoDapueto/transfer_disentanglement,
``src/evaluation/metrics/omes.py``, with its pairs from
``src/utils/postprocess_utils.py`` (``get_one_diff_couples``).  For each factor ``k``,
pairs of inputs that differ in factor ``k`` only are encoded; a latent ``d`` that
encodes ``k`` changes within the pairs, one that does not stays put:

* ``C[d, k] = 1 - |corr(x_d, y_d)|`` over the pairs of factor ``k`` (Pearson),
  rounded to 4 decimals as the reference rounds it; latents whose standard deviation
  is below 0.05 (inactive) are dropped first;
* overlap score of latent ``d`` for factor ``k``: ``1 - mean_j |[j = k] - C[d, j]|``
  (the latent should respond to ``k`` and to nothing else); multiple-encoding score:
  ``1 - mean_e |[e = d] - C[e, k]|`` (the factor should move that latent and no other);
* pooled over latents with the weights ``C[:, k]``: ``avg`` (the default)
  ``sum_d score_d C[d, k]^2 / sum_d C[d, k]``, or ``max`` ``max_d score_d C[d, k]``;
* factor score ``alpha * overlap + (1 - alpha) * multiple_encoding``; OMES is the mean
  over factors (``alpha = 0.5`` by default).

Pairs: on a grid, a free factor vector and a copy whose factor ``k`` takes another value,
uniform among the others (the reference pairs distinct vectors of a table that agree on
the other factors, shuffled, which draws the same pairs in distribution).  On a table of
encodings, ``num_pairs`` pairs drawn as the reference's own pairs of that table
(:func:`one_diff_pairs`) are distributed: a group of ``m`` distinct vectors that agree on
the other factors is drawn in proportion to the ``m * (m // 2)`` pairs it gives, then two
of its distinct vectors.

OMES assumes a deterministic encoder, as the authors' models' means are: the two
members of a pair are encoded independently, so a latent of pure noise (the
``nuisance`` attack, or a stochastic encoder's sampling noise) decorrelates within
every pair and reads as responding to every factor (``C`` near 1 in its row); OMES
falls with such latents.  The headline weighs the overlap score (of modularity, its
target) and the multiple-encoding score (of compactness) equally, so it also falls
under ``duplicate``; the ``overlap`` key alone is the modularity reading.

Values near 1 need factors with many values: when a factor of ``m`` values changes
within a pair, a latent that copies it has ``corr(x_d, y_d) = -1 / (m - 1)`` (uniform
distinct values), so ``C[d, k] = 1 - 1 / (m - 1)``: 0.5 for three values, and 0 for a
binary factor, which OMES then cannot see in any latent.  An ideal code of dSprites
scores about 0.82, of two factors of three and four values about 0.45.  This is the
reference's behaviour, kept.

Deliberate differences: the reference rounds OMES to 4 decimals (here it is not rounded;
the per-factor scores are not rounded by either); it decides which latents are inactive
on 10,000 codes drawn with replacement (here on every code of the pairs); a latent that
is constant within a factor's pairs has no correlation (the reference gets NaN there),
here it did not move: ``C = 0``; where every ``C[:, k]`` is 0 the reference's
``np.average`` raises ``ZeroDivisionError``, here that factor scores 0.
"""
from __future__ import annotations

import numpy as np

from benchmark.spec import MetricSpec
from benchmark.validation import (
    BenchmarkError,
    check_codes,
    check_factor_array,
    check_positive_int,
    check_rng,
)

from ._sampling import _groups, encode_batches, sample_factors

__all__ = ["POOLINGS", "SPEC", "omes", "omes_per_factor", "omes_score", "one_diff_pairs",
           "response_matrix"]

#: Latents whose standard deviation is below this are inactive (the reference's threshold).
INACTIVE_STD = 0.05


def _avg(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    total = weights.sum(axis=0)
    pooled = np.sum(scores * weights**2, axis=0)
    return np.divide(pooled, total, out=np.zeros_like(total), where=total > 0)


def _max(scores: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.max(scores * weights, axis=0)


#: How the per-latent scores of a factor are pooled, weighted by its column of ``C``.
POOLINGS = {"avg": _avg, "max": _max}


def response_matrix(pairs_x, pairs_y) -> np.ndarray:
    """``C[d, k] = 1 - |corr(x_d, y_d)|`` over the pairs of factor ``k``, to 4 decimals.

    ``pairs_x[k]`` and ``pairs_y[k]`` are the ``(n_k, L)`` codes of the two members of
    factor ``k``'s pairs.
    """
    if len(pairs_x) != len(pairs_y) or not len(pairs_x):
        raise BenchmarkError(f"pairs_x and pairs_y need one array of pairs per factor each, got "
                             f"{len(pairs_x)} and {len(pairs_y)} arrays")
    columns = []
    for k, (x, y) in enumerate(zip(pairs_x, pairs_y)):
        x, y = check_codes(x, f"pairs_x[{k}]"), check_codes(y, f"pairs_y[{k}]")
        if x.shape != y.shape or x.shape[0] < 2:
            raise BenchmarkError(f"factor {k}: pairs_x and pairs_y must have the same shape with "
                                 f"two pairs or more, got {x.shape} and {y.shape}")
        x, y = x - x.mean(axis=0), y - y.mean(axis=0)
        norm = np.sqrt(np.sum(x**2, axis=0) * np.sum(y**2, axis=0))
        with np.errstate(divide="ignore", invalid="ignore"):
            corr = np.where(norm > 0, np.sum(x * y, axis=0) / norm, 1.0)
        columns.append(np.round(1.0 - np.abs(corr), 4))
    if len({c.shape for c in columns}) > 1:
        raise BenchmarkError("every factor's pairs must have the same number of latents")
    return np.stack(columns, axis=1)


def omes_per_factor(response, *, alpha: float = 0.5, pooling: str = "avg") -> np.ndarray:
    """Each factor's ``alpha * overlap + (1 - alpha) * multiple_encoding`` from ``C``."""
    c = np.asarray(response, dtype=float)
    if c.ndim != 2 or 0 in c.shape:
        raise BenchmarkError(f"response must be a non-empty (latents, factors) matrix, got {c.shape}")
    if pooling not in POOLINGS:
        raise BenchmarkError(f"pooling must be one of {', '.join(map(repr, POOLINGS))}, got {pooling!r}")
    if not 0 <= alpha <= 1:
        raise BenchmarkError(f"alpha must lie in [0, 1], got {alpha}")
    num_latents, num_factors = c.shape
    # |one-hot - row|: the entry at the one-hot position counts |1 - C|, the others C.
    off = np.abs(1.0 - c) - c
    overlap = 1.0 - (c.sum(axis=1, keepdims=True) + off) / num_factors
    multiple = 1.0 - (c.sum(axis=0, keepdims=True) + off) / num_latents
    pool = POOLINGS[pooling]
    return alpha * pool(overlap, c) + (1 - alpha) * pool(multiple, c)


def omes_score(pairs_x, pairs_y, *, alpha: float = 0.5, pooling: str = "avg",
               active=None) -> dict:
    """OMES of the codes of pairs differing in one factor each.

    Parameters
    ----------
    pairs_x, pairs_y : sequence of K ndarrays of shape (n_k, L)
        Factor ``k``'s pairs: row ``p`` of ``pairs_x[k]`` and of ``pairs_y[k]`` encode
        inputs that differ in factor ``k`` only.
    alpha : float, default 0.5
        Weight of the overlap score against the multiple-encoding score.
    pooling : {"avg", "max"}, default "avg"
        See :data:`POOLINGS`.
    active : array of bool of shape (L,), optional
        The latents to keep; by default those whose standard deviation over all the
        pairs' codes is at least :data:`INACTIVE_STD`.

    Returns
    -------
    dict
        ``omes`` (the headline), ``overlap`` (alpha 1) and ``multiple_encoding`` (alpha 0).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> a, b = rng.normal(size=(2, 20000, 2))         # two pair members, two factors
    >>> x = [np.c_[a[:, 0], a[:, 1]], np.c_[a[:, 0], a[:, 1]]]
    >>> y = [np.c_[b[:, 0], a[:, 1]], np.c_[a[:, 0], b[:, 1]]]  # factor k moves latent k
    >>> round(omes_score(x, y)["omes"], 2)
    0.99
    """
    response = response_matrix(pairs_x, pairs_y)
    if active is None:
        codes = np.concatenate([*pairs_x, *pairs_y])
        active = codes.std(axis=0, ddof=1) >= INACTIVE_STD
    active = np.asarray(active, dtype=bool)
    if active.shape != (response.shape[0],):
        raise BenchmarkError(f"active must have one entry per latent ({response.shape[0]}), "
                             f"got shape {active.shape}")
    if not active.any():
        raise BenchmarkError(f"every latent is inactive (standard deviation below {INACTIVE_STD})")
    response = response[active]
    return {"omes": float(np.mean(omes_per_factor(response, alpha=alpha, pooling=pooling))),
            "overlap": float(np.mean(omes_per_factor(response, alpha=1.0, pooling=pooling))),
            "multiple_encoding": float(np.mean(omes_per_factor(response, alpha=0.0,
                                                               pooling=pooling)))}


def _one_diff_groups(factors: np.ndarray, k: int):
    """Each distinct factor vector's first row, and their groups by the factors other
    than ``k``: ``(first, order, starts, sizes, group)`` as ``_groups`` gives them."""
    order, starts, _, _ = _groups(factors)
    first = order[starts]  # a stable sort keeps each distinct vector's first row first
    return (first, *_groups(np.delete(factors[first], k, axis=1)))


def one_diff_pairs(factors, rng) -> list:
    """The reference's pairs of a table: for each factor ``k``, row indices ``(x, y)``.

    Every distinct factor vector ``c`` visits its group (the distinct vectors that agree
    with ``c`` on the other factors, each represented by its first row), shuffles it and
    pairs positions (0, 1), (2, 3), ...; a group of ``m`` vectors is visited ``m`` times.
    """
    factors = check_factor_array(factors)
    rng = check_rng(rng)
    out = []
    for k in range(factors.shape[1]):
        first, order, starts, sizes, group = _one_diff_groups(factors, k)
        xs, ys = [np.empty(0, np.int64)], [np.empty(0, np.int64)]
        for g in group:
            shuffled = rng.permutation(first[order[starts[g]:starts[g] + sizes[g]]])
            half = shuffled.size // 2
            xs.append(shuffled[0:2 * half:2])
            ys.append(shuffled[1:2 * half:2])
        out.append((np.concatenate(xs), np.concatenate(ys)))
    return out


def _pairs(rep, k: int, num_pairs: int, rng) -> np.ndarray:
    """``(num_pairs, 2, K)`` factor vectors differing in factor ``k`` only."""
    space = rep.space
    if space.is_grid:
        first = sample_factors(rep, num_pairs, rng)
        second = first.copy()
        size = space.sizes[k]
        second[:, k] = (first[:, k] + rng.integers(1, size, size=num_pairs)) % size
        return np.stack([first, second], axis=1)
    rows = getattr(space, "rows", None)
    if rows is None:
        raise BenchmarkError(f"factor space {space.name!r} can pair inputs differing in one factor "
                             "only on a full grid or from a table of rows")
    # The reference's pairs (one_diff_pairs) in distribution, without listing them all: a
    # group of m distinct vectors gives m * (m // 2) of them, each two distinct members.
    first, order, starts, sizes, _ = _one_diff_groups(rows, k)
    weights = (sizes * (sizes // 2)).astype(float)
    if weights.sum() == 0:
        raise BenchmarkError(f"the encodings have no two rows that differ only in factor "
                             f"{space.names[k]!r}; OMES cannot pair them")
    chosen = rng.choice(sizes.size, size=num_pairs, p=weights / weights.sum())
    m = sizes[chosen]
    i = rng.integers(0, m)
    j = (i + rng.integers(1, m)) % m
    member = first[order]
    return np.stack([rows[member[starts[chosen] + i]], rows[member[starts[chosen] + j]]], axis=1)


def omes(rep, rng, *, num_pairs: int = 10000, alpha: float = 0.5, pooling: str = "avg") -> dict:
    """OMES of ``rep`` on ``num_pairs`` pairs per factor drawn by ``rep.space``.

    Parameters
    ----------
    rep : Representation
    rng : int or numpy.random.Generator
    num_pairs : int, default 10000
        Pairs per factor (the reference uses every pair of its table, at most 100,000).
    alpha, pooling
        As in :func:`omes_score`.

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> out = omes(ideal(FactorSpace.synthetic([3, 4])), 0, num_pairs=2000)
    >>> round(out["omes"], 2)  # an ideal code: see "values near 1" in the module docstring
    0.45
    """
    num_pairs = check_positive_int(num_pairs, "num_pairs", 2)
    rng = check_rng(rng)
    pairs_x, pairs_y = [], []
    for k in range(rep.space.num_factors):
        if rep.space.sizes[k] < 2:
            raise BenchmarkError(f"factor {rep.space.names[k]!r} has one value: no pair differs in it")
        codes = encode_batches(rep, _pairs(rep, k, num_pairs, rng), rng)
        pairs_x.append(codes[:, 0])
        pairs_y.append(codes[:, 1])
    return omes_score(pairs_x, pairs_y, alpha=alpha, pooling=pooling)


SPEC = MetricSpec("omes", omes, headline="omes", family="intervention", display_name="OMES",
                  target="modularity", quick={"num_pairs": 2000})
