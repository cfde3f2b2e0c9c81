"""SNC and NK (Mahon, Sha & Lukasiewicz 2023): agreement with the authors' code on fixed
arrays, known answers, invariances, errors and the representation-level function."""
import json
from pathlib import Path

import numpy as np
import pytest

from benchmark import BenchmarkError, FactorSpace, ideal
from benchmark.spec import FAMILIES, PROPERTIES
from metrics_baseline._snc_nk import SPEC, snc_nk, snc_nk_accuracies, snc_nk_score

DATA = Path(__file__).resolve().parent.parent / "data"  # tests/data: see its README
SPLIT = 8000  # the reference's rows 0..7999 train, 8000..9999 test


@pytest.fixture(scope="module")
def reference():
    """Per set: the codes as the reference got them (float32), the factors, and its results."""
    arrays = np.load(DATA / "metric_zoo_arrays.npz")
    results = json.loads((DATA / "zoo2_reference.json").read_text())["metrics"]["sncnk/snc_nk"]["results"]
    assert results, "zoo2_reference.json has no sncnk/snc_nk set"
    return {name: (arrays[f"{name}_codes"].astype(np.float32), arrays[f"{name}_factors"], result)
            for name, result in results.items()}


def _split(codes, factors):
    return codes[:SPLIT], factors[:SPLIT], codes[SPLIT:], factors[SPLIT:]


def _grid(sizes, repeats, rng):
    """Every combination of values ``repeats`` times, shuffled: each value equally frequent,
    as on the paper's full grids (SNC's equal-frequency bins then fall between values)."""
    grid = np.stack(np.meshgrid(*map(np.arange, sizes), indexing="ij"), -1).reshape(-1, len(sizes))
    return rng.permutation(np.repeat(grid, repeats, axis=0))


# ---------------------------------------------------------------- agreement with the authors' code


def test_snc_agrees_with_the_authors_code(reference):
    """The single-neuron part is deterministic (alignment and bin matchings by Hungarian
    assignments on the training rows): per-factor training and test accuracies and SNC
    within 1e-6."""
    for name, (codes, factors, result) in reference.items():
        expected = result["mean"]
        acc = snc_nk_accuracies(*_split(codes, factors), 0, knockout=False)
        for k in range(factors.shape[1]):
            for split in ("train", "test"):
                assert acc[f"snc_{split}"][k] == pytest.approx(
                    expected[f"{split}/single-neuron/f{k}"], abs=1e-6), (name, split, k)
        out = snc_nk_score(*_split(codes, factors), 0, knockout=False)
        assert out["snc"] == pytest.approx(expected["derived/SNC_test"], abs=1e-6), name
        assert np.mean(acc["snc_train"]) == pytest.approx(expected["derived/SNC_train"], abs=1e-6)


@pytest.mark.slow  # 2 x (3 + 5) probes of up to 75 epochs on 8,000 rows, five seeds: ~70 s
def test_nk_agrees_with_the_authors_code_in_distribution(reference):
    """The probes are stochastic (initialisation and minibatch order): our mean over seeds
    0-4 within 3 reference std + 0.001 of the reference's mean over its five seeds, for the
    per-factor mlp and re1 accuracies (test, and training: the last epoch's) and NK.  The
    floor, two test rows (or eight training rows): the reference's std is the population std
    of only five runs, which understates the spread where the runs differ by a row or two
    (``random`` test/re1/f2: std 0.0005, one test row)."""
    for name, (codes, factors, result) in reference.items():
        runs = [snc_nk_accuracies(*_split(codes, factors), seed) for seed in range(5)]
        mean, std = result["mean"], result["std"]
        for part in ("mlp", "re1"):
            for split in ("train", "test"):
                ours = np.mean([run[f"{part}_{split}"] for run in runs], axis=0)
                for k, value in enumerate(ours):
                    key = f"{split}/{part}/f{k}"
                    assert value == pytest.approx(mean[key], abs=3 * std[key] + 1e-3), (name, key)
        nk = np.mean([np.mean(run["mlp_test"] - run["re1_test"]) for run in runs])
        assert nk == pytest.approx(mean["derived/NK_test"], abs=3 * std["derived/NK_test"] + 1e-3), name


# ---------------------------------------------------------------- known answers


def test_snc_of_an_ideal_code_is_one():
    """Latent = factor index + noise of 1% of the value spacing, latents permuted, one
    flipped and rescaled, one exponentiated, one shifted: every training row is read off
    its neuron exactly.  A cut is a training value (the lowest of a value's rows, or the
    highest once flipped), so a test row beyond all of its value's training rows crosses
    it: about 375 / 1,501 rows per cut, 1 - SNC at most 6 / 1,500 (3 cuts and 4 for
    factors of 4 and 5 values).  Without noise the cuts are the values: 1 exactly."""
    rng = np.random.default_rng(0)
    factors, factors_test = _grid((3, 4, 5), 100, rng), _grid((3, 4, 5), 25, rng)

    def encode(y, noise):
        z = y + noise * rng.standard_normal(y.shape)
        return np.stack([0.5 * z[:, 2] + 7.0, -3.0 * z[:, 0], np.exp(z[:, 1])], axis=1)

    acc = snc_nk_accuracies(encode(factors, 0.01), factors, encode(factors_test, 0.01), factors_test, 0,
                            knockout=False)
    np.testing.assert_array_equal(acc["neuron"], [1, 2, 0])
    np.testing.assert_array_equal(acc["snc_train"], 1.0)
    assert np.all(acc["snc_test"] >= 1 - 6 / len(factors_test))
    exact = snc_nk_score(encode(factors, 0.0), factors, encode(factors_test, 0.0), factors_test, 0,
                         knockout=False)
    assert exact == {"snc": 1.0, "snc/0": 1.0, "snc/1": 1.0, "snc/2": 1.0}


