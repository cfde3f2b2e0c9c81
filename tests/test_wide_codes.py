"""``benchmarks/wide_codes.py``: its table, its budget and how a stopped run goes on."""
import csv

import numpy as np
import pytest
import wide_codes


def read(path):
    with open(path, newline="") as f:
        return {(r["metric"], int(r["latents"]), int(r["rows"])): r for r in csv.DictReader(f)}


def test_the_table_mixes_every_factor_into_every_latent():
    rep = wide_codes._table(rows=400, latents=12)
    assert rep.codes.shape == (400, 12) and rep.variances is None
    assert len(np.unique(rep.space.rows, axis=0)) == 400  # distinct grid points: no repeated row
    # rotated: every latent correlates with the factors a little, none is one factor's own code
    corr = np.abs(np.corrcoef(rep.space.rows.T, rep.codes.T)[:5, 5:])
    assert corr.max() < 0.9 and np.all(corr.max(axis=0) > 0.01)


@pytest.mark.slow  # six measurements, each in a fresh process: 12 s
def test_points_already_measured_are_kept_and_others_added(tmp_path):
    out = tmp_path / "wide.csv"
    assert wide_codes.main(["--widths", "6", "--rows", "300", "--metrics", "mig", "--out", str(out)]) == 0
    first = read(out)
    assert first[("mig", 6, 300)]["status"] == "ok" and float(first[("mig", 6, 300)]["peak_mb"]) > 0
    wide_codes.main(["--widths", "6,8", "--rows", "300", "--metrics", "sap", "--out", str(out)])
    wide_codes.main(["--widths", "6,8", "--rows", "300", "--metrics", "mig", "--out", str(out)])
    wide_codes.main(["--widths", "6", "--rows", "200", "--metrics", "mig", "--out", str(out)])
    again = read(out)
    assert set(again) == {("mig", 6, 300), ("mig", 8, 300), ("sap", 6, 300), ("sap", 8, 300),
                          ("mig", 6, 200)}
    assert again[("mig", 6, 300)] == first[("mig", 6, 300)]  # not measured a second time
    wide_codes.main(["--widths", "6", "--rows", "300", "--metrics", "mig", "--out", str(out),
                     "--fresh"])
    assert len(read(out)) == 5


def test_a_metric_over_budget_is_not_tried_wider(tmp_path):
    out = tmp_path / "wide.csv"
    wide_codes.main(["--widths", "6,8", "--rows", "300", "--metrics", "mig", "--budget", "0.01",
                     "--out", str(out)])
    got = read(out)
    assert got[("mig", 6, 300)]["status"] == "over budget (0.01 s)"
    assert got[("mig", 6, 300)]["seconds"] == ""
    assert got[("mig", 8, 300)]["status"] == "over budget at a narrower width"
