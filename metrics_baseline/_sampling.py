"""Factor sampling shared by the baseline metrics.

Every metric draws its factor vectors through the functions here, so a
representation that covers only part of the factor grid (a user's table of
encodings) can be supported in one place:

* :func:`sample_factors` draws free factor vectors (the non-intervention
  metrics: DCI, SAP, modularity, and FactorVAE's global variances);
* :func:`sample_batches` draws batches in which one factor is held at one value
  (the intervention metrics: BetaVAE uses batches of two, i.e. matched pairs;
  FactorVAE uses batches of ``batch_size``);
* :func:`sample_varying_batches` draws batches in which every factor but one is
  held fixed (Z-max variance).

The review's variants are computed on a fixed table of (factors, codes): for
them :func:`row_batches` and :func:`row_varying_batches` draw the same kinds of
batches as row indices of given arrays, after :func:`~metrics_baseline._binning.review_bins` when the
factors are treated as continuous.

The ``sample_*`` functions draw through ``rep.space``: uniform over the grid for a built-in
space, the table's own rows for a user's encodings
(:class:`benchmark.encodings.EmpiricalFactorSpace`).
"""
from __future__ import annotations

import numpy as np

from benchmark.validation import BenchmarkError, check_positive_int, check_rng

__all__ = ["encode_batches", "row_batches", "row_varying_batches", "sample_batches",
           "sample_codes", "sample_factors", "sample_varying_batches", "seed_from", "train_test_codes"]


