"""The metric review's noise: ``(1 - level) z + level u`` with independent ``u``.

Carbonneau, Zaidi, Boilard & Gagnon, *Measuring Disentanglement: A Review
of Metrics* (IEEE TNNLS 2022, arXiv:2012.09276), section 5.2: the codes are blended with independent noise of
the same scale, so information is destroyed while the scale stays bounded
(the variance ``(1 - a)^2 + a^2`` dips to 1/2 at ``a = 1/2`` and is 1 again
at level 1, pure noise), unlike ``noise``, which grows it without bound.
"""
import numpy as np

from benchmark.representations import linear_transform

from ._spec import AttackSpec, expect, why

__all__ = ["SPEC", "mixing_noise"]


def mixing_noise(rep, level, rng):
    """Blend every latent with independent standard noise: ``(1 - a) z + a u``, ``a <= 1``.

    >>> from benchmark import FactorSpace, ideal
    >>> rep = mixing_noise(ideal(FactorSpace.synthetic([3, 4])), 1.0, 0)
    >>> float(rep.cov[0, 0]), float(rep.mean(np.array([[2, 3]]))[0, 0])
    (1.0, 0.0)
    """
    a = min(level, 1.0)
    eye = np.eye(rep.dim)
    return linear_transform(rep, (1 - a) * eye, a * eye, name=f"mixing_noise({level:g})[{rep.name}]")


SPEC = AttackSpec(
    "mixing_noise", mixing_noise, levels=tuple(i / 8 for i in range(9)),
    quick_levels=(0.0, 0.5, 1.0),
    description="(1 - level) z + level u: the review's noise, information destroyed, scale bounded",
    max_level=1.0,
    expect=expect("fall", "fall", "fall", "fall", "fall"),
    why=why('a latent that is mostly noise is modular about nothing',
            'no latent carries its factor any more',
            'no read-out recovers a factor from noise',
            'the noise replaces what the latents carry',
            'what each latent alone carries shrinks to nothing'))
