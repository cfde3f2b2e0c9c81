"""Representations: stochastic maps from factor index vectors to codes.

Every representation has ``space`` (its :class:`FactorSpace`), ``dim`` and
``encode(y, rng) -> (n, dim)``.  What a representation can offer beyond that,
so that informations can be computed from its exact structure instead of from
samples, is written down as three protocols, and the information estimators
check these and nothing else:

:class:`GaussianStructure`
    ``z | y ~ N(mean(y), cov)`` with one covariance for every ``y``
    (:class:`GaussianRepresentation`: :func:`ideal` and its linear attacks).
:class:`Posteriors`
    per-sample diagonal Gaussian posteriors ``posterior(y) -> (means, variances)``,
    a VAE's case; the data distribution is the space's (a factor grid when
    ``space.is_grid``).
:class:`PosteriorTable`
    posteriors of a finite table of encoded examples, which is then the data
    distribution (:func:`benchmark.from_arrays` with variances).
:class:`InformationEquivalent`
    a representation whose informations are those of another one, latent for
    latent (an invertible map of single latents, a permutation of latents:
    :func:`map_latents`), so the estimators work on that one.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Protocol, runtime_checkable

import numpy as np

from .factors import FactorSpace
from .validation import BenchmarkError, check_rng

__all__ = ["GaussianRepresentation", "GaussianStructure", "InformationEquivalent", "MappedLatents",
           "PosteriorTable", "Posteriors", "Representation", "ideal", "linear_transform",
           "map_latents", "sqrt_psd"]


@runtime_checkable
class GaussianStructure(Protocol):
    """``z | y ~ N(mean(y), cov)``, one ``(dim, dim)`` covariance for every ``y``."""

    cov: np.ndarray

    def mean(self, y) -> np.ndarray:
        """``(n, dim)`` means of the codes of the factor vectors ``y``."""


@runtime_checkable
class Posteriors(Protocol):
    """Per-sample diagonal Gaussian posteriors of the examples with factors ``y``."""

    def posterior(self, y) -> tuple[np.ndarray, np.ndarray]:
        """``(means, variances)``, each ``(n, dim)``."""


@runtime_checkable
class PosteriorTable(Posteriors, Protocol):
    """:class:`Posteriors` of a finite table of examples, the data distribution."""

    covers_grid: bool  #: every combination of factor values has a row
    num_rows: int

    def posterior_sample(self, n, rng) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``(factors, means, variances)`` of ``n`` distinct rows (all when fewer)."""


@runtime_checkable
class InformationEquivalent(Protocol):
    """Informations equal to another representation's, latent for latent."""

    def information_equivalent(self) -> tuple["Representation", np.ndarray]:
        """``(rep, order)``: every information between a factor and a set ``S`` of this
        representation's latents equals the one with the latents ``order[S]`` of ``rep``."""


class Representation(ABC):
    """Base class: a stochastic encoder of factor index vectors."""

    def __init__(self, space: FactorSpace, dim: int, name: str):
        if not isinstance(space, FactorSpace):
            raise BenchmarkError(f"space must be a FactorSpace, got {type(space).__name__}")
        self.space = space
        self.dim = int(dim)
        self.name = name

    @abstractmethod
    def encode(self, y, rng: np.random.Generator) -> np.ndarray:
        """Draw one code per row of ``y``; shape ``(n, dim)``."""

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r} dim={self.dim} space={self.space.name}>"


#: Smallest eigenvalue, relative to the largest, of a covariance that :func:`sqrt_psd`
#: factors by Cholesky: far above rounding, so a singular matrix, which Cholesky
#: accepts or refuses by the last bits of its pivots, always takes the principal root.
CHOLESKY_MIN_EIGENVALUE = 1e-10


def sqrt_psd(cov, *, cholesky: bool = True) -> np.ndarray:
    """A factor ``S`` with ``S @ S.T == cov`` for a positive semi-definite ``cov``.

    The Cholesky factor when ``cholesky`` and ``cov`` is well inside the positive
    definite cone (smallest eigenvalue above :data:`CHOLESKY_MIN_EIGENVALUE` of
    the largest), else the principal square root ``V sqrt(W) V.T``.  Both are
    unique, so seeded samples are the same on every machine; ``V sqrt(W)`` alone
    is not: the signs of ``eigh``'s eigenvectors, and the basis it picks for a
    repeated eigenvalue, follow the LAPACK kernel.  The two roots differ by a
    rotation, so either gives samples of the same distribution, but not the same
    samples: each caller keeps the one its seeded results were drawn with.

    Examples
    --------
    >>> import numpy as np
    >>> cov = np.array([[2.0, 1.0], [1.0, 2.0]])
    >>> bool(np.allclose(sqrt_psd(cov) @ sqrt_psd(cov).T, cov))
    True
    >>> bool(np.allclose(sqrt_psd(cov, cholesky=False) @ sqrt_psd(cov, cholesky=False).T, cov))
    True
    """
    cov = np.asarray(cov, dtype=float)
    w, v = np.linalg.eigh(cov)
    if cholesky and w[0] > CHOLESKY_MIN_EIGENVALUE * max(w[-1], 0.0):
        return np.linalg.cholesky(cov)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


