"""The same numbers on any machine: the exact estimator against another BLAS kernel, and
a slice of a committed result regenerated and compared."""
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

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


def test_a_cell_of_the_committed_paper_results_regenerates_exactly(tmp_path):
    # one UniBound cell of results/paper (the paper's grid): the command as run.json
    # records it, restricted to level 2 and seed 0; the file keeps 6 significant digits
    committed = ROOT / "results" / "paper" / "redundancy"
    command = json.loads((committed / "run.json").read_text())["command"].split()
    assert command[:3] == ["run_protocol.py", "--attack", "redundancy"]
    out = subprocess.run([sys.executable, str(ROOT / "run_protocol.py"), "--attack", "redundancy",
                          "--levels", "2", "--seeds", "1", "--metrics", "unibound", "--no-progress",
                          "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert out.returncode == 0, out.stderr
    fresh = scores(tmp_path / "redundancy" / "scores.csv", "unibound")
    old = {key: value for key, value in scores(committed / "scores.csv", "unibound").items()
           if key[:2] == ("2", "0")}
    assert len(old) == 7 and fresh == old
