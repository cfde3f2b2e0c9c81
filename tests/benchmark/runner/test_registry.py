"""The metric registry: built-in specs, plugins from files, modules and entry points."""
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark import BenchmarkError, FactorSpace, ideal
from benchmark.runner import default_metric_names, get_metric, register_metric, registry


def test_registered_names_defaults_and_quick_params():
    defaults = set(default_metric_names())
    assert {"mig", "beta_vae", "factor_vae", "dci_fast"} <= defaults
    assert not {"dci", "sap", "modularity"} & defaults
    expected = {"beta_vae": "eval_accuracy", "factor_vae": "eval_accuracy",
                "dci": "disentanglement", "dci_fast": "disentanglement",
                "sap": "sap", "modularity": "modularity", "mig": "mig"}
    for name, headline in expected.items():
        spec = get_metric(name)
        assert spec.headline == headline
        assert spec.quick, f"{name} has no --quick sizes"


def test_metric_is_registered_as_default_with_quick_sizes():
    spec = get_metric("unibound")
    assert spec.default and spec.headline == "unibound"
    s, _ = spec.run(ideal(FactorSpace.synthetic([3, 4])), np.random.default_rng(0), quick=True)
    assert set(s) == {"unibound", "unibound_u", "redundancy_l", "redundancy_u",
                      "synergy_l", "synergy_u", "mi"}


ROOT = Path(__file__).resolve().parents[3]



