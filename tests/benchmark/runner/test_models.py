"""Several models in one run: naming, discovery, the refusals before any sweep, and the
comparison outputs end to end."""
import itertools

import numpy as np
import pandas as pd
import pytest

from benchmark.runner.models import discover, model_name
from benchmark.validation import BenchmarkError

SIZES = (3, 4, 5)
NAMES = ("shape", "scale", "pos")


def encodings(path, *, latents=4, sizes=SIZES, names=NAMES, angle=0.0, variances=True, seed=0,
              repeats=20):
    """A small model's encodings of the fully covered factor grid ``sizes``: one latent per
    factor (the first two rotated by ``angle``), then pure-noise latents up to ``latents``."""
    rng = np.random.default_rng(seed)
    factors = np.repeat(np.array(list(itertools.product(*map(range, sizes)))), repeats, axis=0)
    unit = (factors - (np.array(sizes) - 1) / 2) / np.array(sizes)
    c, s = np.cos(angle), np.sin(angle)
    means = np.column_stack([c * unit[:, 0] - s * unit[:, 1], s * unit[:, 0] + c * unit[:, 1],
                             unit[:, 2:], 0.01 * rng.standard_normal((len(factors), latents - len(sizes)))])
    sd = 0.05 * np.exp(0.1 * rng.standard_normal(means.shape))
    arrays = {"factors": factors, "codes": means + 0.5 * sd * rng.standard_normal(means.shape),
              "factor_names": np.array(names), "factor_sizes": np.array(sizes)}
    if variances:
        arrays["variances"] = sd**2
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


@pytest.mark.parametrize("stem, expected", [
    ("betavae_s0", ("betavae", 0)), ("betavae_s12", ("betavae", 12)),
    ("beta_vae_s3", ("beta_vae", 3)), ("my_s1_model_s2", ("my_s1_model", 2)),
    ("factorvae", ("factorvae", 0)), ("vae_s", ("vae_s", 0)), ("vae_sx1", ("vae_sx1", 0)),
    ("_s1", ("_s1", 0)), ("s1", ("s1", 0)), ("vae_S1", ("vae_S1", 0)),
])
def test_naming_rule(stem, expected):
    assert model_name(stem) == expected


def test_discovery_of_files_and_directories(tmp_path):
    for name in ["b_s1.npz", "b_s0.npz", "a.npz", ".hidden.npz", "notes.txt"]:
        (tmp_path / "dir" / name).parent.mkdir(exist_ok=True)
        (tmp_path / "dir" / name).write_bytes(b"")
    (tmp_path / "dir" / "sub.npz").mkdir()  # a directory named like a file is not a file
    single = tmp_path / "c_s3.npz"
    single.write_bytes(b"")
    files = discover([str(single), str(tmp_path / "dir")])
    assert [(f.stem, f.model, f.seed) for f in files] == [
        ("c_s3", "c", 3), ("a", "a", 0), ("b_s0", "b", 0), ("b_s1", "b", 1)]
    assert files[0].path == str(single)  # a file is kept as given
    # one file, even a missing one, passes through: loading it reports what is wrong
    assert [f.path for f in discover(["missing.npz"])] == ["missing.npz"]


@pytest.mark.parametrize("layout, message", [
    (lambda d: [d / "empty"], "the directory holds no .npz file"),
    (lambda d: [d / "x" / "m.npz", d / "y" / "m.npz"], "have the same name 'm'"),
    (lambda d: [d / "x" / "m.npz", d / "x" / "m.npz"], "names {x}/m.npz twice"),
    (lambda d: [d / "x" / "m_s1.npz", d / "y" / "m_s01.npz"], "are both seed 1 of model 'm'"),
])
def test_discovery_refusals(tmp_path, layout, message):
    (tmp_path / "empty").mkdir()
    paths = layout(tmp_path)
    for path in paths:
        if path.suffix:
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(b"")
    with pytest.raises(BenchmarkError, match=None) as info:
        discover([str(p) for p in paths])
    assert message.format(x=tmp_path / "x") in str(info.value)


QUICK = ["--attack", "redundancy", "--quick", "--levels", "0,1", "--seeds", "2"]


@pytest.mark.parametrize("case", ["grid sizes", "factor names", "variances", "variances first",
                                  "bad file", "missing keys", "missing file", "empty directory"])
