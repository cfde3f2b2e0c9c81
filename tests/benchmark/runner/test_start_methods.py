"""Workers get what they run, whatever the start method.

A sweep with two worker processes under ``fork``, ``spawn`` and ``forkserver`` runs
three kinds of user code, none of which a fresh worker has by name:

- a metric registered with ``register_metric`` in the script run as ``__main__``;
- metrics from a plugin file, one loaded first and named, one given as ``file.py:func``;
- an attack registered with ``attacks.register``.

The script registers them under its ``if __name__ == "__main__":`` guard, so a worker
that re-runs the script (``spawn`` and ``forkserver`` do) still lacks them in its
registries. The workers can only run them if they receive the specs.
"""
import json
import multiprocessing
import pickle
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import attacks
from benchmark import BenchmarkError
from benchmark.runner import SweepConfig, get_metric, registry, run_sweep
from benchmark.runner.portable import Portable, dumps
from benchmark.runner.sweep import CellWork
from benchmark.spec import MetricSpec

ROOT = Path(__file__).resolve().parents[3]

PLUGIN = """
    import os

    def quarter(rep, rng):
        return {"quarter": 0.25, "pid": float(os.getpid())}

    def third(rep, rng):
        return {"third": 1 / 3, "pid": float(os.getpid())}
"""

SCRIPT = """
    import json
    import multiprocessing
    import os
    import sys

    import attacks
    from benchmark.runner import SweepConfig, load_plugin, register_metric, run_sweep


    def half(rep, rng):
        return {"half": 0.5, "pid": float(os.getpid())}


    def shift(rep, level, rng):
        return attacks.noise(rep, level, rng)


    if __name__ == "__main__":
        method, plugin = sys.argv[1:]
        multiprocessing.set_start_method(method)
        register_metric("half")(half)
        attacks.register(attacks.AttackSpec("shift", shift, (0.0, 1.0), (0.0, 1.0), "noise"))
        load_plugin(f"{plugin}:quarter")
        config = SweepConfig(attack="shift", levels=(0.0, 1.0), seeds=(0,), quick=True,
                             metrics=("half", "quarter", f"{plugin}:third"))
        result = run_sweep(config, jobs=2, progress=False)
        scores = result.scores
        print(json.dumps({
            "errors": [str(e) for e in result.errors],
            "values": {m: sorted(set(scores[scores.key == m].score)) for m in ("half", "quarter", "third")},
            "pids": sorted(set(scores[scores.key == "pid"].score)),
            "parent": os.getpid(),
        }))
"""


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_workers_run_main_plugin_and_attack_specs(method, tmp_path):
    if method not in multiprocessing.get_all_start_methods():
        pytest.skip(f"{method} is not available on this platform")
    (tmp_path / "plugin.py").write_text(textwrap.dedent(PLUGIN))
    (tmp_path / "sweep.py").write_text(textwrap.dedent(SCRIPT))
    proc = subprocess.run([sys.executable, "sweep.py", method, str(tmp_path / "plugin.py")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["errors"] == []
    assert out["values"] == {"half": [0.5], "quarter": [0.25], "third": [1 / 3]}
    # two levels x three metrics, computed in worker processes, not in the script's
    assert out["pids"] and out["parent"] not in out["pids"]


# --- what crosses to a worker ------------------------------------------------------------

def _module_level(rep, rng):
    return 0.5


def test_importable_specs_pickle_by_reference_and_come_back_equal():
    work = CellWork.of(SweepConfig(attack="rotation+noise", levels=(0.0,), metrics=("mig",)))
    assert work.problems() == []
    attack, metric = (pickle.loads(pickle.dumps(p)) for p in (work.attack, work.metrics["mig"]))
    assert isinstance(attack, Portable) and isinstance(metric, Portable)
    assert attack.obj.name == "rotation+noise"
    assert attack.obj.func.specs == (attacks.get("rotation"), attacks.get("noise"))
    assert metric.obj == get_metric("mig")


def test_a_users_function_travels_as_its_file_and_name(tmp_path):
    spec = MetricSpec("mine", _module_level, "mine", source=__name__)
    data = dumps(spec)
    # this test file is not importable by name in every worker: its path is in the pickle
    assert Path(__file__).name.encode() in data and b"_module_level" in data
    assert pickle.loads(data).func is _module_level  # this process has the module already


def test_a_spec_that_cannot_be_pickled_is_refused_before_any_cell_unless_forked(monkeypatch):
    spec = MetricSpec("local", lambda rep, rng: 0.5, "local", source="test")
    monkeypatch.setitem(registry._METRICS, "local", spec)
    work = CellWork.of(SweepConfig(attack="noise", levels=(0.0,), metrics=("local",)))
    (problem,) = work.problems()
    assert problem.startswith("metric 'local': ")
    # a forked worker finds it by name, as before
    back = pickle.loads(pickle.dumps(work.metrics["local"]))
    assert back.obj is get_metric("local")
    monkeypatch.setattr(multiprocessing, "get_start_method", lambda allow_none=False: "spawn")
    config = SweepConfig(attack="noise", levels=(0.0,), metrics=("local",), seeds=(0,), quick=True)
    with pytest.raises(BenchmarkError, match=r"cannot send to worker processes started by 'spawn': "
                                             r"metric 'local'"):
        run_sweep(config, jobs=2, progress=False)


def test_registered_attacks_are_sent_as_specs():
    spec = attacks.AttackSpec("shift_for_test", _shift, (0.0, 1.0), (0.0, 1.0), "noise")
    back = pickle.loads(dumps(spec))
    assert back.func is _shift and back.name == "shift_for_test"


def _shift(rep, level, rng):
    return attacks.noise(rep, level, rng)
