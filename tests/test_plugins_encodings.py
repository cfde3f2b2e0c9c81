"""Bring your own metric (plugins) and your own model (encodings files)."""
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark import BenchmarkError, FactorSpace, get_metric, ideal, register_metric
from benchmark.cli import main
from benchmark.encodings import from_arrays, load_dsprites_factors, load_encodings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "examples"))
from make_encodings import vae_like_encodings  # noqa: E402


def run_cli(*args):
    return main([*args, "--no-progress"])


def write_plugin(tmp_path, body, name="plugin.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def test_file_plugin_runs_next_to_builtins(tmp_path):
    plugin = write_plugin(tmp_path, """
        import numpy as np

        def first_latent_corr(rep, rng, num_samples=2000):
            y = rep.space.sample(num_samples, rng)
            z = rep.encode(y, rng)
            return float(abs(np.corrcoef(z[:, 0], y[:, 0])[0, 1]))
    """)
    out = tmp_path / "out"
    assert run_cli("--attack", "rotation,noise", "--quick", "--metrics", "mig",
                   "--metric", f"{plugin}:first_latent_corr", "--out", str(out)) == 0
    scores = pd.read_csv(out / "rotation/scores.csv")
    assert set(scores.metric) == {"mig", "first_latent_corr"}
    corr = scores[scores.metric == "first_latent_corr"].groupby("level")["score"].mean()
    # rotating pair (0, 1) by 45 degrees leaves corr(z0, y0) = cos(45) of the original ~ 0.707
    assert corr[0.0] > 0.99 and corr[1.0] == pytest.approx(np.sqrt(0.5), abs=0.03)
    summary = pd.read_csv(out / "rotation/summary.csv")
    assert "first_latent_corr" in set(summary.metric)
    assert "first_latent_corr" in set(pd.read_csv(out / "sensitivity_matrix.csv").metric)


def test_example_plugin_by_module_path(tmp_path):
    assert run_cli("--attack", "rotation", "--quick", "--metrics", "mig",
                   "--metric", "mig_sup:mig_sup", "--out", str(tmp_path)) == 0
    scores = pd.read_csv(tmp_path / "rotation/scores.csv")
    assert "mig_sup" in set(scores.metric)


@pytest.mark.parametrize("body, message", [
    ("def bad(rep, rng):\n    raise RuntimeError('boom')\n", "RuntimeError: boom"),
    ("def bad(rep, rng):\n    return float('nan')\n", "returned nan"),
    ("def bad(rep, rng):\n    return 'high'\n", "returned str"),
])
def test_failing_plugin_keeps_the_other_results(tmp_path, capsys, body, message):
    plugin = write_plugin(tmp_path, body, name=f"bad_{abs(hash(body))}.py")
    out = tmp_path / "out"
    code = run_cli("--attack", "noise", "--quick", "--metrics", "mig", "--seeds", "1",
                   "--metric", f"{plugin}:bad", "--out", str(out))
    assert code == 1
    err = capsys.readouterr().err
    first = err.splitlines()[0]
    assert "metric 'bad' failed at level 0, seed 0" in first and message in first
    assert "Traceback" not in err
    scores = pd.read_csv(out / "noise/scores.csv")
    assert set(scores.metric) == {"mig"} and len(scores) == 4  # 4 quick levels x 1 seed


def test_register_metric_decorator_and_plugin_errors(tmp_path):
    @register_metric("unit_test_metric", headline="value")
    def unit_test_metric(rep, rng):
        return {"value": 0.5, "other": 1.0}

    rep = ideal(FactorSpace.synthetic((2, 3)))
    assert get_metric("unit_test_metric")(rep, np.random.default_rng(0)) == {"value": 0.5, "other": 1.0}
    with pytest.raises(BenchmarkError, match="file not found"):
        get_metric("nowhere.py:f")
    with pytest.raises(BenchmarkError, match="has no function 'missing'"):
        get_metric(f"{write_plugin(tmp_path, 'x = 1')}:missing")


# ---------------------------------------------------------------- encodings


def grid(sizes, repeat=1):
    g = np.stack(np.meshgrid(*[np.arange(s) for s in sizes], indexing="ij"), -1).reshape(-1, len(sizes))
    return np.repeat(g, repeat, axis=0)


def test_table_lookup_returns_the_rows_codes():
    factors = grid((3, 4))
    codes = factors * np.array([10.0, 1.0])
    rep = from_arrays(factors, codes)
    rng = np.random.default_rng(0)
    query = np.array([[2, 3], [0, 1]])
    np.testing.assert_array_equal(rep.encode(query, rng), [[20.0, 3.0], [0.0, 1.0]])
    np.testing.assert_allclose(rep.space.entropies(), np.log([3, 4]))
    sampled = rep.space.sample(500, rng)
    assert {tuple(r) for r in sampled} <= {tuple(r) for r in factors}
    matched = rep.space.sample_matching(1, np.full(200, 2), rng)
    assert np.all(matched[:, 1] == 2)


def test_missing_combination_is_named():
    factors = np.array([[0, 0], [1, 1], [0, 1]])
    rep = from_arrays(factors, np.zeros((3, 2)))
    with pytest.raises(BenchmarkError, match=r"no row for factor values \{'f0': 1, 'f1': 0\}"):
        rep.encode(np.array([[1, 0]]), np.random.default_rng(0))


def test_posterior_variances_enable_posterior():
    factors = grid((2, 3))
    rep = from_arrays(factors, factors.astype(float), variances=np.full((6, 2), 0.1))
    means, variances = rep.posterior(np.array([[1, 2]]))
    np.testing.assert_array_equal(means, [[1.0, 2.0]])
    np.testing.assert_array_equal(variances, [[0.1, 0.1]])
    assert not hasattr(from_arrays(factors, factors.astype(float)), "posterior")


@pytest.mark.parametrize("change, message", [
    (lambda a: a.pop("codes"), "missing key(s) codes"),
    (lambda a: a.__setitem__("codes", np.where(np.eye(1, 7, 2, dtype=bool), np.nan, a["codes"])),
     "codes contains NaN"),
    (lambda a: a.__setitem__("codes", a["codes"][:-1]), "differ in number of rows"),
    (lambda a: a.__setitem__("factors", a["factors"].astype(float)), "factors must be integers"),
    (lambda a: a.__setitem__("variances", -a["variances"]), "variances must be positive"),
    (lambda a: a.__setitem__("extra", np.zeros(2)), "unexpected key(s) ['extra']"),
])
def test_bad_encodings_files_get_one_clear_line(tmp_path, capsys, change, message):
    arrays = vae_like_encodings(500, np.random.default_rng(0))
    change(arrays)
    path = tmp_path / "enc.npz"
    np.savez(path, **arrays)
    with pytest.raises(BenchmarkError) as info:
        load_encodings(path)
    assert message in str(info.value)
    assert run_cli("--attack", "noise", "--quick", "--encodings", str(path), "--out", str(tmp_path)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err


def test_pickled_objects_are_refused(tmp_path):
    arrays = vae_like_encodings(100, np.random.default_rng(0))
    arrays["factor_names"] = np.array(list(arrays["factor_names"]), dtype=object)
    path = tmp_path / "obj.npz"
    np.savez(path, **arrays)
    with pytest.raises(BenchmarkError, match="no pickle"):
        load_encodings(path)


def test_files_that_are_not_npz_archives_are_named_as_such(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_text("factors,codes\n")
    with pytest.raises(BenchmarkError, match="is not a .npz file"):
        load_encodings(text)
    single = tmp_path / "codes.npy"
    np.save(single, np.zeros((4, 2)))
    with pytest.raises(BenchmarkError, match="single .npy array"):
        load_encodings(single)


def test_single_valued_factor_is_rejected():
    factors = np.column_stack([np.zeros(10, int), np.arange(10) % 2])
    with pytest.raises(BenchmarkError, match="single value"):
        from_arrays(factors, np.zeros((10, 2)))


def test_example_encodings_run_through_the_protocol(tmp_path):
    path = tmp_path / "vae.npz"
    np.savez_compressed(path, **vae_like_encodings(5000, np.random.default_rng(0)))
    rep = load_encodings(path)
    assert rep.space.names == ("shape", "scale", "orientation", "pos_x", "pos_y")
    assert rep.space.sizes == (3, 6, 40, 32, 32) and rep.dim == 7
    assert run_cli("--attack", "redundancy", "--quick", "--metrics", "mig", "--encodings", str(path),
                   "--out", str(tmp_path / "out")) == 0
    scores = pd.read_csv(tmp_path / "out/redundancy/scores.csv")
    mig = scores.groupby("level")["score"].mean()
    assert 0.3 < mig[0.0] < 0.8  # imperfect model: mixed and collapsed latents
    assert mig[64.0] < mig[0.0]


def test_dsprites_loader_reads_only_latents_classes(tmp_path):
    classes = np.column_stack([np.zeros(12, int), grid((3, 2, 2))[:, [0]], grid((3, 2, 2))[:, 1:],
                               np.arange(12) % 32, np.arange(12)[::-1] % 32])
    path = tmp_path / "dsprites_ndarray_co1sh3sc6or40x32y32_64x64.npz"
    np.savez(path, imgs=np.zeros((12, 2, 2), np.uint8), latents_classes=classes,
             latents_values=classes.astype(float), metadata=np.array({"x": 1}, dtype=object))
    factors, names, sizes = load_dsprites_factors(path)
    np.testing.assert_array_equal(factors, classes[:, 1:])
    assert names[0] == "shape" and sizes == (3, 6, 40, 32, 32)


def test_intervention_metrics_on_a_partial_table():
    # 3,000 rows of a 3 x 6 x 40 grid of 720 combinations with clean codes: many
    # combinations are missing, so batches must be drawn from rows that exist.
    space = FactorSpace.synthetic((3, 6, 40))
    rng = np.random.default_rng(0)
    factors = space.sample(3000, rng)
    rep = from_arrays(factors, ideal(space).encode(factors, rng))
    keep = {tuple(r) for r in factors}
    assert len(keep) < 720
    for name in ("beta_vae", "factor_vae"):
        score = get_metric(name)(rep, np.random.default_rng(1), quick=True)["eval_accuracy"]
        assert score > 0.97, name
    batch = rep.space.sample_matching(2, np.full(64, 7), rng)
    assert all(tuple(r) in keep for r in batch) and np.all(batch[:, 2] == 7)


def test_plugin_cannot_shadow_a_builtin(tmp_path):
    plugin = write_plugin(tmp_path, "def mig(rep, rng):\n    return 0.0\n", name="shadow.py")
    with pytest.raises(BenchmarkError, match="named 'mig' like an existing metric"):
        get_metric(f"{plugin}:mig")
    assert get_metric("mig").source == "metrics_baseline.mig"


def test_entry_point_plugins_are_discovered(tmp_path, monkeypatch):
    from benchmark import registry

    (tmp_path / "ep_metric_pkg.py").write_text("def half(rep, rng):\n    return 0.5\n")
    dist = tmp_path / "ep_metric_pkg-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ep-metric-pkg\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        f"[{registry.ENTRY_POINT_GROUP}]\nhalf_metric = ep_metric_pkg:half\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry._load_entry_points()
    try:
        spec = get_metric("half_metric")
        assert spec.source == "entry point ep_metric_pkg:half"
        assert spec(ideal(FactorSpace.synthetic((2, 2))), np.random.default_rng(0)) == {"half_metric": 0.5}
    finally:
        registry._METRICS.pop("half_metric", None)


def test_a_metric_failing_identically_everywhere_is_reported_once(tmp_path, capsys):
    plugin = write_plugin(tmp_path, "def bad(rep, rng):\n    raise RuntimeError('boom')\n",
                          name="always_bad.py")
    code = run_cli("--attack", "noise", "--quick", "--metrics", "mig", "--seeds", "2",
                   "--metric", f"{plugin}:bad", "--out", str(tmp_path / "out"))
    assert code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2  # the metric's line, then the count of failed cells
    assert "metric 'bad' failed at level 0, seed 0" in lines[0] and "(8 cells)" in lines[0]
    assert lines[1].startswith("error: 8 cell(s) failed")


def grid_table(repeats=5, seed=0):
    factors = np.repeat(np.stack(np.meshgrid(np.arange(3), np.arange(4), indexing="ij"),
                                 -1).reshape(-1, 2), repeats, axis=0)
    codes = factors + 0.1 * np.random.default_rng(seed).standard_normal(factors.shape)
    return factors, codes, np.full(codes.shape, 0.01)


def test_auto_uses_the_exact_estimator_only_on_tables_that_cover_the_grid():
    from benchmark.estimators import resolve_estimator
    factors, codes, variances = grid_table()
    full = from_arrays(factors, codes, variances)
    assert full.covers_grid and resolve_estimator(full) == "exact"
    # more rows than components: the mixture would be a sparse sample of them
    assert resolve_estimator(full, num_components=10) == "knn"
    sparse = from_arrays(factors[:-5], codes[:-5], variances[:-5])  # combination (2, 3) missing
    assert not sparse.covers_grid and resolve_estimator(sparse) == "knn"
    assert resolve_estimator(sparse, "exact") == "exact"  # still available on request
    assert resolve_estimator(from_arrays(**vae_like_encodings(2000, np.random.default_rng(0)))) == "knn"


def test_a_sweep_that_would_mix_estimators_is_pinned_to_knn(monkeypatch):
    import attacks
    from benchmark import protocol
    factors, codes, variances = grid_table()
    rep = from_arrays(factors, codes, variances)
    noise = attacks.get("noise")

    def gentle(rep, level, rng):  # untouched at level 0, like a user's attack might be
        return rep if level == 0 else noise(rep, level, rng)

    monkeypatch.setitem(attacks._ATTACKS, "gentle", attacks.AttackSpec(
        "gentle", gentle, (0, 1), (0, 1), "noise that leaves level 0 alone"))
    config = protocol.SweepConfig(attack="gentle", levels=(0, 0.5, 1), metrics=("unibound", "mig"))
    assert protocol.sweep_estimators(config, rep) == {0: "exact", 0.5: "knn", 1: "knn"}
    pinned, note = protocol.pin_estimator(config, rep)
    assert pinned.metric_params == {"unibound": {"estimator": "knn"}}
    assert "kNN" in note and "level(s) 0" in note
    assert set(protocol.sweep_estimators(pinned, rep).values()) == {"knn"}
    # an explicit choice is the user's: never overridden ...
    chosen = protocol.SweepConfig(attack="gentle", levels=(0, 1), metrics=("unibound",),
                                  metric_params={"unibound": {"estimator": "knn"}})
    assert protocol.pin_estimator(chosen, rep) == (chosen, None)
    # ... but one that cannot apply at some level stops the sweep before it starts
    exact = protocol.SweepConfig(attack="gentle", levels=(0, 0.5, 1), metrics=("unibound",),
                                 metric_params={"unibound": {"estimator": "exact"}})
    assert protocol.sweep_estimators(exact, rep) == {0: "exact", 0.5: "unavailable", 1: "unavailable"}
    with pytest.raises(BenchmarkError, match=r"estimator=exact: the gentle attack at level\(s\) 0.5, 1"):
        protocol.pin_estimator(exact, rep)
    assert "pid_profile_unattacked.csv" in note
    typo = protocol.SweepConfig(attack="gentle", levels=(0, 1), metrics=("unibound",),
                                metric_params={"unibound": {"estimator": "exakt"}})
    with pytest.raises(BenchmarkError, match="unibound.estimator must be one of auto, exact, knn"):
        protocol.pin_estimator(typo, rep)


def test_explicit_exact_estimator_on_attacked_encodings_is_one_line(tmp_path, capsys):
    factors, codes, variances = grid_table()
    path = tmp_path / "enc.npz"
    np.savez(path, factors=factors, codes=codes, variances=variances)
    out = tmp_path / "out"
    assert run_cli("--attack", "redundancy", "--quick", "--metrics", "unibound", "--encodings",
                   str(path), "--param", "unibound.estimator=exact", "--out", str(out)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: unibound.estimator=exact") and "knn" in err[0]
    assert not (out / "redundancy" / "scores.csv").exists()
