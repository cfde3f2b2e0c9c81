"""Partial factors as an attack: the latents of a growing number of factors replaced by noise.

Carbonneau et al., *Measuring Disentanglement: A Review of Metrics* (2022), section
5.6 scores representations that capture only some factors; here the first
``floor(level)`` latents (those of the first factors, for the ideal
representation) are replaced by independent standard noise, at most all but
one (with none left it would be ``mixing_noise`` at its top).  What is left
stays modular and compact; the lost factors are simply absent.
"""
import numpy as np

from benchmark.representations import linear_transform

from ._spec import AttackSpec, expect, why

__all__ = ["SPEC", "all_but_one", "missing"]


def missing(rep, level, rng):
    """Replace the first ``floor(level)`` latents (at most all but one) by standard noise.

    >>> from benchmark import FactorSpace, ideal
    >>> rep = missing(ideal(FactorSpace.synthetic([3, 4])), 1.0, 0)
    >>> float(rep.mean(np.array([[2, 3]]))[0, 0]), float(rep.cov[0, 0])
    (0.0, 1.0)
    """
    gone = min(int(level), rep.dim - 1)
    keep = np.diag([0.0] * gone + [1.0] * (rep.dim - gone))
    noise = np.diag([1.0] * gone + [0.0] * (rep.dim - gone))
    return linear_transform(rep, keep, noise, name=f"missing({level:g})[{rep.name}]")


def all_but_one(rep) -> float:
    """The highest meaningful level on ``rep``: every latent but one replaced."""
    return float(rep.dim - 1)


all_but_one.label = "the number of latents minus one"  # how --list names this limit

SPEC = AttackSpec(
    "missing", missing, levels=(0.0, 1.0, 2.0, 3.0, 4.0), quick_levels=(0.0, 2.0, 4.0),
    description="the first floor(level) latents replaced by noise: factors go missing (the review's)",
    max_level=all_but_one,
    expect=expect("flat", "fall", "fall", "fall", "fall"),
    why=why('what is left still holds one factor per latent',
            'a missing factor sits in no latent',
            'a missing factor cannot be read out',
            "the replaced latents' information is gone",
            'a missing factor has no latent carrying it'))
