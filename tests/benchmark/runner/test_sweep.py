"""The sweep: determinism, resume, executors, details, the PID policy, encodings."""
import dataclasses
import functools
import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import attacks
from benchmark import BenchmarkError, FactorSpace, ideal
from benchmark.encodings import from_arrays, load_encodings
from benchmark.information import Informations
from benchmark.runner import SweepConfig, get_metric, pid, run_sweep, sweep
from benchmark.runner.sweep import cells_of
from benchmark.spec import MetricSpec
from make_encodings import vae_like_encodings


def test_same_seed_gives_byte_identical_csvs(run_cli, tmp_path):
    args = ["--attack", "noise", "--quick", "--metrics", "mig", "--seeds", "2"]
    assert run_cli(*args, "--out", str(tmp_path / "a")) == 0
    assert run_cli(*args, "--out", str(tmp_path / "b")) == 0
    for name in ["scores.csv", "summary.csv", "sensitivity.svg"]:  # the SVG's ids are salted
        assert (tmp_path / "a/noise" / name).read_bytes() == (tmp_path / "b/noise" / name).read_bytes()


def test_resume_reuses_finished_cells(run_cli, tmp_path, monkeypatch):
    args = ["--attack", "noise", "--quick", "--metrics", "mig", "--seeds", "2", "--out", str(tmp_path)]
    assert run_cli(*args) == 0
    first = (tmp_path / "noise/scores.csv").read_bytes()
    calls = []
    original = sweep.run_cell
    monkeypatch.setattr(sweep, "run_cell", lambda *a, **k: calls.append(a) or original(*a, **k))
    assert run_cli(*args, "--resume") == 0
    assert calls == []  # every cell came from the store
    assert (tmp_path / "noise/scores.csv").read_bytes() == first


def test_interrupted_sweep_resumes_where_it_stopped(run_cli, tmp_path, monkeypatch):
    args = ["--attack", "rotation", "--quick", "--metrics", "mig", "--seeds", "2", "--out", str(tmp_path)]
    original = sweep.run_cell
    done = []

    def flaky(config, cell, base=None):
        if len(done) == 3:
            raise KeyboardInterrupt
        done.append(cell)
        return original(config, cell, base)

    monkeypatch.setattr(sweep, "run_cell", flaky)
    assert run_cli(*args) == 130
    assert len(list((tmp_path / "rotation/.cells").glob("*.json"))) == 3
    recomputed = []
    monkeypatch.setattr(sweep, "run_cell",
                        lambda c, cell, base=None: recomputed.append(cell) or original(c, cell, base))
    assert run_cli(*args, "--resume") == 0
    assert len(recomputed) == 3 and not set(recomputed) & set(done)
    fresh = tmp_path / "fresh"
    monkeypatch.setattr(sweep, "run_cell", original)
    assert run_cli(*args[:-1], str(fresh)) == 0
    assert (fresh / "rotation/scores.csv").read_bytes() == (tmp_path / "rotation/scores.csv").read_bytes()


