"""A factor encoded on a circle: each latent becomes a point on an arc that grows with the level.

Carbonneau et al., *Measuring Disentanglement: A Review of Metrics* (2022), section
5.4 encodes factors as ``(cos, sin)`` pairs; here the level bends a latent onto
such an arc.  Latent ``z`` (standardised) becomes ``(sin(w z) / w, (1 -
cos(w z)) / w)`` with ``w = 1.6 level``: at level 0 this is ``(z, 0)`` (an
appended constant latent), at level 1 the latent's range covers most of the
circle.  The map is invertible on the latent's range, so the information stays
(up to the far tails that wrap around).  The second coordinate, about ``w
z^2 / 2``, carries information about the factor from the first step on (an
information measure ignores its small scale), so the split of the factor over
two latents is a step at the first level; what grows with the level is how
non-linear the read-out is.
"""
import numpy as np

from benchmark.representations import Representation
from benchmark.validation import check_rng

from ._spec import AttackSpec, expect, why

__all__ = ["SPEC", "Circular", "circular"]

#: Angle, in radians per standard deviation of the latent, at level 1.
ARC = 1.6


class Circular(Representation):
    """``(sin(w z) / w, (1 - cos(w z)) / w)`` of every latent of ``base``."""

    def __init__(self, base, level):
        super().__init__(base.space, 2 * base.dim, f"circular({level:g})[{base.name}]")
        self.base, self.w = base, ARC * level

    def encode(self, y, rng):
        z = np.asarray(self.base.encode(y, check_rng(rng)), dtype=float)
        if self.w == 0:
            return np.hstack([z, np.zeros_like(z)])
        return np.hstack([np.sin(self.w * z) / self.w, (1 - np.cos(self.w * z)) / self.w])


def circular(rep, level, rng):
    """Put every latent on an arc of ``1.6 level`` radians per standard deviation.

    >>> from benchmark import FactorSpace, ideal
    >>> rep = circular(ideal(FactorSpace.synthetic([3, 4])), 1.0, 0)
    >>> codes = rep.encode(np.array([[2, 0]]), 0)
    >>> codes.shape, bool(np.allclose((codes[:, :2] * 1.6) ** 2 + (1 - codes[:, 2:] * 1.6) ** 2, 1))
    ((1, 4), True)
    """
    return Circular(rep, level)


SPEC = AttackSpec(
    "circular", circular, levels=tuple(i / 8 for i in range(9)), quick_levels=(0.0, 0.5, 1.0),
    description="each latent on a growing arc (sin, 1 - cos): compactness broken, information kept",
    expect=expect("flat", "fall", "fall", "flat", "fall"),
    why=why('the pair (sin, 1 - cos) carries its own factor only',
            'the factor now needs two latents',
            'an angle on a growing arc: no linear read-out recovers it',
            'the map is invertible on the arc: nothing is lost',
            'neither coordinate alone gives the angle'))
