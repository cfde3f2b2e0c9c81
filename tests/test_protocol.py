"""The protocol runner end to end: outputs, determinism, resume, and clear errors."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark import protocol
from benchmark.cli import main, parse_levels

ROOT = Path(__file__).resolve().parent.parent


def run_cli(*args):
    return main([*args, "--no-progress"])


def test_quick_rotation_run_writes_every_output(tmp_path):
    assert run_cli("--attack", "rotation", "--quick", "--metrics", "mig", "--out", str(tmp_path)) == 0
    out = tmp_path / "rotation"
    for name in ["scores.csv", "timings.csv", "summary.csv", "run.json", "sensitivity.png",
                 "sensitivity.svg"]:
        assert (out / name).exists(), name
    scores = pd.read_csv(out / "scores.csv")
    assert list(scores.columns) == ["attack", "level", "seed", "metric", "key", "score"]
    assert list(pd.read_csv(out / "timings.csv").columns) == [
        "attack", "level", "seed", "metric", "seconds"]
    mig = scores[scores.key == "mig"].groupby("level")["score"].mean()
    assert mig[1.0] < mig[0.0] - 0.3
    run = json.loads((out / "run.json").read_text())
    assert run["config"]["attack"] == "rotation" and run["config"]["seeds"] == [0, 1, 2]
    assert run["versions"]["numpy"] == np.__version__


def test_script_entry_point_and_list():
    out = subprocess.run([sys.executable, str(ROOT / "run_protocol.py"), "--list"],
                         capture_output=True, text=True, check=True).stdout
    for name in ["noise", "duplicate", "redundancy", "rotation", "synergy", "mig", "dsprites"]:
        assert name in out


@pytest.mark.parametrize("args, message", [
    (["--attack", "twist"], "unknown attack 'twist'"),
    (["--attack", "noise", "--metrics", "nope"], "unknown metric 'nope'"),
    (["--attack", "noise", "--dataset", "mnist"], "unknown dataset 'mnist'"),
    (["--attack", "noise", "--levels", "0,-1"], "non-negative"),
    (["--attack", "noise", "--levels", "a,b"], "--levels must be"),
    (["--attack", "noise", "--levels", "-1,2"], "non-negative"),
    (["--attack", "noise", "--seeds", "0"], "--seeds must be at least 1"),
    (["--attack", "noise", "--encodings", "missing.npz"], "encodings file not found"),
    (["--attack", "noise", "--param", "nonsense"], "--param must look like"),
    (["--attack", "noise", "--param", "mig.num_bin=10"], "'mig' has no parameter 'num_bin'"),
    (["--attack", "noise", "--metric", "mine.py"], "name the function in the file too"),
])
def test_bad_input_gets_one_clear_line(args, message, tmp_path, capsys):
    assert run_cli(*args, "--out", str(tmp_path)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err and "Traceback" not in err


def test_unwritable_output_directory_gets_one_clear_line(tmp_path, capsys):
    (tmp_path / "a_file").write_text("not a directory")
    assert run_cli("--attack", "noise", "--quick", "--metrics", "mig",
                   "--out", str(tmp_path / "a_file" / "out")) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --out") and err.count("\n") == 0 and "Traceback" not in err


def test_a_single_level_run_warns_that_it_has_no_trend(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert run_cli("--attack", "noise", "--quick", "--metrics", "mig", "--levels", "0.5") == 0
    assert (tmp_path / "results/noise/scores.csv").exists()  # --out defaults to results
    assert "single level" in capsys.readouterr().err


def test_failures_in_a_multi_attack_run_name_the_attack(tmp_path, capsys):
    plugin = tmp_path / "boom.py"
    plugin.write_text("def boom(rep, rng, **params):\n    raise ValueError('no')\n")
    assert run_cli("--attack", "noise,rotation", "--quick", "--metrics", "mig",
                   "--metric", f"{plugin}:boom", "--out", str(tmp_path / "out")) == 1
    err = capsys.readouterr().err
    assert "error: noise: metric 'boom' failed" in err and "error: rotation: metric 'boom' failed" in err


def test_unknown_attack_from_a_shell_exits_nonzero():
    proc = subprocess.run([sys.executable, str(ROOT / "run_protocol.py"), "--attack", "twist"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: unknown attack 'twist'")
    assert "Traceback" not in proc.stderr


def test_parse_levels():
    assert parse_levels("0:1:5") == (0.0, 0.25, 0.5, 0.75, 1.0)
    assert parse_levels("2,0,1") == (0.0, 1.0, 2.0)


def test_same_seed_gives_byte_identical_csvs(tmp_path):
    args = ["--attack", "noise", "--quick", "--metrics", "mig", "--seeds", "2"]
    assert run_cli(*args, "--out", str(tmp_path / "a")) == 0
    assert run_cli(*args, "--out", str(tmp_path / "b")) == 0
    for name in ["scores.csv", "summary.csv", "sensitivity.svg"]:  # the SVG's ids are salted
        assert (tmp_path / "a/noise" / name).read_bytes() == (tmp_path / "b/noise" / name).read_bytes()


def test_resume_reuses_finished_cells(tmp_path, monkeypatch):
    args = ["--attack", "noise", "--quick", "--metrics", "mig", "--seeds", "2", "--out", str(tmp_path)]
    assert run_cli(*args) == 0
    first = (tmp_path / "noise/scores.csv").read_bytes()
    calls = []
    original = protocol.run_cell
    monkeypatch.setattr(protocol, "run_cell", lambda *a, **k: calls.append(a) or original(*a, **k))
    assert run_cli(*args, "--resume") == 0
    assert calls == []  # every cell came from the store
    assert (tmp_path / "noise/scores.csv").read_bytes() == first


def test_interrupted_sweep_resumes_where_it_stopped(tmp_path, monkeypatch):
    args = ["--attack", "rotation", "--quick", "--metrics", "mig", "--seeds", "2", "--out", str(tmp_path)]
    original = protocol.run_cell
    done = []

    def flaky(config, cell, base=None):
        if len(done) == 3:
            raise KeyboardInterrupt
        done.append(cell)
        return original(config, cell, base)

    monkeypatch.setattr(protocol, "run_cell", flaky)
    assert run_cli(*args) == 130
    assert len(list((tmp_path / "rotation/.cells").glob("*.json"))) == 3
    recomputed = []
    monkeypatch.setattr(protocol, "run_cell",
                        lambda c, cell, base=None: recomputed.append(cell) or original(c, cell, base))
    assert run_cli(*args, "--resume") == 0
    assert len(recomputed) == 3 and not set(recomputed) & set(done)
    fresh = tmp_path / "fresh"
    monkeypatch.setattr(protocol, "run_cell", original)
    assert run_cli(*args[:-1], str(fresh)) == 0
    assert (fresh / "rotation/scores.csv").read_bytes() == (tmp_path / "rotation/scores.csv").read_bytes()


def test_pid_profile_reuses_the_sweeps_informations(tmp_path, monkeypatch):
    # UniBound's cells of the first seed hand their raw informations to the PID profile
    # figure, which then estimates only the unattacked representation; the result is
    # identical to estimating every level again
    import metrics_pid.profile
    from benchmark import report
    config = protocol.SweepConfig(attack="rotation", levels=(0.0, 0.5, 1.0), metrics=("unibound",),
                                  seeds=(3, 4), quick=True)
    scores, _, errors, details = protocol.run_sweep(config, progress=False)
    assert not errors and sorted(details) == [(0.0, "unibound"), (0.5, "unibound"), (1.0, "unibound")]
    assert details[0.5, "unibound"]["estimator"] == "exact"
    base = protocol.base_representation(config)
    calls = []
    original = metrics_pid.profile.informations
    monkeypatch.setattr(metrics_pid.profile, "informations",
                        lambda rep, *a, **k: calls.append(rep) or original(rep, *a, **k))
    reused, unattacked = report.pid_profile_over_levels(config, base, details=details)
    assert calls == [base]  # the unattacked profile only
    recomputed, _ = report.pid_profile_over_levels(config, base)
    assert len(calls) == 5
    pd.testing.assert_frame_equal(reused, recomputed)
    # and the scores of those cells are the metric's own
    first = scores[(scores.seed == 3) & (scores.key == "unibound")].set_index("level")["score"]
    assert first[1.0] == pytest.approx(float(recomputed.query(
        "level == 1.0 and term == 'unique'").groupby("factor")["lower"].max().mean()), abs=1e-12)


def test_details_come_only_from_the_registered_metric_and_the_first_seed(tmp_path):
    import functools
    from benchmark.registry import MetricSpec, get_metric
    unibound = get_metric("unibound")
    from benchmark import FactorSpace, ideal
    rep = ideal(FactorSpace.synthetic([3, 4]))

    @functools.wraps(unibound.func)  # copies the function's attributes: must not matter
    def halved(rep, rng, **params):
        return {k: v / 2 for k, v in unibound.func(rep, rng, **params).items()}

    plugin = MetricSpec("halved", halved, "unibound")
    scores, details = plugin.run(rep, np.random.default_rng(0), quick=False, details=True,
                                 params={"num_eval": 500, "num_components": 500})
    full = unibound(rep, np.random.default_rng(0), num_eval=500, num_components=500)
    assert details is None and scores["unibound"] == pytest.approx(full["unibound"] / 2)
    # a metric parameter may be called "details"
    spec = MetricSpec("d", lambda rep, rng, details=False: float(details), "d")
    assert spec.run(rep, None, {"details": True}, details=True) == ({"d": 1.0}, None)
    assert spec(rep, None, details=True) == {"d": 1.0}
    # stored cells serve every seed list; details must still be the first seed's
    config = protocol.SweepConfig(attack="noise", levels=(0.0, 1.0), metrics=("unibound",),
                                  seeds=(1, 2), quick=True)
    *_, details = protocol.run_sweep(config, out_dir=tmp_path, progress=False)
    assert sorted(details) == [(0.0, "unibound"), (1.0, "unibound")]
    swapped = protocol.SweepConfig(attack="noise", levels=(0.0, 1.0), metrics=("unibound",),
                                   seeds=(2, 1), quick=True)
    *_, details = protocol.run_sweep(swapped, out_dir=tmp_path, resume=True, progress=False)
    assert details == {}  # seed 2's stored cells were not first: no details, recomputed later


def test_parallel_jobs_give_identical_scores(tmp_path):
    args = ["--attack", "synergy", "--quick", "--metrics", "mig", "--seeds", "2"]
    assert run_cli(*args, "--out", str(tmp_path / "serial")) == 0
    assert run_cli(*args, "--jobs", "2", "--out", str(tmp_path / "parallel")) == 0
    assert (tmp_path / "serial/synergy/scores.csv").read_bytes() == \
        (tmp_path / "parallel/synergy/scores.csv").read_bytes()


def test_dask_executor_gives_identical_scores(tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    args = ["--attack", "noise", "--quick", "--metrics", "mig", "--seeds", "2"]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        assert run_cli(*args, "--executor", "dask", "--scheduler", cluster.scheduler_address,
                       "--out", str(tmp_path / "dask")) == 0
    assert run_cli(*args, "--out", str(tmp_path / "local")) == 0
    assert (tmp_path / "dask/noise/scores.csv").read_bytes() == \
        (tmp_path / "local/noise/scores.csv").read_bytes()