class GaussianRepresentation(Representation):
    """``z | y ~ N(mean_fn(y), cov)`` with a covariance shared by all ``y``.

    Parameters
    ----------
    space : FactorSpace
    mean_fn : callable
        Maps an ``(n, K)`` int array of factor indices to ``(n, dim)`` means.
        Must be picklable (a module-level function or a small class) so sweeps
        can run in worker processes.
    cov : ndarray of shape (dim, dim)
        Symmetric positive semi-definite covariance of the codes given the factors.
    name : str
    """

    def __init__(self, space, mean_fn, cov, name="gaussian"):
        cov = np.asarray(cov, dtype=float)
        if cov.ndim != 2 or cov.shape[0] != cov.shape[1]:
            raise BenchmarkError(f"cov must be a square matrix, got shape {cov.shape}")
        if not np.all(np.isfinite(cov)):
            raise BenchmarkError("cov contains NaN or infinite values")
        super().__init__(space, cov.shape[0], name)
        self._mean_fn = mean_fn
        self.cov = 0.5 * (cov + cov.T)
        self._sqrt_cov = sqrt_psd(self.cov)

    def mean(self, y) -> np.ndarray:
        y = self.space.check_factors(y)
        return self._mean_fn(y)

    def encode(self, y, rng) -> np.ndarray:
        rng = check_rng(rng)
        mu = self.mean(y)
        return mu + rng.standard_normal(mu.shape) @ self._sqrt_cov.T


class StandardisedIndex:
    """Mean map of :func:`ideal`: ``(y_k - centre_k) / scale_k`` for every factor."""

    def __init__(self, centre, scale):
        self.centre = np.asarray(centre, dtype=float)
        self.scale = np.asarray(scale, dtype=float)

    def __call__(self, y):
        return (y - self.centre) / self.scale


class LinearMean:
    """Mean map ``inner(y) @ matrix.T``, used by linear attacks."""

    def __init__(self, inner, matrix):
        self.inner = inner
        self.matrix = np.asarray(matrix, dtype=float)

    def __call__(self, y):
        return self.inner(y) @ self.matrix.T


def ideal(space: FactorSpace, noise: float = 0.1) -> GaussianRepresentation:
    """An almost perfectly disentangled representation of ``space``.

    Latent ``k`` is factor ``k``'s value index plus Gaussian noise whose
    standard deviation is ``noise`` times the spacing of neighbouring values,
    standardised to zero mean and unit variance over the uniform factor
    distribution.

    Parameters
    ----------
    space : FactorSpace
    noise : float, default 0.1
        Noise standard deviation in units of the value spacing (non-negative).

    Examples
    --------
    >>> import numpy as np
    >>> rep = ideal(FactorSpace.synthetic([3, 4]), noise=0.1)
    >>> rep.dim, rep.encode(np.array([[0, 3], [2, 0]]), 0).shape
    (2, (2, 2))
    >>> float(np.sqrt(rep.cov[0, 0]) * np.sqrt(2 / 3 + 0.01))  # noise / value spacing
    0.1
    """
    if not isinstance(space, FactorSpace):
        raise BenchmarkError(f"space must be a FactorSpace, got {type(space).__name__}")
    if not np.isfinite(noise) or noise < 0:
        raise BenchmarkError(f"noise must be a non-negative number, got {noise!r}")
    sizes = np.asarray(space.sizes, dtype=float)
    centre = (sizes - 1) / 2
    scale = np.sqrt((sizes**2 - 1) / 12 + noise**2)
    cov = np.diag((noise / scale) ** 2)
    return GaussianRepresentation(
        space, StandardisedIndex(centre, scale), cov, name=f"ideal(noise={noise:g})"
    )


class LinearTransformed(Representation):
    """``z' = A z + B e`` with ``e ~ N(0, I)`` on top of a non-Gaussian representation."""

    def __init__(self, base: Representation, matrix, noise_matrix, name):
        super().__init__(base.space, matrix.shape[0], name)
        self.base = base
        self.matrix = matrix
        self.noise_matrix = noise_matrix

    def encode(self, y, rng):
        rng = check_rng(rng)
        z = self.base.encode(y, rng) @ self.matrix.T
        return z + rng.standard_normal((z.shape[0], self.noise_matrix.shape[1])) @ self.noise_matrix.T