def write_plugin(tmp_path, body, name="plugin.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def test_file_plugin_runs_next_to_builtins(run_cli, tmp_path):
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


def test_example_plugin_by_module_path(run_cli, tmp_path):
    assert run_cli("--attack", "rotation", "--quick", "--metrics", "mig",
                   "--metric", "spearman_gap:spearman_gap", "--out", str(tmp_path)) == 0
    scores = pd.read_csv(tmp_path / "rotation/scores.csv")
    assert "spearman_gap" in set(scores.metric)


@pytest.mark.parametrize("body, message", [
    ("def bad(rep, rng):\n    raise RuntimeError('boom')\n", "RuntimeError: boom"),
    ("def bad(rep, rng):\n    return float('nan')\n", "returned nan"),
    ("def bad(rep, rng):\n    return 'high'\n", "returned str"),
    # a KeyboardInterrupt that no Ctrl-C caused is the plugin's failure, not a reason to stop
    ("def bad(rep, rng):\n    raise KeyboardInterrupt\n", "raised by the metric itself"),
])
def test_failing_plugin_keeps_the_other_results(run_cli, tmp_path, capsys, body, message):
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


def test_a_plugin_raising_keyboardinterrupt_at_import_is_bad_input(run_cli, tmp_path, capsys):
    plugin = write_plugin(tmp_path, "raise KeyboardInterrupt\n", name="kbi_import.py")
    assert run_cli("--attack", "noise", "--quick", "--metric", f"{plugin}:f",
                   "--out", str(tmp_path / "out")) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "failed to import: KeyboardInterrupt()" in err


@pytest.mark.parametrize("status", [0, 3])
def test_a_plugin_ending_its_process_at_import_is_bad_input(run_cli, tmp_path, capsys, status):
    plugin = write_plugin(tmp_path, f"import os\nos._exit({status})\n", name=f"exits_{status}.py")
    assert run_cli("--attack", "noise", "--quick", "--metric", f"{plugin}:f",
                   "--out", str(tmp_path / "out")) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and f"ended its process while importing (exit status {status})" in err


def test_register_metric_decorator_and_plugin_errors(tmp_path):
    @register_metric("unit_test_metric", headline="value")
    def unit_test_metric(rep, rng):
        return {"value": 0.5, "other": 1.0}

    rep = ideal(FactorSpace.synthetic((2, 3)))
    assert get_metric("unit_test_metric").run(rep, np.random.default_rng(0)) == \
        ({"value": 0.5, "other": 1.0}, None)
    with pytest.raises(BenchmarkError, match="file not found"):
        get_metric("nowhere.py:f")
    with pytest.raises(BenchmarkError, match="has no function 'missing'"):
        get_metric(f"{write_plugin(tmp_path, 'x = 1')}:missing")


def test_plugin_cannot_shadow_a_builtin(tmp_path):
    plugin = write_plugin(tmp_path, "def mig(rep, rng):\n    return 0.0\n", name="shadow.py")
    with pytest.raises(BenchmarkError, match="named 'mig' like an existing metric"):
        get_metric(f"{plugin}:mig")
    assert get_metric("mig").source == "builtin"


def test_entry_point_plugins_are_discovered(tmp_path, monkeypatch):
    (tmp_path / "ep_metric_pkg.py").write_text("def half(rep, rng):\n    return 0.5\n")
    dist = tmp_path / "ep_metric_pkg-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: ep-metric-pkg\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text(
        f"[{registry.ENTRY_POINT_GROUP}]\nhalf_metric = ep_metric_pkg:half\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.load_entry_points()
    try:
        spec = get_metric("half_metric")
        assert spec.source == "entry point ep_metric_pkg:half"
        assert spec.run(ideal(FactorSpace.synthetic((2, 2))), 0) == ({"half_metric": 0.5}, None)
    finally:
        registry.unregister_metric("half_metric")
    with pytest.raises(BenchmarkError, match="built-in"):
        registry.unregister_metric("mig")


def test_a_metric_failing_identically_everywhere_is_reported_once(run_cli, tmp_path, capsys):
    plugin = write_plugin(tmp_path, "def bad(rep, rng):\n    raise RuntimeError('boom')\n",
                          name="always_bad.py")
    code = run_cli("--attack", "noise", "--quick", "--metrics", "mig", "--seeds", "2",
                   "--metric", f"{plugin}:bad", "--out", str(tmp_path / "out"))
    assert code == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2  # the metric's line, then the count of failed cells
    assert "metric 'bad' failed at level 0, seed 0" in lines[0] and "(8 cells)" in lines[0]
    assert lines[1].startswith("error: 8 cell(s) failed")


def test_a_plugin_names_the_property_it_targets(tmp_path):
    body = "def scored(rep, rng):\n    return 0.5\n\nscored.target = 'modularity'\n"
    assert get_metric(f"{write_plugin(tmp_path, body, name='targeted.py')}:scored").target == \
        "modularity"
    wrong = "def wrong(rep, rng):\n    return 0.5\n\nwrong.target = 'beauty'\n"
    with pytest.raises(BenchmarkError, match="target must be one of modularity"):
        get_metric(f"{write_plugin(tmp_path, wrong, name='wrong.py')}:wrong")
    assert get_metric("unibound").target == "unique_information"


@pytest.mark.parametrize("body, where", [
    ("import sys\nsys.exit(3)\n\ndef quits(rep, rng):\n    return 0.5\n", "import"),
    ("import sys\n\ndef quits(rep, rng):\n    sys.exit(3)\n", "call"),
])
def test_a_plugin_cannot_end_the_run_by_exiting(run_cli, tmp_path, capsys, body, where):
    plugin = write_plugin(tmp_path, body, name="quitter.py")
    out = tmp_path / "out"
    code = run_cli("--attack", "noise", "--quick", "--metrics", "mig", "--seeds", "1",
                   "--metric", f"{plugin}:quits", "--out", str(out))
    err = capsys.readouterr().err
    assert "Traceback" not in err and "SystemExit" in err
    if where == "import":  # refused before any work, in one line
        assert code == 2 and err.strip().count("\n") == 0
    else:  # the plugin's cells fail, the built-in metric's results are written
        assert code == 1
        assert set(pd.read_csv(out / "noise/scores.csv").metric) == {"mig"}


def test_a_dict_without_its_headline_stops_the_sweep_at_once_with_the_fix(run_cli, tmp_path, capsys):
    body = "def my_corr(rep, rng):\n    return {'a': 0.5, 'b': 0.25}\n"
    plugin = write_plugin(tmp_path, body, name="no_headline.py")
    code = run_cli("--attack", "noise", "--quick", "--metrics", "mig", "--seeds", "2",
                   "--metric", f"{plugin}:my_corr", "--out", str(tmp_path / "out"))
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and line.startswith("error: metric 'my_corr' returned the keys 'a', 'b' but "
                                         "not its headline 'my_corr'")
    assert "my_corr.headline = 'a'" in line and "the sweep stopped there" in line


def scaled_latent_range(rep, rng):
    """A function compared from Python without registering it."""
    y = rep.space.sample(200, rng)
    return float(np.ptp(rep.encode(y, rng)[:, 0]) / 10)


def test_sweep_config_takes_functions_and_specs(tmp_path):
    from benchmark.runner import SweepConfig, run_sweep
    from benchmark.spec import MetricSpec

    spec = MetricSpec("halved_mig", lambda rep, rng: get_metric("mig").func(rep, rng, num_samples=500)
                      ["mig"] / 2, "halved_mig")
    try:
        config = SweepConfig(attack="noise", levels=(0.0, 1.0), seeds=(0,), quick=True,
                             metrics=("mig", scaled_latent_range, spec))
        assert config.metrics == ("mig", "scaled_latent_range", "halved_mig")
        # the same function again is the same metric, not a clash
        assert SweepConfig(attack="noise", levels=(0.0,), metrics=(scaled_latent_range,)).metrics \
            == ("scaled_latent_range",)
        result = run_sweep(config, progress=False)
        assert not result.errors
        assert set(result.scores.metric) == {"mig", "scaled_latent_range", "halved_mig"}
        with pytest.raises(BenchmarkError, match="already the name of another metric"):
            SweepConfig(attack="noise", levels=(0.0,),
                        metrics=(MetricSpec("halved_mig", scaled_latent_range, "halved_mig"),))

        def scaled_latent_range_again(rep, rng):  # a notebook cell run again: the same name
            return 0.5
        scaled_latent_range_again.__qualname__ = scaled_latent_range.__qualname__
        scaled_latent_range_again.__name__ = "scaled_latent_range"
        SweepConfig(attack="noise", levels=(0.0,), metrics=(scaled_latent_range_again,))
        assert get_metric("scaled_latent_range").func is scaled_latent_range_again
    finally:
        registry.unregister_metric("scaled_latent_range")
        registry.unregister_metric("halved_mig")
