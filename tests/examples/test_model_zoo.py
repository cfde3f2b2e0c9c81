"""examples/model_zoo.py: the files, their determinism, and one known answer per character.

Everything runs on the small grid (9,216 rows), where a model is generated in
about 10 ms.  The grid is balanced (every combination once), so a latent that is
a function of some factors has exactly zero sample correlation with the others
before noise; the noise terms are bounded in the comments where a tolerance
depends on them.
"""
import os
import re
import subprocess
import sys
import zipfile

import numpy as np
import pytest

from benchmark import FactorSpace, from_arrays
from benchmark.encodings import load_encodings
from benchmark.information import informations
from metrics_baseline import mig
from metrics_pid import aggregate, pid_bounds, profile_table
from model_zoo import CHARACTERS, GRIDS, NUM_LATENTS, grid_factors, main, model_encodings, write_npz

SMALL = GRIDS["small"]
SEEDS = (0, 1, 2)


def zoo(character, seed=0):
    return model_encodings(character, seed, SMALL)


def slots(roles, role):
    return [i for i, r in enumerate(roles) if r == role]


def correlations(codes, factors):
    """``|corr|`` of every latent (rows) with every factor (columns)."""
    c = codes.astype(float) - codes.mean(0)
    f = factors - factors.mean(0)
    return np.abs(c.T @ f) / np.outer(np.linalg.norm(c, axis=0), np.linalg.norm(f, axis=0))


def test_small_grid_is_a_reduced_dsprites():
    assert SMALL.names == FactorSpace.named("dsprites").names
    assert np.prod(SMALL.sizes) == 9216


def test_cli_writes_one_named_file_per_character_and_seed(tmp_path, capsys):
    assert main([str(tmp_path / "zoo"), "--grid", "small", "--seeds", "2",
                 "--characters", "disentangled,synergistic"]) == 0
    names = ["disentangled_s0.npz", "disentangled_s1.npz", "synergistic_s0.npz", "synergistic_s1.npz"]
    assert sorted(p.name for p in (tmp_path / "zoo").iterdir()) == names  # no temporary file left
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and all(line.startswith("wrote ") and "9,216 rows" in line for line in lines)
    with np.load(tmp_path / "zoo" / names[0], allow_pickle=False) as data:
        assert sorted(data.files) == ["codes", "factor_names", "factor_sizes", "factors", "variances"]
        assert data["factors"].shape == (9216, 5) and data["factors"].dtype == np.int64
        for key in ("codes", "variances"):
            assert data[key].shape == (9216, NUM_LATENTS) and data[key].dtype == np.float32
        assert data["factor_names"].tolist() == list(SMALL.names)
        assert data["factor_sizes"].tolist() == list(SMALL.sizes)


def test_cli_refuses_an_unknown_character(tmp_path):
    with pytest.raises(SystemExit) as exc:
        main([str(tmp_path), "--grid", "small", "--characters", "disentangled,vanilla"])
    assert exc.value.code == 2
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("character", CHARACTERS)
def test_every_character_covers_the_grid_once_and_loads(tmp_path, character):
    assert main([str(tmp_path), "--grid", "small", "--seeds", "1", "--characters", character]) == 0
    rep = load_encodings(tmp_path / f"{character}_s0.npz")
    assert rep.covers_grid and rep.num_rows == 9216  # covered, and no row twice
    arrays, _ = zoo(character)
    assert np.isfinite(arrays["codes"]).all() and (arrays["variances"] > 0).all()


def test_grid_factors_enumerates_every_combination_once():
    space = FactorSpace(("pos_y", "shape", "pos_x", "scale", "orientation"), (4, 2, 4, 3, 5))
    factors = grid_factors(space)
    assert len(np.unique(factors, axis=0)) == len(factors) == 4 * 2 * 4 * 3 * 5
    arrays, roles = model_encodings("synergistic", 0, space)  # any sizes, any factor order
    assert arrays["codes"].shape == (480, NUM_LATENTS) and "quadrant sign" in roles
    from_arrays(**arrays)


