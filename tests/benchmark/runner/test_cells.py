"""The cell store: what a plugin's code digest covers, and damaged cell files."""
import json
import os
import shutil
import signal
import sys
import textwrap

import pytest

from benchmark.runner import BUILTIN_SPECS, cells, get_metric, registry
from benchmark.runner.cells import Cell, CellStore, code_digest, plugin_files
from benchmark.spec import MetricSpec

needs_posix = pytest.mark.skipif(not hasattr(os, "mkfifo") or not os.path.exists("/dev/zero"),
                                 reason="FIFOs and /dev/zero are POSIX")


class Hang(Exception):
    """Not an OSError, so that no ``except OSError`` of the code under test swallows it."""


@pytest.fixture
def deadline():
    """Fail instead of hanging: a blocking read of a FIFO is interrupted after 20 s."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def expire(signum, frame):
        raise Hang("the cell store blocked on a damaged file")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


@pytest.fixture
def load(monkeypatch, tmp_path):
    """Load a plugin the way ``--metric`` does, leaving no trace in the registry or
    ``sys.modules`` (each test's module names are its own anyway)."""
    loaded = []

    def load_(path, func):
        monkeypatch.syspath_prepend(str(path.parent))  # the plugin's own imports find its helpers
        spec = registry.load_plugin(f"{path}:{func}")
        loaded.append(spec.name)
        return spec

    yield load_
    for name in loaded:
        registry.unregister_metric(name)
    for name, module in list(sys.modules.items()):
        if str(getattr(module, "__file__", "")).startswith(str(tmp_path)):
            del sys.modules[name]


def write(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def changes_digest(spec, path, text):
    """Whether rewriting ``path`` with ``text`` changes the digest of ``spec``."""
    before = code_digest(spec)
    assert code_digest(spec) == before  # nothing changed: nothing recomputed
    write(path, text)
    return code_digest(spec) != before


# --- the digest covers every file that can change a plugin's value ----------------------

@pytest.fixture
def project_copy(tmp_path, monkeypatch):
    """The project's packages copied to ``tmp_path``, the digests reading the copy."""
    for package in cells._PACKAGES:
        shutil.copytree(cells._ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cells, "_ROOT", tmp_path)

    def digests():
        for cached in (cells._package_digest, cells._metric_files, cells._builtin_digest):
            cached.cache_clear()
        return {s.name: code_digest(s) for s in BUILTIN_SPECS}

    yield tmp_path, digests
    for cached in (cells._package_digest, cells._metric_files, cells._builtin_digest):
        cached.cache_clear()


def test_a_builtin_metric_depends_on_its_own_modules_not_on_the_others(project_copy):
    root, digests = project_copy
    before = digests()
    assert before == {s.name: code_digest(s) for s in BUILTIN_SPECS}  # the copy is the project

    def edit(path):
        with open(root / path, "a") as f:
            f.write("\n# edited\n")
        return digests()

    # one metric's own module: that metric's cells alone (its variants share the module)
    after = edit("metrics_baseline/_linearity.py")
    assert {m for m in before if after[m] != before[m]} == {"linearity"}
    before = after
    # a module several import, through another module too (DCI-Lasso imports _dci)
    after = edit("metrics_baseline/_dci.py")
    assert {m for m in before if after[m] != before[m]} == {
        "dci", "dci_fast", "dci_lasso", "dci_rf", "dci_es", "explicitness", "med", "med_topk"}
    before = after
    # the core, the runner or the attacks: every metric
    for path in ("benchmark/information/_knn.py", "attacks/_rotation.py", "benchmark/runner/seeding.py"):
        after = edit(path)
        assert all(after[m] != before[m] for m in before), path
        before = after
    # a package's __init__ (the list of specs) changes no metric's value
    assert edit("metrics_baseline/__init__.py") == before


def test_a_builtin_digest_is_read_once_per_process(project_copy):
    """The code a process runs is loaded once: an edit after its first digest must not
    relabel the results of the code still in memory."""
    root, digests = project_copy
    first = code_digest(get_metric("linearity"))
    with open(root / "metrics_baseline" / "_linearity.py", "a") as f:
        f.write("\n# edited\n")
    assert code_digest(get_metric("linearity")) == first
    assert digests()["linearity"] != first  # a new process (caches cleared) reads the edit


def test_a_spec_whose_code_is_outside_the_metric_packages_covers_all_of_them(project_copy):
    """An entry point's spec keeps source "builtin" but its module is elsewhere: its digest
    is the whole project's, as a plugin's is (the old rule), not the shared packages alone."""
    root, digests = project_copy
    outside = MetricSpec("outside", lambda rep, rng: 0.0, headline="outside")
    before = code_digest(outside)
    digests()
    with open(root / "metrics_pid" / "_bounds.py", "a") as f:
        f.write("\n# edited\n")
    digests()
    assert code_digest(outside) != before


def test_the_imports_read_cover_every_form(tmp_path, monkeypatch):
    monkeypatch.setattr(cells, "_ROOT", tmp_path)
    cells._metric_files.cache_clear()
    pkg = tmp_path / "metrics_baseline"
    for name, text in {
        "__init__.py": "from ._a import a\nfrom ._unused import u\n",
        "_a.py": "from . import _b\nfrom ._c import c\ndef a():\n    from metrics_pid._d import d\n",
        "_b.py": "import numpy\nfrom benchmark.spec import MetricSpec\n",
        "_c.py": "c = 1\n", "_unused.py": "u = 1\n",
    }.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text)
    (tmp_path / "metrics_pid").mkdir()
    (tmp_path / "metrics_pid" / "__init__.py").write_text("")
    (tmp_path / "metrics_pid" / "_d.py").write_text("from metrics_baseline import a\n")
    try:
        # _d imports a name of metrics_baseline's __init__: the whole package counts, then
        files = {p.relative_to(tmp_path).as_posix() for p in cells._metric_files("metrics_baseline._a")}
        assert files == {"metrics_baseline/_a.py", "metrics_baseline/_b.py", "metrics_baseline/_c.py",
                         "metrics_pid/_d.py", "metrics_baseline/__init__.py",
                         "metrics_baseline/_unused.py"}
        (tmp_path / "metrics_pid" / "_d.py").write_text("d = 1\n")
        cells._metric_files.cache_clear()
        files = {p.relative_to(tmp_path).as_posix() for p in cells._metric_files("metrics_baseline._a")}
        assert files == {"metrics_baseline/_a.py", "metrics_baseline/_b.py", "metrics_baseline/_c.py",
                         "metrics_pid/_d.py"}
    finally:
        cells._metric_files.cache_clear()


def test_editing_a_helper_the_plugin_imports_changes_the_digest(tmp_path, load):
    plugin = write(tmp_path / "p/helped.py", """
        import helped_helper
        from helped_pkg import consts

        def helped(rep, rng):
            return helped_helper.SCALE * consts.OFFSET
    """)
    write(tmp_path / "p/helped_helper.py", "SCALE = 0.5\n")
    write(tmp_path / "p/helped_pkg/__init__.py", "")
    write(tmp_path / "p/helped_pkg/consts.py", "OFFSET = 1.0\n")
    spec = load(plugin, "helped")
    assert changes_digest(spec, tmp_path / "p/helped_helper.py", "SCALE = 0.25\n")
    # a module of a subfolder counts because the plugin imported it
    assert changes_digest(spec, tmp_path / "p/helped_pkg/consts.py", "OFFSET = 2.0\n")
    assert changes_digest(spec, plugin, plugin.read_text() + "\n# edited\n")


def test_a_decorated_plugin_is_digested_with_its_own_file_and_the_decorators(tmp_path, load, monkeypatch):
    decorators = write(tmp_path / "lib/wrapping_deco.py", """
        import functools

        def logged(func):
            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                return func(*args, **kwargs)
            return wrapper
    """)
    plugin = write(tmp_path / "p/wrapped.py", """
        from wrapping_deco import logged

        @logged
        def wrapped(rep, rng):
            return 0.25
    """)
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    spec = load(plugin, "wrapped")
    assert changes_digest(spec, plugin, plugin.read_text().replace("0.25", "0.75"))
    assert changes_digest(spec, decorators, decorators.read_text().replace(
        "return func(*args, **kwargs)", "return 2 * func(*args, **kwargs)"))


def test_a_partial_a_bound_method_and_a_callable_instance_are_followed_to_their_code(tmp_path, load,
                                                                                      monkeypatch):
    # the code lives in a folder of its own, so only following the callable finds it
    code = write(tmp_path / "lib/follow_code.py", """
        class Scorer:
            def __call__(self, rep, rng):
                return 0.25

            def score(self, rep, rng, scale=1.0):
                return scale * 0.25

        def base(rep, rng, scale=1.0):
            return scale * 0.25
    """)
    plugin = write(tmp_path / "p/follow.py", """
        import functools

        from follow_code import Scorer, base

        as_partial = functools.partial(base, scale=2.0)
        as_nested = functools.partial(functools.partial(Scorer().score, scale=2.0))
        as_method = Scorer().score
        as_instance = Scorer()
    """)
    monkeypatch.syspath_prepend(str(tmp_path / "lib"))
    for func in ("as_partial", "as_nested", "as_method", "as_instance"):
        spec = load(plugin, func)
        assert code in plugin_files(spec), func
        text = code.read_text()
        assert changes_digest(spec, code, text.replace("0.25", "0.5")), func
        write(code, text)


def test_a_plugin_without_source_is_told_apart_by_its_spec_text():
    specs = [MetricSpec("length", len, "length", source=s) for s in ("a:len", "b:len")]
    assert code_digest(specs[0]) != code_digest(specs[1])


def test_the_library_is_left_out_and_big_odd_or_many_files_are_capped(tmp_path, load):
    plugin = write(tmp_path / "p/capped.py", """
        import json
        import numpy

        def capped(rep, rng):
            return float(numpy.float64(json.loads("0.25")))
    """)
    for i in range(1100):
        write(tmp_path / f"p/filler_{i:04d}.py", f"X = {i}\n")
    with open(tmp_path / "p/big.py", "wb") as f:
        f.truncate(6 * 2**20)  # read by its size only
    if hasattr(os, "mkfifo"):
        os.mkfifo(tmp_path / "p/fifo.py")  # reading it would block forever
    spec = load(plugin, "capped")
    files = plugin_files(spec)
    assert files[0] == plugin.resolve() and len(files) == 1000
    assert not any({"site-packages", "dist-packages"} & set(p.parts) for p in files)
    assert not any(p.name in ("json.py", "fifo.py") for p in files)
    code_digest(spec)


# --- damaged cell files are recomputed, never crash or hang the resume ------------------

def _directory(path):
    path.mkdir()
    (path / "inside.json").write_text("{}")


def _fifo(path):
    os.mkfifo(path)


def _device(path):
    path.symlink_to("/dev/zero")


def _dangling(path):
    path.symlink_to(path.parent / "nowhere.json")


def _huge(path):
    with open(path, "wb") as f:
        f.truncate(17 * 2**20)


def _nested(path):
    path.write_text("[" * 100_000 + "]" * 100_000)


@needs_posix
@pytest.mark.parametrize("damage", [_directory, _fifo, _device, _dangling, _huge, _nested])
def test_a_damaged_cell_file_is_counted_and_replaced(tmp_path, damage, deadline):
    store = CellStore(tmp_path / ".cells", "fp")
    cell, result = Cell(0.5, 1, "mig"), {"scores": {"mig": 0.25}, "seconds": 1.0}
    store.path(cell).parent.mkdir(parents=True)
    damage(store.path(cell))
    assert store.load(cell, "code") is None
    assert store.skipped == {"damaged": 1, "other code": 0}
    store.save(cell, result, "code")
    assert store.path(cell).is_file() and not store.path(cell).is_symlink()
    assert store.load(cell, "code") == result


@needs_posix
def test_saving_over_a_symlink_never_writes_through_it(tmp_path):
    outside = tmp_path / "outside.json"
    outside.write_text("precious")
    store = CellStore(tmp_path / ".cells", "fp")
    cell = Cell(0.5, 1, "mig")
    store.path(cell).parent.mkdir(parents=True)
    store.path(cell).symlink_to(outside)
    store.save(cell, {"scores": {"mig": 0.25}, "seconds": 1.0})
    assert outside.read_text() == "precious" and not store.path(cell).is_symlink()


@needs_posix
def test_clear_removes_damaged_cells_too(tmp_path):
    store = CellStore(tmp_path / ".cells", "fp")
    cells = [Cell(0.5, seed, "mig") for seed in range(3)]
    store.path(cells[0]).parent.mkdir(parents=True)
    _directory(store.path(cells[0]))
    _fifo(store.path(cells[1]))
    store.save(cells[2], {"scores": {"mig": 0.25}, "seconds": 1.0})
    store.clear()
    assert list(store.directory.iterdir()) == []


@needs_posix
def test_resume_recomputes_a_folder_a_fifo_and_a_device_in_place_of_cells(run_cli, tmp_path, capsys,
                                                                          deadline):
    args = ["--attack", "noise", "--quick", "--seeds", "1", "--metrics", "mig", "--out", str(tmp_path)]
    assert run_cli(*args) == 0
    first = (tmp_path / "noise/scores.csv").read_bytes()
    cells = sorted((tmp_path / "noise/.cells").glob("*.json"))
    for path, damage in zip(cells, (_directory, _fifo, _device)):
        path.unlink()
        damage(path)
    capsys.readouterr()
    assert run_cli(*args, "--resume") == 0
    assert (tmp_path / "noise/scores.csv").read_bytes() == first
    assert "note: 3 stored cell(s) were damaged (unreadable or ill-formed); recomputing them" \
        in capsys.readouterr().err.splitlines()
    for path in cells:
        assert path.is_file() and not path.is_symlink()
        assert json.loads(path.read_text())["result"]["scores"]


def test_a_helper_imported_from_another_folder_is_covered(tmp_path, load):
    helper = write(tmp_path / "ext/far_helper_mod.py", "VALUE = 0.25\n")
    plugin = write(tmp_path / "p/uses_far.py", f"""
        import sys
        sys.path.insert(0, {str(helper.parent)!r})
        import far_helper_mod

        def uses_far(rep, rng):
            return far_helper_mod.VALUE
    """)
    spec = load(plugin, "uses_far")
    assert changes_digest(spec, helper, "VALUE = 0.75\n")
