"""Input validation shared by every public entry point."""
from __future__ import annotations

import difflib
import numbers

import numpy as np

__all__ = ["BenchmarkError", "check_codes", "check_codes_factors", "check_factor_array",
           "check_level", "check_positive_int", "check_rng", "did_you_mean",
           "unknown_name"]


class BenchmarkError(ValueError):
    """A user-facing error: the message is one line that names the bad argument."""


def unknown_name(what: str, name, choices, more: str = "") -> BenchmarkError:
    """The error for ``name``, which is not among ``choices``: one line that lists them,
    led by the closest one when a typo is likely.

    >>> print(unknown_name("attack", "rotaton", ["noise", "rotation"]))
    unknown attack 'rotaton'; did you mean 'rotation'? available: noise, rotation
    """
    choices = [str(c) for c in choices]
    return BenchmarkError(f"unknown {what} {name!r}; {did_you_mean(name, choices)}"
                          f"available: {', '.join(choices)}{more}")


def did_you_mean(name, choices) -> str:
    """``"did you mean 'x'? "`` for the choice closest to ``name``, or ``""`` when none is close.

    >>> did_you_mean("num_bin", ["num_bins", "k"]), did_you_mean("zzz", ["num_bins"])
    ("did you mean 'num_bins'? ", '')
    """
    close = difflib.get_close_matches(str(name), [str(c) for c in choices], n=1, cutoff=0.6)
    return f"did you mean {close[0]!r}? " if close else ""


def check_rng(rng) -> np.random.Generator:
    """``rng`` itself if it is a ``numpy.random.Generator``, a new one seeded by an int."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise BenchmarkError(
        f"rng must be a numpy.random.Generator or a non-negative int seed, got {type(rng).__name__}"
    )


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


def check_factor_array(factors, argname: str = "factors", *, num_factors: int | None = None,
                       integer_dtype: bool = False) -> np.ndarray:
    """Validate an ``(n, K)`` array of factor values and return it as int64.

    Whole-valued floats are accepted unless ``integer_dtype``; ``num_factors``
    fixes ``K``.
    """
    factors = np.asarray(factors)
    if factors.ndim != 2 or (num_factors is not None and factors.shape[1] != num_factors):
        width = "K" if num_factors is None else num_factors
        raise BenchmarkError(f"{argname} must be a 2-D array of shape (n, {width}), "
                             f"got shape {factors.shape}")
    if factors.size and not np.issubdtype(factors.dtype, np.integer):
        if integer_dtype:
            raise BenchmarkError(f"{argname} must be integers, got dtype {factors.dtype}")
        if not np.issubdtype(factors.dtype, np.number) or not np.all(np.isfinite(factors)) \
                or np.any(factors != np.round(factors)):
            raise BenchmarkError(f"{argname} must hold integer factor values")
    return factors.astype(np.int64, copy=False)


def check_codes_factors(codes, factors):
    """Validate paired ``(n, L)`` codes and ``(n, K)`` integer factors."""
    codes = check_codes(codes)
    factors = check_factor_array(factors)
    if factors.shape[0] != codes.shape[0]:
        raise BenchmarkError(
            f"codes and factors differ in number of rows ({codes.shape[0]} != {factors.shape[0]})"
        )
    if codes.shape[0] < 2:
        raise BenchmarkError("at least two samples are needed")
    return codes, factors


def check_positive_int(value, argname: str, minimum: int = 1) -> int:
    """``value`` as an int, refusing booleans (``True`` is not a sample size) and anything
    below ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise BenchmarkError(f"{argname} must be an integer >= {minimum}, got {value!r}")
    return int(value)