def test_refuses_other_factors_and_characters():
    with pytest.raises(ValueError, match="dSprites factors"):
        model_encodings("disentangled", 0, FactorSpace.named("shapes3d"))
    with pytest.raises(ValueError, match="unknown character 'vanilla'"):
        model_encodings("vanilla", 0, SMALL)


def test_same_seed_gives_byte_identical_files_and_seeds_differ(tmp_path):
    args = ["--grid", "small", "--seeds", "2", "--characters", "redundant"]
    main([str(tmp_path / "a"), *args])
    main([str(tmp_path / "b"), *args])
    a0, a1, b0 = (tmp_path / "a/redundant_s0.npz", tmp_path / "a/redundant_s1.npz",
                  tmp_path / "b/redundant_s0.npz")
    assert a0.read_bytes() == b0.read_bytes()
    assert a0.read_bytes() != a1.read_bytes()
    # numpy.savez stamps each member with the clock, which would make the bytes depend
    # on when the file was written
    with zipfile.ZipFile(a0) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_files_do_not_depend_on_the_process(tmp_path, root):
    """Python salts ``hash()`` of strings per process; the seeds must not use it."""
    main([str(tmp_path / "here"), "--grid", "small", "--seeds", "1", "--characters", "shared"])
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(root)}
    subprocess.run([sys.executable, str(root / "examples" / "model_zoo.py"), str(tmp_path / "there"),
                    "--grid", "small", "--seeds", "1", "--characters", "shared"],
                   check=True, env=env, capture_output=True, cwd=root)
    assert (tmp_path / "here/shared_s0.npz").read_bytes() == (tmp_path / "there/shared_s0.npz").read_bytes()


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("character", CHARACTERS)
def test_collapsed_latents_have_the_prior_as_posterior(character, seed):
    arrays, roles = zoo(character, seed)
    collapsed = slots(roles, "collapsed")
    assert len(collapsed) >= 1
    var, codes = arrays["variances"][:, collapsed], arrays["codes"][:, collapsed]
    # variance exp(0.02 N): its mean is 1.0002 with a standard error of 2e-4, and no
    # row of 9,216 strays beyond 5 sd (a factor exp(0.1))
    assert np.all(np.abs(var.mean(0) - 1) < 0.002)
    assert np.all((var > 0.9) & (var < 1.11))
    # means 0.01 N: the largest of ~60,000 normals is about 4.5 sd
    assert np.all(np.abs(codes) < 0.06) and np.allclose(codes.std(0), 0.01, rtol=0.05)


def test_the_characters_of_one_seed_share_the_base_encoder():
    base, roles = zoo("disentangled", 1)
    for character in ("redundant", "synergistic"):
        arrays, other = zoo(character, 1)
        same = [i for i in range(NUM_LATENTS) if other[i] == roles[i]]
        assert len(same) >= 5
        np.testing.assert_array_equal(arrays["codes"][:, same], base["codes"][:, same])
        np.testing.assert_array_equal(arrays["variances"][:, same], base["variances"][:, same])


@pytest.mark.parametrize("seed", SEEDS)
def test_disentangled_has_one_latent_per_factor(seed):
    arrays, roles = zoo("disentangled", seed)
    corr = correlations(arrays["codes"], arrays["factors"])
    for k, name in enumerate(SMALL.names):
        [l] = [i for i, r in enumerate(roles) if r.split(" ")[0] == name]
        # other factors: exactly 0 before noise on the balanced grid; the jitter
        # (< 0.3 posterior sd) adds sample correlations of about 0.01 / sqrt(rows)
        assert np.all(np.delete(corr[l], k) < 0.01)
        if name in ("scale", "pos_x", "pos_y"):  # a mild monotone warp of the value
            assert corr[l, k] > 0.99
            assert 0.03**2 * 0.5 < np.median(arrays["variances"][:, l]) < 0.15**2 * 1.5
    shape = arrays["codes"][:, slots(roles, "shape")[0]]
    square = arrays["factors"][:, 0] == 0
    # squares lie 1.85 or more from the round shapes; ellipses and hearts within 0.25
    low, high = sorted([shape[square], shape[~square]], key=np.mean)
    assert high.min() - low.max() > 1.0