def test_pid_profile_reuses_the_sweeps_informations(tmp_path, monkeypatch):
    # UniBound's cells hand their raw informations to the PID profile figure, which then
    # estimates only the unattacked representation; the result is identical to
    # estimating every cell again
    config = SweepConfig(attack="rotation", levels=(0.0, 0.5, 1.0), metrics=("unibound",),
                         seeds=(3, 4), quick=True)
    result = run_sweep(config, progress=False)
    details, scores = result.details, result.scores
    assert not result.errors
    assert sorted(details) == [(level, seed, "unibound") for level in (0.0, 0.5, 1.0)
                               for seed in (3, 4)]
    assert details[0.5, 4, "unibound"]["estimator"] == "exact"
    calls = []
    for name in ("pid_profile", "informations"):  # every estimation the profiles make
        original = getattr(pid, name)
        monkeypatch.setattr(pid, name, lambda rep, *a, original=original, **k:
                            calls.append(rep) or original(rep, *a, **k))
    reused, unattacked, problems, found = pid.profiles(result)
    assert calls == [result.base] and problems == [] == found  # the unattacked profile only
    recomputed, _, _, _ = pid.profiles(dataclasses.replace(result, details={}))
    assert len(calls) == 1 + 1 + 6  # the unattacked profile twice, every cell once
    assert list(reused.columns) == ["attack", "level", "seed", "factor", "term", "lower", "upper"]
    assert set(reused.seed) == {3, 4} and set(reused.attack) == {"rotation"}
    pd.testing.assert_frame_equal(reused, recomputed)
    # and the scores of those cells are the metric's own
    for seed in (3, 4):
        mine = scores[(scores.seed == seed) & (scores.key == "unibound")].set_index("level")["score"]
        assert mine[1.0] == pytest.approx(float(recomputed.query(
            f"level == 1.0 and seed == {seed} and term == 'unique'").groupby("factor")["lower"]
            .max().mean()), abs=1e-12)
    # rotation pairs latents (0, 1) and (2, 3): shape and scale share theirs
    partners = pid.shared_latents(Informations.from_dict(details[1.0, 3, "unibound"]),
                                  result.base.space.names)
    assert partners == {"shape": ["scale"], "scale": ["shape"], "orientation": ["pos_x"],
                        "pos_x": ["orientation"], "pos_y": []}


def test_details_come_only_from_the_registered_metric(tmp_path):
    unibound = get_metric("unibound")
    rep = ideal(FactorSpace.synthetic([3, 4]))

    @functools.wraps(unibound.func)  # copies the function's attributes: must not matter
    def halved(rep, rng, **params):
        return {k: v / 2 for k, v in unibound.func(rep, rng, **params).items()}

    plugin = MetricSpec("halved", halved, "unibound")
    scores, details = plugin.run(rep, np.random.default_rng(0), quick=False, details=True,
                                 params={"num_mc_points": 500, "num_components": 500})
    full = unibound.func(rep, np.random.default_rng(0), num_mc_points=500, num_components=500)
    assert details is None and scores["unibound"] == pytest.approx(full["unibound"] / 2)
    # a metric parameter may be called "details"
    spec = MetricSpec("d", lambda rep, rng, details=False: float(details), "d")
    assert spec.run(rep, None, {"details": True}, details=True) == ({"d": 1.0}, None)
    # stored cells serve every seed list, details included
    config = SweepConfig(attack="noise", levels=(0.0, 1.0), metrics=("unibound",),
                         seeds=(1, 2), quick=True)
    details = run_sweep(config, out_dir=tmp_path, progress=False).details
    assert sorted(details) == [(0.0, 1, "unibound"), (0.0, 2, "unibound"), (1.0, 1, "unibound"),
                               (1.0, 2, "unibound")]
    swapped = SweepConfig(attack="noise", levels=(0.0, 1.0), metrics=("unibound",),
                          seeds=(2, 1), quick=True)
    assert run_sweep(swapped, out_dir=tmp_path, resume=True, progress=False).details == details


@pytest.mark.slow
def test_parallel_jobs_give_identical_scores(run_cli, tmp_path):
    args = ["--attack", "synergy", "--quick", "--metrics", "mig", "--seeds", "2"]
    assert run_cli(*args, "--out", str(tmp_path / "serial")) == 0
    assert run_cli(*args, "--jobs", "2", "--out", str(tmp_path / "parallel")) == 0
    assert (tmp_path / "serial/synergy/scores.csv").read_bytes() == \
        (tmp_path / "parallel/synergy/scores.csv").read_bytes()


@pytest.mark.slow
def test_dask_executor_gives_identical_scores(run_cli, tmp_path):
    distributed = pytest.importorskip("dask.distributed")
    args = ["--attack", "noise", "--quick", "--metrics", "mig", "--seeds", "2"]
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        assert run_cli(*args, "--executor", "dask", "--scheduler", cluster.scheduler_address,
                       "--out", str(tmp_path / "dask")) == 0
    assert run_cli(*args, "--out", str(tmp_path / "local")) == 0
    assert (tmp_path / "dask/noise/scores.csv").read_bytes() == \
        (tmp_path / "local/noise/scores.csv").read_bytes()