def test_every_file_is_checked_before_any_sweep(run_cli, tmp_path, capsys, case):
    good = [encodings(tmp_path / "models" / "a_s0.npz"), encodings(tmp_path / "models" / "a_s1.npz")]
    odd = tmp_path / "odd" / "odd.npz"
    paths = [*good, odd]
    if case == "grid sizes":
        encodings(odd, sizes=(3, 4, 6))
        expected = ["odd.npz", "a_s0.npz", "pos 6", "pos 5"]
    elif case == "factor names":
        encodings(odd, names=("shape", "size", "pos"))
        expected = ["odd.npz", "a_s0.npz", "size 4"]
    elif case == "variances":
        encodings(odd, variances=False)
        expected = ["odd.npz has no 'variances' but", "a_s0.npz has"]
    elif case == "variances first":  # the first file lacks them: it is the one named
        encodings(odd, variances=False)
        paths = [odd, *good]
        expected = ["odd.npz has no 'variances' but", "a_s0.npz has"]
    elif case == "bad file":
        odd.parent.mkdir()
        odd.write_bytes(b"PK\x03\x04 not really a zip archive")
        expected = ["odd.npz"]
    elif case == "missing keys":
        odd.parent.mkdir()
        np.savez(odd, factors=np.zeros((4, 1), dtype=int))
        expected = ["odd.npz: missing key(s) codes"]
    elif case == "missing file":
        expected = ["encodings file not found", "odd.npz"]
    else:
        (tmp_path / "odd").mkdir()
        paths = [*good, tmp_path / "odd"]
        expected = [f"--encodings {tmp_path / 'odd'}: the directory holds no .npz file"]
    out = tmp_path / "out"
    assert run_cli(*QUICK, "--metrics", "mig", "--encodings", *map(str, paths), "--out", str(out)) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and err.count("\n") == 0 and "Traceback" not in err, err
    for text in expected:
        assert text in err, err
    assert not out.exists()  # refused before any sweep wrote anything


