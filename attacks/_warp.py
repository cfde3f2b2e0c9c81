"""A strictly monotone non-linearity per latent, of growing strength.

Carbonneau et al., *Measuring Disentanglement: A Review of Metrics* (2022), section
5.5 warps codes with a tangent of growing strength; here ``z -> sinh(a z) / a``
(``a`` the level; level 0 is the identity), which is odd, strictly monotone
and stretches the tails exponentially.  An invertible map of single latents
changes no information, so the attacked representation is information-
equivalent to the original one (UniBound is exactly unchanged); what falls is
how well a linear model reads the factors off the latents.
"""
import numpy as np

from benchmark.representations import map_latents

from ._spec import AttackSpec, expect, why

__all__ = ["SPEC", "SinhWarp", "warp"]


class SinhWarp:
    """``sinh(a z) / a`` elementwise (the identity at ``a = 0``)."""

    def __init__(self, a):
        self.a = float(a)

    def __call__(self, z):
        return z if self.a == 0 else np.sinh(self.a * z) / self.a


def warp(rep, level, rng):
    """Warp every latent with ``sinh(level z) / level``.

    >>> from benchmark import FactorSpace, ideal
    >>> rep = warp(ideal(FactorSpace.synthetic([3, 4])), 2.0, 0)
    >>> round(float(rep.latent_map(np.array([1.0]))[0]), 4)  # sinh(2) / 2
    1.8134
    """
    return map_latents(rep, latent_map=SinhWarp(level), name=f"warp({level:g})[{rep.name}]")


SPEC = AttackSpec(
    "warp", warp, levels=(0.0, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0), quick_levels=(0.0, 1.0, 4.0),
    description="sinh(level z) / level per latent: information kept, linear read-out falls",
    expect=expect("flat", "flat", "fall", "flat", "flat"),
    why=why('an invertible map of a latent gives it no second factor',
            'each factor stays in its one latent',
            'sinh bends the latent: a linear read-out fits worse',
            'invertible per latent: nothing is lost',
            'information is unchanged by invertible maps'))