@pytest.mark.slow
def test_example_encodings_run_through_the_protocol(run_cli, tmp_path):
    path = tmp_path / "vae.npz"
    np.savez_compressed(path, **vae_like_encodings(5000, np.random.default_rng(0)))
    rep = load_encodings(path)
    assert rep.space.names == ("shape", "scale", "orientation", "pos_x", "pos_y")
    assert rep.space.sizes == (3, 6, 40, 32, 32) and rep.dim == 7
    assert run_cli("--attack", "redundancy", "--quick", "--metrics", "mig", "--encodings", str(path),
                   "--out", str(tmp_path / "out")) == 0
    scores = pd.read_csv(tmp_path / "out/vae/redundancy/scores.csv")  # a model's own folder
    mig = scores.groupby("level")["score"].mean()
    assert 0.3 < mig[0.0] < 0.8  # imperfect model: mixed and collapsed latents
    assert mig[64.0] < mig[0.0]


def _gentle(rep, level, rng):  # untouched at level 0, like a user's attack might be
    return rep if level == 0 else attacks.xor(rep, level, rng)


def test_a_sweep_that_would_mix_estimators_is_pinned_to_knn(grid_table):
    factors, codes, variances = grid_table()
    rep = from_arrays(factors, codes, variances)
    attacks.register(attacks.AttackSpec("gentle", _gentle, (0, 1), (0, 1),
                                        "a sign pad that leaves level 0 alone"))

    def estimators(extras):
        return extras["unibound"]["estimators"]

    config = SweepConfig(attack="gentle", levels=(0, 0.5, 1), metrics=("unibound", "mig"))
    pinned, extras, notes = pid.prepare(config, rep)
    assert estimators(extras) == {0: "exact", 0.5: "knn", 1: "knn"}
    assert pinned.metric_params == {"unibound": {"estimator": "knn"}}
    (note,) = notes
    assert "the knn estimator" in note and "level(s) 0" in note and "pid_profile_unattacked.csv" in note
    assert set(estimators(pid.prepare(pinned, rep)[1]).values()) == {"knn"}
    # an explicit choice is the user's: never overridden ...
    chosen = SweepConfig(attack="gentle", levels=(0, 1), metrics=("unibound",),
                         metric_params={"unibound": {"estimator": "knn"}})
    assert pid.prepare(chosen, rep)[0::2] == (chosen, [])
    # ... but one that cannot apply at some level stops the sweep before it starts
    exact = SweepConfig(attack="gentle", levels=(0, 0.5, 1), metrics=("unibound",),
                        metric_params={"unibound": {"estimator": "exact"}})
    with pytest.raises(BenchmarkError, match=r"estimator=exact: the gentle attack at level\(s\) 0.5, 1"):
        pid.prepare(exact, rep)
    typo = SweepConfig(attack="gentle", levels=(0, 1), metrics=("unibound",),
                       metric_params={"unibound": {"estimator": "exakt"}})
    with pytest.raises(BenchmarkError, match="unibound.estimator must be one of auto, exact, knn"):
        pid.prepare(typo, rep)


def test_a_posterior_table_whose_levels_would_mix_estimators_is_pinned_to_posterior_draws(grid_table):
    # rotation gives every row a full covariance: exact within num_components rows only,
    # so beyond level 0 auto scores draws; the whole curve then comes from draws
    factors, codes, variances = grid_table()
    rep = from_arrays(factors, codes, variances)
    config = SweepConfig(attack="rotation", levels=(0, 0.5), metrics=("unibound",),
                         metric_params={"unibound": {"num_components": len(factors) - 1}})
    pinned, extras, (note,) = pid.prepare(config, rep)
    assert extras["unibound"]["estimators"] == {0: "exact", 0.5: "posterior_knn"}
    assert pinned.params_of("unibound")["estimator"] == "posterior_knn"
    assert "the posterior_knn estimator at every level" in note