class MappedLatents(Representation):
    """``z'_l = f_l(z_order[l])``: latents of ``base`` reordered, each through a strictly
    monotone map (see :func:`map_latents`)."""

    def __init__(self, base: Representation, order, latent_map, name):
        super().__init__(base.space, len(order), name)
        self.base = base
        self.order = np.asarray(order, dtype=np.int64)
        self.latent_map = latent_map

    def encode(self, y, rng):
        z = np.asarray(self.base.encode(y, check_rng(rng)), dtype=float)[:, self.order]
        return self.latent_map(z) if self.latent_map is not None else z

    def information_equivalent(self):
        # an invertible map of each latent leaves every information unchanged
        return self.base, self.order


def map_latents(rep: Representation, order=None, latent_map=None, name=None) -> MappedLatents:
    """The representation ``z'_l = latent_map(z)[:, l]`` of the latents ``z[:, order]``.

    ``latent_map`` acts column by column (``(n, L) -> (n, L)``) and must be
    strictly monotone in each column, so every information between factors
    and latent subsets is that of ``rep`` (:class:`InformationEquivalent`):
    the information estimators work on ``rep`` itself, exactly.  It must be
    picklable (a module-level function or a small class) for worker processes.

    Examples
    --------
    >>> import numpy as np
    >>> rep = ideal(FactorSpace.synthetic([3, 4]))
    >>> flipped = map_latents(rep, order=[1, 0], latent_map=np.negative)
    >>> y = np.array([[2, 0]])
    >>> bool(np.allclose(flipped.encode(y, 0), -rep.encode(y, 0)[:, ::-1]))
    True
    >>> flipped.information_equivalent()[1].tolist()
    [1, 0]
    """
    order = np.arange(rep.dim) if order is None else np.asarray(order, dtype=np.int64)
    if sorted(order.tolist()) != list(range(rep.dim)):
        raise BenchmarkError(f"order must be a permutation of 0..{rep.dim - 1}, got {order.tolist()}")
    if latent_map is not None:
        _check_latent_map(latent_map, rep.dim)
    return MappedLatents(rep, order, latent_map, name or f"mapped({rep.name})")


def _check_latent_map(latent_map, dim: int) -> None:
    """Refuse a map that mixes columns or is not strictly monotone in each: the
    information estimators would otherwise score the original latents for it."""
    grid = np.linspace(-6.0, 6.0, 241)
    for l in range(dim):
        probe = np.zeros((len(grid), dim))
        probe[:, l] = grid
        out = np.asarray(latent_map(probe), dtype=float)
        if out.shape != probe.shape:
            raise BenchmarkError(f"latent_map must return an array of the shape it is given, "
                                 f"got {out.shape} for {probe.shape}")
        steps = np.diff(out[:, l])
        others = np.delete(out, l, axis=1)
        if not (np.all(steps > 0) or np.all(steps < 0)) or np.ptp(others, axis=0).max(initial=0) > 0:
            raise BenchmarkError(f"latent_map must map each latent on its own, strictly "
                                 f"monotonically (latent {l} is not)")


def linear_transform(rep: Representation, matrix, noise_matrix=None, name=None) -> Representation:
    """The representation ``z' = matrix @ z + noise_matrix @ e``, ``e ~ N(0, I)``.

    Gaussian structure (:class:`GaussianStructure`) is carried through
    exactly: the new mean is ``matrix @ mean(y)`` and the new covariance
    ``matrix cov matrix^T + noise_matrix noise_matrix^T``; any other
    representation is transformed sample by sample.

    Examples
    --------
    >>> import numpy as np
    >>> rep = ideal(FactorSpace.synthetic([3, 4]))
    >>> swapped = linear_transform(rep, [[0, 1], [1, 0]])
    >>> y = np.array([[2, 0]])
    >>> bool(np.allclose(swapped.mean(y), rep.mean(y)[:, ::-1]))
    True
    """
    matrix = np.atleast_2d(np.asarray(matrix, dtype=float))
    if matrix.shape[1] != rep.dim:
        raise BenchmarkError(
            f"matrix has {matrix.shape[1]} columns but the representation has dim {rep.dim}"
        )
    if noise_matrix is None:
        noise_matrix = np.zeros((matrix.shape[0], 1))
    noise_matrix = np.atleast_2d(np.asarray(noise_matrix, dtype=float))
    if noise_matrix.shape[0] != matrix.shape[0]:
        raise BenchmarkError("noise_matrix must have as many rows as matrix")
    name = name or f"linear({rep.name})"
    if isinstance(rep, GaussianRepresentation):
        # compose the plain mean maps: the factors are validated once, by the outer mean()
        inner = rep._mean_fn
    elif isinstance(rep, GaussianStructure):
        inner = rep.mean
    else:
        return LinearTransformed(rep, matrix, noise_matrix, name)
    cov = matrix @ rep.cov @ matrix.T + noise_matrix @ noise_matrix.T
    return GaussianRepresentation(rep.space, LinearMean(inner, matrix), cov, name=name)