def test_snc_of_noise_is_chance():
    """Codes independent of balanced factors: the bin-to-value map fitted on the training
    rows hits each test row with probability 1/c, so each factor's test accuracy is within
    4 binomial standard deviations of 1/c (3,000 test rows)."""
    rng = np.random.default_rng(1)
    sizes = (2, 5, 10)
    factors, factors_test = _grid(sizes, 60, rng), _grid(sizes, 30, rng)
    codes, codes_test = rng.standard_normal((len(factors), 3)), rng.standard_normal((len(factors_test), 3))
    out = snc_nk_score(codes, factors, codes_test, factors_test, 0, knockout=False)
    for k, c in enumerate(sizes):
        sd = np.sqrt((1 / c) * (1 - 1 / c) / len(factors_test))
        assert out[f"snc/{k}"] == pytest.approx(1 / c, abs=4 * sd)


def test_nk_of_one_neuron_per_factor_and_of_duplicated_factors():
    """One neuron per factor (noise 5% of the spacing): the knocked-out probe is at chance,
    1/c within 0.05 (1,500 test rows, a probe that overfits noise), the full one reads the
    factor, but reports the test accuracy of the epoch before its training accuracy passes
    0.99: 0.95-0.99 for these factors over ten draws, so NK is 1 - mean(1/c) within 0.05
    (0.006-0.025 below it over those draws).  Every factor in two neurons with independent
    noise: the copy left after the knockout reads the factor as well, so NK is 0 within
    0.05 (within 0.023 over the ten draws: both probes stop near 0.99, at different
    epochs)."""
    rng = np.random.default_rng(2)
    sizes = (3, 4, 5)
    factors, factors_test = _grid(sizes, 100, rng), _grid(sizes, 25, rng)

    def encode(y, copies):
        return np.concatenate([y + 0.05 * rng.standard_normal(y.shape) for _ in range(copies)], axis=1)

    acc = snc_nk_accuracies(encode(factors, 1), factors, encode(factors_test, 1), factors_test, 0)
    assert np.all(acc["mlp_test"] >= 0.9)
    np.testing.assert_allclose(acc["re1_test"], [1 / c for c in sizes], atol=0.05)
    nk = np.mean(acc["mlp_test"] - acc["re1_test"])
    assert nk == pytest.approx(1 - np.mean([1 / c for c in sizes]), abs=0.05)
    twice = snc_nk_accuracies(encode(factors, 2), factors, encode(factors_test, 2), factors_test, 0)
    np.testing.assert_array_equal(twice["neuron"] % 3, [0, 1, 2])  # one copy of each factor
    assert np.mean(twice["mlp_test"] - twice["re1_test"]) == pytest.approx(0.0, abs=0.05)


# ---------------------------------------------------------------- invariances


def _partial_code(rng, factors):
    """Three latents that read their factor with errors (noise of half the spacing) and a
    fourth of pure noise: scores strictly between chance and 1."""
    return np.concatenate([factors + 0.5 * rng.standard_normal(factors.shape),
                           rng.standard_normal((len(factors), 1))], axis=1)


def test_snc_is_invariant_to_permutations_and_increasing_maps(reference):
    """Bins are cut at order statistics of the training rows, so any increasing map of a
    latent, and any order of the latents, give the same bins, matchings and accuracies:
    equal exactly (on four latents of the reference's ``random`` set too, pure noise, where
    the alignment is decided by informations close to 0)."""
    rng = np.random.default_rng(3)
    factors = rng.integers(0, (3, 4, 6), size=(3000, 3))
    factors_test = rng.integers(0, (3, 4, 6), size=(1000, 3))
    codes, codes_test = _partial_code(rng, factors), _partial_code(rng, factors_test)
    base = snc_nk_accuracies(codes, factors, codes_test, factors_test, 0, knockout=False)
    assert 0.4 < base["snc_test"].min() and base["snc_test"].max() < 1.0
    perm = np.array([2, 3, 0, 1])

    def transform(z):
        z = z[:, perm]
        return np.stack([np.exp(z[:, 0]), z[:, 1] ** 3, 2.5 * z[:, 2] - 4.0, np.arctan(z[:, 3])], axis=1)

    moved = snc_nk_accuracies(transform(codes), factors, transform(codes_test), factors_test, 0,
                              knockout=False)
    np.testing.assert_array_equal(perm[moved["neuron"]], base["neuron"])
    np.testing.assert_array_equal(moved["snc_train"], base["snc_train"])
    np.testing.assert_array_equal(moved["snc_test"], base["snc_test"])
    codes, factors, _ = reference["random"]
    codes = codes[:, :4]  # four latents for five factors: the neurons are repeated in the matching
    base = snc_nk_accuracies(*_split(codes, factors), 0, knockout=False)
    moved = snc_nk_accuracies(*_split(transform(codes), factors), 0, knockout=False)
    np.testing.assert_array_equal(perm[moved["neuron"]], base["neuron"])
    np.testing.assert_array_equal(moved["snc_test"], base["snc_test"])