@pytest.mark.slow  # four models through the whole command line: ~15-50 s
def test_models_with_different_numbers_of_latents_are_compared(run_cli, tmp_path, capsys):
    models = tmp_path / "models"
    encodings(models / "clean_s0.npz", latents=4, seed=0)
    encodings(models / "clean_s1.npz", latents=4, seed=1)
    encodings(models / "rotated_s0.npz", latents=5, angle=np.pi / 6, seed=2)
    encodings(tmp_path / "wide.npz", latents=6, seed=3)  # a model without seeds, from a file
    out = tmp_path / "out"
    args = [*QUICK, "--metrics", "unibound,mig", "--encodings", str(models), str(tmp_path / "wide.npz"),
            "--out", str(out)]
    assert run_cli(*args) == 0
    printed = capsys.readouterr().out
    assert "compared 3 model(s) from 4 file(s)" in printed
    stems = ["clean_s0", "clean_s1", "rotated_s0", "wide"]
    for stem in stems:  # each file's usual outputs, in its own folder
        for name in ["scores.csv", "timings.csv", "summary.csv", "run.json", "sensitivity.png",
                     "pid_profile.csv", "pid_profile.png", "pid_profile_unattacked.csv"]:
            assert (out / stem / "redundancy" / name).exists(), (stem, name)
    assert not (out / "redundancy").exists()
    comparison = ["model_metrics", "model_pid", "model_pid_factors", "attacked", "tc_vs_redundancy"]
    for name in comparison:
        assert (out / f"{name}.png").stat().st_size > 10_000, name

    metrics = pd.read_csv(out / "model_metrics.csv")
    assert list(metrics.columns) == ["model", "model_seed", "file", "attack", "level", "seed", "metric",
                                     "key", "score"]
    assert len(metrics) == 4 * 2 * 2  # files x seeds x metrics, headlines only
    assert set(metrics["key"]) == {"unibound", "mig"} and set(metrics["level"]) == {0}
    assert metrics.groupby("model")["file"].nunique().to_dict() == {"clean": 2, "rotated": 1, "wide": 1}
    assert set(metrics.loc[metrics.model == "clean", "model_seed"]) == {0, 1}

    pid = pd.read_csv(out / "model_pid.csv")
    assert list(pid.columns) == ["model", "term", "lower", "upper", "num_files"]
    assert len(pid) == 3 * 3 and list(pid["model"].unique()) == ["clean", "rotated", "wide"]
    assert (pid["lower"] <= pid["upper"] + 1e-12).all()
    # aggregated as UniBound aggregates: the unique lower bound is the mean over the model's
    # files of their (first-seed, level-0) UniBound score
    first_seed = metrics[(metrics.key == "unibound") & (metrics.seed == 0)]
    unique = pid[pid.term == "unique"].set_index("model")["lower"]
    expected = first_seed.groupby("model")["score"].mean()
    assert np.allclose(unique.loc[expected.index], expected, atol=2e-6)
    assert pid[pid.term == "unique"].set_index("model")["num_files"].to_dict() == {
        "clean": 2, "rotated": 1, "wide": 1}
    factors = pd.read_csv(out / "model_pid_factors.csv")
    assert list(factors.columns) == ["model", "factor", "term", "lower", "upper", "num_files"]
    assert len(factors) == 3 * 3 * 3 and set(factors["factor"]) == set(NAMES)
    mean_over_factors = factors.groupby(["model", "term"])[["lower", "upper"]].mean()
    assert np.allclose(mean_over_factors.loc[list(zip(pid.model, pid.term))].to_numpy(),
                       pid[["lower", "upper"]].to_numpy(), atol=1e-5)

    attacked = pd.read_csv(out / "attacked.csv")
    assert list(attacked.columns) == ["model", "attack", "level", "metric", "key", "mean", "std", "count"]
    assert len(attacked) == 3 * 2 * 2  # models x levels x metrics
    assert attacked.set_index(["model", "level", "metric"])["count"].xs(("clean", 0.0)).tolist() == [4, 4]

    tc = pd.read_csv(out / "tc_vs_redundancy.csv")
    assert list(tc.columns) == ["model", "model_seed", "file", "total_correlation", "tc_estimator",
                                "redundancy_l", "num_seeds"]
    assert list(tc["file"]) == stems and (tc["num_seeds"] == 2).all()
    tc = tc.set_index("file")
    assert tc.loc["rotated_s0", "total_correlation"] > tc.loc["clean_s0", "total_correlation"] + 0.1

    # resumed: every cell is reused and the comparison comes out byte for byte the same
    before = {name: (out / f"{name}.csv").read_bytes() for name in comparison}
    assert run_cli(*args, "--resume") == 0
    assert {name: (out / f"{name}.csv").read_bytes() for name in comparison} == before


def test_comparisons_that_need_level_0_or_unibound_are_skipped_with_a_warning(run_cli, tmp_path, capsys):
    paths = [encodings(tmp_path / f"m{i}.npz", seed=i) for i in range(2)]
    out = tmp_path / "out"
    assert run_cli("--attack", "noise", "--quick", "--levels", "0.5,1", "--seeds", "1", "--metrics", "mig",
                   "--encodings", *map(str, paths), "--out", str(out)) == 0
    assert "add level 0 to --levels" in capsys.readouterr().err
    assert (out / "attacked.png").exists() and not (out / "model_metrics.csv").exists()
    out = tmp_path / "out2"
    assert run_cli("--attack", "redundancy,noise", "--quick", "--levels", "0,1", "--seeds", "1",
                   "--metrics", "mig", "--encodings", *map(str, paths), "--out", str(out)) == 0
    assert "add unibound to --metrics" in capsys.readouterr().err
    assert (out / "model_metrics.csv").exists() and not (out / "model_pid.csv").exists()
    # level 0 of noise is the encodings as they are; redundancy's appends noise latents
    assert set(pd.read_csv(out / "model_metrics.csv")["attack"]) == {"noise"}
    assert set(pd.read_csv(out / "attacked.csv")["attack"]) == {"redundancy", "noise"}


def test_one_file_writes_to_its_own_folder_and_compares_nothing(run_cli, tmp_path, capsys):
    encodings(tmp_path / "models" / "only_s0.npz")
    out = tmp_path / "out"
    assert run_cli("--attack", "noise", "--quick", "--levels", "0,1", "--seeds", "1", "--metrics", "mig",
                   "--encodings", str(tmp_path / "models"), "--out", str(out)) == 0
    assert (out / "only_s0" / "noise" / "scores.csv").exists()
    assert not (out / "noise").exists() and not (out / "model_metrics.csv").exists()
    assert "compared" not in capsys.readouterr().out
