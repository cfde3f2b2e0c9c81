"""--replot: a finished run's tables and figures rebuilt from its scores alone."""
import json

import pandas as pd

from benchmark.runner import registry

FILES = ["summary.csv", "timings.csv", "pid_profile.csv"]


def test_a_replot_rebuilds_exactly_what_the_run_wrote(run_cli, tmp_path, capsys):
    out = tmp_path / "out"
    assert run_cli("--attack", "rotation,permute", "--quick", "--metrics", "mig,unibound",
                   "--seeds", "2", "--out", str(out)) == 0
    written = {p: p.read_bytes() for p in out.rglob("*.csv")}
    scores = (out / "rotation" / "scores.csv").read_bytes()
    for p in out.rglob("summary.csv"):  # as an older version left them
        p.write_text("stale\n")
    capsys.readouterr()
    assert run_cli("--replot", str(out)) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [f"replotted {out}/rotation/", f"replotted {out}/permute/",
                     f"replotted {out}/sensitivity_grid.png, sensitivity_matrix and report_card"]
    # every table derives from scores.csv as written: the replot is byte-identical
    assert {p: p.read_bytes() for p in out.rglob("*.csv")} == written
    assert (out / "rotation" / "scores.csv").read_bytes() == scores
    run = json.loads((out / "rotation" / "run.json").read_text())
    assert set(run["replotted"]) == {"command", "git_commit", "version"}  # beside the scoring run's
    assert run["config"]["metrics"] == ["mig", "unibound"]


def test_a_pid_profile_of_the_first_seed_only_gets_its_columns(run_cli, tmp_path):
    out = tmp_path / "out"
    assert run_cli("--attack", "noise", "--quick", "--metrics", "unibound", "--seeds", "2",
                   "--out", str(out)) == 0
    path = out / "noise" / "pid_profile.csv"
    profile = pd.read_csv(path)
    first = profile[profile.seed == 0].drop(columns=["attack", "seed"])
    first.to_csv(path, index=False)  # the table of a run before it held every seed
    assert run_cli("--replot", str(out)) == 0
    again = pd.read_csv(path)
    assert list(again.columns) == ["attack", "level", "seed", "factor", "term", "lower", "upper"]
    assert set(again.seed) == {0} and set(again.attack) == {"noise"}
    pd.testing.assert_frame_equal(again.drop(columns=["attack", "seed"]), first.reset_index(drop=True))


def test_replot_of_a_folder_without_runs_is_one_line(run_cli, tmp_path, capsys):
    assert run_cli("--replot", str(tmp_path)) == 2
    assert capsys.readouterr().err.strip() == (f"error: --replot {tmp_path}: no run found (a run "
                                               "folder holds run.json and scores.csv)")


def test_a_metric_that_cannot_be_loaded_again_is_drawn_from_its_headline(run_cli, tmp_path, capsys):
    plugin = tmp_path / "gone.py"
    plugin.write_text("def gone(rep, rng):\n    return {'gone': 0.5, 'other': 1.0}\n")
    out = tmp_path / "out"
    assert run_cli("--attack", "noise", "--quick", "--metrics", "mig", "--seeds", "1",
                   "--metric", f"{plugin}:gone", "--out", str(out)) == 0
    summary = (out / "noise" / "summary.csv").read_bytes()
    plugin.unlink()  # the file moved away since the run, in another process
    registry.unregister_metric("gone")
    capsys.readouterr()
    assert run_cli("--replot", str(out)) == 0
    err = capsys.readouterr().err
    assert "metric 'gone'" in err and "could not be loaded again" in err
    assert (out / "noise" / "summary.csv").read_bytes() == summary
