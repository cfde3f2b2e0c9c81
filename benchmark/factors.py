"""Discrete ground-truth factor spaces."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .validation import BenchmarkError, check_factor_array, check_rng, unknown_name

__all__ = ["FactorSpace", "builtin_names"]

_BUILTIN = {
    "dsprites": (
        ("shape", 3),
        ("scale", 6),
        ("orientation", 40),
        ("pos_x", 32),
        ("pos_y", 32),
    ),
    "shapes3d": (
        ("floor_hue", 10),
        ("wall_hue", 10),
        ("object_hue", 10),
        ("scale", 8),
        ("shape", 4),
        ("orientation", 15),
    ),
    "mpi3d": (
        ("object_color", 6),
        ("object_shape", 6),
        ("object_size", 2),
        ("camera_height", 3),
        ("background_color", 3),
        ("horizontal_axis", 40),
        ("vertical_axis", 40),
    ),
}


@dataclass(frozen=True)
class FactorSpace:
    """Named discrete factors, each uniform over ``range(size)``.

    Parameters
    ----------
    names : tuple of str
        One name per factor.
    sizes : tuple of int
        Number of values of each factor (at least 2).
    name : str
        Name of the data set the space stands for.

    Examples
    --------
    >>> space = FactorSpace.named("dsprites")
    >>> space.names, space.sizes
    (('shape', 'scale', 'orientation', 'pos_x', 'pos_y'), (3, 6, 40, 32, 32))
    >>> FactorSpace.synthetic([2, 3]).sample(4, 0).shape
    (4, 2)
    """

    names: tuple
    sizes: tuple
    name: str = "synthetic"

    #: Samples are uniform over the whole grid of factor values, factors independent.
    #: A subclass that samples otherwise (a data table) sets it to False.
    is_grid: ClassVar[bool] = True

    def __post_init__(self):
        names = tuple(str(n) for n in self.names)
        try:
            sizes = tuple(int(s) for s in self.sizes)
        except (TypeError, ValueError):
            raise BenchmarkError(f"sizes must be integers, got {self.sizes!r}") from None
        if len(names) != len(sizes):
            raise BenchmarkError(
                f"names and sizes differ in length ({len(names)} != {len(sizes)})"
            )
        if not sizes:
            raise BenchmarkError("a factor space needs at least one factor")
        if len(set(names)) != len(names):
            raise BenchmarkError(f"factor names must be unique, got {names}")
        for n, s in zip(names, sizes):
            if s < 2:
                raise BenchmarkError(
                    f"factor {n!r} has {s} value(s); every factor needs at least 2"
                )
        object.__setattr__(self, "names", names)
        object.__setattr__(self, "sizes", sizes)

    @classmethod
    def named(cls, name: str) -> "FactorSpace":
        """A built-in space: ``dsprites``, ``shapes3d`` or ``mpi3d``."""
        if name not in _BUILTIN:
            raise unknown_name("dataset", name, builtin_names())
        names, sizes = zip(*_BUILTIN[name])
        return cls(names, sizes, name=name)

    @classmethod
    def synthetic(cls, sizes, names=None) -> "FactorSpace":
        """A space with the given factor sizes, factors named ``f0, f1, ...``."""
        sizes = tuple(sizes)
        if names is None:
            names = tuple(f"f{k}" for k in range(len(sizes)))
        return cls(tuple(names), sizes, name="synthetic")

    @property
    def num_factors(self) -> int:
        return len(self.sizes)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Draw ``n`` factor index vectors uniformly; shape ``(n, K)``, dtype int64."""
        rng = check_rng(rng)
        n = int(n)
        if n < 0:
            raise BenchmarkError(f"n must be non-negative, got {n}")
        return np.stack([rng.integers(0, s, size=n) for s in self.sizes], axis=1)

    def sample_matching(self, factor: int, values, rng: np.random.Generator) -> np.ndarray:
        """One factor vector per entry of ``values``: factor ``factor`` set to that
        value, the other factors drawn as :meth:`sample` draws them.

        This is how intervention metrics (BetaVAE, FactorVAE) build batches that
        share one factor; a data table overrides it to draw only rows it has.
        """
        values = np.asarray(values, dtype=np.int64).reshape(-1)
        if not 0 <= factor < self.num_factors:
            raise BenchmarkError(f"factor must be in 0..{self.num_factors - 1}, got {factor}")
        y = self.sample(len(values), rng)
        y[:, factor] = values
        return self.check_factors(y, "values")

    def entropies(self) -> np.ndarray:
        """Entropy of each factor in nats, ``log(size)`` for a uniform factor."""
        return np.log(np.asarray(self.sizes, dtype=float))

    def check_factors(self, y, argname: str = "y") -> np.ndarray:
        """Validate an ``(n, K)`` array of factor indices and return it as int64."""
        y = check_factor_array(y, argname, num_factors=self.num_factors)
        if y.size:
            bad = (y < 0) | (y >= np.asarray(self.sizes))
            if bad.any():
                k = int(np.nonzero(bad.any(axis=0))[0][0])
                raise BenchmarkError(
                    f"{argname}: factor {self.names[k]!r} has values outside "
                    f"0..{self.sizes[k] - 1}"
                )
        return y


def builtin_names() -> list[str]:
    """Names accepted by :meth:`FactorSpace.named`."""
    return sorted(_BUILTIN)
