"""The exact estimator at full scale: every row of a posterior table is a mixture
component, streamed block by block, and blocks that cannot matter to an evaluation
point are skipped by a bound on their densities.

A table of a whole data set (737,280 dSprites images) against 10,000 evaluation
points is 7.4e9 density evaluations per latent subset, and 21 subsets for 10
latents.  Two things make it affordable without changing the estimate by more
than a stated tolerance:

* Rows are ordered into blocks of nearby posterior means (a k-d split), and a
  block's box of means and range of variances bound, per evaluation point, the
  largest log density any of its rows can give.  Every point was drawn from a
  row of its own, which lies in every sum the estimate takes (the whole mixture
  and the mixture of each of its factor values), so a block whose bound lies
  ``log(num_rows / SKIP_TOLERANCE)`` below that row's own log density cannot
  move any of those sums by more than the factor ``1 + SKIP_TOLERANCE``, even
  if every row of the table were such a block: each information moves by less
  than ``SKIP_TOLERANCE`` nats.
* A single latent is one-dimensional: its rows merge into bins of nearly equal
  mean and variance (:func:`binned_rows`), and the bins form the mixture.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ._threads import MAX_WORKERS, map_in_threads

__all__ = ["SKIP_TOLERANCE", "RowBlocks", "Subset", "binned_rows", "streamed_informations"]

#: Bound on what skipping blocks moves an information, in nats.
SKIP_TOLERANCE = 1e-4

#: Rows per block: smaller blocks have tighter bounds (fewer wasted densities) but
#: cost more Python-level iterations.
BLOCK_ROWS = 256

#: Blocks are split into this many fixed groups for the threads, so that sums are
#: taken in one order whatever the number of threads.
GROUPS = 8

#: Log densities further than this below a point's own row count as zero (the
#: exponent is clipped there, far below what float32 carries next to 1).
CLIP = -100.0

#: Exponents above this relative to the point's own row are done in double precision
#: (float32's exp overflows at 88.7); a row far narrower than the point's own can get there.
FLOAT32_EXPONENT = 80.0


def kd_blocks(keys: np.ndarray, leaf: int):
    """``(order, starts)``: rows reordered so that each run ``order[starts[b]:starts[b+1]]``
    is a leaf of a k-d split of ``keys`` (halving at the median of the widest
    coordinate), with at most ``leaf`` rows."""
    order = np.arange(len(keys))
    stack, leaves = [(0, len(keys))], []
    while stack:
        a, b = stack.pop()
        if b - a <= leaf:
            leaves.append(a)
            continue
        segment = order[a:b]
        part = keys[segment]
        widest = int(np.argmax(part.max(axis=0) - part.min(axis=0)))
        half = (b - a) // 2
        order[a:b] = segment[np.argpartition(part[:, widest], half)]
        stack += [(a, a + half), (a + half, b)]
    return order, np.array(sorted(leaves) + [len(keys)])


@dataclass
class RowBlocks:
    """A posterior table's rows in block order, with what the kernel needs of each block.

    ``mu``, ``var`` ``(N, L)``; ``labels`` ``(N, K)`` factor values; ``starts``
    the first row of each block (and ``N``); ``lo``, ``hi``, ``vmin``, ``vmax``
    ``(blocks, L)`` the box of means and range of variances of each block;
    ``order`` maps block order back to table rows (``mu == table_mu[order]``).
    """

    mu: np.ndarray
    var: np.ndarray
    labels: np.ndarray
    starts: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    vmin: np.ndarray
    vmax: np.ndarray
    order: np.ndarray

    @classmethod
    def build(cls, mu, var, labels, leaf: int = BLOCK_ROWS) -> "RowBlocks":
        # split in units of each latent's typical posterior spread: a collapsed latent
        # (means ~0, variance ~1) is then never split, an informative one often
        keys = mu / np.sqrt(np.median(var, axis=0))
        order, starts = kd_blocks(keys, leaf)
        mu, var = mu[order], var[order]
        first = starts[:-1]
        return cls(mu, var, labels[order], starts, np.minimum.reduceat(mu, first),
                   np.maximum.reduceat(mu, first), np.minimum.reduceat(var, first),
                   np.maximum.reduceat(var, first), order)


def log_density_bound(x, lo, hi, vmin, vmax) -> np.ndarray:
    """Per point and latent, the largest ``-(x - m)^2 / (2 v) - log(v) / 2`` over means
    ``m`` in ``[lo, hi]`` and variances ``v`` in ``[vmin, vmax]``.

    At distance ``d`` from the box the best variance is ``d^2`` clipped to the range.
    """
    d = np.maximum(np.maximum(lo - x, x - hi), 0.0)
    d *= d
    v = np.clip(d, vmin, vmax)
    return -0.5 * (d / v + np.log(v))


@dataclass
class Subset:
    """A latent subset of a diagonal posterior table, as the kernel sees it.

    All latents of the table, but latent ``drop`` (None: none), and, in its
    place, an extra coordinate ``extra`` ``(n,)`` whose density under row ``r`` is
    ``N(mu[r, drop], var[r, drop] + extra_var)``: how a noisy linear copy of the
    dropped latent looks once the rest is conditioned on (see
    ``benchmark.information._exact``).
    """

    drop: int | None = None
    extra: np.ndarray | None = None
    extra_var: float = 0.0


def _half_terms(x, mu, var):
    """``(x - mu)^2 / (2 var) + log(var) / 2`` for every (point, row) pair (x: ``(p,)``)."""
    t = np.subtract.outer(x, mu)
    t *= t
    t *= 0.5 / var
    t += 0.5 * np.log(var)
    return t


def streamed_informations(blocks: RowBlocks, sizes, x, rows, subsets: dict, *,
                          tolerance: float = SKIP_TOLERANCE, max_memory_mb: float = 200.0) -> dict:
    """Mean log-ratios ``log p(x | y_k = own value) - log p(x)`` over the points ``x``,
    for every factor and every subset in ``subsets`` (``{key: Subset}``).

    ``rows`` are the points' own rows (block order): ``x[i]`` was drawn from row
    ``rows[i]``'s posterior, and carries its factor values.  Every row of the
    table is a component of weight one.  At most ``max_memory_mb`` are held by the
    blocks' density matrices at once (the table's own arrays aside: about
    ``8 (4 L + K + 1)`` bytes per row).  Returns ``{key: (K,) array}``.
    """
    num_rows, dim = blocks.mu.shape
    n, num_factors = len(x), len(sizes)
    keys = list(subsets)
    offsets = np.concatenate([[0], np.cumsum(sizes)])[:-1]
    columns = blocks.labels + offsets                      # (N, K) one-hot column per factor
    own = columns[rows]                                    # (n, K) each point's own columns
    # each point's own row, subset by subset: the reference every sum is taken against
    t_own = (x - blocks.mu[rows]) ** 2 * (0.5 / blocks.var[rows]) + 0.5 * np.log(blocks.var[rows])
    total_own = t_own.sum(axis=1)
    reference = np.empty((len(keys), n))
    for s, key in enumerate(keys):
        sub = subsets[key]
        ref = -total_own
        if sub.drop is not None:
            ref = ref + t_own[:, sub.drop]
            if sub.extra is not None:
                v = blocks.var[rows, sub.drop] + sub.extra_var
                ref = ref - (0.5 * (sub.extra - blocks.mu[rows, sub.drop]) ** 2 / v + 0.5 * np.log(v))
        reference[s] = ref
    threshold = np.log(num_rows / tolerance)
    # the whole set's half distances as one matmul: [x^2, x, 1] @ [1/2v, -mu/v, sum(mu^2/2v + log v/2)]
    x_poly = np.hstack([x * x, x, np.ones((n, 1))])
    half_iv = 0.5 / blocks.var
    coef = np.hstack([half_iv, -2.0 * blocks.mu * half_iv,
                      (blocks.mu**2 * half_iv + 0.5 * np.log(blocks.var)).sum(axis=1, keepdims=True)])
    num_blocks = len(blocks.starts) - 1
    widest = int(np.max(np.diff(blocks.starts)))
    # ~4 matrices of (points x block rows) doubles alive per thread
    piece = max(1, int(max_memory_mb * 1e6 / (4 * 8 * widest * MAX_WORKERS)))

    def densities(sub, reference, pts, a, e):
        """Densities of rows ``a:e`` at the points ``pts``, relative to each point's own row."""
        expo = x_poly[pts] @ coef[a:e].T               # half distances, whole set
        if sub.drop is not None:
            l = sub.drop
            expo -= _half_terms(x[pts, l], blocks.mu[a:e, l], blocks.var[a:e, l])
            if sub.extra is not None:
                expo += _half_terms(sub.extra[pts], blocks.mu[a:e, l], blocks.var[a:e, l] + sub.extra_var)
        expo += reference[pts, None]
        np.negative(expo, out=expo)                    # log density minus the own row's
        np.maximum(expo, CLIP, out=expo)
        if expo.max() < FLOAT32_EXPONENT:
            return np.exp(expo.astype(np.float32))
        return np.exp(expo)

    def work(group):
        totals = np.zeros((len(keys), n))
        owns = np.zeros((len(keys), n, num_factors))
        for b in range(group, num_blocks, GROUPS):
            a, e = blocks.starts[b], blocks.starts[b + 1]
            g = log_density_bound(x, blocks.lo[b], blocks.hi[b], blocks.vmin[b], blocks.vmax[b])
            whole = g.sum(axis=1)
            present = np.unique(columns[a:e])
            member = (columns[a:e, :, None] == present).any(axis=1).astype(np.float32)  # (B, m)
            slot = np.minimum(np.searchsorted(present, own), len(present) - 1)
            here = present[slot] == own                    # own value present in the block
            for s, key in enumerate(keys):
                sub = subsets[key]
                bound = whole
                if sub.drop is not None:
                    bound = bound - g[:, sub.drop]
                    if sub.extra is not None:
                        l = sub.drop
                        bound = bound + log_density_bound(
                            sub.extra, blocks.lo[b, l], blocks.hi[b, l],
                            blocks.vmin[b, l] + sub.extra_var, blocks.vmax[b, l] + sub.extra_var)
                hits = np.flatnonzero(bound - reference[s] >= -threshold)
                for pts in np.array_split(hits, -(-len(hits) // piece)) if len(hits) else ():
                    dens = densities(sub, reference[s], pts, a, e)
                    totals[s, pts] += dens.sum(axis=1, dtype=np.float64)
                    grouped = dens @ member.astype(dens.dtype, copy=False)  # (p, m) per value
                    picked = np.take_along_axis(grouped, slot[pts], axis=1)
                    owns[s, pts] += np.where(here[pts], picked, 0.0)
        return totals, owns

    with threadpool_limits(1, user_api="blas"):
        parts = map_in_threads(work, range(GROUPS))
    totals = sum(p[0] for p in parts)                      # fixed group order
    owns = sum(p[1] for p in parts)
    counts = np.concatenate([np.bincount(blocks.labels[:, k], minlength=size)
                             for k, size in enumerate(sizes)])
    log_count = np.log(counts[own])                        # rows sharing each own value
    out = {}
    for s, key in enumerate(keys):
        ratio = (np.log(owns[s]) - log_count) - (np.log(totals[s]) - np.log(num_rows))[:, None]
        out[key] = ratio.mean(axis=0)
    return out


#: Bins of :func:`binned_rows`: log variances within ``LOG_VAR_WIDTH`` of each other,
#: means within ``MEAN_WIDTH`` standard deviations.
LOG_VAR_WIDTH = 0.05
MEAN_WIDTH = 0.05


def binned_rows(mean: np.ndarray, var: np.ndarray, labels: np.ndarray, sizes):
    """One latent's rows merged into bins of nearly equal posterior: ``(means, variances,
    weights)`` of the bins, ``weights[j, offset_k + v]`` the number of rows of bin ``j``
    with factor ``k`` at value ``v``.

    A bin holds rows whose log variances lie within :data:`LOG_VAR_WIDTH` and whose
    means lie within :data:`MEAN_WIDTH` of the bin's smallest standard deviation;
    it becomes one Gaussian with the rows' mean and total variance (mean variance
    plus the spread of the means), which keeps the mixture's first two moments.
    """
    level = np.floor(np.log(var) / LOG_VAR_WIDTH)
    width = MEAN_WIDTH * np.exp(0.5 * LOG_VAR_WIDTH * level)
    cell = np.floor(mean / width)
    _, bins = np.unique(np.stack([level, cell], axis=1), axis=0, return_inverse=True)
    bins = bins.reshape(-1)
    nb = int(bins.max()) + 1
    count = np.bincount(bins, minlength=nb).astype(float)
    centre = np.bincount(bins, weights=mean, minlength=nb) / count
    spread = np.bincount(bins, weights=(mean - centre[bins]) ** 2, minlength=nb) / count
    total_var = np.bincount(bins, weights=var, minlength=nb) / count + spread
    weights = np.concatenate([np.bincount(bins * size + labels[:, k], minlength=nb * size)
                              .reshape(nb, size) for k, size in enumerate(sizes)], axis=1)
    return centre, total_var, weights.astype(float)
