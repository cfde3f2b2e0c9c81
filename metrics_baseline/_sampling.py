"""Factor sampling shared by the baseline metrics.

Every metric draws its factor vectors through the two functions here, so a
representation that covers only part of the factor grid (a user's table of
encodings) can be supported in one place:

* :func:`sample_factors` draws free factor vectors (the non-intervention
  metrics: DCI, SAP, modularity, and FactorVAE's global variances);
* :func:`sample_batches` draws batches in which one factor is held at one value
  (the intervention metrics: BetaVAE uses batches of two, i.e. matched pairs;
  FactorVAE uses batches of ``batch_size``).

Both sample through ``rep.space``: uniform over the grid for a built-in
space, the table's own rows for a user's encodings
(:class:`benchmark.encodings.EmpiricalFactorSpace`).
"""
from __future__ import annotations

import numpy as np

from benchmark.validation import BenchmarkError, check_positive_int, check_rng

__all__ = ["encode_batches", "sample_batches", "sample_codes", "sample_factors", "seed_from",
           "train_test_codes"]


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
