"""Fault injection: interrupts, signals, dying workers and clusters.

Each case runs the command line in its own process (or, for Dask, against a
local cluster) and checks the promise: the right exit status, one line of
explanation, no worker process left behind, no finished cell lost.  The cells
are a plugin metric that sleeps, so the timing of an interrupt is under the
test's control and the machine's speed does not matter; waits poll with a
generous deadline instead of asserting durations.
"""
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from benchmark.runner import executors

ROOT = Path(__file__).resolve().parents[3]

#: A plugin metric with slow cells; ``die.py`` kills its own worker process
#: the first time it meets level 1 (as the out-of-memory killer would), or always.
PLUGINS = {
    "slow.py": """
        import time
        def slow(rep, rng):
            time.sleep(0.4)
            return 0.5
    """,
    "long.py": """
        import time
        def long(rep, rng):
            time.sleep(300)
            return 0.5
    """,
    "osexit.py": """
        import os
        def osexit(rep, rng):
            os._exit(9)
    """,
    "die.py": """
        import os, signal, time
        from pathlib import Path
        MARK = Path(__file__).with_suffix(".died")
        def die(rep, rng, always=0):
            time.sleep(0.1)
            if LEVEL_OF(rep) == 1.0 and (always or not MARK.exists()):
                MARK.touch()
                os.kill(os.getpid(), signal.SIGKILL)
            return 0.5
        def LEVEL_OF(rep):
            return float(rep.name.split("(")[1].split(")")[0]) if "(" in rep.name else 0.0
    """,
}

LEVELS = "0,0.25,0.5,1,2,4"


@pytest.fixture
def plugins(tmp_path):
    for name, text in PLUGINS.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    return tmp_path


def start(tmp_path, metric, *extra, out="out"):
    cmd = [sys.executable, str(ROOT / "run_protocol.py"), "--attack", "noise", "--levels", LEVELS,
           "--seeds", "4", "--metrics", str(tmp_path / metric),
           "--out", str(tmp_path / out), "--no-progress", *extra]
    return subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def wait_for(predicate, deadline=60.0):
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def children(pid) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def alive(pid) -> bool:
    try:
        state = [line for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                 if line.startswith("State:")][0]
    except (OSError, IndexError):
        return False
    return "Z" not in state.split()[1]  # a zombie has ended, it only waits to be reaped


def stored_cells(tmp_path, out="out") -> int:
    return len(list((tmp_path / out / "noise" / ".cells").glob("*.json")))


def uninterrupted(tmp_path, metric):
    proc = start(tmp_path, metric, "--jobs", "2", out="reference")
    assert proc.wait(timeout=300) == 0, proc.stderr.read()
    return (tmp_path / "reference/noise/scores.csv").read_bytes()


pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc to find worker processes")


@pytest.mark.slow  # a run interrupted, then resumed to the end: ~20-40 s each
@pytest.mark.parametrize("sig, status, word", [(signal.SIGINT, 130, "interrupted"),
                                               (signal.SIGTERM, 143, "terminated")])
def test_signal_stops_workers_keeps_cells_and_resume_completes(plugins, sig, status, word):
    proc = start(plugins, "slow.py:slow", "--jobs", "2")
    assert wait_for(lambda: stored_cells(plugins) >= 3)
    workers = children(proc.pid)
    assert len(workers) == 2
    if sig == signal.SIGINT:
        os.killpg(proc.pid, sig)  # a terminal's Ctrl-C reaches the whole process group
        os.killpg(proc.pid, sig)  # pressed twice: the second must not spoil the first
    else:
        proc.send_signal(sig)
    assert proc.wait(timeout=60) == status
    err = proc.stderr.read().strip().splitlines()
    assert err == [f"{word}: finished cells are kept; rerun with --resume to continue"]
    assert not any(alive(w) for w in workers)
    kept = stored_cells(plugins)
    assert 3 <= kept < 24  # the queued cells were dropped, not computed and thrown away

    resumed = start(plugins, "slow.py:slow", "--jobs", "2", "--resume")
    assert resumed.wait(timeout=120) == 0, resumed.stderr.read()
    assert (plugins / "out/noise/scores.csv").read_bytes() == uninterrupted(plugins, "slow.py:slow")


