"""A non-linear key pad: each latent multiplied by a random sign that a companion latent carries.

The synergy no linear mixing produces (the ``synergy`` attack's pad is added,
so a linear read-out of the pair undoes it): ``z'_l = s_l z_l`` and an
appended ``m_l = s_l + 0.1 e_l``, where ``s_l = -1`` with probability
``min(level, 1) / 2`` independently per example and latent.  For centred
latents the sign hides which side of the range the factor is on; only the
pair, multiplied, gives it back (the XOR example of partial information
decomposition, Williams & Beer 2010).  At level 0 the companions are pure noise.
"""
import numpy as np

from benchmark.representations import Representation
from benchmark.validation import check_rng

from ._spec import AttackSpec, expect, why

__all__ = ["SPEC", "SignPad", "xor"]

#: Noise of the companion latent around its sign.
PAD_NOISE = 0.1


class SignPad(Representation):
    """``(s z, s + 0.1 e)`` with random signs ``s`` of probability ``flip`` of being -1."""

    def __init__(self, base, level):
        super().__init__(base.space, 2 * base.dim, f"xor({level:g})[{base.name}]")
        self.base, self.flip = base, min(level, 1.0) / 2

    def encode(self, y, rng):
        rng = check_rng(rng)
        z = np.asarray(self.base.encode(y, rng), dtype=float)
        signs = np.where(rng.random(z.shape) < self.flip, -1.0, 1.0)
        return np.hstack([signs * z, signs + PAD_NOISE * rng.standard_normal(z.shape)])


def xor(rep, level, rng):
    """Hide each latent's sign in a companion latent.

    >>> from benchmark import FactorSpace, ideal
    >>> rep = xor(ideal(FactorSpace.synthetic([3, 4])), 1.0, 0)
    >>> y = np.repeat(np.array([[2, 3]]), 1000, axis=0)
    >>> codes = rep.encode(y, 0)
    >>> unpadded = codes[:, :2] * np.sign(codes[:, 2:])  # the pair gives the latent back
    >>> bool(np.allclose(unpadded.mean(axis=0), rep.base.mean(y[:1])[0], atol=0.02))
    True
    """
    return SignPad(rep, level)


SPEC = AttackSpec(
    "xor", xor, levels=(0.0, 0.125, 0.25, 0.5, 0.75, 1.0), quick_levels=(0.0, 0.5, 1.0),
    description="(s z, s + 0.1 e) with random signs s: synergy no linear mixing gives",
    max_level=1.0,
    expect=expect("flat", "fall", "fall", "flat", "fall"),
    why=why('each latent holds its own factor and a random sign only',
            'the factor needs both latents (s z, s)',
            'the product of the two is not linear',
            'the pair keeps all of it',
            'neither latent alone carries the factor (XOR-like synergy)'))
