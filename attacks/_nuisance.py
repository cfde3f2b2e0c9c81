"""Dead latents: a growing number of latents that carry nothing, appended.

A representation with more latents than factors (a VAE's collapsed
dimensions) should not be judged less disentangled for it: each appended
latent is independent standard noise, so no information moves.  Metrics that
average over latents rather than over factors can be fooled (Carbonneau et al.
2022 discuss this for modularity-style scores).
"""
import numpy as np

from benchmark.representations import linear_transform

from ._spec import AttackSpec, expect, why

__all__ = ["SPEC", "nuisance"]


def nuisance(rep, level, rng):
    """Append ``floor(level)`` latents of independent standard noise.

    >>> from benchmark import FactorSpace, ideal
    >>> nuisance(ideal(FactorSpace.synthetic([3, 4])), 3.0, 0).dim
    5
    """
    extra = int(level)
    matrix = np.vstack([np.eye(rep.dim), np.zeros((extra, rep.dim))])
    noise = np.vstack([np.zeros((rep.dim, max(extra, 1))), np.eye(extra, max(extra, 1))])
    return linear_transform(rep, matrix, noise, name=f"nuisance({level:g})[{rep.name}]")


SPEC = AttackSpec(
    "nuisance", nuisance, levels=(0.0, 1.0, 2.0, 4.0, 8.0, 16.0), quick_levels=(0.0, 2.0, 8.0),
    description="floor(level) dead latents of pure noise appended: nothing should move",
    expect=expect("flat", "flat", "flat", "flat", "flat"),
    why=why('dead latents carry no factor and change no other latent',
            'each factor stays in its latent',
            'a read-out can ignore latents of pure noise',
            'noise latents add nothing and remove nothing',
            'the informative latents are unchanged'))