def test_explicit_exact_estimator_on_attacked_encodings_is_one_line(run_cli, grid_table, tmp_path,
                                                                   capsys):
    factors, codes, variances = grid_table()
    path = tmp_path / "enc.npz"
    np.savez(path, factors=factors, codes=codes, variances=variances)
    out = tmp_path / "out"
    # a sign pad is not Gaussian given the row
    assert run_cli("--attack", "xor", "--quick", "--metrics", "unibound", "--encodings",
                   str(path), "--param", "unibound.estimator=exact", "--out", str(out)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: unibound.estimator=exact") and "knn" in err[0]
    assert not (out / "enc" / "xor" / "scores.csv").exists()


def test_a_failing_unibound_leaves_the_other_results_and_attacks(run_cli, tmp_path, capsys):
    # every UniBound cell fails (k=0): the PID profile cannot be drawn, but MIG's results
    # and the second attack are still written, with one line per problem and exit 1
    out = tmp_path / "out"
    assert run_cli("--attack", "noise,duplicate", "--quick", "--metrics", "mig,unibound",
                   "--param", "unibound.estimator=knn", "--param", "unibound.k=0",
                   "--seeds", "1", "--out", str(out)) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "k must be an integer >= 1" in err
    assert "warning: noise: PID profile: level 0, seed 0 and 3 more cell(s) left out" in err
    for attack in ("noise", "duplicate"):
        scores = pd.read_csv(out / attack / "scores.csv")
        assert set(scores.metric) == {"mig"}
        assert not (out / attack / "pid_profile.csv").exists()


@pytest.mark.slow  # the command line twice, each run in its own process: ~8-10 s
def test_resume_never_serves_a_value_of_other_code(root, tmp_path):
    # the plugin's file changes between two runs (two processes, as a user runs them):
    # its stored cells are recomputed, the built-in metric's are reused
    plugin = tmp_path / "changing.py"
    plugin.write_text("def changing(rep, rng):\n    return 0.25\n")
    args = [sys.executable, str(root / "run_protocol.py"), "--attack", "noise", "--quick",
            "--seeds", "1", "--metrics", "mig", "--metric", f"{plugin}:changing",
            "--out", str(tmp_path / "out"), "--no-progress"]
    subprocess.run(args, check=True, capture_output=True)
    plugin.write_text("def changing(rep, rng):\n    return 0.75\n")
    resumed = subprocess.run(args + ["--resume"], check=True, capture_output=True, text=True)
    scores = pd.read_csv(tmp_path / "out/noise/scores.csv")
    assert set(scores[scores.metric == "changing"].score) == {0.75}
    assert "stored cell(s) came from other code" in resumed.stderr


@pytest.mark.parametrize("damage", ['{"fingerprint": 1}', "[1, 2, 3]", "{", ""])
def test_damaged_or_ill_shaped_cells_are_recomputed_with_a_note(run_cli, tmp_path, damage, capsys):
    args = ["--attack", "noise", "--quick", "--seeds", "1", "--metrics", "mig",
            "--out", str(tmp_path)]
    assert run_cli(*args) == 0
    first = (tmp_path / "noise/scores.csv").read_bytes()
    cells = sorted((tmp_path / "noise/.cells").glob("*.json"))
    data = json.loads(cells[0].read_text())
    cells[0].write_text(damage)
    data["result"] = {"scores": {"mig": "high"}, "seconds": 1.0}  # valid JSON, wrong shape
    cells[1].write_text(json.dumps(data))
    capsys.readouterr()
    assert run_cli(*args, "--resume") == 0
    assert (tmp_path / "noise/scores.csv").read_bytes() == first
    assert "note: 2 stored cell(s) were damaged (unreadable or ill-formed); recomputing them" \
        in capsys.readouterr().err.splitlines()


def test_a_sweep_times_its_first_cells_and_extrapolates(monkeypatch):
    from benchmark.runner import pace
    from benchmark.runner.cells import Cell

    config = SweepConfig(attack="rotation", levels=(0.0, 0.5, 1.0, 2.0), metrics=("mig", "dci_fast"),
                         seeds=(0, 1))
    todo, probes = pace.probes_first(cells_of(config), config.levels, config.seeds[0])
    # each metric at the highest, middle and lowest level of the first seed, first
    assert todo[:6] == [Cell(level, 0, m) for level in (2.0, 1.0, 0.0) for m in ("mig", "dci_fast")]
    assert probes == set(todo[:6]) and set(todo) == set(cells_of(config)) and len(todo) == 16
    clock = iter([100.0, 130.0])  # the start, then the moment the last probe is in
    monkeypatch.setattr(pace.time, "perf_counter", lambda: next(clock))
    timer = pace.Pace(todo, probes)
    cost = {("mig", 2.0): 10.0, ("mig", 1.0): 4.0, ("mig", 0.0): 2.0,
            ("dci_fast", 2.0): 20.0, ("dci_fast", 1.0): 8.0, ("dci_fast", 0.0): 4.0}
    assert [timer.finish(c, cost[c.metric, c.level], 2) for c in todo[:5]] == [None] * 5
    note = timer.finish(todo[5], cost["dci_fast", 0.0], 2)
    # level 0.5 is as near to 0 as to 1 in the grid's order: it costs their mean. Two seeds
    # of mig (2 + 3 + 4 + 10) and dci_fast (4 + 6 + 8 + 20) make 114 s of work; 48 s of it
    # took 30 s on 2 workers, so the sweep takes 114 x 30 / 48 = 71 s, 41 s of them to go
    assert note == ("about 71 s for this sweep's 16 cell(s) with 2 worker(s), 41 s to go (measured "
                    "on its first 6: each metric at the highest, middle and lowest level, on this "
                    "input)")
    assert timer.finish(todo[6], 1.0, 2) is None  # said once


def test_a_sweep_announces_its_measured_duration():
    config = SweepConfig(attack="rotation", levels=(0.0, 0.5, 1.0), metrics=("mig",), seeds=(0, 1),
                         quick=True)
    notes = []
    run_sweep(config, progress=True, on_note=notes.append)
    (note,) = [n for n in notes if n.startswith("about ")]
    assert "for this sweep's 6 cell(s) with 1 worker(s)" in note and "measured on its first 3" in note


@pytest.mark.slow
def test_a_dask_sweep_announces_its_duration_for_the_cluster_threads():
    distributed = pytest.importorskip("dask.distributed")
    # the estimate is said once its probe cells are in, and not at all if they finish last:
    # six seeds keep cells to go after them even when a loaded machine reorders the threads
    config = SweepConfig(attack="noise", levels=(0.0, 0.5, 1.0), metrics=("mig",),
                         seeds=tuple(range(6)), quick=True)
    notes = []
    with distributed.LocalCluster(n_workers=1, threads_per_worker=3, processes=False,
                                  dashboard_address=None) as cluster:
        run_sweep(config, executor="dask", scheduler=cluster.scheduler_address, progress=True,
                  on_note=notes.append)
    assert any("for this sweep's 18 cell(s) with 3 worker(s)" in n for n in notes)


def test_check_lines_name_the_largest_breach_whatever_its_wording():
    checks = {"level 1": ["I(a; z0) = 1 nats exceeds H(a) = 0.9 by 0.11 of H (knn estimator)",
                          "2 latent(s) (z1, z2) say nothing about any factor by themselves: if they "
                          "are noise, kNN's I(y; z) falls by up to 0.58 of H (knn estimator, "
                          "measured with 5 noise latents)"]}
    (line,) = pid.check_lines(checks)
    assert line.startswith("UniBound's informations at level 1: 2 breach(es)")
    assert line.endswith("measured with 5 noise latents)")
