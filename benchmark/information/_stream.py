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

from ._structure import stable_floor
from ._threads import MAX_WORKERS, map_in_threads

__all__ = ["SKIP_TOLERANCE", "RowBlocks", "Subset", "binned_rows", "covariance_informations",
           "shared_covariance_informations", "streamed_informations"]

#: Bound on what skipping blocks moves an information, in nats.
SKIP_TOLERANCE = 1e-4

#: Rows per block: smaller blocks have tighter bounds (fewer wasted densities) but
#: cost more Python-level iterations.
BLOCK_ROWS = 256

#: Blocks are split into this many fixed groups for the threads, so that sums are
#: taken in one order whatever the number of threads.
GROUPS = 8

#: Points per density matrix (for blocks of BLOCK_ROWS): 512 x 256 doubles is the
#: 1 MB of a core's second-level cache.
CACHE_POINTS = 512

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


def streamed_informations(blocks: RowBlocks, sizes, x, rows, subsets: dict, *,
                          tolerance: float = SKIP_TOLERANCE, max_memory_mb: float = 200.0,
                          dtype=np.float32) -> dict:
    """Mean log-ratios ``log p(x | y_k = own value) - log p(x)`` over the points ``x``,
    for every factor and every subset in ``subsets`` (``{key: Subset}``).

    ``rows`` are the points' own rows (block order): ``x[i]`` was drawn from row
    ``rows[i]``'s posterior, and carries its factor values.  Every row of the
    table is a component of weight one.  At most ``max_memory_mb`` are held by the
    blocks' density matrices at once (the table's own arrays aside: about
    ``8 (2 L + K)`` bytes per row).  Returns ``{key: (K,) array}``.

    Per block and subset, the log densities relative to each point's own row
    are one matmul, ``[-d^2, -d, -1, -own] @ [1/2v, -delta/v, sum(delta^2/2v + log(v)/2), 1]``
    over the subset's latents, with ``d`` and ``delta`` the points' and rows'
    offsets from the block's centre: centred, its terms stay small where a
    density matters, so ``dtype`` float32 carries it to ~1e-5 (the tests hold
    it to the double-precision sums).
    """
    num_rows, dim = blocks.mu.shape
    n, num_factors = len(x), len(sizes)
    keys = list(subsets)
    offsets = np.concatenate([[0], np.cumsum(sizes)])[:-1]
    columns = blocks.labels + offsets                      # (N, K) one-hot column per factor
    own = columns[rows]                                    # (n, K) each point's own columns
    # the points' own rows, subset by subset: the reference every density is taken against
    t_own = (x - blocks.mu[rows]) ** 2 * (0.5 / blocks.var[rows]) + 0.5 * np.log(blocks.var[rows])
    kept, coords, references = {}, {}, {}
    for key in keys:
        sub = subsets[key]
        kept[key] = [l for l in range(dim) if l != sub.drop]
        # the subset's coordinates of every point, the extra one last
        coords[key] = x[:, kept[key]] if sub.extra is None else np.column_stack([x[:, kept[key]], sub.extra])
        ref = -t_own[:, kept[key]].sum(axis=1)
        if sub.extra is not None:
            v = blocks.var[rows, sub.drop] + sub.extra_var
            ref -= (sub.extra - blocks.mu[rows, sub.drop]) ** 2 * (0.5 / v) + 0.5 * np.log(v)
        references[key] = ref
    threshold = np.log(num_rows / tolerance)
    num_blocks = len(blocks.starts) - 1
    widest = int(np.max(np.diff(blocks.starts)))
    # Points per density matrix: small enough to stay in a core's cache (the passes over
    # it are memory-bound), and within max_memory_mb for the ~3 matrices alive per thread.
    piece = max(1, min(CACHE_POINTS * BLOCK_ROWS // widest,
                       int(max_memory_mb * 1e6 / (3 * 8 * widest * MAX_WORKERS))))

    def work(group):
        sums = {key: np.zeros((n, num_factors + 1)) for key in keys}  # own values, then total
        for b in range(group, num_blocks, GROUPS):
            a, e = blocks.starts[b], blocks.starts[b + 1]
            g = log_density_bound(x, blocks.lo[b], blocks.hi[b], blocks.vmin[b], blocks.vmax[b])
            whole = g.sum(axis=1)
            present = np.unique(columns[a:e])
            # which factor values each row has, a column of ones for the total and one of
            # zeros for an own value the block lacks
            member = np.zeros((e - a, len(present) + 2), dtype=dtype)
            member[:, :-2] = (columns[a:e, :, None] == present).any(axis=1)
            member[:, -2] = 1.0
            slot = np.minimum(np.searchsorted(present, own), len(present) - 1)
            slot = np.where(present[slot] == own, slot, len(present) + 1)
            centre = 0.5 * (blocks.lo[b] + blocks.hi[b])
            delta = blocks.mu[a:e] - centre
            var = blocks.var[a:e]
            for key in keys:
                sub, keep = subsets[key], kept[key]
                margin = whole - references[key]
                half_iv, offset, log_var = 0.5 / var[:, keep], delta[:, keep], np.log(var[:, keep])
                if sub.drop is not None:
                    margin = margin - g[:, sub.drop]
                if sub.extra is not None:
                    l = sub.drop
                    v = var[:, l:l + 1] + sub.extra_var
                    margin = margin + log_density_bound(sub.extra, blocks.lo[b, l], blocks.hi[b, l],
                                                        blocks.vmin[b, l] + sub.extra_var,
                                                        blocks.vmax[b, l] + sub.extra_var)
                    half_iv = np.hstack([half_iv, 0.5 / v])
                    offset = np.hstack([offset, delta[:, l:l + 1]])
                    log_var = np.hstack([log_var, np.log(v)])
                hits = np.flatnonzero(margin >= -threshold)
                if not len(hits):
                    continue
                coef = np.hstack([half_iv, -2.0 * offset * half_iv,
                                  (offset**2 * half_iv + 0.5 * log_var).sum(axis=1, keepdims=True),
                                  np.ones((e - a, 1))]).T.astype(dtype)
                at = centre[keep] if sub.extra is None else np.append(centre[keep], centre[sub.drop])
                for pts in np.array_split(hits, -(-len(hits) // piece)):
                    d = coords[key][pts] - at
                    design = np.hstack([-d * d, -d, -np.ones((len(pts), 1)), -references[key][pts, None]])
                    expo = design.astype(dtype) @ coef     # log density minus the own row's
                    if dtype == np.float32 and margin[pts].max() >= FLOAT32_EXPONENT:
                        expo = design @ coef.astype(np.float64)  # a row far narrower than the own one
                    grouped = np.exp(expo, out=expo) @ member.astype(expo.dtype, copy=False)
                    sums[key][pts, :-1] += np.take_along_axis(grouped, slot[pts], axis=1)
                    sums[key][pts, -1] += grouped[:, -2]
        return sums

    with threadpool_limits(1, user_api="blas"):
        parts = map_in_threads(work, range(GROUPS))
    counts = np.concatenate([np.bincount(blocks.labels[:, k], minlength=size)
                             for k, size in enumerate(sizes)])
    log_count = np.log(counts[own])                        # rows sharing each own value
    out = {}
    for key in keys:
        total = sum(p[key] for p in parts)                 # fixed group order
        ratio = (np.log(total[:, :-1]) - log_count) - (np.log(total[:, -1]) - np.log(num_rows))[:, None]
        out[key] = ratio.mean(axis=0)
    return out


def shared_covariance_informations(means, cov, labels, sizes, x, rows, subsets: dict, *,
                                   max_memory_mb: float = 200.0) -> dict:
    """Mean log-ratios, as :func:`streamed_informations` gives them, for rows that share
    one covariance: row ``r`` is ``N(means[r], cov)``, ``x[i]`` was drawn from row
    ``rows[i]`` (table order), and ``subsets`` maps keys to lists of latents.

    Each subset is whitened by its own marginal covariance, which makes every row's
    covariance the identity there, and is then streamed with its blocks skipped as
    for a diagonal table, in double precision: a whole factor grid of ~10^6 points
    is every component.  Beside the table, each subset holds its whitened means,
    unit variances and block order (about 8 (2L + 2) bytes a row).
    """
    out = {}
    for key, subset in subsets.items():
        subset = list(subset)
        chol = np.linalg.cholesky(cov[np.ix_(subset, subset)])
        mu = np.linalg.solve(chol, means[:, subset].T).T
        blocks = RowBlocks.build(mu, np.ones_like(mu), labels)
        position = np.empty(len(mu), dtype=np.int64)
        position[blocks.order] = np.arange(len(mu))
        out[key] = streamed_informations(blocks, sizes, np.linalg.solve(chol, x[:, subset].T).T,
                                         position[rows], {key: Subset()},
                                         max_memory_mb=max_memory_mb, dtype=np.float64)[key]
    return out


def covariance_informations(means, covs, labels, sizes, z, rows, subsets: dict, *,
                            max_memory_mb: float = 200.0) -> dict:
    """Mean log-ratios, as :func:`streamed_informations` gives them, for rows with full
    covariances: row ``r`` is ``N(means[r], covs[r])``, ``z[i]`` was drawn from row
    ``rows[i]``, and ``subsets`` maps keys to lists of latents.

    Every row is evaluated at every point (no blocks are skipped): the quadratic
    form of each row is one matmul of the points' monomials (``z_i z_j``, ``z_i``,
    1, centred on the mean of the means) against the row's coefficients, in
    double precision.  Meant for tables of ~10,000 rows and tens of latents.
    """
    num_rows, n = len(means), len(z)
    offsets = np.concatenate([[0], np.cumsum(sizes)])[:-1]
    columns = labels + offsets
    own = columns[rows]
    member = np.zeros((num_rows, int(np.sum(sizes)) + 1))
    member[np.arange(num_rows)[:, None], columns] = 1.0
    member[:, -1] = 1.0                                    # the total
    centre = means.mean(axis=0)
    chunk = max(1, int(max_memory_mb * 1e6 / (3 * 8 * num_rows * MAX_WORKERS)))
    out = {}
    for key, subset in subsets.items():
        subset = list(subset)
        m = means[:, subset] - centre[subset]
        cov = covs[:, subset][:, :, subset]
        prec = np.linalg.inv(cov)
        log_det = np.linalg.slogdet(cov)[1]
        upper = np.triu_indices(len(subset))
        # half the quadratic form: z^T P z / 2 - z^T P m + (m^T P m + log det) / 2
        scale = np.where(upper[0] == upper[1], 0.5, 1.0)
        pm = np.einsum("rij,rj->ri", prec, m)
        coef = np.hstack([prec[:, upper[0], upper[1]] * scale, -pm,
                          0.5 * (np.einsum("ri,ri->r", m, pm) + log_det)[:, None]])
        x = z[:, subset] - centre[subset]
        design = np.hstack([x[:, upper[0]] * x[:, upper[1]], x, np.ones((n, 1))])
        reference = -(design * coef[rows]).sum(axis=1)      # each point's own row

        def work(start, design=design, coef=coef, reference=reference):
            stop = min(start + chunk, n)
            expo = design[start:stop] @ coef.T
            expo += reference[start:stop, None]
            np.negative(expo, out=expo)                    # log density minus the own row's
            grouped = np.exp(expo, out=expo) @ member
            own_sums = np.take_along_axis(grouped, own[start:stop], axis=1)
            return np.log(own_sums), np.log(grouped[:, -1])

        with threadpool_limits(1, user_api="blas"):
            parts = map_in_threads(work, range(0, n, chunk))
        log_own = np.concatenate([p[0] for p in parts])
        log_total = np.concatenate([p[1] for p in parts])
        counts = member[:, :-1].sum(axis=0)
        ratio = (log_own - np.log(counts[own])) - (log_total - np.log(num_rows))[:, None]
        out[key] = ratio.mean(axis=0)
    return out


#: Bins of :func:`binned_rows`: log variances within ``LOG_VAR_WIDTH`` of each other,
#: means within ``MEAN_WIDTH`` standard deviations.
LOG_VAR_WIDTH = 0.05
MEAN_WIDTH = 0.02


def binned_rows(mean: np.ndarray, var: np.ndarray, labels: np.ndarray, sizes):
    """One latent's rows merged into bins of nearly equal posterior: ``(means, variances,
    weights)`` of the bins, ``weights[j, offset_k + v]`` the number of rows of bin ``j``
    with factor ``k`` at value ``v``.

    A bin holds rows whose log variances lie within :data:`LOG_VAR_WIDTH` and whose
    means lie within :data:`MEAN_WIDTH` of the bin's smallest standard deviation;
    it becomes one Gaussian with the rows' mean and total variance (mean variance
    plus the spread of the means), which keeps the mixture's first two moments.
    """
    level = stable_floor(np.log(var) / LOG_VAR_WIDTH)
    width = MEAN_WIDTH * np.exp(0.5 * LOG_VAR_WIDTH * level)
    cell = stable_floor(mean / width)
    cell -= cell.min()
    level -= level.min()
    if (level.max() + 1) * (cell.max() + 1) < 2**53:  # one exact integer key per bin
        _, bins = np.unique((level * (cell.max() + 1) + cell).astype(np.int64), return_inverse=True)
    else:  # means spread over more than 2^53 of the narrowest bins
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