def test_an_interrupt_ends_workers_in_the_middle_of_a_cell(plugins):
    # cells of five minutes: the run must end long before the cells would, workers gone
    proc = start(plugins, "long.py:long", "--jobs", "2")
    assert wait_for(lambda: len(children(proc.pid)) == 2)
    workers = children(proc.pid)
    time.sleep(1)  # the workers are inside their first cell
    os.killpg(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    assert not any(alive(w) for w in workers)


def test_workers_end_when_the_parent_is_killed(plugins):
    proc = start(plugins, "slow.py:slow", "--jobs", "2")
    assert wait_for(lambda: len(children(proc.pid)) == 2 and stored_cells(plugins) >= 1)
    workers = children(proc.pid)
    proc.kill()  # SIGKILL: the parent has no chance to clean up
    proc.wait(timeout=10)
    assert wait_for(lambda: not any(alive(w) for w in workers), deadline=30)


@pytest.mark.slow  # the command line twice, in its own process, one run restarting its pool: ~8-10 s
def test_a_killed_worker_costs_a_pool_restart_not_the_run(plugins):
    proc = start(plugins, "die.py:die", "--jobs", "2")
    assert proc.wait(timeout=120) == 0
    err = proc.stderr.read()
    assert "a worker process died" in err and "Traceback" not in err
    (plugins / "die.died").unlink()
    assert (plugins / "out/noise/scores.csv").read_bytes() == uninterrupted(plugins, "die.py:die")


@pytest.mark.slow  # the command line in its own process, its pool restarted: ~4-6 s
def test_a_cell_that_always_kills_its_worker_fails_alone(plugins):
    proc = start(plugins, "die.py:die", "--jobs", "2", "--param", "die.always=1")
    assert proc.wait(timeout=180) == 1
    err = proc.stderr.read()
    assert "Traceback" not in err
    assert "worker process died" in err
    scores = (plugins / "out/noise/scores.csv").read_text().splitlines()
    assert len(scores) == 1 + 5 * 4  # every level but 1, every seed


@pytest.mark.slow  # a process querying a 100,000-point k-d tree: ~4-5 s
def test_off_main_thread_lets_an_interrupt_wait_for_a_threaded_kdtree_query():
    # scipy's threaded query returns on Ctrl-C with its threads still writing: a crash
    script = textwrap.dedent("""
        import os, signal, threading
        import numpy as np
        from scipy.spatial import cKDTree
        from benchmark.information import off_main_thread
        x = np.random.default_rng(0).normal(size=(100000, 6))
        tree = cKDTree(x)
        # a background job's shell starts its children with SIGINT ignored (so did CI's)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        try:  # queries back to back, so the interrupt lands inside one on any machine
            for _ in range(500):
                off_main_thread(tree.query_ball_point, x, 0.3, p=np.inf, return_length=True,
                                workers=2)
        except KeyboardInterrupt:
            print("interrupted")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "interrupted"


def test_dask_without_workers_is_reported_not_waited_on(run_cli, tmp_path, monkeypatch, capsys):
    distributed = pytest.importorskip("dask.distributed")
    monkeypatch.setattr(executors, "WORKER_TIMEOUT", 1)
    with distributed.LocalCluster(n_workers=0, processes=False, dashboard_address=None) as cluster:
        assert run_cli("--attack", "noise", "--quick", "--metrics", "mig", "--executor", "dask",
                       "--scheduler", cluster.scheduler_address, "--out", str(tmp_path)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "has no worker" in err[0]


def test_dask_losing_every_worker_is_reported_and_keeps_finished_cells(run_cli, plugins, monkeypatch,
                                                                        capsys):
    distributed = pytest.importorskip("dask.distributed")
    import threading

    monkeypatch.setattr(executors, "WORKER_TIMEOUT", 2)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        def retire_workers_after_a_few_cells():
            wait_for(lambda: stored_cells(plugins) >= 2)
            cluster.scale(0)

        threading.Thread(target=retire_workers_after_a_few_cells, daemon=True).start()
        status = run_cli("--attack", "noise", "--levels", LEVELS, "--seeds", "4",
                         "--metrics", str(plugins / "slow.py:slow"), "--executor", "dask",
                         "--scheduler", cluster.scheduler_address, "--out", str(plugins / "out"))
    assert status == 2
    # the in-process cluster's own log lines share stderr here; ours is the one error line
    err = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(err) == 1 and "every Dask worker has left" in err[0]
    assert stored_cells(plugins) >= 2


@pytest.mark.slow  # the command line in its own process, a worker that dies: ~4-5 s
def test_a_plugin_that_ends_its_process_fails_alone_even_without_jobs(plugins):
    # a plugin runs in a worker process even with --jobs 1, so os._exit ends only the worker
    cmd = [sys.executable, str(ROOT / "run_protocol.py"), "--attack", "noise", "--levels", "0,1",
           "--seeds", "1", "--metrics", "mig", "--metric", str(plugins / "osexit.py:osexit"),
           "--out", str(plugins / "out"), "--no-progress"]
    done = subprocess.run(cmd, cwd=plugins, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "worker process died" in done.stderr
    scores = (plugins / "out/noise/scores.csv").read_text().splitlines()
    assert len(scores) == 1 + 2 and all(",mig," in line for line in scores[1:])
