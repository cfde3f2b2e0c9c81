"""Input validation shared by every public entry point."""
from __future__ import annotations

import numbers

import numpy as np


class BenchmarkError(ValueError):
    """A user-facing error: the message is one line that names the bad argument."""


def check_rng(rng) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise BenchmarkError(
            f"rng must be a numpy.random.Generator, got {type(rng).__name__}"
        )
    return rng


def check_level(level) -> float:
    if not isinstance(level, numbers.Real) or not np.isfinite(level):
        raise BenchmarkError(f"level must be a finite number, got {level!r}")
    if level < 0:
        raise BenchmarkError(f"level must be non-negative, got {level}")
    return float(level)


def check_codes(codes, argname: str = "codes") -> np.ndarray:
    codes = np.asarray(codes)
    if codes.ndim != 2:
        raise BenchmarkError(f"{argname} must be a 2-D array (n, L), got shape {codes.shape}")
    if not (np.issubdtype(codes.dtype, np.floating) or np.issubdtype(codes.dtype, np.integer)):
        raise BenchmarkError(f"{argname} must be numeric, got dtype {codes.dtype}")
    codes = codes.astype(float, copy=False)
    if not np.all(np.isfinite(codes)):
        raise BenchmarkError(f"{argname} contains NaN or infinite values")
    return codes


def check_codes_factors(codes, factors):
    """Validate paired ``(n, L)`` codes and ``(n, K)`` integer factors."""
    codes = check_codes(codes)
    factors = np.asarray(factors)
    if factors.ndim != 2:
        raise BenchmarkError(f"factors must be a 2-D array (n, K), got shape {factors.shape}")
    if factors.shape[0] != codes.shape[0]:
        raise BenchmarkError(
            f"codes and factors differ in number of rows ({codes.shape[0]} != {factors.shape[0]})"
        )
    if codes.shape[0] < 2:
        raise BenchmarkError("at least two samples are needed")
    if not np.issubdtype(factors.dtype, np.integer):
        if not np.all(np.isfinite(factors)) or np.any(factors != np.round(factors)):
            raise BenchmarkError("factors must hold integer factor values")
        factors = factors.astype(np.int64)
    return codes, factors


def check_positive_int(value, argname: str, minimum: int = 1) -> int:
    if not isinstance(value, numbers.Integral) or value < minimum:
        raise BenchmarkError(f"{argname} must be an integer >= {minimum}, got {value!r}")
    return int(value)