def test_snc_under_a_sign_flip_moves_by_at_most_a_test_row_per_cut():
    """A decreasing map reverses the order: with a number of training rows divisible by
    each factor's number of values the bins hold the same rows, but each cut moves from the
    first training value above it to the last below, so a test row between those two
    neighbours may change bin: at most c - 1 test rows per factor."""
    rng = np.random.default_rng(4)
    sizes = (3, 4, 6)
    factors, factors_test = _grid(sizes, 50, rng), rng.integers(0, sizes, size=(1000, 3))
    codes, codes_test = _partial_code(rng, factors), _partial_code(rng, factors_test)
    base = snc_nk_accuracies(codes, factors, codes_test, factors_test, 0, knockout=False)
    flip = np.array([-1.0, 1.0, -1.0, 1.0])
    flipped = snc_nk_accuracies(codes * flip, factors, codes_test * flip, factors_test, 0, knockout=False)
    np.testing.assert_array_equal(flipped["neuron"], base["neuron"])
    np.testing.assert_array_equal(flipped["snc_train"], base["snc_train"])
    np.testing.assert_array_less(np.abs(flipped["snc_test"] - base["snc_test"]),
                                 (np.array(sizes) - 1) / len(factors_test) + 1e-12)


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(("change", "argname"), [
    (lambda a: {**a, "factors": a["factors"][:-1]}, "factors"),
    (lambda a: {**a, "factors_test": a["factors_test"][:-1]}, "factors_test"),
    (lambda a: {**a, "codes": a["codes"][:1], "factors": a["factors"][:1]}, "codes and factors"),
    (lambda a: {**a, "codes_test": a["codes_test"][:1], "factors_test": a["factors_test"][:1]},
     "codes_test and factors_test"),
    (lambda a: {**a, "codes_test": a["codes_test"][:, :1]}, "codes_test"),
    (lambda a: {**a, "factors_test": a["factors_test"][:, :1]}, "factors_test"),
    (lambda a: {**a, "factors": a["factors"] - 1}, "factors"),
    (lambda a: {**a, "codes": a["codes"][:, 0]}, "codes"),
])
def test_bad_arrays_raise_naming_the_argument(change, argname):
    rng = np.random.default_rng(5)
    arrays = {"codes": rng.standard_normal((20, 2)), "factors": rng.integers(0, 3, (20, 2)),
              "codes_test": rng.standard_normal((10, 2)), "factors_test": rng.integers(0, 3, (10, 2))}
    with pytest.raises(BenchmarkError, match=argname):
        snc_nk_score(**change(arrays), rng=0)


def test_bad_options_raise_naming_the_argument():
    rep = ideal(FactorSpace.synthetic([3, 4]), noise=0.05)
    for kwargs, argname in (({"num_train": 1}, "num_train"), ({"num_test": 0}, "num_test"),
                            ({"max_epochs": 0}, "max_epochs")):
        with pytest.raises(BenchmarkError, match=argname):
            snc_nk(rep, 0, **kwargs)
    with pytest.raises(BenchmarkError, match="rng"):
        snc_nk(rep, "zero")


# ---------------------------------------------------------------- representation level


def test_snc_nk_of_an_ideal_representation_is_reproducible():
    """A uniform draw of 1,000 rows: SNC above 0.9 (its values are not exactly equally
    frequent, see the module docstring), NK near 1 - mean(1/3, 1/4) = 0.71; the same seed,
    as an int or a fresh Generator, gives the same dict."""
    rep = ideal(FactorSpace.synthetic([3, 4]), noise=0.05)
    sizes = {"num_train": 1000, "num_test": 500}
    out = snc_nk(rep, 7, **sizes)
    assert set(out) == {"snc", "nk", "snc/0", "snc/1"}
    assert out["snc"] > 0.9 and out["nk"] == pytest.approx(1 - (1 / 3 + 1 / 4) / 2, abs=0.05)
    assert snc_nk(rep, 7, **sizes) == out
    assert snc_nk(rep, np.random.default_rng(7), **sizes) == out
    assert snc_nk(rep, 8, **sizes) != out
    assert SPEC.family in FAMILIES and SPEC.target in PROPERTIES
    scores, _ = SPEC.run(rep, 7, sizes, quick=True)
    assert scores["snc"] == out["snc"]  # --quick shortens the probes only
