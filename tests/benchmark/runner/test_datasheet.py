"""--datasheets: one page per metric from finished sweeps, a plugin's included."""
import textwrap

import pandas as pd
import pytest

from benchmark import BenchmarkError
from benchmark.runner.datasheet import datasheets


@pytest.fixture(scope="module")
def two_sizes(tmp_path_factory):
    """The same attacks and metrics (a plugin among them) at two sample-size settings."""
    from benchmark.runner.cli import main

    root = tmp_path_factory.mktemp("sheets")
    plugin = root / "spread.py"
    plugin.write_text(textwrap.dedent('''
        """A plugin for the datasheet test: the spread of the first latent."""
        import numpy as np

        def first_spread(rep, rng):
            y = rep.space.sample(500, rng)
            return float(np.std(rep.encode(y, rng)[:, 0]))
    '''))
    folders = []
    for name, seeds in (("quick", "3"), ("more", "2")):
        out = root / name
        assert main(["--attack", "permute,rotation", "--quick", "--seeds", seeds, "--metrics", "mig",
                     "--metric", f"{plugin}:first_spread", "--out", str(out), "--no-progress",
                     "--jobs", "1"]) == 0
        folders.append(out)
    return root, folders


def test_a_datasheet_per_metric_and_one_table(two_sizes):
    root, folders = two_sizes
    lines = datasheets(folders, root / "sheets")
    assert lines == ["warning: the folders have different numbers of seeds (3, 2): their verdicts "
                     "differ in confidence, not only in sample size"] + [
        f"wrote {root / 'sheets' / name}" for name in ("mig.md", "first_spread.md", "README.md")]
    sheet = (root / "sheets" / "mig.md").read_text()
    assert sheet.startswith("# MIG (`mig`)\n\nFamily: information. Target property: compactness.")
    # per folder: its tally, level-0 spread and seconds; per attack: each folder's verdict
    assert "| 2 of 2 | 0 |" in sheet
    assert "| `permute` | flat | flat 0% [0%, 0%] ✓ | flat 0% [0%, 0%] ✓ | same |" in sheet
    assert "> Mutual Information Gap (Chen et al., 2018)" in sheet  # the module's documentation, quoted
    index = (root / "sheets" / "README.md").read_text()
    assert "| [MIG](mig.md) | information | compactness | 2 of 2 | 2 of 2 |" in index


def test_a_plugin_gets_the_same_datasheet(two_sizes):
    root, folders = two_sizes
    datasheets(folders[:1], root / "plugin")
    sheet = (root / "plugin" / "first_spread.md").read_text()
    assert "Family: none. Target property: none." in sheet and "spread.py:first_spread" in sheet
    assert "> A plugin for the datasheet test" in sheet
    assert "| `rotation` | – |" in sheet  # no target: no expectation under rotation


def test_a_plugin_that_cannot_be_loaded_again_is_said_so(two_sizes, tmp_path, root):
    """In a fresh process (this one registered the plugin when it ran the sweep)."""
    import subprocess
    import sys

    sweep_root, folders = two_sizes
    (sweep_root / "spread.py").rename(sweep_root / "spread_gone.py")
    try:
        done = subprocess.run([sys.executable, str(root / "run_protocol.py"), "--datasheets",
                               str(folders[0]), "--out", str(tmp_path)],
                              capture_output=True, text=True, check=False)
    finally:
        (sweep_root / "spread_gone.py").rename(sweep_root / "spread.py")
    assert done.returncode == 0, done.stderr
    assert "warning:" in done.stderr and "first_spread" in done.stderr
    assert "Not documented." in (tmp_path / "datasheets" / "first_spread.md").read_text()


def test_settled_from_reads_the_folders_in_order():
    from benchmark.runner import datasheet

    class Fake:
        def __init__(self, observed, sizes):
            self.card = pd.DataFrame({"metric": ["m"], "attack": ["noise"], "observed": [observed]})
            self.sizes = sizes

    def across(*observed):
        folders = [Fake(o, s) for o, s in zip(observed, ("quick", "default", "large"))]
        return datasheet._across(folders, "m", "noise")

    assert across("falls", "falls", "falls") == ("same", 0)
    assert across("flat", "falls", "falls") == ("settled from default", 1)
    assert across("falls", "falls", "flat") == ("not settled (changes at large)", None)
    assert across("falls", "inconclusive") == ("not settled (inconclusive at the largest)", None)
    # two draws of seeds at one size: only a change between confident verdicts is a flip
    draws = [Fake("falls", "quick"), Fake("inconclusive", "quick"), Fake("flat", "quick")]
    assert datasheet._across(draws[:2], "m", "noise") == ("same where confident", 0)
    assert datasheet._across(draws, "m", "noise") == ("flips (falls, inconclusive, flat)", None)


def test_a_folder_without_sweeps_is_refused(tmp_path):
    with pytest.raises(BenchmarkError, match="no finished sweep"):
        datasheets([tmp_path], tmp_path / "out")
