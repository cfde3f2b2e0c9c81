"""The command line end to end: outputs and one clear line for every bad input."""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from benchmark.runner.cli import parse_levels

ROOT = Path(__file__).resolve().parents[3]



def test_quick_rotation_run_writes_every_output(run_cli, tmp_path):
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
    (["--attack", "noise", "--seeds", "0"], "--seeds must be between 1 and 10000"),
    (["--attack", "noise", "--encodings", "missing.npz"], "encodings file not found"),
    (["--attack", "noise", "--param", "nonsense"], "--param must look like"),
    (["--attack", "noise", "--param", "mig.num_bin=10"], "'mig' has no parameter 'num_bin'"),
    # a likely typo is named with the closest name
    (["--attack", "rotaton"], "unknown attack 'rotaton'; did you mean 'rotation'?"),
    (["--attack", "noise", "--metrics", "mgi"], "unknown metric 'mgi'; did you mean 'mig'?"),
    (["--attack", "noise", "--dataset", "dsprite"], "did you mean 'dsprites'?"),
    (["--attack", "noise", "--param", "mig.num_bin=10"], "did you mean 'num_bins'?"),
    (["--atack", "noise"], "unrecognized arguments: --atack noise; did you mean '--attack'?"),
    (["--attack", "noise", "--metric", "mine.py"], "name the function in the file too"),
    # sizes that would exhaust memory or time are refused with the limit
    (["--attack", "noise", "--levels", "0:1:100000000"], "with 1 to 1000 levels"),
    (["--attack", "noise", "--levels", "0,1e308"], "too large"),
    (["--attack", "noise", "--seeds", "1000000000"], "--seeds must be between 1 and 10000"),
    (["--attack", "noise", "--jobs", "100000"], "--jobs must be between"),
    # input that used to be accepted silently
    (["--attack", "noise", "--metrics", ""], "--metrics is empty"),
    (["--attack", "noise", "--metrics", " , "], "--metrics is empty"),
    (["--attack", "noise", "--metrics", "mig,mig"], "names mig more than once"),
    (["--attack", "noise", "--metrics", "mig", "--param", "sap.num_train=10"], "not in this run"),
    (["--attack", "noise", "--metrics", "mig", "--param", "mig.num_bins=5",
      "--param", "mig.num_bins=6"], "given twice"),
    (["--attack", "noise", "--scheduler", "tcp://127.0.0.1:1"], "--scheduler is for --executor dask"),
    # found by a hostile tester: refused up front, in one line, with exit status 2
    (["--attack", "noise", "--seeds", "abc"], "invalid int value: 'abc'"),
    (["--attack", "noise,noise"], "--attack names noise more than once"),
    (["--attack", "noise", "--noise", "1e200"], "--noise must be between 0 and"),
    (["--attack", "noise", "--levels", "0:inf:3"], "--levels must be"),
    (["--attack", "noise", "--param", "mig.num_bins=2.5"], "must be an integer"),
    (["--attack", "noise", "--param", "mig.num_bins=NaN"], "must be finite"),
    (["--attack", "noise", "--param", "mig.num_bins=true"], "must be an integer"),
    (["--attack", "noise", "--param", "mig.num_samples=1000000000000"], "must be between 1 and"),
    (["--attack", "warp", "--levels", "0,1e6"], "attack 'warp' at level 1e+06"),
    (["--attack", "noise", "--levels", "0:1:1000", "--seeds", "10000"], "cells per metric; at most"),
    # levels past an attack's range would wrap around (225 degrees) or clamp silently
    (["--attack", "rotation", "--levels", "0,5"], "attack 'rotation': levels go from 0 to 2"),
    (["--attack", "missing", "--levels", "0,10"], "attack 'missing': levels go from 0 to 4"),
    (["--attack", "rotation+redundancy", "--levels", "0,3"], "levels go from 0 to 2"),
])
def test_bad_input_gets_one_clear_line(run_cli, args, message, tmp_path, capsys):
    assert run_cli(*args, "--out", str(tmp_path)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err and "Traceback" not in err


def test_attacks_that_widen_past_the_limit_get_one_clear_line(run_cli, tmp_path, capsys, monkeypatch):
    # The real limit (8,192) takes eleven doublings of dSprites' 5 latents to reach; a
    # lower one shows the same refusal without building the wide representations.
    monkeypatch.setattr("attacks._spec.MAX_LATENTS", 64)
    chain = "+".join(["duplicate"] * 5)
    for attack in (chain, "noise," + chain):  # alone, and checked before a multi-attack run
        assert run_cli("--attack", attack, "--quick", "--out", str(tmp_path)) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and "makes 80 latents; the limit is 64" in err


def test_an_attack_s_own_grid_stops_at_its_range_on_small_encodings(run_cli, grid_table, tmp_path):
    factors, codes, _ = grid_table()  # (3, 4) factors, 2 latents: missing goes up to 1
    np.savez(tmp_path / "small.npz", factors=factors, codes=codes)
    assert run_cli("--attack", "missing", "--quick", "--metrics", "mig", "--seeds", "1",
                   "--encodings", str(tmp_path / "small.npz"), "--out", str(tmp_path)) == 0
    levels = sorted(pd.read_csv(tmp_path / "small" / "missing" / "scores.csv")["level"].unique())
    assert levels == [0.0]  # the quick grid 0, 2, 4 cut at 1
    assert run_cli("--attack", "missing", "--levels", "0,2", "--metrics", "mig", "--quick",
                   "--encodings", str(tmp_path / "small.npz"), "--out", str(tmp_path / "b")) == 2


def test_levels_past_an_open_ended_grid_are_announced(run_cli, tmp_path, capsys):
    assert run_cli("--attack", "noise", "--quick", "--metrics", "mig", "--seeds", "1",
                   "--levels", "0,100", "--out", str(tmp_path)) == 0
    first = capsys.readouterr().err.splitlines()[0]
    assert first == "note: noise's level has no upper limit; 100 goes beyond its default grid (0 to 4)"


def test_a_file_as_out_is_named_as_such(run_cli, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert run_cli("--attack", "noise", "--out", str(tmp_path / "notes.txt")) == 2
    assert "is a file, not a folder" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_contradicting_or_empty_flags_are_refused(run_cli, grid_table, tmp_path, capsys):
    factors, codes, variances = grid_table()
    path = tmp_path / "enc.npz"
    np.savez(path, factors=factors, codes=codes, variances=variances)
    for extra in (["--dataset", "mpi3d"], ["--noise", "3"]):
        assert run_cli("--attack", "noise", "--encodings", str(path), *extra,
                       "--out", str(tmp_path / "o")) == 2
        assert "drop --dataset and --noise" in capsys.readouterr().err
    assert run_cli("--attack", "noise", "--out", "") == 2
    assert capsys.readouterr().err.strip() == "error: --out is empty; name an output directory"


def test_unwritable_output_directory_gets_one_clear_line(run_cli, tmp_path, capsys):
    (tmp_path / "a_file").write_text("not a directory")
    assert run_cli("--attack", "noise", "--quick", "--metrics", "mig",
                   "--out", str(tmp_path / "a_file" / "out")) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --out") and err.count("\n") == 0 and "Traceback" not in err


def test_a_single_level_run_warns_that_it_has_no_trend(run_cli, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert run_cli("--attack", "noise", "--quick", "--metrics", "mig", "--levels", "0.5") == 0
    assert (tmp_path / "results/noise/scores.csv").exists()  # --out defaults to results
    assert "single level" in capsys.readouterr().err


def test_failures_in_a_multi_attack_run_name_the_attack(run_cli, tmp_path, capsys):
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


def test_quick_levels_at_full_sample_sizes():
    import attacks
    from benchmark.runner.cli import build_parser, sweep_config

    args = build_parser().parse_args(["--attack", "rotation", "--levels", "quick"])
    config = sweep_config(args, "rotation", ("mig",), {}, {})
    assert config.levels == attacks.get("rotation").quick_levels and not config.quick


def test_sizes_quick_default_and_large(run_cli, tmp_path, capsys):
    """--sizes large doubles what a metric's quick setting lowers; a --param for a size wins."""
    import json

    from benchmark.runner.cli import build_parser, sweep_config

    args = build_parser().parse_args(["--attack", "rotation", "--levels", "quick", "--sizes", "quick"])
    config = sweep_config(args, "rotation", ("mig",), {}, {})
    assert config.quick and config.levels == (0.0, 0.5, 1.0)
    out = tmp_path / "large"
    assert run_cli("--attack", "permute", "--levels", "quick", "--sizes", "large", "--seeds", "1",
                   "--metrics", "mig,beta_vae", "--param", "beta_vae.num_train=3000",
                   "--out", str(out)) == 0
    params = json.loads((out / "permute" / "run.json").read_text())["config"]["metric_params"]
    assert params == {"mig": {"num_samples": 20000},
                      "beta_vae": {"num_train": 3000, "num_test": 10000}}
    assert run_cli("--attack", "permute", "--quick", "--sizes", "large", "--out", str(out)) == 2
    assert "--quick asks for quick sizes" in capsys.readouterr().err


def test_another_draw_of_seeds():
    from benchmark.runner.cli import build_parser, sweep_config

    args = build_parser().parse_args(["--attack", "rotation", "--seeds", "3", "--first-seed", "5"])
    assert sweep_config(args, "rotation", ("mig",), {}, {}).seeds == (5, 6, 7)


def test_a_second_run_into_the_same_out_refuses(run_cli, tmp_path, capsys):
    import os

    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / ".lock").write_text(str(sleeper.pid))  # a live run holds the folder
        args = ["--attack", "noise", "--quick", "--metrics", "mig", "--seeds", "1",
                "--out", str(tmp_path)]
        assert run_cli(*args) == 2
        err = capsys.readouterr().err.strip()
        assert err.count("\n") == 0 and f"another run (process {sleeper.pid})" in err
    finally:
        sleeper.kill()
        sleeper.wait()
    # the lock of a run that no longer exists is taken over, and released at the end
    assert run_cli(*args) == 0
    assert not (tmp_path / ".lock").exists()
    mode = (tmp_path / "noise/scores.csv").stat().st_mode & 0o777
    umask = os.umask(0)
    os.umask(umask)
    assert mode == 0o666 & ~umask  # results get the user's usual permissions, not 0600


@pytest.mark.parametrize("address, message", [
    ("http://127.0.0.1:1", "unknown address scheme 'http'"),
    ("127.0.0.1", "missing port number"),
])
def test_a_malformed_scheduler_address_gets_one_line(run_cli, tmp_path, capsys, address, message):
    pytest.importorskip("dask.distributed")
    assert run_cli("--attack", "noise", "--quick", "--metrics", "mig", "--seeds", "1",
                   "--executor", "dask", "--scheduler", address, "--out", str(tmp_path)) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and message in err and err.startswith("error: --scheduler")


def test_jobs_default_to_the_usable_cores(tmp_path, monkeypatch):
    from benchmark.runner import cli

    seen = []
    original = cli.run_sweep
    monkeypatch.setattr(cli, "usable_cores", lambda: 3)
    monkeypatch.setattr(cli, "run_sweep", lambda *a, **k: seen.append(k["jobs"]) or original(*a, **k))
    assert cli.main(["--attack", "rotation", "--quick", "--metrics", "mig", "--levels", "0",
                     "--seeds", "1", "--out", str(tmp_path), "--no-progress"]) == 0
    assert seen == [3]


THREADS_PLUGIN = '''
from threadpoolctl import threadpool_info
from benchmark.information import thread_budget

def threads(rep, rng):
    return {"threads": thread_budget(), "blas": max(i["num_threads"] for i in threadpool_info())}
'''


def test_workers_share_the_cores_instead_of_oversubscribing_them(tmp_path):
    # a plugin runs in a worker: it reports the thread budget it was given there
    from benchmark.information import usable_cores
    from benchmark.runner import main

    plugin = tmp_path / "threads.py"
    plugin.write_text(THREADS_PLUGIN)
    assert main(["--attack", "rotation", "--quick", "--metrics", "mig", "--metric", f"{plugin}:threads",
                 "--levels", "0", "--seeds", "2", "--jobs", "2", "--out", str(tmp_path / "out"),
                 "--no-progress"]) == 0
    scores = pd.read_csv(tmp_path / "out/rotation/scores.csv").query("metric == 'threads'")
    share = max(1, usable_cores() // 2)
    assert len(scores) == 4 and (scores["score"] == share).all()


@pytest.mark.slow
def test_dask_workers_share_the_cores_too(tmp_path):
    # two threads in one Dask worker run two cells at once: each gets half the cores
    distributed = pytest.importorskip("dask.distributed")
    from benchmark.information import usable_cores
    from benchmark.runner import main

    plugin = tmp_path / "threads.py"
    plugin.write_text(THREADS_PLUGIN)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True,
                                  dashboard_address=None) as cluster:
        assert main(["--attack", "rotation", "--quick", "--metrics", "mig", "--metric",
                     f"{plugin}:threads", "--levels", "0", "--seeds", "2", "--executor", "dask",
                     "--scheduler", cluster.scheduler_address, "--out", str(tmp_path / "out"),
                     "--no-progress"]) == 0
    scores = pd.read_csv(tmp_path / "out/rotation/scores.csv").query("metric == 'threads'")
    share = max(1, usable_cores() // 2)
    assert len(scores) == 4 and (scores["score"] == share).all()


@pytest.mark.slow
def test_dask_without_a_scheduler_starts_a_local_cluster(run_cli, tmp_path):
    """The cluster path on one machine: the same bytes as a local run, and one thread per cell
    (one single-threaded worker per core shares the cores, it does not own them)."""
    pytest.importorskip("dask.distributed")
    plugin = tmp_path / "threads.py"
    plugin.write_text(THREADS_PLUGIN)
    args = ("--attack", "rotation", "--quick", "--metrics", "mig", "--levels", "0,1", "--seeds", "2")
    assert run_cli(*args, "--executor", "dask", "--out", str(tmp_path / "dask")) == 0
    assert run_cli(*args, "--out", str(tmp_path / "local")) == 0
    assert (tmp_path / "dask/rotation/scores.csv").read_bytes() == \
        (tmp_path / "local/rotation/scores.csv").read_bytes()
    assert run_cli(*args, "--metric", f"{plugin}:threads", "--executor", "dask",
                   "--out", str(tmp_path / "threads")) == 0
    scores = pd.read_csv(tmp_path / "threads/rotation/scores.csv").query("metric == 'threads'")
    assert (scores["score"] == 1).all()


@pytest.mark.slow  # a kNN sweep: 13 s here
def test_estimates_that_break_information_theory_are_warnings_and_in_run_json(run_cli, tmp_path, capsys):
    # kNN's bias in many dimensions: ten latents of duplicated factors carry less about
    # a factor, by its estimate, than five of them (measured: up to 0.18 of H)
    out = tmp_path / "out"
    assert run_cli("--attack", "duplicate", "--levels", "1", "--metrics", "unibound", "--quick",
                   "--param", "unibound.estimator=knn",
                   "--out", str(out)) == 0
    err = capsys.readouterr().err
    # one line for the level, its three seeds together; run.json has each seed's
    assert "UniBound's informations at level 1 (seeds 0, 1, 2): " in err
    assert "breach(es) of information theory" in err and err.count("informations at level") == 1
    checks = json.loads((out / "duplicate" / "run.json").read_text())["information_checks"]
    assert sorted(checks) == ["level 1, seed 0", "level 1, seed 1", "level 1, seed 2"]
    for lines in checks.values():
        assert all("(knn estimator" in line for line in lines) and any(" exceeds " in line for line in lines)
    # the exact estimator on the same attack passes every check
    assert run_cli("--attack", "duplicate", "--levels", "1", "--metrics", "unibound", "--quick",
                   "--out", str(out / "exact")) == 0
    assert json.loads((out / "exact" / "duplicate" / "run.json").read_text())["information_checks"] == {}


def test_a_run_ends_with_its_results_and_the_figure_to_open(run_cli, tmp_path, capsys):
    args = ("--attack", "noise", "--levels", "0,4", "--seeds", "2", "--metrics", "mig", "--quick")
    assert run_cli(*args, "--out", str(tmp_path)) == 0
    out = capsys.readouterr().out.splitlines()
    at = next(i for i, line in enumerate(out) if line.strip().startswith("metric"))
    assert out[at].split() == ["metric", "level", "0", "level", "4", "change", "verdict"]
    name, first, last, change, verdict = out[at + 1].split()
    summary = pd.read_csv(tmp_path / "noise" / "summary.csv")
    row = summary[summary["key"] == "mig"]
    assert (name, verdict) == ("MIG", row["verdict"].iloc[0]) == ("MIG", "detects")
    assert float(first) == pytest.approx(row["mean"].iloc[0], abs=5e-4)
    assert float(last) == pytest.approx(row["mean"].iloc[-1], abs=5e-4)
    assert change == f"{row['relative_change'].iloc[0]:+.0%}" and change.startswith("-")
    assert out[-1].strip() == f"open first: {tmp_path}/noise/sensitivity.png"
    assert run_cli(*args, "--out", str(tmp_path / "again"), "--quiet") == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("noise: wrote")


def test_a_card_of_more_attacks_is_never_replaced_silently(run_cli, tmp_path, capsys):
    args = ("--quick", "--metrics", "mig", "--seeds", "1", "--levels", "0,1", "--out", str(tmp_path))
    assert run_cli("--attack", "permute,rescale,warp", *args) == 0
    card = (tmp_path / "report_card.csv").read_bytes()
    capsys.readouterr()
    assert run_cli("--attack", "permute,rescale", *args) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {tmp_path}/report_card.csv covers attacks this run leaves out (warp): its card, "
        "grid and matrix would be replaced by ones of permute, rescale alone; give this run "
        "another --out, or add --force")
    assert (tmp_path / "report_card.csv").read_bytes() == card
    assert run_cli("--attack", "permute,rescale,warp", *args) == 0  # the same attacks: a rerun
    assert run_cli("--attack", "permute", *args) == 0  # one attack writes no card
    assert run_cli("--attack", "permute,rescale", *args, "--force") == 0
    assert "note: replacing" in capsys.readouterr().err


def test_outputs_of_another_configuration_are_never_replaced_silently(run_cli, grid_table, tmp_path,
                                                                     capsys):
    args = ("--attack", "rotation", "--quick", "--metrics", "mig", "--seeds", "1", "--out",
            str(tmp_path))
    assert run_cli(*args) == 0
    before = (tmp_path / "rotation" / "scores.csv").read_bytes()
    assert run_cli(*args) == 0  # the same configuration again: a rerun, rewritten
    capsys.readouterr()
    assert run_cli(*args, "--levels", "0,0.5") == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {tmp_path}/rotation/ holds a sweep of another configuration (it "
                   "differs in levels): give this run another --out, or add --force to replace it")
    assert (tmp_path / "rotation" / "scores.csv").read_bytes() == before
    assert run_cli(*args, "--levels", "0,0.5", "--force") == 0
    assert "note: replacing" in capsys.readouterr().err
    # a model's encodings go to their own folder, beside the data set's
    factors, codes, variances = grid_table()
    np.savez(tmp_path / "mine.npz", factors=factors, codes=codes)
    assert run_cli(*args, "--encodings", str(tmp_path / "mine.npz")) == 0
    assert (tmp_path / "mine" / "rotation" / "scores.csv").exists()
    # a composition's folder
    assert run_cli(*args[:1], "rotation+noise", *args[2:]) == 0
    assert (tmp_path / "rotation_then_noise" / "scores.csv").exists()