@pytest.mark.parametrize("seed", SEEDS)
def test_rotated_pair_is_the_disentangled_positions_rotated(seed):
    arrays, roles = zoo("rotated", seed)
    base, base_roles = zoo("disentangled", seed)
    [role] = {r for r in roles if "rotated" in r}
    angle = np.radians(float(re.search(r"rotated (\d+) deg", role).group(1)))
    pair = arrays["codes"][:, slots(roles, role)].astype(float)
    clean = base["codes"][:, [base_roles.index("pos_x"), base_roles.index("pos_y")]].astype(float)
    coef, *_ = np.linalg.lstsq(clean, pair, rcond=None)
    # each rotated latent mixes both positions with weights cos and sin of the angle
    # (up to sign); the angle in the role is rounded to a degree (0.009 in weight),
    # and the jitter of the rotated and the clean codes differs by < 0.05 sd per row
    expected = np.array([[np.cos(angle), np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    assert np.allclose(np.sort(np.abs(coef), axis=0), np.sort(expected, axis=0), atol=0.02)
    corr = correlations(pair, arrays["factors"])
    assert np.all(corr[:, 3:] > 0.45)  # each correlates with both pos_x and pos_y


@pytest.mark.parametrize("seed", SEEDS)
def test_redundant_copies_mix_the_clean_latents_with_equal_weight(seed):
    arrays, roles = zoo("redundant", seed)
    clean = [roles.index(name) for name in ("shape", "scale", "pos_x", "pos_y")]
    copies = [i for i, r in enumerate(roles) if r.startswith("copy of")]
    assert len(copies) == 4
    x = arrays["codes"][:, clean].astype(float)
    y = arrays["codes"][:, copies].astype(float)
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    # a copy is gain * (I - 1/2) of the clean means, gain in [0.8, 1]: every weight is
    # gain / 2 in magnitude; the copies' jitter (< 0.3 * 0.5 sd) moves a weight by ~0.002
    magnitudes = np.abs(coef)
    assert np.all(magnitudes.max(0) - magnitudes.min(0) < 0.02)
    assert np.all((magnitudes > 0.38) & (magnitudes < 0.52))
    # each copy alone correlates about equally (~0.5) with four factors, so no factor
    # stands out, and the copies' posteriors are wide (sd 0.3-0.5): partly collapsed
    corr = correlations(y, arrays["factors"])
    assert np.all(corr[:, [0, 1, 3, 4]] > 0.35) and np.all(corr[:, [0, 1, 3, 4]] < 0.65)
    assert np.all((np.median(arrays["variances"][:, copies], axis=0) > 0.08)
                  & (np.median(arrays["variances"][:, copies], axis=0) < 0.27))


@pytest.mark.parametrize("seed", SEEDS)
def test_synergistic_pair_carries_shape_only_jointly(seed):
    arrays, roles = zoo("synergistic", seed)
    factors = arrays["factors"]
    key = np.sign(arrays["codes"][:, roles.index("quadrant sign")])
    hidden = np.sign(arrays["codes"][:, roles.index("ellipse bit x quadrant sign")])
    # jointly: the product of the signs is the ellipse bit, on every row (a sign sits
    # >= 0.8 from 0 and its jitter is < 0.3 * 0.25 * exp(0.2 * 5) = 0.2)
    ellipse = factors[:, 0] == 1
    product = key * hidden
    assert len(np.unique(product[ellipse])) == len(np.unique(product[~ellipse])) == 1
    assert product[ellipse][0] == -product[~ellipse][0]
    # alone: each sign is positive on exactly half the rows of every value of every
    # factor (the balanced grid makes the independence exact)
    for sign in (key, hidden):
        for k, size in enumerate(SMALL.sizes):
            for v in range(size):
                assert np.mean(sign[factors[:, k] == v] > 0) == 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_shared_latent_carries_scale_and_shape(seed):
    arrays, roles = zoo("shared", seed)
    corr = correlations(arrays["codes"], arrays["factors"])
    shared = roles.index("scale + shape")
    # cos and sin of 30-40 degrees, times each code's correlation with its factor
    assert corr[shared, 1] > 0.7 and corr[shared, 0] > 0.35
    # no other latent for shape: the informative ones are exactly uncorrelated before
    # noise; a collapsed latent is pure noise, whose sample correlation with a factor
    # is N(0, 1 / sqrt(9216)) = N(0, 0.0104) whatever its scale: < 0.05 is ~5 sd
    assert np.all(np.delete(corr[:, 0], shared) < 0.05)
    assert "shape" not in roles and "scale" not in roles and roles.count("collapsed") == 6


@pytest.mark.parametrize("seed", SEEDS)
def test_noisy_posteriors_are_wider_by_a_constant_factor(seed):
    noisy, roles = zoo("noisy", seed)
    base, base_roles = zoo("disentangled", seed)
    assert roles == base_roles
    ratio = noisy["variances"] / base["variances"]
    informative = [i for i, r in enumerate(roles) if r != "collapsed"]
    # the same row noise scaled by 3-5 per latent: a constant variance ratio of 9-25
    # per latent, up to float32 rounding
    for l in informative:
        assert np.allclose(ratio[:, l], ratio[0, l], rtol=1e-5) and 9 <= ratio[0, l] <= 25
    collapsed = slots(roles, "collapsed")
    np.testing.assert_array_equal(noisy["variances"][:, collapsed], base["variances"][:, collapsed])


@pytest.mark.slow  # every baseline on several models: ~8-30 s
def test_baselines_agree_where_the_pid_profiles_differ():
    """The zoo's point: MIG barely moves between these models, the PID profile does.

    Exact estimator on the whole table, 1,000 Monte Carlo points: the informations
    are then within a few hundredths of H(y_k) of their limit, well inside the
    margins below (0.1 and more).
    """
    scores, profiles = {}, {}
    for character in ("disentangled", "redundant", "synergistic"):
        rep = from_arrays(**zoo(character)[0])
        info = informations(rep, np.random.default_rng(0), num_mc_points=1000, num_components=10000)
        assert info.estimator == "exact"
        scores[character] = {"mig": mig(rep, 0, num_samples=3000)["mig"],
                             **aggregate(pid_bounds(info.single, info.rest, info.joint, info.entropy))}
        table = profile_table(info, rep.space.names)
        profiles[character] = table.groupby(["factor", "term"]).lower.max()
    dis, red, syn = scores["disentangled"], scores["redundant"], scores["synergistic"]
    # synergistic: neither of its two extra latents says anything about one factor,
    # so MIG sees nothing (same rows sampled); shape's synergy bar stands up
    assert abs(syn["mig"] - dis["mig"]) < 0.01
    assert profiles["synergistic"]["shape", "synergy"] > 0.15
    assert profiles["disentangled"]["shape", "synergy"] < 0.05
    # redundant: MIG loses < 0.15, UniBound > 0.25, and the redundancy bound rises
    assert dis["mig"] - red["mig"] < 0.15
    assert dis["unibound"] - red["unibound"] > 0.25
    assert red["redundancy_l"] > 0.25 > 0.05 > dis["redundancy_l"]


def test_a_failed_write_leaves_neither_a_file_nor_a_temporary(tmp_path, monkeypatch):
    arrays, _ = zoo("disentangled")
    (tmp_path / "old.npz").write_bytes(b"previous")
    calls = []

    def fail_on_second(member, array, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        original(member, array, **kwargs)

    original = np.lib.format.write_array
    monkeypatch.setattr(np.lib.format, "write_array", fail_on_second)
    with pytest.raises(OSError, match="disk full"):
        write_npz(tmp_path / "new.npz", arrays)
    with pytest.raises(OSError, match="disk full"):
        calls.clear()
        write_npz(tmp_path / "old.npz", arrays)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["old.npz"]
    assert (tmp_path / "old.npz").read_bytes() == b"previous"  # replaced only when complete
