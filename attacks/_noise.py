"""Additive isotropic noise: ``z + level * eps``."""
import numpy as np

from benchmark.representations import linear_transform

from ._spec import AttackSpec, expect, geometric_grid, why

__all__ = ["SPEC", "noise"]


def noise(rep, level, rng):
    """Add ``level`` times standard Gaussian noise to every latent.

    >>> from benchmark import FactorSpace, ideal
    >>> rep = noise(ideal(FactorSpace.synthetic([3, 4])), 2.0, 0)
    >>> round(float(rep.cov[0, 0] - ideal(FactorSpace.synthetic([3, 4])).cov[0, 0]), 6)
    4.0
    """
    eye = np.eye(rep.dim)
    return linear_transform(rep, eye, level * eye, name=f"noise({level:g})[{rep.name}]")


SPEC = AttackSpec(
    "noise", noise, levels=geometric_grid(-6, 2), quick_levels=(0.0, 0.25, 1.0, 4.0),
    description="z + level * eps: information is destroyed, not entangled",
    expect=expect("fall", "fall", "fall", "fall", "fall"),
    why=why('a latent drowned in noise is modular about nothing',
            'no latent carries its factor any more',
            'no read-out recovers a factor from noise',
            'the noise destroys what the latents carry',
            'what each latent alone carries shrinks to nothing'))
