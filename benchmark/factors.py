"""Discrete ground-truth factor spaces."""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from .validation import BenchmarkError, check_factor_array, check_rng, unknown_name

__all__ = ["FactorSpace", "builtin_names"]

_MPI3D_AXES = (("camera_height", 3), ("background_color", 3), ("horizontal_axis", 40),
               ("vertical_axis", 40))

# Factor names and sizes as the data sets' authors list them, in their order (no images:
# the grids are generated).  Where the published data sets index their images by the
# factors (dSprites, 3dshapes, MPI3D, Falcor3D, Isaac3D), this order is that index's.
_BUILTIN = {
    # deepmind/dsprites-dataset
    "dsprites": (("shape", 3), ("scale", 6), ("orientation", 40), ("pos_x", 32), ("pos_y", 32)),
    # deepmind/3d-shapes
    "shapes3d": (("floor_hue", 10), ("wall_hue", 10), ("object_hue", 10), ("scale", 8),
                 ("shape", 4), ("orientation", 15)),
    # rr-learning/disentanglement_dataset: mpi3d_toy / _realistic / _real, 1,036,800 images
    "mpi3d": (("object_color", 6), ("object_shape", 6), ("object_size", 2), *_MPI3D_AXES),
    # the NeurIPS 2019 challenge's first release (disentanglement_lib's mpi3d_toy and
    # mpi3d_realistic): four colours and four shapes, 460,800 images
    "mpi3d_2019": (("object_color", 4), ("object_shape", 4), ("object_size", 2), *_MPI3D_AXES),
    # rr-learning/disentanglement_dataset: mpi3d_complex (real-world objects), 460,800 images
    "mpi3d_complex": (("object_color", 4), ("object_shape", 4), ("object_size", 2), *_MPI3D_AXES),
    # NVlabs/High-res-disentanglement-datasets: Falcor3D, 233,280 images
    "falcor3d": (("lighting_intensity", 5), ("lighting_x_dir", 6), ("lighting_y_dir", 6),
                 ("lighting_z_dir", 6), ("camera_x_pos", 6), ("camera_y_pos", 6),
                 ("camera_z_pos", 6)),
    # NVlabs/High-res-disentanglement-datasets: Isaac3D, 737,280 images, in the order of
    # its dataset_demo.py, whose strides are the image index's (its README lists the
    # factors in another order beside the same strides)
    "isaac3d": (("object_shape", 3), ("robot_x_movement", 8), ("robot_y_movement", 5),
                ("camera_height", 4), ("object_scale", 4), ("lighting_intensity", 4),
                ("lighting_y_dir", 6), ("object_color", 4), ("wall_color", 4)),
    # Reed et al. 2015 as disentanglement_lib reads it: 17,568 images
    "cars3d": (("elevation", 4), ("azimuth", 24), ("object_type", 183)),
    # LeCun et al. 2004 as disentanglement_lib reads it: the instance (10 per category)
    # is not a factor there, it varies within each combination of these four
    "smallnorb": (("category", 5), ("elevation", 9), ("azimuth", 18), ("lighting", 6)),
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
        """A built-in space by its data set's name (see :func:`builtin_names`).

        Examples
        --------
        >>> space = FactorSpace.named("isaac3d")
        >>> space.num_factors, int(np.prod(space.sizes))
        (9, 737280)
        """
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
