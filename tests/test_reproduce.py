"""The same numbers on any machine: the exact estimator against another BLAS kernel, and
a slice of a committed result regenerated and compared."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent

INFORMATIONS = """
import json, sys
import attacks
from benchmark import FactorSpace, ideal
from benchmark.information import informations
base = ideal(FactorSpace.synthetic([4, 5, 6]))
out = {}
for name, level in [("redundancy", 2.0), ("rotation", 0.5), ("cyclic", 0.25), ("duplicate", 1.0)]:
    rep = attacks.get(name)(base, level, 0)
    out[name] = informations(rep, 0, estimator="exact", num_components=60).to_dict()
json.dump(out, sys.stdout)
"""


def informations_with(coretype):
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    env.pop("OPENBLAS_CORETYPE", None)
    if coretype:
        env["OPENBLAS_CORETYPE"] = coretype
    out = subprocess.run([sys.executable, "-c", INFORMATIONS], capture_output=True, text=True,
                         cwd=ROOT, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_exact_informations_do_not_depend_on_the_blas_kernel():
    # OpenBLAS's oldest x86-64 kernel against the one it picks here (where the BLAS is not
    # OpenBLAS the variable is ignored and the two runs are simply repeated): summation
    # order and rounding differ, so only decisions taken in floating point (eigenvector
    # signs, bin edges) could move an estimate by more than rounding; 1e-9 is far above
    # the ~1e-12 that double-precision sums of 10^4 log-ratios differ by
    here, old = informations_with(None), informations_with("Prescott")
    for name in here:
        for part in ("single", "rest", "joint"):
            np.testing.assert_allclose(here[name][part], old[name][part], rtol=0, atol=1e-9,
                                       err_msg=f"{name}: {part}")


def scores(path, metric):
    with open(path, newline="") as f:
        return {(r["level"], r["seed"], r["key"]): r["score"] for r in csv.DictReader(f)
                if r["metric"] == metric}


@pytest.mark.slow
def test_a_cell_of_the_committed_paper_results_regenerates_exactly(tmp_path):
    # one UniBound cell of results/paper (the paper's grid): the command its run.json
    # records, restricted to level 2, one seed and UniBound; the file keeps 6 significant
    # digits, so equal strings are agreement to ~1e-6 relative at worst and, the
    # estimator's runs agreeing to 1e-9, byte-identical rows on any machine
    committed = ROOT / "results" / "paper" / "redundancy"
    command = json.loads((committed / "run.json").read_text())["command"].split()
    assert command[0] == "run_protocol.py"
    options, i = {}, 1
    while i < len(command):  # an option's value is the next word unless that is an option
        value = command[i + 1] if i + 1 < len(command) and not command[i + 1].startswith("--") else None
        options[command[i]] = value
        i += 1 if value is None else 2
    assert options["--attack"] == "redundancy"
    options.update({"--levels": "2", "--seeds": "1", "--metrics": "unibound", "--out": str(tmp_path),
                    "--no-progress": None})
    args = [part for option, value in options.items() for part in (option, value) if part is not None]
    out = subprocess.run([sys.executable, str(ROOT / "run_protocol.py"), *args],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr
    fresh = scores(tmp_path / "redundancy" / "scores.csv", "unibound")
    old = {key: value for key, value in scores(committed / "scores.csv", "unibound").items()
           if key[:2] == ("2", "0")}
    assert len(old) == 7 and fresh == old


def test_every_committed_run_records_a_command_another_machine_can_type():
    """``run.json`` records the command as typed, its paths relative to the project: a path
    of the machine that made it (``/work/...``, ``/tmp/...``, ``~``) reproduces nowhere else."""
    found = sorted((ROOT / "results").glob("**/run.json"))
    assert found, "results/ holds no run.json"
    for path in found:
        command = json.loads(path.read_text())["command"]
        assert command.startswith("run_protocol.py "), (path, command)
        for word in command.split():
            value = word.split("=", 1)[-1]
            assert not value.startswith(("/", "~")), f"{path.relative_to(ROOT)}: {word}"