def sample_factors(rep, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` factor vectors drawn by ``rep.space``; shape ``(n, K)``."""
    return rep.space.sample(n, check_rng(rng))


def sample_batches(rep, factor_index, batch_size: int, rng: np.random.Generator) -> np.ndarray:
    """Factor vectors of batches in which one factor is held fixed.

    Parameters
    ----------
    rep : Representation
    factor_index : int or 1-D int array
        The factor held fixed in each batch (one entry per batch).
    batch_size : int
        Rows per batch.
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of int64
        Shape ``(batch_size, K)`` for a scalar ``factor_index``, otherwise
        ``(len(factor_index), batch_size, K)``.  In batch ``b`` the factor
        ``factor_index[b]`` takes one value (that of the batch's first row, a
        free draw, as in disentanglement_lib); the other rows are drawn by
        ``rep.space.sample_matching`` given that value.
    """
    rng = check_rng(rng)
    scalar = np.ndim(factor_index) == 0
    index = np.atleast_1d(np.asarray(factor_index, dtype=np.int64))
    num_factors = rep.space.num_factors
    if index.size and (index.min() < 0 or index.max() >= num_factors):
        raise BenchmarkError(f"factor_index must lie in 0..{num_factors - 1}")
    num_batches = index.shape[0]
    factors = sample_factors(rep, num_batches * batch_size, rng)
    factors = factors.reshape(num_batches, batch_size, num_factors)
    if batch_size > 1:
        # The first row of a batch is a free draw; the others share its value of the
        # fixed factor and are drawn by the space (a data table draws only rows it has).
        for k in np.unique(index):
            batches = np.nonzero(index == k)[0]
            values = np.repeat(factors[batches, 0, k], batch_size - 1)
            matched = rep.space.sample_matching(int(k), values, rng)
            factors[batches, 1:, :] = matched.reshape(len(batches), batch_size - 1, num_factors)
    return factors[0] if scalar else factors


def encode_batches(rep, factors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Encode an ``(..., K)`` array of factor vectors in one call; shape ``(..., dim)``."""
    flat = factors.reshape(-1, factors.shape[-1])
    codes = np.asarray(rep.encode(flat, rng), dtype=float)
    if codes.ndim != 2 or codes.shape[0] != flat.shape[0]:
        raise BenchmarkError(
            f"representation {getattr(rep, 'name', rep)!r} returned codes of shape "
            f"{codes.shape} for {flat.shape[0]} factor vectors"
        )
    if not np.all(np.isfinite(codes)):
        raise BenchmarkError(
            f"representation {getattr(rep, 'name', rep)!r} produced NaN or infinite codes"
        )
    return codes.reshape(factors.shape[:-1] + (codes.shape[1],))


def sample_codes(rep, n: int, rng: np.random.Generator):
    """``n`` factor vectors drawn by ``rep.space`` and their codes: ``(codes, factors)``."""
    factors = sample_factors(rep, n, rng)
    return encode_batches(rep, factors, rng), factors


def train_test_codes(rep, rng, num_train: int, num_test: int):
    """``(codes, factors, codes_test, factors_test)``: a training and a held-out draw of
    :func:`sample_codes`, in that order, each of at least two rows."""
    rng = check_rng(rng)
    num_train = check_positive_int(num_train, "num_train", 2)
    num_test = check_positive_int(num_test, "num_test", 2)
    codes, factors = sample_codes(rep, num_train, rng)
    return (codes, factors, *sample_codes(rep, num_test, rng))


def seed_from(rng: np.random.Generator) -> int:
    """An integer seed for a scikit-learn estimator, drawn from ``rng``."""
    return int(check_rng(rng).integers(2**31))


# --- Batches drawn from the rows of given arrays -------------------------------------
#
# The review of Carbonneau et al. (2022) computes its intervention metrics on a fixed
# table of (factors, codes): every batch is made of table rows whose (binned) factors
# match.  The functions below draw such batches as row indices, so the array-level cores
# can be compared with the review like for like.


def _distinct_positions(m: int, count: int, size: int, rng) -> np.ndarray:
    """``(count, size)`` positions in ``0..m-1``, ``size <= m``, distinct within each row,
    each row a uniformly random subset."""
    if size == 0:
        return np.zeros((count, 0), dtype=np.int64)
    if 2 * size >= m:
        # Dense: a random permutation per row costs O(m) = O(size).
        return np.argsort(rng.random((count, m)), axis=1)[:, :size]
    if size == 2:
        # Pairs (Z-diff draws millions): the second of m - 1 positions, skipping the first.
        first = rng.integers(0, m, size=count)
        second = rng.integers(0, m - 1, size=count)
        return np.column_stack([first, second + (second >= first)])
    # Sparse: draw with replacement and redraw repeated entries until none are left.  The
    # procedure treats every position alike, so the set it returns is a uniform subset.
    out = rng.integers(0, m, size=(count, size))
    while True:
        out.sort(axis=1)
        repeated = out[:, 1:] == out[:, :-1]
        if not repeated.any():
            return out
        out[:, 1:][repeated] = rng.integers(0, m, size=int(repeated.sum()))


def _draw_from_groups(order, starts, sizes, group, batch_size: int, rng) -> np.ndarray:
    """Rows ``(len(group), batch_size)``: batch ``b`` drawn from group ``group[b]``, whose
    rows are ``order[starts[g]:starts[g] + sizes[g]]``.

    A batch holds every row of its group ``batch_size // size`` times plus a random
    subset of ``batch_size % size`` more: passes over the shuffled group, as the review
    fills its batches, so no row repeats before every row has been used.
    """
    out = np.empty((len(group), batch_size), dtype=np.int64)
    group_sizes = sizes[group]
    # Batches are drawn together per group size, whatever the group.
    for m in np.unique(sizes[np.bincount(group, minlength=len(sizes)) > 0]):
        batches = np.flatnonzero(group_sizes == m)
        full, rest = divmod(batch_size, int(m))
        positions = np.concatenate(
            [np.broadcast_to(np.tile(np.arange(m), full), (len(batches), full * int(m))),
             _distinct_positions(int(m), len(batches), rest, rng)], axis=1)
        out[batches] = order[starts[group[batches]][:, None] + positions]
    return out


def _groups(keys: np.ndarray):
    """``(order, starts, sizes, inverse)`` of the rows grouped by equal rows of ``keys``."""
    if keys.shape[1] == 0:
        n = keys.shape[0]
        return np.arange(n), np.zeros(1, np.int64), np.array([n]), np.zeros(n, np.int64)
    # One integer label per distinct row of keys, built a column at a time and relabelled
    # densely after each so that it never overflows (faster than np.unique(axis=0)).
    inverse = np.zeros(keys.shape[0], dtype=np.int64)
    for column in keys.T:
        _, labels = np.unique(column, return_inverse=True)
        _, inverse = np.unique(inverse * (labels.max() + 1) + labels, return_inverse=True)
    sizes = np.bincount(inverse)
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return order, starts, sizes, inverse


def _row_batches(factors, factor_index, batch_size: int, rng, *, vary: bool) -> np.ndarray:
    rng = check_rng(rng)
    factors = np.asarray(factors)
    if factors.ndim != 2 or factors.shape[0] < 2:
        raise BenchmarkError(f"factors must be a 2-D array with at least two rows, got shape {factors.shape}")
    batch_size = check_positive_int(batch_size, "batch_size")
    index = np.asarray(factor_index, dtype=np.int64).reshape(-1)
    num_factors = factors.shape[1]
    if index.size and (index.min() < 0 or index.max() >= num_factors):
        raise BenchmarkError(f"factor_index must lie in 0..{num_factors - 1}")
    out = np.empty((index.size, batch_size), dtype=np.int64)
    for k in np.flatnonzero(np.bincount(index, minlength=num_factors)):
        batches = np.flatnonzero(index == k)
        keys = np.delete(factors, k, axis=1) if vary else factors[:, [k]]
        order, starts, sizes, _ = _groups(keys)
        # As in the review: a group is eligible when it has two rows or more, and each
        # batch picks an eligible group uniformly (not in proportion to its rows).
        eligible = np.flatnonzero(sizes >= 2)
        if eligible.size == 0:
            what = "all factors but" if vary else "factor"
            raise BenchmarkError(f"no two rows share the values of {what} {int(k)}: "
                                 "batches cannot be drawn (bin the factors more coarsely)")
        group = eligible[rng.integers(0, eligible.size, size=batches.size)]
        out[batches] = _draw_from_groups(order, starts, sizes, group, batch_size, rng)
    return out


def row_batches(factors, factor_index, batch_size: int, rng) -> np.ndarray:
    """Row indices of batches of a table in which one factor is held fixed.

    Parameters
    ----------
    factors : ndarray of shape (n, K)
        The table's factor values (bin them first, e.g. with
        :func:`~metrics_baseline._binning.review_bins`, to treat them as continuous as the
        review does).
    factor_index : 1-D int array
        The factor held fixed in each batch.
    batch_size : int
    rng : int or numpy.random.Generator

    Returns
    -------
    ndarray of int64, shape ``(len(factor_index), batch_size)``
        Batch ``b`` holds rows sharing one value of factor ``factor_index[b]``.  As in the
        review (``z_min_var.py``, ``z_diff.py``), that value is drawn uniformly among the
        values at least two rows have, and a batch repeats a row only after using all the
        rows of its value; with ``batch_size=2`` a batch is a pair of distinct rows.

    Examples
    --------
    >>> import numpy as np
    >>> factors = np.array([[0, 0], [0, 1], [1, 0], [1, 1], [1, 2]])
    >>> rows = row_batches(factors, [1, 0], 4, 0)
    >>> [np.unique(factors[r, k]).size for r, k in zip(rows, [1, 0])]
    [1, 1]
    """
    return _row_batches(factors, factor_index, batch_size, rng, vary=False)


def row_varying_batches(factors, factor_index, batch_size: int, rng) -> np.ndarray:
    """Row indices of batches of a table in which every factor but one is held fixed.

    Like :func:`row_batches`, with the groups formed by the values of all the factors
    except ``factor_index[b]`` (the review's ``z_max_var.py``: a combination of the
    other factors' values is drawn uniformly among those at least two rows have).

    Examples
    --------
    >>> import numpy as np
    >>> factors = np.array([[0, 0], [1, 0], [2, 0], [0, 1], [1, 1]])
    >>> rows = row_varying_batches(factors, [0, 0], 3, 0)
    >>> [np.unique(factors[r, 1]).size for r in rows]
    [1, 1]
    """
    return _row_batches(factors, factor_index, batch_size, rng, vary=True)


def sample_varying_batches(rep, factor_index, batch_size: int, rng: np.random.Generator) -> np.ndarray:
    """Factor vectors of batches in which every factor but one is held fixed.

    Parameters
    ----------
    rep : Representation
    factor_index : 1-D int array
        The factor that varies in each batch.
    batch_size : int
    rng : numpy.random.Generator

    Returns
    -------
    ndarray of int64, shape ``(len(factor_index), batch_size, K)``
        On a grid, the first row of a batch is a free draw and the others copy it except
        for the varying factor, which ``rep.space.sample`` draws.  On a table of encodings
        (a space with ``rows``), the first row is drawn among the rows whose other factors'
        values are shared by a row with another value of the varying factor, and the
        others among the rows with the same other factors' values.

    Examples
    --------
    >>> from benchmark import FactorSpace, ideal
    >>> y = sample_varying_batches(ideal(FactorSpace.synthetic([3, 4])), [1], 5, 0)
    >>> y.shape, np.unique(y[0, :, 0]).size
    ((1, 5, 2), 1)
    """
    rng = check_rng(rng)
    batch_size = check_positive_int(batch_size, "batch_size")
    index = np.asarray(factor_index, dtype=np.int64).reshape(-1)
    space = rep.space
    num_factors = space.num_factors
    if index.size and (index.min() < 0 or index.max() >= num_factors):
        raise BenchmarkError(f"factor_index must lie in 0..{num_factors - 1}")
    if space.is_grid:
        free = sample_factors(rep, index.size * batch_size, rng).reshape(index.size, batch_size, num_factors)
        out = np.repeat(free[:, :1], batch_size, axis=1)
        batches = np.arange(index.size)
        out[batches, :, index] = free[batches, :, index]
        return out
    rows = getattr(space, "rows", None)
    if rows is None:
        raise BenchmarkError(f"factor space {space.name!r} can draw batches with one factor varying "
                             "only on a full grid or from a table of rows")
    out = np.empty((index.size, batch_size, num_factors), dtype=np.int64)
    for k in np.unique(index):
        batches = np.flatnonzero(index == k)
        _, starts, sizes, inverse = _groups(np.delete(rows, k, axis=1))
        # Within each group, rows sorted by factor k: a group varies factor k only if its
        # rows take two values of it or more.
        order = np.lexsort((rows[:, k], inverse))
        values = rows[order, k]
        first = np.r_[True, values[1:] != values[:-1]] | np.isin(np.arange(len(order)), starts)
        distinct = np.add.reduceat(first.astype(np.int64), starts)
        eligible_rows = np.flatnonzero(distinct[inverse] >= 2)
        if eligible_rows.size == 0:
            raise BenchmarkError(f"the encodings have no two rows that differ only in factor "
                                 f"{space.names[k]!r}; a batch varying it cannot be drawn")
        group = inverse[eligible_rows[rng.integers(0, eligible_rows.size, size=batches.size)]]
        # Rows of a group are drawn with replacement, as sample_matching draws them.
        pick = starts[group][:, None] + np.floor(
            rng.random((batches.size, batch_size)) * sizes[group][:, None]).astype(np.int64)
        out[batches] = rows[order[pick]]
    return out
