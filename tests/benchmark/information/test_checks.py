"""Estimates held to information theory (``benchmark.information._checks``)."""
import numpy as np
import pytest

import attacks
from benchmark import FactorSpace, ideal
from benchmark.information import Informations, breaches, informations, silent_latent_warning

H = np.log(3)


def info(single, rest, joint, estimator="knn"):
    return Informations(np.array(single, float), np.array(rest, float), np.array(joint, float),
                        np.array([H]), estimator)


@pytest.mark.parametrize("attack, level", [("noise", 1.0), ("rotation", 0.5), ("redundancy", 2.0),
                                           ("duplicate", 1.0), ("synergy", 0.5)])
def test_the_exact_estimator_never_breaks_information_theory(attack, level):
    # the tolerance of 0.01 of H for "exact" is a margin over this: no breach beyond the
    # rounding of two means over 10^4 points (~1e-16 each; a single latent that carries
    # a factor alone gives the same information as the whole set up to that rounding)
    rep = attacks.get(attack)(ideal(FactorSpace.synthetic([4, 5, 6])), level, np.random.default_rng(0))
    assert breaches(informations(rep, 1, estimator="exact"), tolerance=1e-12) == []


def test_each_kind_of_breach_is_named_with_its_size():
    # three latents: I(y; z0) above H, I(y; z1) above the joint, I(y; z2) above the rest
    # without z0, and a negative rest; sizes in units of H
    found = breaches(info([[1.2 * H, 0.7 * H, 0.5 * H]], [[0.3 * H, 0.6 * H, 0.6 * H]], [0.6 * H]),
                     ["y"])
    text = "\n".join(found)
    assert f"I(y; z0) = {1.2 * H:.4g} nats exceeds H(y) = {H:.4g} by 0.2 of H" in text
    assert f"I(y; z1) = {0.7 * H:.4g} nats exceeds I(y; z) = {0.6 * H:.4g} by 0.1 of H" in text
    assert f"I(y; z2) = {0.5 * H:.4g} nats exceeds I(y; z_-0) = {0.3 * H:.4g} by 0.2 of H" in text
    assert all(line.endswith("(knn estimator)") for line in found)
    # within the estimator's tolerance nothing is reported, and nothing is changed
    small = info([[0.63 * H, 0.0]], [[0.0, 0.63 * H]], [0.6 * H])
    assert breaches(small) == [] and small.single[0, 0] == pytest.approx(0.63 * H)
    assert breaches(info([[-0.06 * H, 0.0]], [[0.0, 0.0]], [0.0]), ["y"]) == [
        f"I(y; z0) = {-0.06 * H:.4g} nats is negative by 0.06 of H (knn estimator)"]


def test_the_silent_latent_warning_concerns_plain_knn_only():
    single = [[0.9 * H, 0.001, 0.0]]
    assert len(silent_latent_warning(info(single, [[0.9 * H] * 3], [0.9 * H]))) == 1
    for estimator in ("exact", "posterior_knn"):
        assert silent_latent_warning(info(single, [[0.9 * H] * 3], [0.9 * H], estimator)) == []
